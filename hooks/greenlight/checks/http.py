"""`http`: request a path through a listener (or an absolute URL) and compare the answer with expectations."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from greenlight.engine.check import Check, CheckContext, Destination, Needs, Target
from greenlight.engine.model import Measurement, Status
from greenlight.probe import redact
from greenlight.probe.http import ProbeError, Request, Response, fetch
from greenlight.spec.errors import Problem
from greenlight.spec.regex import Regex, search
from greenlight.spec.schema import AnyValue, Bool, Field, Int, ListOf, MapOf, Number, Obj, OneOf, Str, join

# A JMESPath longer than this is a mistake; far shorter ones already nest deeper than its parser can.
MAX_JMESPATH = 1024
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

STATUS_ITEM = OneOf((Int(min=100, max=599), Str(pattern=r"[1-5]xx", pattern_doc="a status class such as '2xx'")))
SECRET_REF = Obj(
    {
        "secret": Field(
            Str(
                pattern=r"(secretsmanager:[^#\s]+(#[^\s]+)?|ssm:/?[A-Za-z0-9_.\-/]+)",
                pattern_doc="'secretsmanager:NAME[#json_key]' or 'ssm:/parameter/name'",
            ),
            required=True,
        ),
        "prefix": Field(Str(), default="", doc="text put before the secret value, e.g. 'Bearer '"),
    }
)
HEADER_VALUE = OneOf((Str(), SECRET_REF))

EXPECT = Obj(
    {
        "status": Field(
            ListOf(STATUS_ITEM, min_len=1, scalar_ok=True), default=lambda: [200], doc="codes or classes such as `2xx`"
        ),
        "body_contains": Field(ListOf(Str(min_len=1), scalar_ok=True), default=list, doc="text the body must contain"),
        "body_not_contains": Field(
            ListOf(Str(min_len=1), scalar_ok=True), default=list, doc="text the body must not contain"
        ),
        "body_matches": Field(Regex(), doc="a regular expression (RE2 syntax) the body must match"),
        "json": Field(MapOf(AnyValue()), default=dict, doc="JMESPath expression -> expected value"),
        "headers": Field(MapOf(Str()), default=dict, doc="header -> exact value"),
        "max_latency_ms": Field(Number(min=0), doc="the slowest acceptable answer, in milliseconds"),
    }
)


def jmespath_problem(expr: str) -> str | None:
    """Why `expr` is not a usable JMESPath (compiled here, when the spec is read), or None."""
    import jmespath

    if len(expr) > MAX_JMESPATH:
        return f"a JMESPath of {len(expr)} characters is longer than {MAX_JMESPATH}"
    try:
        jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as exc:  # ParseError, and e.g. lexer errors
        return f"invalid JMESPath: {' '.join(str(exc).split())[:300]}"
    except RecursionError:
        # jmespath's parser recurses once per nesting level: `((((...))))` deep enough exhausts the stack.
        return "invalid JMESPath: nested too deeply"
    return None


# RFC 9110 5.1: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def header_problems(headers: Any, path: str, problems: list[Problem]) -> None:
    """Header names that are not tokens, and values (or a secret's `prefix`) that could not be sent as one header
    line: CR, LF or NUL (a second header or request smuggled in), or characters beyond Latin-1 (HTTP sends bytes)."""
    for name, value in (headers or {}).items() if isinstance(headers, dict) else ():
        where = join(path, name)
        if name and not _TOKEN.fullmatch(name):
            problems.append(Problem(where, f"a header name is letters, digits and !#$%&'*+-.^_`|~, got {name!r}"))
        for text, at in (
            (value, where),
            (value.get("prefix") if isinstance(value, dict) else None, join(where, "prefix")),
        ):
            if not isinstance(text, str):
                continue
            if any(c in text for c in "\r\n\x00"):
                problems.append(Problem(at, "header value contains CR, LF or NUL"))
            elif any(ord(c) > 0xFF for c in text):
                problems.append(Problem(at, "header value has characters beyond Latin-1, which a header cannot carry"))


def _check_body(body: dict[str, Any], path: str, problems: list[Problem]) -> None:
    if body.get("path") is not None and body.get("url") is not None:
        problems.append(Problem(join(path, "url"), "give either 'path' or 'url', not both"))
    p = body.get("path")
    if p is not None and not p.startswith("/"):
        problems.append(Problem(join(path, "path"), f"expected a path starting with '/', got {p!r}"))
    if p is not None and any(c in p for c in "\r\n"):
        problems.append(Problem(join(path, "path"), "must not contain CR or LF"))
    header_problems(body.get("headers"), join(path, "headers"), problems)
    if body.get("expect"):
        for expr in body["expect"].get("json") or {}:
            if not isinstance(expr, str) or not expr:
                continue  # the key itself was already reported as invalid
            where = join(join(path, "expect"), f"json.{expr if len(expr) <= 60 else expr[:57] + '...'}")
            why = jmespath_problem(expr)
            if why:
                problems.append(Problem(where, why))


SCHEMA = Obj(
    {
        "path": Field(Str(min_len=1), doc="joined to the listener URL (starts with `/`)"),
        "url": Field(
            Str(pattern=r"https?://\S+", pattern_doc="an absolute http(s) URL"),
            doc="an absolute `http(s)://` URL instead of `path` (its host must be in `target.allow_hosts`)",
        ),
        "listener": Field(Str(choices=("test", "prod")), default="test", doc="which listener URL `path` is joined to"),
        "method": Field(Str(choices=METHODS), default="GET", doc="the request's method"),
        "headers": Field(
            MapOf(HEADER_VALUE),
            default=dict,
            doc='header -> value, or `{secret: "secretsmanager:NAME[#key]" | "ssm:/name", prefix: "Bearer "}`',
        ),
        "body": Field(Str(), doc="the request's body (text)"),
        "follow_redirects": Field(
            OneOf((Bool(), Int(min=0, max=10))),
            default=False,
            doc="`true` (up to 5) or how many; secrets are never carried to another host",
        ),
        "expect": Field(EXPECT, default=dict, doc="what the answer must be"),
    },
    check=_check_body,
)


def status_matches(status: int, wanted: list[int | str]) -> bool:
    for w in wanted:
        if isinstance(w, int) and status == w:
            return True
        if isinstance(w, str) and str(status)[0] == w[0]:
            return True
    return False


def evaluate(resp: Response, expect: Mapping[str, Any]) -> list[str]:
    """Every way `resp` differs from `expect`, as 'expected …, got …' sentences (empty: it matches)."""
    problems: list[str] = []
    if not status_matches(resp.status, expect["status"]):
        problems.append(f"status {resp.status}, expected {'/'.join(map(str, expect['status']))}")
    text = None
    if expect["body_contains"] or expect["body_not_contains"] or expect.get("body_matches"):
        text = resp.text()
    for needle in expect["body_contains"]:
        assert text is not None
        if needle not in text:
            problems.append(f"body does not contain {needle!r}{' (body truncated)' if resp.truncated else ''}")
    for needle in expect["body_not_contains"]:
        assert text is not None
        if needle in text:
            problems.append(f"body contains {needle!r}")
        elif resp.truncated:
            # Only the first max_body_bytes were read: the text may sit in the part never seen.
            problems.append(
                f"body is larger than target.max_body_bytes ({len(resp.body)} bytes read), so it cannot be shown "
                f"not to contain {needle!r}; raise target.max_body_bytes"
            )
    if expect.get("body_matches"):
        assert text is not None
        found = search(expect["body_matches"], text)
        if found is None:
            problems.append(
                f"body does not match /{expect['body_matches']}/{' (body truncated)' if resp.truncated else ''}"
            )
        elif resp.truncated and found.end() >= len(text):
            # A match that reaches the cut may not be one in the whole body (`$`, `\b`, a repeat that would go on).
            problems.append(
                f"body matches /{expect['body_matches']}/ only up to where it was cut at target.max_body_bytes; "
                "raise target.max_body_bytes"
            )
    if expect["json"]:
        problems.extend(_evaluate_json(resp, expect["json"]))
    for name, value in expect["headers"].items():
        seen = resp.headers.get(name.lower())
        if seen != value:
            shown = "missing" if seen is None else repr(redact.headers({name: seen})[name])
            problems.append(f"header {name} is {shown}, expected {redact.headers({name: value})[name]!r}")
    if expect.get("max_latency_ms") is not None and resp.elapsed_ms > expect["max_latency_ms"]:
        problems.append(f"latency {resp.elapsed_ms:.0f}ms, expected at most {expect['max_latency_ms']:g}ms")
    return problems


def _evaluate_json(resp: Response, wanted: Mapping[str, Any]) -> list[str]:
    import jmespath

    if resp.truncated:
        return ["body is larger than target.max_body_bytes; cannot read it as JSON"]
    try:
        doc = resp.json()
    except ValueError as exc:
        return [f"body is not valid JSON ({exc.__class__.__name__}: {str(exc)[:80]})"]
    except RecursionError:
        # json.loads recurses once per level: a body of 100000 `[` is not a document any check can use.
        return ["body is JSON nested too deeply to read"]
    out = []
    for expr, value in wanted.items():
        seen = jmespath.search(expr, doc)
        if seen != value:
            out.append(f"JSON {expr} is {seen!r}, expected {value!r}")
    return out


def _masked(exc: Exception, message: str) -> Exception:
    """`exc` again with `message` (its text with secrets masked): same class when it takes one argument."""
    try:
        return type(exc)(message)
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {message}")


def allowed_hosts(target: Target, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The hosts probes may reach: the listener URLs' hosts and `target.allow_hosts`."""
    hosts = {h.lower() for h in target.allow_hosts} | {h.lower() for h in extra}
    for url in (target.test_url, target.prod_url):
        if url:
            host = urlsplit(url).hostname
            if host:
                hosts.add(host.lower())
    return frozenset(hosts)


class HttpCheck(Check):
    """An HTTP request through the test (or production) listener, compared with `expect`."""

    kind = "http"
    schema = SCHEMA
    # Called only for headers that are secret references (greenlight.secrets); the probe itself calls no AWS API.
    iam_actions: ClassVar[tuple[str, ...]] = ("secretsmanager:GetSecretValue", "ssm:GetParameter")

    def prepare(self, ctx: CheckContext) -> None:
        from greenlight.secrets import resolve_headers

        try:
            self._headers, self._secrets = resolve_headers(self.body["headers"], ctx)
            self._url = self.url_for(ctx.target)
        except Exception as exc:
            # The engine quotes an exception's text in the check's reason: mask it like every other output.
            masked = redact.text(str(exc))
            if masked == str(exc):
                raise
            raise _masked(exc, masked) from None
        if self.body.get("listener") == "test" and not self.body.get("url") and ctx.deployment is not None:
            # A Service Connect revision's test traffic header (discovery); the spec's own headers win.
            self._headers = {**getattr(ctx.deployment, "test_headers", {}), **self._headers}

    def url_for(self, target: Target, base: str | None = None) -> str:
        if self.body.get("url"):
            return str(self.body["url"])
        if base is None:
            base = target.test_url if self.body["listener"] == "test" else target.prod_url
        if not base:
            raise ValueError(
                f"no {self.body['listener']} listener URL: set target.{self.body['listener']}_url "
                "(or --test-url/--prod-url), or run inside a deployment where it can be discovered"
            )
        return base.rstrip("/") + (self.body.get("path") or "/")

    def request(self, ctx: CheckContext, url: str, extra_hosts: tuple[str, ...] = ()) -> Request:
        follow = self.body["follow_redirects"]
        secret_names = frozenset(
            {k.lower() for k in self._headers if redact.is_secret_header(k)} | set(self._secret_header_names())
        )
        return Request(
            method=self.body["method"],
            url=url,
            headers=self._headers,
            body=self.body["body"].encode() if self.body.get("body") is not None else None,
            timeout=ctx.deadline.bound(self.policy.timeout),
            max_body_bytes=ctx.target.max_body_bytes,
            follow_redirects=(5 if follow is True else int(follow or 0)),
            tls=ctx.target.tls,
            allowed_hosts=allowed_hosts(ctx.target, extra_hosts),
            secret_headers=secret_names,
        )

    def _secret_header_names(self) -> list[str]:
        return [k.lower() for k, v in self.body["headers"].items() if isinstance(v, dict)]

    def probe(self, ctx: CheckContext, url: str, extra_hosts: tuple[str, ...] = ()) -> Measurement:
        """One request to `url`, judged against `expect`."""
        shown = redact.url(url)
        try:
            resp = fetch(self.request(ctx, url, extra_hosts))
        except ProbeError as exc:
            return Measurement(
                Status.ERROR, redact.text(str(exc), self._secrets), details={"url": shown, "error": exc.kind}
            )
        except Exception as exc:
            # Not one of the probe's own errors (a library's): still an ERROR, and its text is masked too.
            reason = redact.text(f"{type(exc).__name__}: {exc}", self._secrets)
            return Measurement(Status.ERROR, reason, details={"url": shown, "error": "internal"})
        details: dict[str, Any] = {"url": shown, "status": resp.status, "latency_ms": round(resp.elapsed_ms, 1)}
        if resp.redirects:
            details["redirects"] = [redact.url(u) for u in resp.redirects]
        mismatches = self.judge(resp, details)
        if mismatches:
            reason = redact.text("; ".join(mismatches), self._secrets)
            return Measurement(Status.FAIL, reason, duration_ms=resp.elapsed_ms, details=details)
        return Measurement(Status.PASS, self.summary(resp, details), resp.elapsed_ms, details)

    def judge(self, resp: Response, details: dict[str, Any]) -> list[str]:
        """Every way `resp` falls short (empty: it passes); subclasses add their own rules and details."""
        return evaluate(resp, self.body["expect"])

    def summary(self, resp: Response, details: dict[str, Any]) -> str:
        """The reason of a passing measurement."""
        return f"{resp.status} in {resp.elapsed_ms:.0f}ms"

    def measure(self, ctx: CheckContext) -> Measurement:
        return self.probe(ctx, self._url)

    @classmethod
    def needs(cls, body: Mapping[str, Any]) -> Needs:
        """The listener URL the check probes (none when it has its own absolute `url`)."""
        if body.get("url"):
            return Needs()
        return Needs(listeners=frozenset({body.get("listener") or "test"}))

    @classmethod
    def destinations(cls, body: Mapping[str, Any]) -> Iterable[Destination]:
        """An absolute `url` (its host must be allowed); a `path` goes to the listener, which always is."""
        url = body.get("url")
        return (Destination(("url",), url=url),) if isinstance(url, str) else ()
