"""A real run with a failing check, against a real HTTP server on 127.0.0.1: what the report tests render."""

from __future__ import annotations

from typing import Any

from greenlight.engine.deadline import Deadline
from greenlight.plan import run_hook
from greenlight.spec import build_spec
from support.servers import HttpServer, Reply, first_n

HOOK = "AfterAllowTestTraffic"
TOKEN = "tok-9f8e7d6c5b4a"  # nosec B105  # a made-up query token that must never reach a report
HOSTILE = "<script>alert('x')</script>&<b>"


def run_against(server: HttpServer) -> Any:
    """Two passes then 503s on /health (the check fails at its third measurement); / always answers 200."""
    url = server.url
    doc = {
        "version": 1,
        "target": {"test_url": url, "prod_url": url},
        "defaults": {"timeout": "2s", "interval": "50ms"},
        "hooks": {
            HOOK: [
                {"name": "home", "http": {"path": "/", "expect": {"status": [200]}}, "count": 3},
                {
                    "name": "health",
                    "http": {"path": f"/health?token={TOKEN}", "expect": {"status": [200]}},
                    "count": 5,
                    "interval": "150ms",  # fails at ~300 ms: home (3 x 50 ms) has passed by then
                    "failure_limit": 0,
                },
            ]
        },
    }
    spec = build_spec(doc, env={})
    context = {"test_url": f"{url}/?token={TOKEN}", "prod_url": url}
    return run_hook(spec, HOOK, deadline=Deadline.after(20), context=context)


def failing_routes() -> dict[str, Any]:
    """/ answers 200; /health twice 200, then 503 with markup in its body and headers."""
    return {
        "/": Reply(200, body="ok"),
        "/health": first_n(2, Reply(200, body="ok"), Reply(503, body=HOSTILE, headers={"X-Note": HOSTILE})),
    }
