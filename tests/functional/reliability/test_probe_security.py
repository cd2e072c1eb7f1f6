"""Probes cannot be turned against the network: scenarios 12, 13, 16 and 17 of docs/guarantees.md.

Spec-time rules are tested through `greenlight.spec.load_text`; run-time rules through the probe client
(`greenlight.probe.http.fetch`) and through whole hook runs (`greenlight.plan.run_hook`), against
real servers on 127.0.0.1 and 127.0.0.2 (a second loopback address: another host to the probe) and a
real TLS server with certificates made in the test. Every test runs under a loopback guard that fails
it if anything tried to connect outside 127.0.0.0/8.
"""

from __future__ import annotations

import gzip
import logging
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hook_harness import Twin, invoke, write_spec
from tls_server import SERVICE, Pki, TlsServer

from greenlight import spec as specs
from greenlight.engine.check import TlsSettings
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import RunResult
from greenlight.plan import run_hook
from greenlight.probe.http import ProbeError, Request, fetch
from support.servers import METADATA_URL, OTHER_HOST, HttpServer, Reply, redirect

HOOK = "AfterAllowTestTraffic"
MB = 1024 * 1024


def spec_text(checks: list[dict[str, Any]], **target: Any) -> str:
    target.setdefault("test_url", "http://127.0.0.1:9080")
    return yaml.safe_dump({"version": 1, "target": target, "hooks": {HOOK: checks}})


def problems_of(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(specs.SpecError) as caught:
        specs.load_text(text, env=env or {})
    return [str(p) for p in caught.value.problems]


def run(text: str, *, seconds: float = 30) -> RunResult:
    spec = specs.load_text(text, env={})
    return run_hook(spec, HOOK, deadline=Deadline.after(seconds))


def check_entry(http: dict[str, Any], **policy: Any) -> dict[str, Any]:
    return {"name": "probe", "http": http, "count": 1, **policy}


# --- 12: probes go only where the spec allows ---------------------------------------------------------

P = f"hooks.{HOOK}[0].http"


@pytest.mark.parametrize(
    ("http", "target", "where", "words"),
    [
        ({"url": "http://evil.example.com/x"}, {}, f"{P}.url", "not in target.allow_hosts"),
        ({"url": "http://a.example.org/"}, {"allow_hosts": ["*.example.com"]}, f"{P}.url", "not in target.allow_hosts"),
        ({"url": "file:///etc/passwd"}, {}, f"{P}.url", "an absolute http(s) URL"),
        ({"url": "ftp://files.example.com/x"}, {}, f"{P}.url", "an absolute http(s) URL"),
        ({"url": "gopher://127.0.0.1:70/"}, {}, f"{P}.url", "an absolute http(s) URL"),
        (
            {"url": "http://user:pw@api.example.com/"},
            {"allow_hosts": ["api.example.com"]},
            f"{P}.url",
            "credentials in URLs",
        ),
        ({"path": "/health\r\nX-Injected: 1"}, {}, f"{P}.path", "CR or LF"),
        ({"path": "/h", "headers": {"X-A": "a\r\nX-B: b"}}, {}, f"{P}.headers.X-A", "CR, LF or NUL"),
        (
            {"path": "/h", "headers": {"Authorization": {"secret": "ssm:/x", "prefix": "Bearer \r\nX-B: b"}}},
            {},
            f"{P}.headers.Authorization.prefix",
            "CR, LF or NUL",
        ),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, {}, f"{P}.url", "instance-metadata"),
    ],
    ids=[
        "unlisted-host",
        "wildcard-other-domain",
        "file-scheme",
        "ftp-scheme",
        "gopher-scheme",
        "credentials",
        "crlf-path",
        "crlf-header",
        "crlf-secret-prefix",
        "metadata-url",
    ],
)
def test_spec_rejects_probes_outside_what_it_allows(
    http: dict[str, Any], target: dict[str, Any], where: str, words: str
) -> None:
    # GIVEN a check that would send a probe somewhere it must not go, or carry an injection
    text = spec_text([check_entry(http)], **target)
    # WHEN the spec is read
    problems = problems_of(text)
    # THEN it is rejected, naming the path of the problem
    assert any(p.startswith(f"{where}:") and words in p for p in problems), problems


