"""The `http` check against real, misbehaving HTTP servers on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from greenlight import __version__
from greenlight.aws import AwsClients
from greenlight.engine.check import CheckContext
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import CheckResult, Measurement, Status
from greenlight.plan import run_hook
from greenlight.probe.http import ProbeError, Request, fetch
from greenlight.spec import build_spec
from support.servers import MB, METADATA_URL, OTHER_HOST, HttpServer, Reply, redirect

HOOK = "AfterAllowTestTraffic"
# Generous bound on how long a run bounded by a wall-clock timeout may take: a safety net, not a figure.
SLACK = 3.0


def spec_for(url: str, http: dict[str, Any], *, target: dict[str, Any] | None = None, **policy: Any) -> Any:
    doc = {
        "version": 1,
        "target": {"test_url": url, "prod_url": url, **(target or {})},
        "hooks": {HOOK: [{"name": "probe", "http": http, **policy}]},
    }
    return build_spec(doc, env={})


def measure(url: str, http: dict[str, Any], *, target: dict[str, Any] | None = None, timeout: float = 5) -> Measurement:
    """One measurement of a one-check spec, the way the engine takes it."""
    spec = spec_for(url, http, target=target, timeout=timeout)
    check = spec.checks_for(HOOK)[0].build()
    ctx = CheckContext(target=spec.target, deadline=Deadline.after(30))
    check.prepare(ctx)
    return check.measure(ctx)


def run_one(url: str, http: dict[str, Any], *, deadline: float = 30, **policy: Any) -> tuple[CheckResult, float]:
    """Run a one-check spec through run_hook; returns the check's result and the wall time it took."""
    spec = spec_for(url, http, **policy)
    started = time.monotonic()
    result = run_hook(spec, HOOK, deadline=Deadline.after(deadline))
    return result.checks[0], time.monotonic() - started


# --- status ---------------------------------------------------------------------------------------------


