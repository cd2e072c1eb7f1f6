"""The spec: its schema, and the typed form the rest of greenlight uses."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenlight import lifecycle
from greenlight.checks import KINDS, Check, Destination, Target, TlsSettings, check_class
from greenlight.engine.policy import Policy
from greenlight.load import LOAD_HOOKS, LoadSpec, hook_problems, load_schema
from greenlight.probe import redact
from greenlight.spec.errors import Problem, SpecError, under_secret_header
from greenlight.spec.schema import Bool, Duration, Field, Int, ListOf, Obj, Str, Type, join, show

AUTO = "auto"
SUPPORTED_VERSIONS = (1,)

# A listener URL: each check's path is appended to it, so a query or fragment would swallow every path.
LISTENER_URL = r"https?://[^\s/?#]+(/[^\s?#]*)?"
URL_OR_AUTO = Str(
    pattern=f"auto|{LISTENER_URL}",
    pattern_doc="an http:// or https:// URL with no query or fragment (checks append their path), or 'auto'",
)


def _tls_problems(tls: dict[str, Any], path: str, problems: list[Problem]) -> None:
    bundle = tls.get("ca_bundle")
    if isinstance(bundle, str) and bundle and not Path(bundle).is_file():
        # Found missing now, not at the first probe: a missing file would otherwise fail every check the same way.
        problems.append(
            Problem(join(path, "ca_bundle"), f"no file at {bundle[:300]!r} (a PEM file of CA certificates)")
        )


TLS = Obj(
    {
        "server_name": Field(Str(min_len=1), doc="host name sent as SNI and Host, and verified on the certificate"),
        "ca_bundle": Field(Str(min_len=1), doc="path of a PEM file of CAs to trust instead of the system's"),
        "insecure": Field(Bool(), default=False, doc="skip certificate verification (never in production)"),
    },
    check=_tls_problems,
)

TARGET = Obj(
    {
        "test_url": Field(URL_OR_AUTO, default=AUTO, doc="the test listener; 'auto' discovers it"),
        "prod_url": Field(URL_OR_AUTO, default=AUTO, doc="the production listener; 'auto' discovers it"),
        "allow_hosts": Field(ListOf(Str(min_len=1)), default=list, doc="extra hosts probes may reach"),
        "tls": Field(TLS, default=dict),
        "max_body_bytes": Field(Int(min=1024, max=64 * 1024 * 1024), default=1024 * 1024),
    }
)

POLICY_FIELDS: dict[str, Field] = {
    "count": Field(Int(min=1, max=100_000), doc="how many measurements"),
    "interval": Field(Duration(max=3600), doc="time between the starts of two measurements"),
    "timeout": Field(Duration(min=0.001, max=900), doc="wall-clock bound of one measurement"),
    "failure_limit": Field(Int(min=0), doc="failed measurements tolerated"),
    "consecutive_error_limit": Field(Int(min=0), doc="errors tolerated in a row"),
    "consecutive_successes": Field(Int(min=1), doc="passes in a row needed (ends the check early)"),
    "dry_run": Field(Bool(), doc="log what would fail, never fail the hook"),
}

DEFAULTS = Obj({k: v for k, v in POLICY_FIELDS.items() if k != "dry_run"})

SETTINGS = Obj(
    {
        "on_inconclusive": Field(Str(choices=("fail", "pass")), default="fail"),
        "dry_run": Field(Bool(), default=False),
        "report_reserve": Field(Duration(min=1, max=300), default=15.0, doc="Lambda time kept for reporting"),
        # A validation that spans several invocations: ECS native hooks (IN_PROGRESS) and the durable worker
        # (docs/long-validations.md), which also never runs past the controller's limit (CodeDeploy: one hour).
        "max_duration": Field(Duration(min=1, max=24 * 3600), default=3600.0, doc="longest validation"),
        "on_first_deployment": Field(Str(choices=("pass", "run")), default="pass"),
        "on_rollback": Field(Str(choices=("pass", "run")), default="pass"),
    }
)

_BUILTIN_POLICY = Policy()


def _check_entry(value: Any, path: str, problems: list[Problem]) -> Any:
    """Validate one check: its common fields plus exactly one kind body."""
    if not isinstance(value, dict):
        problems.append(Problem(path, "expected a mapping with 'name' and one check kind"))
        return None
    kinds = [k for k in value if k in KINDS]
    if not kinds:
        problems.append(Problem(path, f"expected one check kind: {', '.join(KINDS)}"))
    elif len(kinds) > 1:
        problems.append(Problem(path, f"expected one check kind, got {len(kinds)}: {', '.join(kinds)}"))
    fields = {
        "name": Field(Str(pattern=r"[A-Za-z0-9_.:-]+", pattern_doc="a name of letters, digits, _.:-"), required=True)
    }
    fields.update(POLICY_FIELDS)
    if len(kinds) == 1:
        fields[kinds[0]] = Field(check_class(kinds[0]).schema, required=True)
    else:
        fields.update({k: Field(_ANY_MAPPING) for k in KINDS})
    out = Obj(fields).validate(value, path, problems)
    if out is not None and len(kinds) == 1:
        out["__kind__"] = kinds[0]
    return out


class _CheckEntry(Type):
    description = "a check"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        return _check_entry(value, path, problems)


class _AnyMapping(Type):
    description = "a mapping"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            self.fail(value, path, problems)
        return value


_ANY_MAPPING = _AnyMapping()


def _hook_names() -> tuple[str, ...]:
    return lifecycle.ALL_HOOK_NAMES


def _unique_names(hooks: dict[str, Any], path: str, problems: list[Problem]) -> None:
    for hook, checks in (hooks or {}).items():
        seen: set[str] = set()
        for i, c in enumerate(checks or []):
            if c and c.get("name") in seen:
                problems.append(Problem(join(join(join(path, hook), i), "name"), f"duplicate check name {c['name']!r}"))
            elif c and c.get("name") is not None:  # a missing name is reported on its own
                seen.add(c["name"])


def _load_problems(load: dict[str, Any], path: str, problems: list[Problem]) -> None:
    for hook in load:
        hook_problems(hook, join(path, hook), problems)


def _load_checks_problems(clean: dict[str, Any], problems: list[Problem]) -> None:
    """A `load` check judges its hook's load: without a load section for that hook it could never measure."""
    loads = clean.get("load") or {}
    hooks = clean.get("hooks") or {}
    for hook in loads:
        if not lifecycle.checks_for(hooks, hook)[1]:
            # The load is sent while the hook's checks run, and stopped at their verdict: none, no load.
            problems.append(Problem(join("load", hook), f"the load is sent while {hook}'s checks run; it has none"))
    for hook, entries in hooks.items():
        for i, entry in enumerate(entries or []):
            if (
                isinstance(entry, dict)
                and entry.get("__kind__") == "load"
                and not lifecycle.checks_for({h: (v,) for h, v in loads.items() if v is not None}, hook)[1]
            ):
                problems.append(
                    Problem(
                        join(join(join("hooks", hook), i), "load"),
                        f"a load check needs a load section for its hook: add load.{hook}",
                    )
                )