@pytest.mark.parametrize(
    ("target", "where", "words"),
    [
        ({"test_url": "ftp://alb.example.com"}, "target.test_url", "http:// or https:// URL"),
        ({"test_url": "http://u:p@alb.example.com"}, "target.test_url", "credentials in URLs"),
        ({"allow_hosts": ["https://api.example.com/"]}, "target.allow_hosts[0]", "expected a host name"),
        ({"allow_hosts": ["*"]}, "target.allow_hosts[0]", "expected a host name"),
        ({"allow_hosts": ["169.254.170.2"]}, "target.allow_hosts[0]", "instance-metadata"),
    ],
    ids=["ftp-listener", "credentials-listener", "url-as-host", "star", "task-metadata"],
)
def test_spec_rejects_targets_that_widen_where_probes_go(target: dict[str, Any], where: str, words: str) -> None:
    # GIVEN a target section that would let probes go anywhere, or somewhere they must never go
    text = spec_text([check_entry({"path": "/health"})], **target)
    # WHEN the spec is read
    problems = problems_of(text)
    # THEN it is rejected, naming where
    assert any(p.startswith(f"{where}:") and words in p for p in problems), problems


def test_spec_accepts_absolute_urls_to_listed_hosts() -> None:
    # GIVEN absolute URLs to a listed host, a wildcard-listed host and the listener's own host
    text = spec_text(
        [
            check_entry({"url": "https://api.example.com/v1/health"}),
            {"name": "b", "http": {"url": "http://a.b.example.net/"}, "count": 1},
            {"name": "c", "http": {"url": "http://127.0.0.1:9080/other"}, "count": 1},
        ],
        allow_hosts=["api.example.com", "*.example.net"],
    )
    # WHEN the spec is read / THEN it is valid
    spec = specs.load_text(text, env={})
    assert len(spec.checks_for(HOOK)) == 3


def test_spec_rejects_crlf_arriving_through_an_environment_variable() -> None:
    # GIVEN a path built from an environment variable that carries a line break
    text = spec_text([check_entry({"path": "/health${SUFFIX}"})])
    # WHEN the spec is read with that environment
    problems = problems_of(text, env={"SUFFIX": "\r\nX-Injected: 1"})
    # THEN the expanded value is rejected at its path
    assert any(p.startswith(f"{P}.path:") and "CR or LF" in p for p in problems), problems


def test_probe_never_reaches_a_host_outside_the_allowlist() -> None:
    # GIVEN a server on another host (127.0.0.2) that the allowlist does not name
    # WHEN a probe is asked to go there
    with HttpServer(Reply(200), host=OTHER_HOST) as other, pytest.raises(ProbeError) as caught:
        fetch(Request("GET", other.url_for("/"), allowed_hosts=frozenset({"127.0.0.1"})))
    # THEN it is refused before any connection
    assert caught.value.kind == "blocked"
    assert other.requests == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://127.0.0.1/x", "only http and https"),
        ("http://user:pw-778899@127.0.0.1:{port}/", "credentials in URLs"),
        ("http://127.0.0.1:{port}/a\r\nX-Injected: 1", "control character"),
        ("http://127.0.0.1:{port}/a\nb", "control character"),
    ],
    ids=["file", "ftp", "credentials", "crlf", "lf"],
)
def test_probe_rejects_urls_it_must_not_send(url: str, words: str) -> None:
    # GIVEN a server that would answer anything
    with HttpServer(Reply(200)) as server:
        # WHEN a probe is asked for a forbidden URL
        with pytest.raises(ProbeError) as caught:
            fetch(Request("GET", url.format(port=server.port)))
        # THEN it is refused before anything is sent, and the message does not echo the credentials
        assert caught.value.kind == "invalid"
        assert words in str(caught.value)
        assert "pw-778899" not in str(caught.value)
        assert server.requests == []


