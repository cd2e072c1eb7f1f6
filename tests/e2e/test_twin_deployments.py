"""Whole deployments through the local twin, in both controller modes: what greenlight promotes and what it stops.

Every test plays real deployments: green's tasks are app/server.py processes on 127.0.0.1, the hook
function runs in the Lambda Runtime Interface Emulator (an emulator process and its Python runtime,
started once per module and restarted when a test abandons an invocation), and it reaches moto and the
twin load balancer (both in the test process) over HTTP. The module's twin (fixture `twin`) is stopped
after its last test, and the fixture asserts that no process is left.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from greenlight_twin import aws as twin_aws
from greenlight_twin.controller import Twin
from greenlight_twin.demo import ProductionWatcher
from greenlight_twin.outcome import DeploymentOutcome

pytestmark = pytest.mark.e2e

SPECS = Path(__file__).resolve().parents[2] / "examples" / "twin"

DEMO = SPECS / "demo.yaml"
# The hook that runs AfterAllowTestTraffic's checks, by controller.
TEST_TRAFFIC_HOOK = {"CODE_DEPLOY": "AfterAllowTestTraffic", "ECS": "POST_TEST_TRAFFIC_SHIFT"}


def production_version(twin: Twin) -> str | None:
    with urllib.request.urlopen(twin.prod_url + "/", timeout=5) as response:  # noqa: S310 (127.0.0.1 only)
        return response.headers.get("X-App-Version")


def codedeploy_state(twin: Twin, deployment_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """GetDeployment's deploymentInfo and the ECS target (ListDeploymentTargets + GetDeploymentTarget)."""
    cd = twin.client("codedeploy")
    info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    target_ids = cd.list_deployment_targets(deploymentId=deployment_id)["targetIds"]
    target = cd.get_deployment_target(deploymentId=deployment_id, targetId=target_ids[0])
    return info, target["deploymentTarget"]["ecsTarget"]


def lifecycle(target: dict[str, Any]) -> dict[str, str]:
    return {e["lifecycleEventName"]: e["status"] for e in target["lifecycleEvents"]}


def ecs_deployment(twin: Twin, deployment_arn: str) -> dict[str, Any]:
    found = twin.client("ecs").describe_service_deployments(serviceDeploymentArns=[deployment_arn])
    deployment: dict[str, Any] = found["serviceDeployments"][0]
    return deployment


def assert_rolled_back(twin: Twin, outcome: DeploymentOutcome, blue: str) -> None:
    """Not promoted, production still on blue, and the controller's own record says so."""
    assert not outcome.promoted and outcome.rolled_back, outcome.summary()
    assert production_version(twin) == blue
    if twin.controller == "CODE_DEPLOY":
        info, target = codedeploy_state(twin, outcome.deployment_id)
        assert info["status"] == "Failed"
        assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
        assert lifecycle(target)["AllowTraffic"] == "Skipped"
        assert all(
            ts["trafficWeight"] == (100.0 if ts["taskSetLabel"] == "Blue" else 0.0) for ts in target["taskSetsInfo"]
        )
    else:
        assert ecs_deployment(twin, outcome.deployment_id)["status"] == "ROLLBACK_SUCCESSFUL"


