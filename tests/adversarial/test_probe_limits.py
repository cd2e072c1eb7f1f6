"""Class 3 (fail open, probe part) and the timeout hint: a body cut off at max_body_bytes never proves an
absence, and a timeout tells a slow server from one that could not be reached.

What is sound on a truncated body: `body_contains` found in the part read is found in the whole body (pass);
`body_not_contains` can never be proven (fail, naming max_body_bytes); `body_matches` passes only on a match
that ends before the cut (RE2 has no lookahead, so such a match is a match in the whole body); JSON checks
fail (a cut document is not JSON).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from greenlight.checks.http import HttpCheck
from greenlight.engine.check import CheckContext, Target
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import Status
from greenlight.engine.policy import Policy
from greenlight.spec.model import spec_schema
from support.servers import HttpServer, Reply, SilentServer

CAP = 1024
BIG = "head " + "x" * 4000 + " forbidden-word tail"


def run_once(url: str, expect: dict[str, Any], *, timeout: float = 5.0, cap: int = CAP) -> Any:
    """One measurement of an http check whose body and expectations go through the real schema."""
    doc = {"version": 1, "hooks": {"AfterAllowTestTraffic": [{"name": "c", "http": {"path": "/", "expect": expect}}]}}
    clean = spec_schema().validate(doc, "", problems := [])
    assert not problems, problems
    body = clean["hooks"]["AfterAllowTestTraffic"][0]["http"]
    check = HttpCheck("c", Policy(count=1, timeout=timeout), body)
    ctx = CheckContext(target=Target(test_url=url, max_body_bytes=cap), deadline=Deadline.after(30))
    check.prepare(ctx)
    return check.measure(ctx)


@pytest.mark.parametrize(
    ("expect", "status", "words"),
    [
        ({"body_not_contains": "forbidden-word"}, Status.FAIL, "max_body_bytes"),  # the word is past the cut
        ({"body_not_contains": "never-there"}, Status.FAIL, "max_body_bytes"),  # absent, but unprovable
        ({"body_not_contains": "head"}, Status.FAIL, "body contains 'head'"),  # seen before the cut
        ({"body_contains": "head"}, Status.PASS, ""),  # found before the cut: found
        ({"body_contains": "tail"}, Status.FAIL, "truncated"),
        ({"body_matches": "^head x+"}, Status.FAIL, "max_body_bytes"),  # the match runs into the cut
        ({"body_matches": "^head "}, Status.PASS, ""),  # ends well before the cut
        ({"json": {"a": 1}}, Status.FAIL, "max_body_bytes"),
    ],
)
def test_probe_truncated_body_never_proves_an_absence(expect: dict[str, Any], status: Status, words: str) -> None:
    # GIVEN green answers a body four times larger than target.max_body_bytes
    with HttpServer(Reply(200, body=BIG)) as green:
        # WHEN one measurement judges it
        m = run_once(green.url, expect)
    # THEN the verdict is only what the part read can prove
    assert m.status is status, m.reason
    assert words in m.reason


def test_probe_hostile_json_nesting_fails_the_measurement() -> None:
    # GIVEN green answers JSON nested far deeper than the interpreter's stack, within the cap
    with HttpServer(Reply(200, body="[" * 200_000 + "]" * 200_000)) as green:
        # WHEN a JSON expectation judges it
        m = run_once(green.url, {"json": {"a": 1}}, cap=1024 * 1024)
    # THEN a verdict, not a crash
    assert m.status is Status.FAIL, m.reason
    assert "nested too deeply" in m.reason


def test_probe_body_within_the_cap_is_judged_whole() -> None:
    # GIVEN a body smaller than the cap
    with HttpServer(Reply(200, body="all good")) as green:
        # WHEN body_not_contains judges it
        m = run_once(green.url, {"body_not_contains": "error"})
    # THEN it passes: the whole body was read
    assert m.status is Status.PASS, m.reason


def test_probe_timeout_after_connecting_says_slow_or_hung_server() -> None:
    # GIVEN a server that accepts the connection and never answers
    with SilentServer() as silent:
        # WHEN a probe waits for it
        m = run_once(silent.url, {}, timeout=0.5)
    # THEN the hint is about the server, not the network
    assert m.status is Status.ERROR
    assert "connected to 127.0.0.1, but the answer did not complete" in m.reason
    assert "slow or hung server" in m.reason


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A loopback port whose listen queue is full: the kernel drops further SYNs, so connecting hangs.

    (What an unreachable address does, without leaving loopback: the listener never accepts, and the
    queue, of length 0 plus Linux's one slot of slack, is filled by the sockets opened here.)
    """
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        yield port
    finally:
        for s in [*fillers, server]:
            s.close()


def test_probe_timeout_before_connecting_says_security_groups_and_routes() -> None:
    # GIVEN a port where connecting never completes
    with full_backlog() as port:
        # WHEN a probe tries it
        m = run_once(f"http://127.0.0.1:{port}", {}, timeout=0.5)
    # THEN the hint is about reaching the server
    assert m.status is Status.ERROR
    assert "could not connect to 127.0.0.1" in m.reason, m.reason
    assert "security groups" in m.reason