def test_hook_with_an_unlisted_absolute_url_fails_without_probing() -> None:
    # GIVEN green on 127.0.0.1 and a check whose absolute URL points at another host (127.0.0.2)
    with HttpServer(Reply(200)) as green, HttpServer(Reply(200), host=OTHER_HOST) as other:
        text = spec_text([check_entry({"url": other.url_for("/")})], test_url=green.url)
        # WHEN the spec is read for a hook run / THEN it is refused, and no server saw a request
        problems = problems_of(text)
        assert any("not in target.allow_hosts" in p for p in problems)
        assert other.requests == [] and green.requests == []


def test_hook_probes_the_discovered_load_balancer_and_nothing_it_redirects_to(
    twin_server: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a deployment whose test listener (found by discovery) redirects to a host the spec does not list
    caplog.set_level(logging.INFO)
    twin_server.reset()
    with (
        HttpServer(Reply(200), host=OTHER_HOST) as other,
        HttpServer(routes={"/start": redirect(other.url_for("/"))}) as lb,
    ):
        twin = Twin(twin_server, lb_dns_name="127.0.0.1", test_port=lb.port, prod_port=lb.port + 1)
        spec = write_spec(
            tmp_path,
            {
                "version": 1,
                "target": {"test_url": "auto", "prod_url": "auto"},
                "hooks": {HOOK: [check_entry({"path": "/start", "follow_redirects": True})]},
            },
        )
        # WHEN the hook runs
        result = invoke(twin, spec)
    twin_server.reset()
    # THEN the discovered listener was probed, the redirect was refused, and Failed was reported
    assert [r.path for r in lb.requests] == ["/start"]
    assert other.requests == []
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert "not allowed" in result.outcome["reason"]


# --- 13: redirects ------------------------------------------------------------------------------------


def test_redirect_is_not_followed_by_default() -> None:
    # GIVEN a listener that redirects /start to /health
    with HttpServer(routes={"/start": redirect("/health"), "/health": Reply(200)}) as green:
        # WHEN a check probes /start with the default settings
        result = run(spec_text([check_entry({"path": "/start"})], test_url=green.url))
        paths = [r.path for r in green.requests]
    # THEN the 302 itself is judged (and fails the default expectation of 200); /health was never asked
    assert paths == ["/start"]
    assert result.checks[0].status.value == "FAIL"
    assert "status 302" in result.checks[0].reason


def test_redirect_to_another_host_never_carries_secret_headers() -> None:
    # GIVEN a listed second host, and a listener that redirects there
    with (
        HttpServer(Reply(200), host=OTHER_HOST) as other,
        HttpServer(routes={"/start": redirect(other.url_for("/landing"))}) as green,
    ):
        headers = {
            "Authorization": "Bearer tok-123456",
            "Cookie": "sid=ck-123456",
            "X-Api-Key": "ak-123456",
            "X-Trace": "kept",
        }
        text = spec_text(
            [check_entry({"path": "/start", "headers": headers, "follow_redirects": True})],
            test_url=green.url,
            allow_hosts=[OTHER_HOST],
        )
        # WHEN the check follows the redirect
        result = run(text)
    # THEN the first host got every header, the second none of the secret ones
    assert result.checks[0].status.value == "PASS"
    (first,) = green.requests
    (landed,) = other.requests
    assert first.header("authorization") == "Bearer tok-123456"
    assert landed.header("authorization") is None
    assert landed.header("cookie") is None
    assert landed.header("x-api-key") is None
    assert landed.header("x-trace") == "kept"
    assert (landed.header("user-agent") or "").startswith("greenlight/")


def test_redirect_to_another_port_of_the_same_host_drops_secret_headers() -> None:
    # GIVEN two servers on the same host, the first redirecting to the second
    with HttpServer(Reply(200)) as second, HttpServer(routes={"/start": redirect(second.url_for("/"))}) as first:
        # WHEN a probe with a secret header follows the redirect
        resp = fetch(
            Request(
                "GET",
                first.url_for("/start"),
                headers={"X-Service-Token": "tok-654321"},
                follow_redirects=1,
                allowed_hosts=frozenset({"127.0.0.1"}),
                secret_headers=frozenset({"x-service-token"}),
            )
        )
    # THEN another origin never sees the secret
    assert resp.status == 200 and resp.redirects == (first.url_for("/start"),)
    assert first.requests[0].header("x-service-token") == "tok-654321"
    assert second.requests[0].header("x-service-token") is None


@pytest.mark.parametrize(
    "location",
    [
        METADATA_URL,
        "http://169.254.170.2/v2/credentials/abc",  # ECS task credentials
        "http://[fd00:ec2::254]/latest/meta-data/",  # instance metadata over IPv6
        "http://[::ffff:169.254.169.254]/latest/meta-data/",  # the same address, IPv4-mapped
        "http://[fe80::1]/",
    ],
    ids=["imds", "ecs-credentials", "imds-ipv6", "imds-mapped", "link-local-v6"],
)
def test_redirect_to_a_metadata_or_link_local_address_is_refused(location: str) -> None:
    # GIVEN a listener that redirects to a metadata address, and a probe that may go to any host
    # WHEN the probe follows redirects
    with HttpServer(routes={"/start": redirect(location)}) as green, pytest.raises(ProbeError) as caught:
        fetch(Request("GET", green.url_for("/start"), follow_redirects=3, allowed_hosts=None))
    # THEN it refuses before connecting (the loopback guard would have failed the test otherwise)
    assert caught.value.kind == "blocked"
    assert "link-local or instance-metadata" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://169.254.170.2/v2/metadata"],
    ids=["imds", "imds-ipv6", "ecs-metadata"],
)
def test_probe_never_connects_to_a_metadata_address_even_when_every_host_is_allowed(url: str) -> None:
    # GIVEN a probe with no allowlist at all (as the library API permits)
    # WHEN it is asked to go straight to a metadata address
    with pytest.raises(ProbeError) as caught:
        fetch(Request("GET", url, allowed_hosts=None, timeout=2))
    # THEN the connection is refused before it is opened (the loopback guard fails the test otherwise)
    assert caught.value.kind == "blocked"
    assert "link-local or instance-metadata" in str(caught.value)


