"""What a check is: a name, a measuring policy, and a `measure()` that writes only the happy path.

The engine turns an exception raised by `measure()` into an ERROR measurement naming the check,
and a measurement that overruns its timeout into an ERROR too.

A check kind is one class that states everything the rest of greenlight needs to know about it, so
adding a kind is one module plus one line in `greenlight.checks.KINDS`:

- `kind` and `schema`: its name in the spec and how its body is validated;
- `needs(body)`: what it needs from discovery (listener URLs, the deployment);
- `destinations(body)`: where the spec makes it send requests, which the spec's SSRF rules vet;
- `iam_actions`: the AWS actions it may call, which the template's roles are tested against.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from greenlight.engine.deadline import Deadline
from greenlight.engine.model import Measurement
from greenlight.engine.policy import Policy

if TYPE_CHECKING:
    from greenlight.spec.schema import Type


@dataclass(frozen=True)
class TlsSettings:
    """How probes verify TLS: `server_name` is sent as SNI and Host, `ca_bundle` replaces the system CAs."""

    server_name: str | None = None
    ca_bundle: str | None = None
    insecure: bool = False


@dataclass(frozen=True)
class Target:
    """Where probes go: the listener URLs and the only hosts probes may reach."""

    test_url: str | None = None
    prod_url: str | None = None
    allow_hosts: tuple[str, ...] = ()
    tls: TlsSettings = TlsSettings()
    max_body_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class Needs:
    """What a check needs before it can measure: listener URLs ('test', 'prod') and/or the deployment."""

    listeners: frozenset[str] = frozenset()
    deployment: bool = False

    def __or__(self, other: Needs) -> Needs:
        return Needs(self.listeners | other.listeners, self.deployment or other.deployment)


@dataclass(frozen=True)
class Destination:
    """Somewhere a spec sends a check: an absolute `url` or a bare `host`, and where in the check's body it is written.

    `where` is the path inside the kind's body, e.g. `("url",)` or `("endpoints", 0, "url")`; the spec
    prefixes it with the hook, the check's index and the kind when it reports a problem.
    """

    where: tuple[str | int, ...]
    url: str | None = None
    host: str | None = None

    def __post_init__(self) -> None:
        if (self.url is None) == (self.host is None):
            raise ValueError("a Destination is either a url or a host")


@dataclass
class CheckContext:
    """What a check may use while measuring. `deployment` is filled by discovery when there is one."""

    target: Target
    deadline: Deadline
    deployment: Any = None
    aws: Any = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    load: Any = None  # the hook's load while it runs (greenlight.load.LoadRun), read by the `load` check kind


class Check(abc.ABC):
    """One check of a spec. Subclasses set `kind`, `schema` and `iam_actions`, and implement `measure`.

    The classmethods `needs` and `destinations` look only at the validated body, before anything runs:
    discovery and the spec's SSRF rules use them. Their defaults say "nothing".
    """

    kind: ClassVar[str]
    schema: ClassVar[Type]
    # Every `service:Action` the kind may call, exactly as IAM spells it; the template's roles must grant each.
    iam_actions: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def needs(cls, body: Mapping[str, Any]) -> Needs:
        """What a check with this body needs from discovery before it can measure (default: nothing)."""
        return Needs()

    @classmethod
    def destinations(cls, body: Mapping[str, Any]) -> Iterable[Destination]:
        """Where the body sends requests beyond the listeners (absolute URLs, hosts), for the spec to vet."""
        return ()

    def __init__(self, name: str, policy: Policy, body: Mapping[str, Any]) -> None:
        self.name = name
        self.policy = policy
        self.body = body

    def prepare(self, ctx: CheckContext) -> None:  # noqa: B027 - optional hook
        """Called once before the first measurement; may raise to make the check an ERROR."""

    @abc.abstractmethod
    def measure(self, ctx: CheckContext) -> Measurement:
        """Take one measurement; return PASS or FAIL. Raising means ERROR."""
