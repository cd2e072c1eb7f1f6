"""Class 5 (the network): metadata and link-local addresses refused at spec time in every spelling, one DNS
resolution per connection (no rebinding), ports 1-65535.

Why a patched resolver rather than a DNS server: the probe asks the system resolver (getaddrinfo), which
reads /etc/resolv.conf; a DNS server on 127.0.0.1 would only be asked if that file named it, which a test
cannot change without root and without changing it for every process on the machine. So the tests
replace `socket.getaddrinfo` (the call behind greenlight.probe.http.resolve, the one resolution seam) with
a resolver whose answers the test controls, and delegate every other name to the real one.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from greenlight import spec as specs
from greenlight.engine.check import TlsSettings
from greenlight.probe.http import ProbeError, Request, fetch
from greenlight.spec.errors import SpecError
from support.servers import HttpServer, Reply

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functional" / "reliability"))
from tls_server import SERVICE, Pki, TlsServer  # noqa: E402

HOOK = "AfterAllowTestTraffic"
METADATA = "169.254.169.254"
# Every spelling of 169.254.169.254 (and its IPv6 forms) the resolver accepts, plus neighbours that reach
# the same places: another link-local address, the ECS task metadata address, the unspecified address.
SPELLINGS = [
    "169.254.169.254",
    "2852039166",  # decimal
    "0251.0376.0251.0376",  # octal
    "0xa9fea9fe",  # hex
    "0xA9.0xFE.0xA9.0xFE",  # dotted hex
    "0xa9.254.0251.0xfe",  # mixed
    "169.254.43518",  # three parts
    "169.16689662",  # two parts
    "169.254.169.254.",  # trailing dot
    "[::ffff:169.254.169.254]",  # IPv4-mapped IPv6
    "[::ffff:a9fe:a9fe]",
    "[::169.254.169.254]",  # IPv4-compatible IPv6
    "[::ffff:0:a9fe:a9fe]",  # IPv4-translated IPv6 (RFC 2765)
    "[64:ff9b::a9fe:a9fe]",  # NAT64
    "[2002:a9fe:a9fe::1]",  # 6to4
    "[fd00:ec2::254]",  # EC2 metadata over IPv6
    "[fe80::1]",
    "169.254.170.2",  # ECS task metadata
    "0.0.0.0",
    "0",
    "[::]",
]


def problems_of(doc: Any) -> list[str]:
    with pytest.raises(SpecError) as caught:
        specs.build_spec(doc, env={})
    return [str(p) for p in caught.value.problems]


def spec(**target: Any) -> dict[str, Any]:
    return {"version": 1, "target": target, "hooks": {HOOK: [{"name": "h", "http": {"path": "/"}}]}}


@pytest.mark.parametrize("host", SPELLINGS)
def test_network_metadata_spelling_refused_in_listener_url(host: str) -> None:
    # GIVEN the test listener written with a metadata or link-local address in some spelling
    doc = spec(test_url=f"http://{host}/latest/meta-data/")
    # WHEN the spec is read
    problems = problems_of(doc)
    # THEN it is refused at spec time, naming the field
    assert any(p.startswith("target.test_url: ") and "link-local or instance-metadata" in p for p in problems), problems


@pytest.mark.parametrize("host", SPELLINGS)
def test_network_metadata_spelling_refused_in_allow_hosts_and_check_url(host: str) -> None:
    # GIVEN the same address in target.allow_hosts and as a check's absolute URL
    doc = spec(test_url="http://127.0.0.1:8080", allow_hosts=[host.strip("[]")])
    doc["hooks"][HOOK] = [{"name": "u", "http": {"url": f"http://{host}:80/x"}}]
    # WHEN the spec is read
    problems = problems_of(doc)
    # THEN both places are refused
    assert any(p.startswith("target.allow_hosts[0]: ") and "link-local" in p for p in problems), problems
    assert any(p.startswith(f"hooks.{HOOK}[0].http.url: ") and "link-local" in p for p in problems), problems


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.5", "0x7f.1", "internal-lb.example.com", "[::1]"])
def test_network_ordinary_addresses_accepted(host: str) -> None:
    # GIVEN an ordinary private address or name (0x7f.1 is 127.0.0.1)
    doc = spec(test_url=f"http://{host}:8080")
    # WHEN the spec is read
    loaded = specs.build_spec(doc, env={})
    # THEN it is accepted
    assert loaded.target.test_url == f"http://{host}:8080"


@pytest.mark.parametrize("port", ["0", "65536", "99999", "-1", "8o"])
def test_network_port_outside_range_is_a_spec_error(port: str) -> None:
    # GIVEN a listener URL with a port that is not 1-65535
    doc = spec(test_url=f"http://lb.example.com:{port}/")
    # WHEN the spec is read
    problems = problems_of(doc)
    # THEN the problem names the field and quotes the URL
    assert any(p.startswith("target.test_url: ") and port in p for p in problems), problems


# --- DNS rebinding ------------------------------------------------------------------------------------------


class Resolver:
    """Answers for names the test owns (a list per name: one answer per lookup, the last repeated)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: dict[str, int] = {}
        self.real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.answers:
            return self.real(host, port, *args, **kwargs)
        n = self.lookups.get(name, 0)
        self.lookups[name] = n + 1
        addresses = self.answers[name][min(n, len(self.answers[name]) - 1)]
        out = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, int(port or 0), 0, 0) if family == socket.AF_INET6 else (address, int(port or 0))
            out.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return out


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Resolver]:
    fake = Resolver({})
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    yield fake