def test_redirect_to_an_unlisted_host_is_refused() -> None:
    # GIVEN a listener that redirects to a host the spec does not list
    with (
        HttpServer(Reply(200), host=OTHER_HOST) as other,
        HttpServer(routes={"/start": redirect(other.url_for("/"))}) as green,
    ):
        text = spec_text([check_entry({"path": "/start", "follow_redirects": True})], test_url=green.url)
        # WHEN the check follows redirects
        result = run(text)
    # THEN the hop is refused and the check errors; the other host saw nothing
    assert other.requests == []
    (measurement,) = result.checks[0].measurements
    assert measurement.details["error"] == "blocked"
    assert "not allowed" in measurement.reason


def test_redirect_303_after_post_becomes_a_get_without_the_body() -> None:
    # GIVEN a listener that answers a POST with 303 See Other
    with HttpServer(routes={"/submit": redirect("/result", status=303), "/result": Reply(200)}) as green:
        # WHEN a probe POSTs and follows
        resp = fetch(
            Request(
                "POST",
                green.url_for("/submit"),
                headers={"Content-Type": "application/json"},
                body=b'{"a": 1}',
                follow_redirects=1,
            )
        )
    # THEN the second request is a GET with no body and no body headers
    assert resp.status == 200
    posted, followed = green.requests
    assert (posted.method, posted.body) == ("POST", b'{"a": 1}')
    assert (followed.method, followed.body, followed.header("content-type")) == ("GET", b"", None)


