"""The load against real HTTP servers on 127.0.0.1: open-loop under a slow green, errors of a failing one, the
`load` check's verdicts, secrets in the load's headers, and the load in the report (valid against its schema)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import jsonschema

from greenlight.engine.check import CheckContext, Target
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import Verdict
from greenlight.engine.run import Budget, run
from greenlight.load import LoadRequest, LoadRun, LoadSpec
from greenlight.plan import run_hook
from greenlight.probe import redact
from greenlight.reporting import report as reports
from greenlight.spec import build_spec
from support.servers import HttpServer, Reply

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report.schema.json").read_text())
HOOK = "AfterAllowTestTraffic"


def _send(server: HttpServer, spec: LoadSpec, seconds: float) -> dict[str, Any]:
    """Run `spec` against `server` for `seconds` (the deadline) and return its results."""
    ctx = CheckContext(target=Target(test_url=server.url), deadline=Deadline.after(seconds + 5))
    load = LoadRun(spec)
    load.start(ctx)
    threading.Event().wait(seconds)
    load.stop()
    return load.snapshot()


def test_load_slow_server_keeps_the_rate_and_counts_missed() -> None:
    # GIVEN a green that takes 1 s per answer, 2 slots, 20 requests/s asked for 1.5 s
    with HttpServer(Reply(delay=1.0)) as server:
        # WHEN
        snap = _send(server, LoadSpec(20.0, concurrency=2, duration=1.5, timeout=3.0), 2.5)
    # THEN the schedule was not slowed by the replies: every due request is sent or counted missed
    assert snap["sent"] + snap["missed"] == 30
    assert snap["sent"] == len(server.requests) and snap["sent"] <= 4  # at most 2 in flight at any time
    assert snap["missed"] >= 26
    assert snap["latency_ms"]["p50"] >= 1000


def test_load_failing_server_counts_errors_by_kind() -> None:
    # GIVEN a green answering 503 on /fail and 200 on /ok, picked round robin
    with HttpServer(routes={"/fail": Reply(503), "/ok": Reply(200)}) as server:
        spec = LoadSpec(20.0, duration=1.0, requests=(LoadRequest(path="/ok"), LoadRequest(path="/fail")))
        # WHEN
        snap = _send(server, spec, 2.0)
    # THEN half the answers are 5xx errors
    assert snap["sent"] == 20 and snap["missed"] == 0
    assert snap["completed"] == 10 and snap["errors"] == {"http_5xx": 10} and snap["error_rate"] == 0.5
    assert {r.path for r in server.requests} == {"/ok", "/fail"}


def test_load_refused_connection_is_an_error_of_its_own_kind() -> None:
    server = HttpServer().start()
    url = server.url
    server.stop()  # nothing listens there any more
    ctx = CheckContext(target=Target(test_url=url), deadline=Deadline.after(10))
    load = LoadRun(LoadSpec(10.0, duration=1.0, timeout=1.0))
    load.start(ctx)
    threading.Event().wait(1.5)
    load.stop()
    snap = load.snapshot()
    assert (snap["sent"], snap["completed"], snap["errors"]) == (10, 0, {"refused": 10})
    assert snap["latency_ms"] == {"p50": None, "p90": None, "p99": None}  # no answer, no latency


def _spec(url: str, check: dict[str, Any], load: dict[str, Any], **policy: Any) -> Any:
    return build_spec(
        {
            "version": 1,
            "target": {"test_url": url},
            "load": {HOOK: load},
            "hooks": {HOOK: [{"name": "under-load", "load": check, **policy}]},
        }
    )


def test_load_check_fails_a_green_that_errors_under_load_and_the_report_shows_it() -> None:
    # GIVEN a green that fails every other request, and a load check allowing 5 % errors
    with HttpServer(routes={"/a": Reply(200), "/b": Reply(500)}) as server:
        spec = _spec(
            server.url,
            {"max_error_rate": 0.05, "min_requests": 10},
            {"rate": 40, "requests": [{"path": "/a"}, {"path": "/b"}]},
            count=3,
            interval="1s",
            timeout="2s",
        )
        # WHEN the hook runs
        result = run_hook(spec, HOOK, deadline=Deadline.after(20))
    # THEN the load check fails with the error rate, the load stopped at the verdict, and the report has it
    assert result.verdict is Verdict.FAILED, result.reason
    assert "error rate" in result.checks[0].reason and "http_5xx" in result.checks[0].reason
    assert result.load is not None and result.load["errors"].get("http_5xx", 0) >= 5
    threading.Event().wait(0.3)
    assert len(server.requests) == result.load["sent"]  # nothing more was sent after the verdict
    report = reports.from_result(result, source="cli")
    jsonschema.validate(report, SCHEMA)
    assert report["load"]["sent"] == result.load["sent"]


def test_load_check_passes_a_healthy_green_and_masks_a_secret_header() -> None:
    # GIVEN a healthy green and a load whose requests carry a credential from the environment
    token = "load-token-0123456789"
    with HttpServer(Reply(200)) as server:
        spec = build_spec(
            {
                "version": 1,
                "target": {"test_url": server.url},
                "load": {HOOK: {"rate": 50, "requests": [{"headers": {"Authorization": "Bearer ${LOAD_TOKEN}"}}]}},
                "hooks": {
                    HOOK: [
                        {
                            "name": "under-load",
                            "load": {"max_error_rate": 0.01, "min_achieved_rate_ratio": 0.8, "max_p99_ms": 2000},
                            "count": 2,
                            "interval": "1s",
                            "consecutive_successes": 1,
                        }
                    ]
                },
            },
            env={"LOAD_TOKEN": token},
        )
        # WHEN
        result = run_hook(spec, HOOK, deadline=Deadline.after(20))
    # THEN it passes, the requests carried the header and the User-Agent, and no output shows the token
    assert result.verdict is Verdict.PASSED, result.reason
    assert server.requests and all(r.header("authorization") == f"Bearer {token}" for r in server.requests)
    assert all((r.header("user-agent") or "").startswith("greenlight") for r in server.requests)
    assert token not in json.dumps(reports.from_result(result, source="cli"))
    assert token not in redact.text(json.dumps(result.to_dict()))


def test_load_check_without_enough_answers_fails() -> None:
    # GIVEN a load too slow to give 1000 answers in the hook's time
    with HttpServer(Reply(200)) as server:
        spec = _spec(server.url, {"min_requests": 1000}, {"rate": 5}, count=2, interval="500ms")
        result = run_hook(spec, HOOK, deadline=Deadline.after(10))
    assert result.verdict is Verdict.FAILED
    assert "answers needed so far" in result.checks[0].reason


def test_load_check_with_no_limits_fails_a_load_that_never_got_an_answer() -> None:
    # GIVEN a green that refuses every connection, and a load check that sets no limit of its own (the error
    # rate's default holds) or only a latency limit (no latency was ever measured)
    server = HttpServer().start()
    url = server.url
    server.stop()
    for check, said in (({}, "none of"), ({"max_error_rate": 1, "max_p99_ms": 500}, "no latency measured")):
        spec = _spec(url, {**check, "min_requests": 5}, {"rate": 20, "timeout": "500ms"}, count=1)
        # WHEN the hook runs
        result = run_hook(spec, HOOK, deadline=Deadline.after(10))
        # THEN the load check fails: answers that are all errors are not a passing load
        assert result.verdict is Verdict.FAILED, result.reason
        assert said in result.checks[0].reason and "refused" in result.checks[0].reason


def test_load_runs_within_each_round_of_a_resumable_run_and_stops_at_its_pause() -> None:
    # GIVEN a check that needs 10 s of measurements, and a round (an ECS IN_PROGRESS invocation) that pauses at 3 s
    with HttpServer(Reply(200)) as server:
        spec = _spec(
            server.url,
            {"max_error_rate": 0.5, "min_requests": 5},
            {"rate": 20},
            count=10,
            interval="1s",
            timeout="500ms",
        )
        checks = [c.build() for c in spec.checks_for(HOOK)]
        budget = Budget.resumable(3.0, run_left=60, room=2.0, end="max_duration 60s reached")
        # WHEN the round runs
        outcome = run(checks, budget, hook=HOOK, target=spec.target, load=spec.load_for(HOOK))
        threading.Event().wait(0.3)
    # THEN the round paused (no 500 ms measurement starts with less than 1.5 s left), and its load ran only within
    # it: about 2 s of requests at 20/s, none after the pause
    assert outcome.in_progress and outcome.result.checks[0].paused, outcome.result.reason
    load = outcome.result.load
    assert load is not None and 20 <= load["sent"] <= 60, load
    assert len(server.requests) == load["sent"]