def test_deployment_good_release_promoted(twin: Twin, version: str) -> None:
    """Starts green's task (a sample service process); the hook functions run in their emulators."""
    # GIVEN a twin whose production serves blue
    blue = twin.live_version
    assert production_version(twin) == blue

    # WHEN a healthy green is deployed with the demo spec
    outcome = twin.deploy(DEMO, version=version)

    # THEN every check passed, production serves green, and the controller recorded a success
    assert outcome.promoted, outcome.summary()
    checks = outcome.hook(TEST_TRAFFIC_HOOK[twin.controller]).checks
    assert {c.name: c.status for c in checks} == {
        "health": "PASS",
        "answered-by-green": "PASS",
        "green-targets-healthy": "PASS",
    }
    assert outcome.check("production-health").status == "PASS"
    assert production_version(twin) == version == twin.live_version
    if twin.controller == "CODE_DEPLOY":
        info, target = codedeploy_state(twin, outcome.deployment_id)
        assert info["status"] == "Succeeded"
        events = lifecycle(target)
        assert events["AfterAllowTestTraffic"] == events["AfterAllowTraffic"] == "Succeeded"
        green = next(ts for ts in target["taskSetsInfo"] if ts["taskSetLabel"] == "Green")
        assert green["trafficWeight"] == 100.0
        assert twin.live is not None and green["targetGroup"]["name"] == twin.live.target_group
    else:
        deployment = ecs_deployment(twin, outcome.deployment_id)
        assert deployment["status"] == "SUCCESSFUL"
        assert deployment["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0


def test_deployment_unhealthy_health_rolled_back(twin: Twin, version: str) -> None:
    """Starts green's task with FAULT_UNHEALTHY=true (its /health answers 503); production is watched throughout."""
    # GIVEN production on blue, watched every 100 ms
    blue = twin.live_version
    watcher = ProductionWatcher(twin.prod_url)

    # WHEN a green whose /health fails is deployed
    with watcher.watching():
        outcome = twin.deploy(DEMO, version=version, env={"FAULT_UNHEALTHY": "true"})

    # THEN the test-traffic hook's health check failed, the deployment rolled back, and production never
    # answered with green
    assert outcome.failed_step == TEST_TRAFFIC_HOOK[twin.controller]
    health = outcome.check("health")
    assert health.status == "FAIL"
    assert "status 503" in health.reason
    assert_rolled_back(twin, outcome, blue)
    assert watcher.answers, "the watcher got no answer at all"
    assert all(key.startswith(f"{blue} (200)") for key in watcher.answers), watcher.describe()


def test_deployment_wrong_version_caught_by_identity(twin: Twin, version: str) -> None:
    """Starts green's task with FAULT_WRONG_VERSION set to blue's version (it claims to be blue)."""
    # GIVEN blue's version
    blue = twin.live_version

    # WHEN a green that answers as blue is deployed
    outcome = twin.deploy(DEMO, version=version, env={"FAULT_WRONG_VERSION": blue})

    # THEN identity names what answered and what was expected, and the deployment rolled back
    identity = outcome.check("answered-by-green")
    assert identity.status == "FAIL"
    assert f"'{blue}' (blue's)" in identity.reason
    assert f"expected '{version}'" in identity.reason
    assert outcome.check("health").status != "FAIL"
    assert_rolled_back(twin, outcome, blue)


def test_deployment_one_bad_task_caught_by_per_target(twin: Twin, version: str) -> None:
    """Starts two green tasks; the second has FAULT_ERROR_RATE=1 (every answer is a 500)."""
    # GIVEN blue
    blue = twin.live_version

    # WHEN green has one good and one bad task
    outcome = twin.deploy(SPECS / "per-target.yaml", version=version, tasks=2, task_env=[{}, {"FAULT_ERROR_RATE": "1"}])

    # THEN per_target names the bad task, and only it
    good, bad = outcome.green_targets
    check = outcome.check("every-green-task")
    assert check.status == "FAIL"
    assert "1 of 2 target(s)" in check.reason
    assert f"{bad}: status 500" in check.reason
    assert good not in check.reason
    assert_rolled_back(twin, outcome, blue)


def test_deployment_5xx_rate_caught_by_metric(twin: Twin, version: str) -> None:
    """Starts green's task with FAULT_ERROR_RATE=0.5; the load balancer publishes its metrics to moto."""
    # GIVEN blue
    blue = twin.live_version

    # WHEN green answers half of its requests with a 500
    outcome = twin.deploy(SPECS / "metric.yaml", version=version, env={"FAULT_ERROR_RATE": "0.5"})

    # THEN the 5xx count of green's target group, as published by the load balancer, failed the check
    metric = outcome.check("green-5xx")
    assert metric.status == "FAIL"
    assert "HTTPCode_Target_5XX_Count" in metric.reason
    assert twin.live is not None and f"targetgroup/{twin.live.idle_group}/" in metric.reason
    assert outcome.check("traffic").status != "FAIL"
    assert_rolled_back(twin, outcome, blue)


# The AWS call each controller's hook makes, and the twin never does, to hang or deny.
HOOK_CALL = {
    "CODE_DEPLOY": "codedeploy:PutLifecycleEventHookExecutionStatus",
    "ECS": "ecs:DescribeServiceDeployments",
}


def test_deployment_hanging_hook_times_out_and_rolls_back(twin: Twin, version: str) -> None:
    """Starts green's task; the hook's AWS call is held for 30 s (no network path), so the hook hangs."""
    # GIVEN a hook whose AWS call hangs, and a hook timeout of 6 s
    blue = twin.live_version
    hook = TEST_TRAFFIC_HOOK[twin.controller]
    twin.ensure_functions(DEMO)
    before = twin.function_for(hook).pid
    twin_aws.delay(HOOK_CALL[twin.controller], 30.0)

    # WHEN green is deployed
    outcome = twin.deploy(DEMO, version=version, hook_timeout=6.0)
    twin_aws.clear_faults()  # the checks below call AWS too

    # THEN the hook timed out, the deployment rolled back, and the hung function was replaced
    result = outcome.hook(hook)
    assert result.status == "TimedOut", outcome.summary()
    assert "6 s" in result.reason
    assert outcome.failed_step == hook
    assert_rolled_back(twin, outcome, blue)
    assert twin.function_for(hook).pid != before


def test_deployment_denied_aws_call_fails_closed(twin: Twin, version: str) -> None:
    """Starts green's task (healthy); the hook's role lacks one permission (fault injection: deny)."""
    # GIVEN a healthy green, and an IAM denial of the hook's key call: CodeDeploy's report, ECS's discovery
    blue = twin.live_version
    hook = TEST_TRAFFIC_HOOK[twin.controller]
    twin_aws.deny(HOOK_CALL[twin.controller])

    # WHEN green is deployed
    outcome = twin.deploy(DEMO, version=version, hook_timeout=10.0)
    twin_aws.clear_faults()  # the checks below call AWS too

    # THEN the deployment failed rather than succeeded
    result = outcome.hook(hook)
    assert_rolled_back(twin, outcome, blue)
    if twin.controller == "CODE_DEPLOY":
        # the checks passed, but the report was refused: Lambda retried the invocation, then the hook timed out
        assert all(c.status == "PASS" for c in result.checks)
        assert result.status == "TimedOut"
        assert result.invocations == 3
        assert any("AccessDenied" in e for e in result.errors), result.errors
    else:
        # discovery was refused: the hook answered FAILED naming the missing permission
        assert result.status == "FAILED"
        assert "ecs:DescribeServiceDeployments" in result.reason


def test_deployment_stopped_rolls_back(twin: Twin, version: str) -> None:
    """Starts green's task; while the hook's AWS call is held, the deployment is stopped (StopDeployment)."""
    # GIVEN a hook that waits on its AWS call
    blue = twin.live_version
    hook = TEST_TRAFFIC_HOOK[twin.controller]
    # (ECS: a call of discovery that this test does not make itself)
    held = HOOK_CALL["CODE_DEPLOY"] if twin.controller == "CODE_DEPLOY" else "ecs:DescribeServiceRevisions"
    twin_aws.delay(held, 30.0)
    seen: dict[str, Any] = {}

    def stop_when_hook_runs() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            current = twin.current
            if current is not None and current.outcomes == [] and current.green_registered:
                time.sleep(1.0)
                if twin.controller == "CODE_DEPLOY":
                    _, target = codedeploy_state(twin, current.deployment_id)
                    seen["event"] = lifecycle(target)[hook]
                    twin.client("codedeploy").stop_deployment(deploymentId=current.deployment_id)
                else:
                    seen["event"] = ecs_deployment(twin, current.deployment_id)["lifecycleStage"]
                    twin.stop_deployment()
                return
            time.sleep(0.05)

    stopper = threading.Thread(target=stop_when_hook_runs)
    stopper.start()

    # WHEN green is deployed and stopped during the hook
    outcome = twin.deploy(DEMO, version=version, hook_timeout=15.0)
    twin_aws.clear_faults()  # the checks below call AWS too
    stopper.join()

    # THEN the hook was in progress when stopped, and the deployment was stopped and rolled back
    assert seen["event"] == ("InProgress" if twin.controller == "CODE_DEPLOY" else "POST_TEST_TRAFFIC_SHIFT")
    assert outcome.rolled_back and production_version(twin) == blue
    assert outcome.hook(hook).status == "Stopped"
    if twin.controller == "CODE_DEPLOY":
        info, _ = codedeploy_state(twin, outcome.deployment_id)
        assert info["status"] == "Stopped"
        assert info["errorInformation"]["code"] == "MANUAL_STOP"
    else:
        assert outcome.status == "STOPPED"


def test_deployment_validation_longer_than_one_invocation(twin: Twin, version: str) -> None:
    """Starts green's task; the spec's check needs about 8 s, the function has 5 s per invocation."""
    # GIVEN a spec whose check outlasts one invocation's budget (20 s function, 15 s report reserve)
    blue = twin.live_version

    # WHEN a healthy green is deployed
    outcome = twin.deploy(SPECS / "rounds.yaml", version=version)

    # THEN ECS resumes the validation over several invocations and promotes green; CodeDeploy's one
    # invocation hands it to the durable worker (docs/long-validations.md), whose report promotes green
    hook = outcome.hook(TEST_TRAFFIC_HOOK[twin.controller])
    assert outcome.promoted, outcome.summary()
    assert production_version(twin) != blue
    if twin.controller == "ECS":
        assert hook.invocations >= 2
        steady = outcome.check("steady")
        assert steady.status == "PASS" and steady.counts["PASS"] == 8
    else:
        assert hook.invocations == 1
        worker = twin.functions.worker
        assert worker is not None and worker.executions
        assert '"verdict": "PASSED"' in worker.wait(worker.executions[-1]).result
