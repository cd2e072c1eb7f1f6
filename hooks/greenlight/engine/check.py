"""What a check is: a name, a measuring policy, and a `measure()` that writes only the happy path.

The engine turns an exception raised by `measure()` into an ERROR measurement naming the check,
and a measurement that overruns its timeout into an ERROR too.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
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


@dataclass
class CheckContext:
    """What a check may use while measuring. `deployment` is filled by discovery when there is one."""

    target: Target
    deadline: Deadline
    deployment: Any = None
    aws: Any = None
    settings: Mapping[str, Any] = field(default_factory=dict)


class Check(abc.ABC):
    """One check of a spec. Subclasses set `kind` and `schema`, and implement `measure`."""

    kind: ClassVar[str]
    schema: ClassVar[Type]

    def __init__(self, name: str, policy: Policy, body: Mapping[str, Any]) -> None:
        self.name = name
        self.policy = policy
        self.body = body

    def prepare(self, ctx: CheckContext) -> None:  # noqa: B027 - optional hook
        """Called once before the first measurement; may raise to make the check an ERROR."""

    @abc.abstractmethod
    def measure(self, ctx: CheckContext) -> Measurement:
        """Take one measurement; return PASS or FAIL. Raising means ERROR."""