def test_redirect_limit_is_enforced() -> None:
    # GIVEN a listener that redirects forever
    # WHEN a probe may follow two redirects
    with HttpServer(redirect("/again")) as green, pytest.raises(ProbeError) as caught:
        fetch(Request("GET", green.url_for("/"), follow_redirects=2))
    # THEN it stops after two, having sent three requests
    assert caught.value.kind == "redirect"
    assert len(green.requests) == 3


def test_redirect_to_a_port_out_of_range_is_a_redirect_error_naming_it() -> None:
    # GIVEN a listener that redirects to port 99999, with a token in the query
    with HttpServer(redirect("http://127.0.0.1:99999/x?token=abc123def")) as green, pytest.raises(ProbeError) as caught:
        fetch(Request("GET", green.url_for("/"), follow_redirects=2))
    # THEN the probe's own error names the redirect (masked), not a library's ValueError
    assert caught.value.kind == "redirect"
    assert "redirect to http://127.0.0.1:99999/x?token=*** refused: Port out of range" in str(caught.value)


# --- 16: TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


def tls_run(server: TlsServer, tls: dict[str, Any]) -> RunResult:
    return run(spec_text([check_entry({"path": "/health"}, timeout="3s")], test_url=server.url, tls=tls))


def test_tls_server_name_presents_the_service_host_through_the_load_balancer_address(pki: Pki) -> None:
    # GIVEN a service certificate for service.example.test, served at the load balancer's address
    with TlsServer(pki.leaf("good")) as server:
        # WHEN green is probed through that address, naming the service and trusting the test CA
        result = tls_run(server, {"server_name": SERVICE, "ca_bundle": str(pki.ca_bundle)})
    # THEN the certificate verifies, and the probe presented the service name as SNI and Host
    assert result.checks[0].status.value == "PASS", result.checks[0].reason
    assert server.seen.sni == [SERVICE]
    assert server.seen.hosts == [SERVICE]


def test_tls_peer_dripping_its_answer_is_cut_at_the_probes_timeout(pki: Pki) -> None:
    # GIVEN a TLS server that, after the handshake, sends one byte of a header every 0.2 s (no read times out)
    with TlsServer(pki.leaf("drip")) as server:
        request = Request("GET", f"{server.url}/drip", timeout=1.5, tls=TlsSettings(insecure=True))
        started = time.monotonic()
        # WHEN it is probed with a 1.5 s timeout
        with pytest.raises(ProbeError) as caught:
            fetch(request)
        took = time.monotonic() - started
    # THEN the wall-clock watchdog cuts the TLS connection at the timeout (the socket urllib3 wrapped in TLS is
    # cut too, not only the plain one it started from) and the error says the answer did not complete
    assert caught.value.kind == "timeout" and "did not complete" in str(caught.value)
    assert took < 6.0, f"the probe took {took:.1f}s, while the server drips for 10 s"