def test_network_rebinding_name_is_resolved_once_and_the_vetted_address_used(resolver: Resolver) -> None:
    # GIVEN a name that answers 127.0.0.1 first and the metadata address on every later lookup
    resolver.answers["rebind.example.test"] = [["127.0.0.1"], [METADATA]]
    with HttpServer(Reply(200, body="green")) as green:
        port = green.url.rsplit(":", 1)[1]
        url = f"http://rebind.example.test:{port}/health"
        # WHEN the probe requests it
        response = fetch(Request("GET", url, allowed_hosts=frozenset({"rebind.example.test"}), timeout=10))
        # THEN it asked DNS once, connected to the address it vetted (the server answered), and kept the name
        assert response.status == 200 and response.body == b"green"
        assert resolver.lookups["rebind.example.test"] == 1
        assert green.requests[0].header("host") == f"rebind.example.test:{port}"
    # (the suite's guard fails the test if any connection went outside loopback)


@pytest.mark.parametrize("answer", [[METADATA], ["127.0.0.1", METADATA], ["::ffff:169.254.169.254"]])
def test_network_name_resolving_to_metadata_is_refused_before_connecting(resolver: Resolver, answer: list) -> None:
    # GIVEN a name whose DNS answer is (or includes) the metadata address
    resolver.answers["evil.example.test"] = [answer]
    # WHEN the probe requests it
    with pytest.raises(ProbeError) as caught:
        fetch(Request("GET", "http://evil.example.test:80/", allowed_hosts=frozenset({"evil.example.test"}), timeout=5))
    # THEN it is refused without a connection attempt (none reached the guard), after one lookup
    assert caught.value.kind == "blocked"
    assert "link-local or instance-metadata" in str(caught.value)
    assert resolver.lookups["evil.example.test"] == 1


def test_network_tls_name_kept_for_sni_and_certificate_while_connecting_to_the_vetted_ip(
    resolver: Resolver, tmp_path: Path
) -> None:
    # GIVEN an HTTPS server on 127.0.0.1 whose certificate names SERVICE, and SERVICE resolving there once
    pki = Pki(tmp_path)
    resolver.answers[SERVICE] = [["127.0.0.1"], [METADATA]]
    with TlsServer(pki.leaf("service")) as server:
        port = server.url.rsplit(":", 1)[1]
        request = Request(
            "GET",
            f"https://{SERVICE}:{port}/",
            allowed_hosts=frozenset({SERVICE}),
            tls=TlsSettings(ca_bundle=str(pki.ca_bundle)),
            timeout=10,
        )
        # WHEN the probe requests it
        response = fetch(request)
    # THEN the certificate was verified against the name, SNI and Host carried the name, DNS was asked once
    assert response.status == 200
    assert server.seen.sni == [SERVICE]
    assert server.seen.hosts == [f"{SERVICE}:{port}"]
    assert resolver.lookups[SERVICE] == 1


def test_network_tls_certificate_for_another_name_fails_even_at_the_vetted_ip(
    resolver: Resolver, tmp_path: Path
) -> None:
    # GIVEN the server's certificate names another host than the one requested
    pki = Pki(tmp_path)
    resolver.answers[SERVICE] = [["127.0.0.1"]]
    with TlsServer(pki.leaf("other", hosts=("other.example.test",))) as server:
        port = server.url.rsplit(":", 1)[1]
        request = Request(
            "GET",
            f"https://{SERVICE}:{port}/",
            allowed_hosts=frozenset({SERVICE}),
            tls=TlsSettings(ca_bundle=str(pki.ca_bundle)),
            timeout=10,
        )
        # WHEN the probe requests it
        with pytest.raises(ProbeError) as caught:
            fetch(request)
    # THEN verification is on the name, not skipped because an IP was connected to
    assert caught.value.kind == "tls"