def test_http_check_passes_on_200(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a healthy endpoint
    server = serve(routes={"/health": Reply(json={"status": "ok"})})
    # WHEN it is probed
    m = measure(server.url, {"path": "/health"})
    # THEN the measurement passes and says what it saw
    assert m.status is Status.PASS
    assert m.reason.startswith("200 in ")
    assert m.details["status"] == 200
    assert m.details["url"] == server.url_for("/health")


def test_http_check_fails_on_500(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint answering 500
    server = serve(Reply(status=500, body="boom"))
    # WHEN it is probed expecting 200
    m = measure(server.url, {"path": "/health"})
    # THEN the measurement fails naming expected and seen status
    assert m.status is Status.FAIL
    assert m.reason == "status 500, expected 200"


def test_http_check_status_class_and_list(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint answering 204
    server = serve(Reply(status=204))
    # WHEN it is probed expecting a 2xx, then expecting 200 or 301
    ok = measure(server.url, {"path": "/", "expect": {"status": "2xx"}})
    bad = measure(server.url, {"path": "/", "expect": {"status": [200, 301]}})
    # THEN the class matches and the list does not
    assert ok.status is Status.PASS
    assert bad.status is Status.FAIL
    assert bad.reason == "status 204, expected 200/301"


def test_http_check_slow_answer_fails_max_latency(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint that answers correctly after 300 ms
    server = serve(Reply(delay=0.3, json={"status": "ok"}))
    # WHEN it is probed with a 100 ms latency budget
    m = measure(server.url, {"path": "/", "expect": {"max_latency_ms": 100}})
    # THEN the answer fails on latency, not on content
    assert m.status is Status.FAIL
    assert m.reason.startswith("latency ")
    assert m.reason.endswith("ms, expected at most 100ms")


def test_http_check_connection_refused_is_error(refused_port: Any) -> None:
    # GIVEN a port where nothing listens
    # WHEN it is probed
    m = measure(refused_port.url, {"path": "/health"})
    # THEN the measurement is an ERROR (could not measure) that says the connection was refused
    assert m.status is Status.ERROR
    assert m.details["error"] == "refused"
    assert "connection refused by 127.0.0.1" in m.reason


# --- bounded by wall clock --------------------------------------------------------------------------------


def test_http_check_accept_and_never_answer_errors_on_time(silent_server: Any) -> None:
    # GIVEN a server that accepts the connection and never sends a byte
    # WHEN a one-measurement check with a 1 s timeout probes it
    result, elapsed = run_one(silent_server.url, {"path": "/"}, timeout="1s", count=1)
    # THEN the run ends with an ERROR whose measurement says it timed out on the wall clock
    assert silent_server.accepted >= 1
    assert result.status is Status.ERROR
    (m,) = result.measurements
    assert m.details["error"] == "timeout"
    assert "within 1s (wall clock)" in m.reason
    assert elapsed < 1 + SLACK  # safety bound: the run did end


def test_http_check_dripped_headers_error_on_time(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a server that sends its status line and headers one byte every 200 ms (~15 s in all)
    server = serve(Reply(body="ok", drip_headers=0.2))
    # WHEN a check with a 1 s timeout probes it
    result, elapsed = run_one(server.url, {"path": "/"}, timeout="1s", count=1)
    # THEN the probe gives up at its wall-clock timeout although bytes keep arriving
    (m,) = result.measurements
    assert result.status is Status.ERROR
    assert m.details["error"] == "timeout"
    assert "wall clock" in m.reason
    assert elapsed < 1 + SLACK


def test_http_check_dripped_body_errors_on_time(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a server that answers headers at once, then a 200-byte body one byte every 100 ms
    server = serve(Reply(body="x" * 200, drip_body=0.1))
    # WHEN a check with a 1 s timeout probes it
    result, elapsed = run_one(server.url, {"path": "/"}, timeout="1s", count=1)
    # THEN the probe gives up at its wall-clock timeout (a per-read timeout would wait ~20 s)
    (m,) = result.measurements
    assert result.status is Status.ERROR
    assert m.details["error"] == "timeout"
    assert elapsed < 1 + SLACK


# --- redirects ----------------------------------------------------------------------------------------------


def test_http_check_redirect_not_followed_by_default(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint that redirects to another path
    server = serve(routes={"/health": redirect("/elsewhere"), "/elsewhere": Reply(json={"status": "ok"})})
    # WHEN it is probed with the default settings
    m = measure(server.url, {"path": "/health"})
    # THEN the redirect itself is judged (and fails the 200 expectation); the target is never requested
    assert m.status is Status.FAIL
    assert m.reason == "status 302, expected 200"
    assert server.requests_to("/elsewhere") == []


def test_http_check_redirect_followed_when_allowed(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint that redirects to another path
    server = serve(routes={"/health": redirect("/elsewhere", 301), "/elsewhere": Reply(json={"status": "ok"})})
    # WHEN it is probed with follow_redirects
    m = measure(server.url, {"path": "/health", "follow_redirects": True, "expect": {"json": {"status": "ok"}}})
    # THEN the final answer is judged and the hop is recorded
    assert m.status is Status.PASS
    assert m.details["redirects"] == [server.url_for("/health")]
    assert len(server.requests_to("/elsewhere")) == 1


def test_http_check_redirect_limit(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint that redirects to itself forever
    server = serve(redirect("/loop"))
    # WHEN it is probed following at most 2 redirects
    m = measure(server.url, {"path": "/loop", "follow_redirects": 2})
    # THEN the probe stops after 3 requests with an ERROR naming the limit
    assert m.status is Status.ERROR
    assert m.details["error"] == "redirect"
    assert "more than 2 redirect(s)" in m.reason
    assert len(server.requests) == 3


def test_http_check_redirect_to_metadata_never_followed(
    serve: Callable[..., HttpServer], loopback_only: list[str]
) -> None:
    # GIVEN an endpoint that redirects to the instance metadata service
    server = serve(redirect(METADATA_URL))
    # WHEN it is probed following redirects
    m = measure(server.url, {"path": "/", "follow_redirects": True})
    # THEN the redirect is refused before any connection is tried
    assert m.status is Status.ERROR
    assert m.details["error"] == "blocked"
    assert "169.254.169.254" in m.reason
    assert loopback_only == []  # not even an attempt reached the socket layer


def test_probe_redirect_to_metadata_refused_even_when_any_host_is_allowed(
    serve: Callable[..., HttpServer], loopback_only: list[str]
) -> None:
    # GIVEN an endpoint that redirects to the instance metadata service, and a probe allowed any host
    server = serve(redirect(METADATA_URL))
    request = Request("GET", server.url_for("/"), follow_redirects=5, allowed_hosts=None)
    # WHEN it is fetched
    with pytest.raises(ProbeError) as caught:
        fetch(request)
    # THEN the hop is refused because of where it points
    assert caught.value.kind == "blocked"
    assert "link-local or instance-metadata address" in str(caught.value)
    assert loopback_only == []


def test_http_check_redirect_to_unlisted_host_blocked(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint that redirects to another host that is not in target.allow_hosts
    other = serve(Reply(json={"status": "ok"}), host=OTHER_HOST)
    server = serve(redirect(other.url_for("/")))
    # WHEN it is probed following redirects
    m = measure(server.url, {"path": "/", "follow_redirects": True})
    # THEN the hop is refused, names the host, and the other host never hears from the probe
    assert m.status is Status.ERROR
    assert m.details["error"] == "blocked"
    assert f"host {OTHER_HOST} is not allowed" in m.reason
    assert other.requests == []


def test_probe_to_unlisted_host_blocked(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a probe allowed only 127.0.0.1, asked to go to another host
    other = serve(Reply(), host=OTHER_HOST)
    request = Request("GET", other.url_for("/"), allowed_hosts=frozenset({"127.0.0.1"}))
    # WHEN it is fetched
    with pytest.raises(ProbeError) as caught:
        fetch(request)
    # THEN nothing is sent there, and the error says how to allow it
    assert caught.value.kind == "blocked"
    assert "allow_hosts" in str(caught.value)
    assert other.requests == []


def test_http_check_secret_headers_dropped_on_cross_host_redirect(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint redirecting to another (allowed) host, and a check sending secret and plain headers
    other = serve(Reply(json={"status": "ok"}), host=OTHER_HOST)
    server = serve(redirect(other.url_for("/landing")))
    headers = {"Authorization": "Bearer tok-0123456789", "X-Api-Key": "key-0123456789", "X-Trace": "t-1"}
    http = {"path": "/", "follow_redirects": True, "headers": headers}
    # WHEN it is probed
    m = measure(server.url, http, target={"allow_hosts": [OTHER_HOST]})
    # THEN the first host got every header, the other host none of the secret ones
    assert m.status is Status.PASS
    first, second = server.requests[0], other.requests[0]
    assert first.header("authorization") == "Bearer tok-0123456789"
    assert first.header("x-api-key") == "key-0123456789"
    assert second.header("authorization") is None
    assert second.header("x-api-key") is None
    assert second.header("x-trace") == "t-1"
    assert second.header("host") == other.address


def test_http_check_same_origin_redirect_keeps_headers(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint redirecting within the same origin
    server = serve(routes={"/a": redirect("/b"), "/b": Reply()})
    # WHEN it is probed with an Authorization header
    m = measure(server.url, {"path": "/a", "follow_redirects": True, "headers": {"Authorization": "Bearer tok-42"}})
    # THEN the header goes along to the same origin
    assert m.status is Status.PASS
    assert server.requests_to("/b")[0].header("authorization") == "Bearer tok-42"


# --- body ---------------------------------------------------------------------------------------------------


def test_probe_huge_body_capped(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a server streaming a 50 MB chunked body
    server = serve(Reply(stream_bytes=50 * MB))
    # WHEN it is fetched with a 1 MiB cap
    resp = fetch(Request("GET", server.url_for("/"), timeout=10, max_body_bytes=MB))
    # THEN exactly the cap is kept, the answer says it was cut, and the rest was never read
    assert resp.status == 200
    assert resp.truncated
    assert len(resp.body) == MB
    assert server.bytes_streamed < 25 * MB


def test_http_check_huge_body_truncated_fails_expectations(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a server streaming a 50 MB body
    server = serve(Reply(stream_bytes=50 * MB))
    # WHEN checks look for text that is not in the first MiB, or read it as JSON
    text = measure(server.url, {"path": "/", "expect": {"body_contains": "needle"}}, target={"max_body_bytes": MB})
    as_json = measure(server.url, {"path": "/", "expect": {"json": {"status": "ok"}}}, target={"max_body_bytes": MB})
    # THEN both fail and say the body was cut at the cap
    assert text.status is Status.FAIL
    assert text.reason == "body does not contain 'needle' (body truncated)"
    assert as_json.status is Status.FAIL
    assert as_json.reason == "body is larger than target.max_body_bytes; cannot read it as JSON"


def test_http_check_invalid_json_fails_with_reason(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint that claims JSON but sends something else
    server = serve(Reply(body="{status: ok", headers={"Content-Type": "application/json"}))
    # WHEN it is probed with a JSON expectation
    m = measure(server.url, {"path": "/", "expect": {"json": {"status": "ok"}}})
    # THEN the measurement fails and says the body is not JSON
    assert m.status is Status.FAIL
    assert m.reason.startswith("body is not valid JSON (JSONDecodeError: ")


def test_http_check_json_expectations(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint answering a nested JSON document
    doc = {"status": "degraded", "build": {"version": "2.0.0"}, "deps": [{"name": "db", "ok": True}]}
    server = serve(Reply(json=doc))
    # WHEN JMESPath expectations that hold, and one that does not, are checked
    ok = measure(server.url, {"path": "/", "expect": {"json": {"build.version": "2.0.0", "deps[0].ok": True}}})
    bad = measure(server.url, {"path": "/", "expect": {"json": {"status": "ok", "build.version": "2.0.0"}}})
    # THEN only the mismatch is reported, with expected and seen values
    assert ok.status is Status.PASS
    assert bad.status is Status.FAIL
    assert bad.reason == "JSON status is 'degraded', expected 'ok'"


def test_http_check_body_expectations(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint with a known body
    server = serve(Reply(body="service green v2 ready"))
    # WHEN body_contains, body_not_contains and body_matches are checked, passing and failing
    ok = measure(
        server.url,
        {
            "path": "/",
            "expect": {"body_contains": ["green", "ready"], "body_not_contains": "blue", "body_matches": r"v\d"},
        },
    )
    bad = measure(
        server.url,
        {"path": "/", "expect": {"body_contains": "blue", "body_not_contains": "green", "body_matches": r"^v\d$"}},
    )
    # THEN every mismatch is listed in one reason
    assert ok.status is Status.PASS
    assert bad.status is Status.FAIL
    assert bad.reason == "body does not contain 'blue'; body contains 'green'; body does not match /^v\\d$/"


def test_http_check_wrong_version_header_fails_naming_both(serve: Callable[..., HttpServer]) -> None:
    # GIVEN blue answering where green was expected
    server = serve(Reply(json={"status": "ok"}, headers={"X-App-Version": "1.0.0"}))
    # WHEN the version header is checked
    m = measure(server.url, {"path": "/", "expect": {"headers": {"X-App-Version": "2.0.0"}}})
    # THEN the failure names what was expected and what was seen
    assert m.status is Status.FAIL
    assert m.reason == "header X-App-Version is '1.0.0', expected '2.0.0'"


def test_http_check_missing_header_fails(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint without the version header
    server = serve(Reply())
    # WHEN the header is expected
    m = measure(server.url, {"path": "/", "expect": {"headers": {"X-App-Version": "2.0.0"}}})
    # THEN the failure says it is missing
    assert m.status is Status.FAIL
    assert m.reason == "header X-App-Version is missing, expected '2.0.0'"


def test_http_check_header_expectation_passes_case_insensitively(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint sending the header in lower case
    server = serve(Reply(headers={"x-app-version": "2.0.0"}))
    # WHEN the header is expected under its usual spelling
    m = measure(server.url, {"path": "/", "expect": {"headers": {"X-App-Version": "2.0.0"}}})
    # THEN it matches
    assert m.status is Status.PASS


# --- what the probe sends ---------------------------------------------------------------------------------


def test_http_check_sends_user_agent(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint recording requests
    server = serve(Reply())
    # WHEN it is probed
    measure(server.url, {"path": "/health?deep=1"})
    # THEN the request names greenlight and its version, on the given path
    (request,) = server.requests
    assert request.header("user-agent") == f"greenlight/{__version__}"
    assert request.method == "GET"
    assert request.path == "/health?deep=1"


def test_http_check_sends_method_headers_and_body(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint recording requests
    server = serve(Reply(status=201))
    http = {
        "path": "/orders",
        "method": "POST",
        "headers": {"Content-Type": "application/json", "X-Trace": "abc"},
        "body": '{"dry": true}',
        "expect": {"status": 201},
    }
    # WHEN a POST check probes it
    m = measure(server.url, http)
    # THEN method, headers and body arrive as written
    assert m.status is Status.PASS
    (request,) = server.requests
    assert (request.method, request.body) == ("POST", b'{"dry": true}')
    assert request.header("x-trace") == "abc"
    assert request.header("content-type") == "application/json"


def test_http_check_prod_listener(serve: Callable[..., HttpServer]) -> None:
    # GIVEN different test and production listeners
    test = serve(Reply(status=503))
    prod = serve(Reply(status=200))
    doc = {
        "version": 1,
        "target": {"test_url": test.url, "prod_url": prod.url},
        "hooks": {HOOK: [{"name": "prod", "http": {"listener": "prod", "path": "/"}}]},
    }
    # WHEN a check on the production listener runs
    result = run_hook(build_spec(doc, env={}), HOOK, deadline=Deadline.after(30))
    # THEN it probed production only
    assert result.checks[0].status is Status.PASS
    assert (len(prod.requests), len(test.requests)) == (1, 0)


def test_http_check_without_listener_url_is_error() -> None:
    # GIVEN a spec whose test URL is left to discovery, run where there is none
    doc = {"version": 1, "hooks": {HOOK: [{"name": "health", "http": {"path": "/health"}}]}}
    # WHEN the check runs
    result = run_hook(build_spec(doc, env={}), HOOK, deadline=Deadline.after(10))
    # THEN it is an ERROR that says which setting is missing
    (check,) = result.checks
    assert check.status is Status.ERROR
    assert "no test listener URL: set target.test_url" in check.reason


def test_http_check_secret_reference_header_dropped_on_cross_host_redirect(
    serve: Callable[..., HttpServer], aws_env: Any
) -> None:
    # GIVEN a header whose value comes from Secrets Manager, under a name that does not look secret
    session = aws_env.session()
    session.client("secretsmanager").create_secret(Name="probe-token-cross-host", SecretString="s3cr3t-value-42")
    other = serve(Reply(), host=OTHER_HOST)
    server = serve(redirect(other.url_for("/landing")))
    header = {"secret": "secretsmanager:probe-token-cross-host", "prefix": "Token "}
    spec = spec_for(
        server.url,
        {"path": "/", "follow_redirects": True, "headers": {"X-Custom": header}},
        target={"allow_hosts": [OTHER_HOST]},
    )
    check = spec.checks_for(HOOK)[0].build()
    ctx = CheckContext(target=spec.target, deadline=Deadline.after(30), aws=AwsClients(session=session))
    # WHEN it is probed following the redirect to another host
    check.prepare(ctx)
    m = check.measure(ctx)
    # THEN the secret went to the first host only
    assert m.status is Status.PASS
    assert server.requests[0].header("x-custom") == "Token s3cr3t-value-42"
    assert other.requests[0].header("x-custom") is None