@pytest.mark.parametrize(
    ("leaf", "tls", "why"),
    [
        ("good", {"server_name": "other.example.test", "ca_bundle": "CA"}, "wrong-host"),
        ("good", {"ca_bundle": "CA"}, "address-not-in-certificate"),
        ("good", {"server_name": SERVICE}, "untrusted-ca-by-default"),
        ("self-signed", {"server_name": SERVICE, "ca_bundle": "CA"}, "self-signed"),
        ("expired", {"server_name": SERVICE, "ca_bundle": "CA"}, "expired"),
    ],
    ids=["wrong-host", "address-not-in-certificate", "untrusted-ca-by-default", "self-signed", "expired"],
)
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # `insecure: true` is the point
def test_tls_bad_certificate_fails_unless_explicitly_allowed(
    pki: Pki, leaf: str, tls: dict[str, Any], why: str
) -> None:
    # GIVEN a server whose certificate must not be accepted as configured
    made = {
        "good": lambda: pki.leaf("good"),
        "self-signed": lambda: pki.leaf("self-signed", self_signed=True),
        "expired": lambda: pki.leaf("expired", expired=True),
    }[leaf]()
    settings = {k: (str(pki.ca_bundle) if v == "CA" else v) for k, v in tls.items()}
    with TlsServer(made) as server:
        # WHEN green is probed with verification on (the default)
        refused = tls_run(server, settings)
        # ... and again with `insecure: true`, the explicit opt-out
        allowed = tls_run(server, {**settings, "insecure": True})
    # THEN the verified probe fails as a TLS error, and only the explicit opt-out gets an answer
    (measurement,) = refused.checks[0].measurements
    assert refused.checks[0].status.value == "ERROR", why
    assert measurement.details["error"] == "tls", measurement.reason
    assert allowed.checks[0].status.value == "PASS", allowed.checks[0].reason


def test_tls_server_name_is_not_carried_to_another_host_by_a_redirect(pki: Pki) -> None:
    # GIVEN a plain-http listener on another host that redirects to the TLS service's address
    # WHEN a probe configured with the service's server_name follows the redirect
    with (
        TlsServer(pki.leaf("good")) as server,
        HttpServer(routes={"/start": redirect(server.url + "/health")}, host=OTHER_HOST) as lb,
        pytest.raises(ProbeError) as caught,
    ):
        fetch(
            Request(
                "GET",
                lb.url_for("/start"),
                follow_redirects=1,
                tls=TlsSettings(server_name=SERVICE, ca_bundle=str(pki.ca_bundle)),
            )
        )
    # THEN the first host got the service name as Host, but the redirected hop presented no borrowed
    #      name: it was verified as 127.0.0.1, which the certificate does not name, and refused
    assert lb.requests[0].header("host") == SERVICE
    assert caught.value.kind == "tls"
    assert server.seen.sni == [None]
    assert server.seen.hosts == []


# --- 17: response bodies are capped ------------------------------------------------------------------


def test_huge_body_is_capped_and_not_read_to_the_end() -> None:
    # GIVEN a listener that would stream 1 GiB
    with HttpServer(Reply(200, stream_bytes=1024 * MB)) as green:
        text = spec_text(
            [check_entry({"path": "/", "expect": {"body_contains": "never-there"}})],
            test_url=green.url,
            max_body_bytes=64 * 1024,
        )
        # WHEN a check reads its body
        result = run(text)
        streamed = green.bytes_streamed
    # THEN the body was cut at the cap, the check says so, and the server was stopped far short of 1 GiB
    assert result.checks[0].status.value == "FAIL"
    assert "(body truncated)" in result.checks[0].reason
    assert streamed < 64 * MB, f"the server streamed {streamed / MB:.0f} MiB"


def test_compressed_body_bomb_is_capped_after_decompression(tmp_path: Path) -> None:
    # GIVEN a listener whose 256 MiB of zeros arrive gzip-compressed (a few hundred KiB on the wire)
    bomb = gzip.compress(b"\0" * (256 * MB), compresslevel=9)
    with HttpServer(Reply(200, body=bomb, headers={"Content-Encoding": "gzip"})) as green:
        # WHEN a probe with a 1 MiB cap reads it, with memory allocations traced
        tracemalloc.start()
        try:
            resp = fetch(Request("GET", green.url_for("/"), max_body_bytes=MB))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # THEN the decoded body stops at the cap, and memory stayed far below the inflated size
    assert resp.truncated and len(resp.body) == MB
    assert peak < 64 * MB, f"peak traced memory {peak / MB:.0f} MiB"
