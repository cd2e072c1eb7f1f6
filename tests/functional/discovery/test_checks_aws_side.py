"""The AWS-side check kinds (target_health, task_set, alarms, metric) against the twin's moto server on 127.0.0.1,
each with the deployment discovery found, run through the engine as a hook runs them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from greenlight.discovery.codedeploy import discover
from greenlight.discovery.model import Deployment
from greenlight.engine.model import RunResult, Status, Verdict
from greenlight_twin import aws as twin

GREEN_TARGETS = [("10.0.2.10", 3000), ("10.0.2.11", 3000)]


@pytest.fixture
def world(seed: Callable[..., twin.World]) -> twin.World:
    return seed(green_targets=GREEN_TARGETS)


@pytest.fixture
def deployment(world: twin.World, counted: Any) -> Deployment:
    return discover(world.deployment_id or "", counted.aws)


@pytest.fixture
def check(run_checks: Callable[..., RunResult], deployment: Deployment, counted: Any) -> Callable[[str], RunResult]:
    """check(yaml): run one hook's checks with the discovered deployment and the twin's clients."""
    return lambda checks_yaml: run_checks(checks_yaml, deployment=deployment, aws=counted.aws)


# --- target_health ------------------------------------------------------------------------------------


def test_target_health_passes_when_every_green_target_is_healthy(check: Callable[[str], RunResult]) -> None:
    # GIVEN green's two targets healthy (the twin's default)
    # WHEN target_health runs
    result = check("- name: targets\n  target_health: {}\n")

    # THEN it passes, counting both
    assert result.verdict is Verdict.PASSED, result.reason
    assert "2 of 2 target(s) healthy in green target group" in result.checks[0].measurements[0].reason


def test_target_health_names_the_unhealthy_target_with_its_reason(
    check: Callable[[str], RunResult], world: twin.World
) -> None:
    # GIVEN one of green's targets failing its health checks
    twin.set_target_health(world.green_tg_arn, "10.0.2.11", 3000, "unhealthy", "Target.ResponseCodeMismatch")

    # WHEN target_health runs
    result = check("- name: targets\n  target_health: {}\n")

    # THEN it fails naming that target, its reason code and AWS's description
    assert result.verdict is Verdict.FAILED
    reason = result.checks[0].measurements[0].reason
    assert f"1 of 2 target(s) not healthy in green target group {world.green_tg_name}" in reason
    assert "10.0.2.11:3000 unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])" in (
        reason
    )
    assert "10.0.2.10" not in reason


def test_target_health_min_healthy_counts(check: Callable[[str], RunResult]) -> None:
    # GIVEN two healthy green targets and a spec wanting three
    # WHEN target_health runs
    result = check("- name: targets\n  target_health: {min_healthy: 3}\n")

    # THEN it fails, saying how many were seen and wanted
    assert result.verdict is Verdict.FAILED
    assert "2 healthy target(s), expected at least 3" in result.checks[0].reason


def test_target_health_waits_until_healthy_within_its_budget(
    check: Callable[[str], RunResult], world: twin.World
) -> None:
    # GIVEN green's targets still in their initial health checks for the first two looks
    looks: list[str] = []
    lock = threading.Lock()

    def provider(tg_arn: str, target_id: str, port: int) -> tuple[str, str | None, str | None] | None:
        if tg_arn != world.green_tg_arn:
            return None
        with lock:
            looks.append(target_id)
            early = len(looks) <= 2 * len(GREEN_TARGETS)
        return ("initial", "Elb.InitialHealthChecking", None) if early else ("healthy", None, None)

    twin.set_target_health_provider(provider)

    # WHEN target_health may look 5 times, tolerating failures until one pass
    result = check(
        "- name: targets\n  target_health: {}\n  count: 5\n  interval: 50ms\n"
        "  failure_limit: 4\n  consecutive_successes: 1\n"
    )

    # THEN it passed on the third look
    assert result.verdict is Verdict.PASSED, result.reason
    statuses = [m.status for m in result.checks[0].measurements]
    assert statuses == [Status.FAIL, Status.FAIL, Status.PASS]
    assert "initial (Elb.InitialHealthChecking" in result.checks[0].measurements[0].reason


def test_target_health_access_denied_is_an_error_naming_the_action(check: Callable[[str], RunResult]) -> None:
    # GIVEN a role without elasticloadbalancing:DescribeTargetHealth
    twin.deny("elasticloadbalancing:DescribeTargetHealth")

    # WHEN target_health runs
    result = check("- name: targets\n  target_health: {}\n  consecutive_error_limit: 0\n")

    # THEN the check is an ERROR (not a pass) whose reason names the action
    assert result.checks[0].status is Status.ERROR
    assert "access denied to elasticloadbalancing:DescribeTargetHealth" in result.checks[0].reason


def test_target_health_without_a_deployment_says_how_to_give_one(run_checks: Callable[..., RunResult]) -> None:
    # GIVEN no discovered deployment (a plain `greenlight check` without --deployment-id)
    # WHEN target_health runs
    result = run_checks("- name: targets\n  target_health: {}\n")

    # THEN it is an error saying how to run it
    assert result.checks[0].status is Status.ERROR
    assert "--deployment-id" in result.checks[0].reason


# --- task_set -------------------------------------------------------------------------------------------


def test_task_set_passes_when_green_is_steady(check: Callable[[str], RunResult], world: twin.World) -> None:
    # GIVEN green's task set with every desired task running, STEADY_STATE
    # WHEN task_set runs
    result = check("- name: green\n  task_set: {}\n")

    # THEN it passes, naming the counts
    assert result.verdict is Verdict.PASSED, result.reason
    assert "running 2 of 2 desired, 0 pending, STEADY_STATE" in result.checks[0].measurements[0].reason


def test_task_set_fails_naming_the_counts(check: Callable[[str], RunResult], world: twin.World) -> None:
    # GIVEN green's task set with one of two tasks running, still stabilizing
    twin.set_task_set_state(
        world.green_task_set_arn or "",
        running_count=1,
        pending_count=1,
        computed_desired_count=2,
        stability_status="STABILIZING",
    )

    # WHEN task_set runs
    result = check("- name: green\n  task_set: {}\n")

    # THEN it fails with expected vs seen
    assert result.verdict is Verdict.FAILED
    reason = result.checks[0].measurements[0].reason
    assert f"green task set {world.green_task_set_id}" in reason
    assert "running 1 of 2 desired, 1 pending" in reason
    assert "1 running, expected 2" in reason
    assert "stabilityStatus STABILIZING, expected STEADY_STATE" in reason


def test_task_set_with_zero_desired_fails(check: Callable[[str], RunResult], world: twin.World) -> None:
    # GIVEN green's task set scaled to nothing
    twin.set_task_set_state(world.green_task_set_arn or "", running_count=0, computed_desired_count=0)

    # WHEN task_set runs (counts only)
    result = check("- name: green\n  task_set: {steady_state: false}\n")

    # THEN zero tasks is not "all running"
    assert result.verdict is Verdict.FAILED
    assert "desired count is 0" in result.checks[0].reason


# --- alarms -------------------------------------------------------------------------------------------------


def _alarm(session: Any, name: str, state: str) -> None:
    cw = session.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"set to {state} by the test")


def test_alarms_pass_when_none_is_in_alarm(check: Callable[[str], RunResult], session: Any) -> None:
    # GIVEN two alarms in OK
    _alarm(session, "svc-5xx", "OK")
    _alarm(session, "svc-latency", "OK")

    # WHEN alarms runs on both names
    result = check("- name: alarms\n  alarms: {names: [svc-5xx, svc-latency]}\n")

    # THEN it passes
    assert result.verdict is Verdict.PASSED, result.reason
    assert "2 alarm(s) not in ALARM" in result.checks[0].measurements[0].reason


def test_alarms_fail_naming_the_alarm_and_its_reason(check: Callable[[str], RunResult], session: Any) -> None:
    # GIVEN one alarm of a prefix in ALARM
    _alarm(session, "svc-5xx", "ALARM")
    _alarm(session, "svc-latency", "OK")
    _alarm(session, "other-alarm", "ALARM")

    # WHEN alarms runs on the prefix
    result = check("- name: alarms\n  alarms: {prefix: svc-}\n")

    # THEN it fails naming the one in ALARM (and not the other prefix's)
    assert result.verdict is Verdict.FAILED
    reason = result.checks[0].measurements[0].reason
    assert "1 of 2 alarm(s) in ALARM: svc-5xx (set to ALARM by the test)" in reason
    assert "other-alarm" not in reason


def test_alarms_missing_name_is_an_error_naming_it(check: Callable[[str], RunResult], session: Any) -> None:
    # GIVEN one existing alarm and one misspelt name
    _alarm(session, "svc-5xx", "OK")

    # WHEN alarms runs
    result = check("- name: alarms\n  alarms: {names: [svc-5xx, svc-5xxx]}\n")

    # THEN the check is an ERROR naming the missing alarm (a typo never passes)
    assert result.checks[0].status is Status.ERROR
    assert "CloudWatch alarm(s) not found: svc-5xxx" in result.checks[0].reason


@pytest.mark.parametrize(("policy", "status"), [("error", Status.ERROR), ("fail", Status.FAIL), ("pass", Status.PASS)])
def test_alarms_insufficient_data_follows_the_policy(
    policy: str, status: Status, check: Callable[[str], RunResult], session: Any
) -> None:
    # GIVEN an alarm without data yet
    _alarm(session, "svc-5xx", "INSUFFICIENT_DATA")

    # WHEN alarms runs with on_insufficient_data
    result = check(
        f"- name: alarms\n  alarms: {{names: [svc-5xx], on_insufficient_data: {policy}}}\n"
        "  consecutive_error_limit: 0\n"
    )

    # THEN the measurement is what the policy says
    measurement = result.checks[0].measurements[0]
    assert measurement.status is status
    assert "INSUFFICIENT_DATA" in measurement.reason


# --- metric -------------------------------------------------------------------------------------------------


def _put(session: Any, deployment: Deployment, name: str, values: list[float], minutes_ago: float = 1) -> None:
    green = deployment.green
    assert green is not None
    dims = [
        {"Name": "TargetGroup", "Value": Deployment.target_group_dimension(green.target_group_arn) or ""},
        {"Name": "LoadBalancer", "Value": deployment.load_balancer_dimension or ""},
    ]
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    session.client("cloudwatch").put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[{"MetricName": name, "Dimensions": dims, "Value": v, "Timestamp": at} for v in values],
    )


def test_metric_passes_within_the_bound_on_green_default_dimensions(
    check: Callable[[str], RunResult], session: Any, deployment: Deployment
) -> None:
    # GIVEN no 5xx from green's target group in the last minutes
    _put(session, deployment, "HTTPCode_Target_5XX_Count", [0, 0])

    # WHEN metric checks Sum <= 0 over 5m with the default (green) dimensions
    result = check(
        "- name: no-5xx\n  metric: {metric_name: HTTPCode_Target_5XX_Count, statistic: Sum, max: 0, window: 5m}\n"
    )

    # THEN it passes, and the dimensions were green's target group and the load balancer
    assert result.verdict is Verdict.PASSED, result.reason
    reason = result.checks[0].measurements[0].reason
    assert f"TargetGroup=targetgroup/{deployment.green.target_group_name}/" in reason  # type: ignore[union-attr]
    assert f"LoadBalancer={deployment.load_balancer_dimension}" in reason


def test_metric_fails_naming_the_value_and_the_bound(
    check: Callable[[str], RunResult], session: Any, deployment: Deployment
) -> None:
    # GIVEN green answered 3 5xx in the window
    _put(session, deployment, "HTTPCode_Target_5XX_Count", [1, 2])

    # WHEN metric checks Sum <= 0 over 5m
    result = check(
        "- name: no-5xx\n  metric: {metric_name: HTTPCode_Target_5XX_Count, statistic: Sum, max: 0, window: 5m}\n"
    )

    # THEN it fails with what it saw and what was expected
    assert result.verdict is Verdict.FAILED
    reason = result.checks[0].measurements[0].reason
    assert "HTTPCode_Target_5XX_Count Sum" in reason
    assert "reached 3 at" in reason and "expected at most 0" in reason


def test_metric_maximum_with_min_and_max_bounds(
    check: Callable[[str], RunResult], session: Any, deployment: Deployment
) -> None:
    # GIVEN a response time peak of 0.8 s
    _put(session, deployment, "TargetResponseTime", [0.1, 0.8, 0.2])

    # WHEN metric checks Maximum <= 0.5 per minute
    result = check(
        "- name: latency\n  metric: {metric_name: TargetResponseTime, statistic: Maximum, max: 0.5, period: 1m}\n"
    )

    # THEN it fails naming the peak
    assert result.verdict is Verdict.FAILED
    assert "reached 0.8 at" in result.checks[0].reason


@pytest.mark.parametrize(("policy", "status"), [("error", Status.ERROR), ("fail", Status.FAIL), ("pass", Status.PASS)])
def test_metric_no_data_follows_on_no_data(policy: str, status: Status, check: Callable[[str], RunResult]) -> None:
    # GIVEN no data points at all for the metric
    # WHEN metric runs with on_no_data
    result = check(
        "- name: no-5xx\n"
        f"  metric: {{metric_name: HTTPCode_Target_5XX_Count, statistic: Sum, max: 0, on_no_data: {policy}}}\n"
        "  consecutive_error_limit: 0\n"
    )

    # THEN the measurement is what the policy says, never a silent pass
    measurement = result.checks[0].measurements[0]
    assert measurement.status is status
    assert "no data points for AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum" in measurement.reason
    assert f"(on_no_data: {policy})" in measurement.reason


def test_metric_access_denied_names_the_action(check: Callable[[str], RunResult]) -> None:
    # GIVEN a role without cloudwatch:GetMetricData
    twin.deny("cloudwatch:GetMetricData")

    # WHEN metric runs
    result = check(
        "- name: no-5xx\n  metric: {metric_name: HTTPCode_Target_5XX_Count, statistic: Sum, max: 0}\n"
        "  consecutive_error_limit: 0\n"
    )

    # THEN it is an ERROR naming the action
    assert result.checks[0].status is Status.ERROR
    assert "access denied to cloudwatch:GetMetricData" in result.checks[0].reason