def spec_schema() -> Obj:
    hook_names = _hook_names()
    return Obj(
        {
            "version": Field(Int(min=1, max=max(SUPPORTED_VERSIONS)), required=True),
            "target": Field(TARGET, default=dict),
            "defaults": Field(DEFAULTS, default=dict),
            "settings": Field(SETTINGS, default=dict),
            "hooks": Field(
                Obj({h: Field(ListOf(_CheckEntry())) for h in hook_names}, check=_unique_names),
                required=True,
            ),
            "load": Field(
                Obj({h: Field(load_schema()) for h in hook_names}, check=_load_problems),
                default=dict,
                doc="requests sent to green while a test-traffic hook's checks run",
            ),
        }
    )


@dataclass(frozen=True)
class CheckSpec:
    """One check as the spec states it: enough to build the Check object."""

    name: str
    kind: str
    policy: Policy
    body: Mapping[str, Any]

    def build(self) -> Check:
        return check_class(self.kind)(self.name, self.policy, self.body)


@dataclass(frozen=True)
class Spec:
    """A validated spec."""

    version: int
    target: Target
    test_url_auto: bool
    prod_url_auto: bool
    hooks: Mapping[str, tuple[CheckSpec, ...]]
    on_inconclusive: str = "fail"
    dry_run: bool = False
    report_reserve: float = 15.0
    max_duration: float = 3600.0
    on_first_deployment: str = "pass"
    on_rollback: str = "pass"
    source: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    load: Mapping[str, LoadSpec] = field(default_factory=dict)

    def checks_for(self, hook: str) -> tuple[CheckSpec, ...]:
        """The checks for a CodeDeploy hook or ECS stage (keyed by its own name, or else the equivalent)."""
        return lifecycle.checks_for(self.hooks, hook)[1]

    def load_for(self, hook: str) -> LoadSpec | None:
        """The load sent while `hook`'s checks run (keyed by its own name, or else the equivalent), if any."""
        if hook not in LOAD_HOOKS:  # BeforeAllowTraffic shares PRE_PRODUCTION_TRAFFIC_SHIFT's checks, not its load
            return None
        found = lifecycle.checks_for({h: (v,) for h, v in self.load.items()}, hook)[1]
        return found[0] if found else None

    @property
    def needs_discovery(self) -> bool:
        return self.test_url_auto or self.prod_url_auto


