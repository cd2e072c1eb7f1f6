"""A duplicate CodeDeploy invocation whose report is refused answers with CodeDeploy's record, never its own verdict.

Lambda delivers an event at least once: two invocations of one hook execution may validate side by side, both
before either has reported, so neither sees the other's outcome up front. The second report is refused with
LifecycleEventAlreadyCompletedException; the invocation must then return and log the status CodeDeploy recorded
(GetDeploymentTarget -> lifecycleEvents, as the twin's moto extension records it), not the verdict it reached.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("runtime_support")
from runtime_support import Twin, http_spec, invoke_timed, write_spec  # noqa: E402

from greenlight_twin.aws import faults  # noqa: E402
from support.servers import HttpServer, Reply  # noqa: E402

OK = Reply(json={"status": "ok"})
BROKEN = Reply(status=500, body="broken")


def one_check() -> list[dict[str, Any]]:
    return [{"name": "health", "http": {"path": "/health"}, "count": 1, "timeout": "5s"}]


@pytest.mark.parametrize(
    ("fast", "slow", "recorded", "own"), [(BROKEN, OK, "Failed", "PASSED"), (OK, BROKEN, "Succeeded", "FAILED")]
)
def test_runtime_duplicate_invocation_answers_the_recorded_status_not_its_verdict(
    twin: Twin,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    fast: Reply,
    slow: Reply,
    recorded: str,
    own: str,
) -> None:
    # GIVEN two deliveries of the same hook execution running side by side: the first sees a green that answers
    #       quickly one way, the second (slowed by 2 s) sees it answer the other way
    caplog.set_level(logging.INFO)
    slowed = Reply(status=slow.status, body=slow.body, json=slow.json, delay=2.0)
    with HttpServer(fast) as green_fast, HttpServer(slowed) as green_slow:
        spec_fast = write_spec(tmp_path, http_spec(green_fast.url, checks=one_check()), "fast.yaml")
        spec_slow = write_spec(tmp_path, http_spec(green_slow.url, checks=one_check()), "slow.yaml")
        results: dict[str, Any] = {}
        second = threading.Thread(target=lambda: results.update(slow=invoke_timed(twin, spec_slow, seconds=30)))
        second.start()
        # (the slow delivery is past its look-up of an earlier outcome once green has its request)
        for _ in range(200):
            if green_slow.requests:
                break
            threading.Event().wait(0.05)
        assert green_slow.requests, "the slow delivery never reached green"
        # WHEN both run; the fast one reports first
        results["fast"] = invoke_timed(twin, spec_fast, seconds=30)
        second.join(60)
    first, late = results["fast"], results["slow"]
    first.figures("first delivery")
    late.figures("duplicate delivery")
    # THEN CodeDeploy holds the first report; the duplicate's was refused, and it answers what CodeDeploy holds
    assert first.outcome["status"] == recorded and first.outcome["recorded"] is True
    assert late.outcome["status"] == recorded, "a refused report must answer CodeDeploy's record"
    assert late.outcome["recorded"] is False
    assert late.outcome["verdict"] == "ALREADY_COMPLETED"
    assert own in late.outcome["reason"]  # its own verdict is said, as not recorded
    execution = twin.execution()
    assert execution.status == recorded
    assert execution.reports[0] == recorded and len(execution.reports) == 2
    logged = [r for r in caplog.records if "already completed as" in r.getMessage()]
    assert logged and getattr(logged[-1], "status", None) == recorded


def test_runtime_duplicate_invocation_that_cannot_read_the_record_never_claims_its_own_verdict(
    twin: Twin, tmp_path: Path
) -> None:
    # GIVEN CodeDeploy already holds Failed for the hook execution, and the hook's role may not read
    #       GetDeploymentTarget (so it can neither see that up front nor read the record afterwards)
    twin.server.session().client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=twin.deployment_id,
        lifecycleEventHookExecutionId=twin.execution_id,
        status="Failed",
    )
    faults.deny("codedeploy:GetDeploymentTarget")
    with HttpServer(OK) as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=one_check()))
        # WHEN a duplicate delivery validates a healthy green
        late = invoke_timed(twin, spec, seconds=30)
    late.figures("duplicate delivery, record unreadable")
    # THEN its report is refused and it says the status is unknown: never Succeeded, which CodeDeploy did not record
    assert late.outcome["recorded"] is False
    assert late.outcome["status"] == "Unknown"
    assert twin.execution().status == "Failed"