_SURROGATE = re.compile("[\ud800-\udfff]")
_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(value: Any, env: Mapping[str, str], path: str, problems: list[Problem]) -> Any:
    """Expand `${VAR}` (and `${VAR:-default}`) in every string; `$${` is a literal `${`."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            if m.group(0) == "$${":
                return "${"
            name, default = m.group(1), m.group(2)
            if default is not None and "${" in default:
                problems.append(
                    Problem(path, f"the default of ${{{name}}} holds another ${{...}}, which is not expanded")
                )
                return m.group(0)
            if name in env:
                found = env[name]
            elif default is not None:
                found = default
            else:
                problems.append(Problem(path, f"environment variable {name} is not set"))
                return m.group(0)
            if sensitive:
                redact.remember(found)
            return found

        # A value expanded into a secret-looking field (headers.Authorization, X-Api-Key, ...) is a credential
        # from here on: every output of the process masks it (greenlight.probe.redact).
        # Also a list item of such a header (`Authorization[0]`); not the name of a secret to fetch (`.secret`).
        sensitive = under_secret_header(path) and not path.endswith(".secret")
        if "${" in _VAR.sub("", value):
            problems.append(
                Problem(
                    path,
                    "a ${ that is not a reference: write ${NAME} or ${NAME:-default} (NAME: letters, digits and _, "
                    "not starting with a digit), or $${ for a literal ${",
                )
            )
        if _SURROGATE.search(value):
            problems.append(Problem(path, "holds a lone surrogate (such as \\ud800), which is not text"))
        expanded = _VAR.sub(sub, value)
        if sensitive and expanded != value:
            for form in redact.header_secrets(expanded):
                redact.remember(form)
        return expanded
    if isinstance(value, list):
        return [expand(v, env, join(path, i), problems) for i, v in enumerate(value)]
    if isinstance(value, dict):
        for key in value:
            if isinstance(key, str) and "${" in key:
                problems.append(Problem(join(path, key), "${...} is expanded in values only, not in keys"))
            elif isinstance(key, str) and _SURROGATE.search(key):
                problems.append(Problem(path, "a key holds a lone surrogate (such as \\ud800), which is not text"))
        return {k: expand(v, env, join(path, str(k)), problems) for k, v in value.items()}
    return value


# A spec is a few dozen checks; far more nodes than this is a mistake or a YAML alias bomb (aliases are
# shared by the parser but copied by expansion, so a few lines could otherwise fill the memory).
MAX_NODES = 100_000
MAX_DEPTH = 64

_HOST_PATTERN = re.compile(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+")


def _size_problem(doc: Any) -> Problem | None:
    """A problem if `doc` is too deep or too large to be a spec (counted without copying anything)."""
    count = 0
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            return Problem("", f"the spec has more than {MAX_NODES} values; is a YAML alias repeated on itself?")
        if depth > MAX_DEPTH:
            return Problem(path, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, join(path, str(k)), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, join(path, i), depth + 1) for i, v in enumerate(value))
    return None


_NEVER = "link-local or instance-metadata address; probes never go there"


def _ip_literal(host: str) -> Any:
    """The address `host` spells in any form the resolver takes (2852039166, 0xa9fea9fe, ::ffff:...), or None."""
    from greenlight.probe.http import parse_ip

    return parse_ip(host)


def _spelled(host: str, ip: Any) -> str:
    """`host` as written, with the address it spells when that is not the usual form (0xa9fea9fe)."""
    return host if host.strip("[]").lower() == str(ip) else f"{host} ({ip})"


def _url_problems(url: str, path: str, problems: list[Problem]) -> str | None:
    """Security rules for a URL in the spec; returns its host (lower case) when it has one."""
    from urllib.parse import urlsplit

    from greenlight.probe.http import forbidden_ip

    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        problems.append(Problem(path, f"malformed URL {show(url)}: {exc} (a port is a number from 1 to 65535)"))
        return None
    if port == 0:
        problems.append(Problem(path, f"expected a port from 1 to 65535 in {show(url)}, got 0"))
    if parts.scheme.lower() not in ("http", "https"):
        # The kinds' schemas already ask for http(s); this holds for a kind whose schema does not.
        problems.append(Problem(path, f"expected an absolute http(s) URL, got {url!r}"))
        return None
    if "@" in parts.netloc:
        problems.append(Problem(path, "credentials in URLs are not allowed; use a header with a secret reference"))
    if host:
        ip = _ip_literal(host)
        if ip is not None and forbidden_ip(ip):
            problems.append(Problem(path, f"{_spelled(host, ip)} is a {_NEVER}"))
    return host.lower() if host else None


def _host_problems(host: str, path: str, problems: list[Problem]) -> str | None:
    """Security rules for a bare host a check declares it contacts; returns it (lower case) when it may be one."""
    from greenlight.probe.http import forbidden_ip

    if "://" in host or "/" in host or "@" in host or host.startswith("*") or not _HOST_PATTERN.fullmatch(host):
        problems.append(Problem(path, f"expected a host name or an IP address, got {host!r}"))
        return None
    ip = _ip_literal(host)
    if ip is not None and forbidden_ip(ip):
        problems.append(Problem(path, f"{_spelled(host, ip)} is a {_NEVER}"))
        return None
    return host.strip("[]").lower() if ip is not None else host.lower()


def _allowed_hosts(target: dict[str, Any], problems: list[Problem]) -> frozenset[str]:
    """The hosts probes may reach: `target.allow_hosts` (each vetted) and the hosts of explicit listener URLs."""
    from greenlight.probe.http import forbidden_ip

    allowed: set[str] = set()
    for i, entry in enumerate(target.get("allow_hosts") or []):
        path = join(join("target", "allow_hosts"), i)
        if not isinstance(entry, str):
            continue  # already reported by the schema
        if "://" in entry or "/" in entry or "@" in entry:
            problems.append(Problem(path, f"expected a host name such as api.example.com, got {entry!r}"))
            continue
        if not _HOST_PATTERN.fullmatch(entry):
            problems.append(Problem(path, f"expected a host name, an IP address or '*.domain', got {entry!r}"))
            continue
        ip = _ip_literal(entry)
        if ip is not None and forbidden_ip(ip):
            problems.append(Problem(path, f"{_spelled(entry, ip)} is a {_NEVER}"))
            continue
        allowed.add(entry.lower())
    for name in ("test_url", "prod_url"):
        if isinstance(target.get(name), str) and target[name] != AUTO:
            host = _url_problems(target[name], join("target", name), problems)
            if host:
                allowed.add(host)
    return frozenset(allowed)


def _destination_problems(
    destination: Destination, path: str, allowed: frozenset[str], problems: list[Problem]
) -> None:
    """One place a check declares it contacts: vetted like a URL (or a host), then it must be allowed."""
    from greenlight.probe.http import host_allowed

    if destination.url is not None:
        host = _url_problems(destination.url, path, problems)
    else:
        host = _host_problems(destination.host or "", path, problems)
    if host and not host_allowed(host, allowed):
        problems.append(
            Problem(
                path,
                f"host {host} is not in target.allow_hosts; probes go only to the load balancer "
                "and the hosts listed there",
            )
        )


def _security_problems(clean: dict[str, Any], problems: list[Problem]) -> None:
    """Where probes may go, decided when the spec is read: hosts, schemes, credentials.

    Every destination a check kind declares (`Check.destinations`) is vetted, whatever its field is called.
    """
    allowed = _allowed_hosts(clean.get("target") or {}, problems)
    for hook, entries in (clean.get("hooks") or {}).items():
        for i, entry in enumerate(entries or []):
            kind = entry.get("__kind__") if isinstance(entry, dict) else None
            if not kind or not isinstance(entry.get(kind), dict):
                continue  # what is wrong with it was reported by the schema
            base = join(join(join("hooks", hook), i), kind)
            for destination in check_class(kind).destinations(entry[kind]):
                path = base
                for key in destination.where:
                    path = join(path, key)
                _destination_problems(destination, path, allowed, problems)


def build_spec(doc: Any, *, env: Mapping[str, str] | None = None, source: str | None = None) -> Spec:
    """Validate a parsed spec document and return the typed Spec, or raise SpecError with every problem."""
    problems: list[Problem] = []
    too_big = _size_problem(doc)
    if too_big is not None:
        raise SpecError([too_big], source)
    doc = expand(doc, os.environ if env is None else env, "", problems)
    if not isinstance(doc, dict):
        raise SpecError([Problem("", "expected a mapping at the top of the spec")], source)
    clean = spec_schema().validate(doc, "", problems)
    if clean is not None:
        # Where probes may go is vetted on whatever the schema accepted, so every mistake shows at once.
        _security_problems(clean, problems)
        _load_checks_problems(clean, problems)
    if problems or clean is None:
        raise SpecError(problems, source)

    defaults = {k: v for k, v in clean["defaults"].items() if v is not None}
    hooks: dict[str, tuple[CheckSpec, ...]] = {}
    for hook, entries in clean["hooks"].items():
        specs = []
        for i, entry in enumerate(entries or []):
            given = {k: entry[k] for k in POLICY_FIELDS if entry.get(k) is not None}
            merged = {**{k: getattr(_BUILTIN_POLICY, k) for k in POLICY_FIELDS}, **defaults, **given}
            policy = Policy(**merged)
            if policy.consecutive_successes and policy.consecutive_successes > policy.count:
                # Only known once defaults are merged; such a check could never pass.
                problems.append(
                    Problem(
                        join(join(join("hooks", hook), i), "consecutive_successes"),
                        f"{policy.consecutive_successes} consecutive successes can never come from "
                        f"count {policy.count} measurements; raise count or lower consecutive_successes",
                    )
                )
            specs.append(CheckSpec(entry["name"], entry["__kind__"], policy, entry[entry["__kind__"]]))
        hooks[hook] = tuple(specs)
    if problems:
        raise SpecError(problems, source)

    t = clean["target"]
    tls = TlsSettings(**t["tls"])
    target = Target(
        test_url=None if t["test_url"] == AUTO else t["test_url"].rstrip("/"),
        prod_url=None if t["prod_url"] == AUTO else t["prod_url"].rstrip("/"),
        allow_hosts=tuple(t["allow_hosts"]),
        tls=tls,
        max_body_bytes=t["max_body_bytes"],
    )
    s = clean["settings"]
    return Spec(
        version=clean["version"],
        target=target,
        test_url_auto=t["test_url"] == AUTO,
        prod_url_auto=t["prod_url"] == AUTO,
        hooks=hooks,
        on_inconclusive=s["on_inconclusive"],
        dry_run=s["dry_run"],
        report_reserve=s["report_reserve"],
        max_duration=s["max_duration"],
        on_first_deployment=s["on_first_deployment"],
        on_rollback=s["on_rollback"],
        source=source,
        raw=doc,
        load={h: LoadSpec.from_body(body) for h, body in clean["load"].items() if body is not None},
    )
