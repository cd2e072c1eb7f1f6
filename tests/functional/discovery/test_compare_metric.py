"""`metric_compare` against the twin's moto server on 127.0.0.1: both target groups' load balancer metrics,
with the deployment discovery found, run through the engine as a hook runs them.

moto's GetMetricData computes no percentiles: its statistics are Sum, Average, Minimum, Maximum and SampleCount
(moto/cloudwatch/models.py, Statistics.get_statistics_for_type), so these tests use `Average`, the kind's default,
which moto aggregates per period as CloudWatch does; a `p50` or `p99` comparison runs against AWS only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from greenlight.discovery.codedeploy import discover
from greenlight.discovery.model import Deployment
from greenlight.engine.model import RunResult, Status, Verdict
from greenlight_twin import aws as twin

CHECK = "- name: vs-blue\n  metric_compare: {{window: 6m, period: 1m{extra}}}\n  consecutive_error_limit: 0\n"


@pytest.fixture
def deployment(seed: Callable[..., twin.World], counted: Any) -> Deployment:
    world = seed(green_targets=[("10.0.2.10", 3000)])
    return discover(world.deployment_id or "", counted.aws)


@pytest.fixture
def check(run_checks: Callable[..., RunResult], deployment: Deployment, counted: Any) -> Callable[..., RunResult]:
    """check(**fields): run one metric_compare check with the discovered deployment and the twin's clients."""

    def run(**fields: Any) -> RunResult:
        extra = "".join(f", {k}: {v}" for k, v in fields.items())
        return run_checks(CHECK.format(extra=extra), deployment=deployment, aws=counted.aws)

    return run


def put(session: Any, deployment: Deployment, side: str, name: str, per_minute: list[float]) -> None:
    """One data point per minute for the last len(per_minute) minutes, on `side`'s target group."""
    found = deployment.side(side)
    assert found is not None
    dims = [
        {"Name": "TargetGroup", "Value": Deployment.target_group_dimension(found.target_group_arn) or ""},
        {"Name": "LoadBalancer", "Value": deployment.load_balancer_dimension or ""},
    ]
    now = datetime.now(UTC)
    session.client("cloudwatch").put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {"MetricName": name, "Dimensions": dims, "Value": v, "Timestamp": now - timedelta(minutes=i + 0.5)}
            for i, v in enumerate(per_minute)
        ],
    )


def traffic(
    session: Any, deployment: Deployment, side: str, latency_s: list[float], requests: int, errors: int
) -> None:
    put(session, deployment, side, "TargetResponseTime", latency_s)
    put(session, deployment, side, "RequestCount", [requests / len(latency_s)] * len(latency_s))
    if errors:
        put(session, deployment, side, "HTTPCode_Target_5XX_Count", [errors])


def test_metric_compare_same_numbers_pass(
    check: Callable[..., RunResult], session: Any, deployment: Deployment
) -> None:
    # GIVEN both target groups served alike over five minutes
    traffic(session, deployment, "blue", [0.100, 0.110, 0.095, 0.105, 0.102], 1000, 1)
    traffic(session, deployment, "green", [0.101, 0.108, 0.097, 0.104, 0.099], 1000, 1)
    # WHEN green is compared with blue
    result = check()
    # THEN it passes, with both series and counts in the details
    assert result.verdict is Verdict.PASSED, result.reason
    m = result.checks[0].measurements[0]
    assert m.details["outcome"] == "PASS" and m.details["score"] == 100.0
    assert sorted(m.details["green"]["latency_ms"]) == [97.0, 99.0, 101.0, 104.0, 108.0]
    assert m.details["green"]["requests"] == 1000 and m.details["blue"]["errors_5xx"] == 1
    assert m.reason.startswith(f"green target group {deployment.green.target_group_name} vs blue")  # type: ignore[union-attr]


def test_metric_compare_slower_green_fails(
    check: Callable[..., RunResult], session: Any, deployment: Deployment
) -> None:
    # GIVEN green's average response time is 300 ms every minute where blue's is 100 ms
    traffic(session, deployment, "blue", [0.100, 0.110, 0.095, 0.105, 0.102], 1000, 0)
    traffic(session, deployment, "green", [0.300, 0.310, 0.290, 0.305, 0.298], 1000, 0)
    # WHEN compared
    result = check()
    # THEN the latency comparison fails it (5 periods against 5: the exact Mann-Whitney p is 1/252)
    assert result.verdict is Verdict.FAILED, result.reason
    m = result.checks[0].measurements[0]
    assert m.details["metrics"]["TargetResponseTime Average per 60s"]["outcome"] == "FAIL"
    assert m.details["metrics"]["TargetResponseTime Average per 60s"]["p"] == pytest.approx(1 / 252)
    assert "green is slower" in m.reason


def test_metric_compare_green_5xx_fail(check: Callable[..., RunResult], session: Any, deployment: Deployment) -> None:
    # GIVEN green answered 40 of 1000 requests with a 5xx where blue answered 1 of 1000
    traffic(session, deployment, "blue", [0.1] * 5, 1000, 1)
    traffic(session, deployment, "green", [0.1] * 5, 1000, 40)
    # WHEN compared
    result = check()
    # THEN the 5xx comparison fails it
    assert result.verdict is Verdict.FAILED, result.reason
    assert "5xx: green 40/1000 (4.0%) vs blue 1/1000 (0.1%), Fisher p=" in result.checks[0].reason


@pytest.mark.parametrize(("policy", "status"), [("error", Status.ERROR), ("pass", Status.PASS)])
def test_metric_compare_no_data_follows_on_no_data(
    policy: str, status: Status, check: Callable[..., RunResult]
) -> None:
    # GIVEN no traffic at all
    # WHEN compared
    result = check(on_no_data=policy)
    # THEN NODATA counts as the policy says
    m = result.checks[0].measurements[0]
    assert m.status is status and m.details["outcome"] == "NODATA"
    assert f"(on_no_data: {policy})" in m.reason


def test_metric_compare_access_denied_names_the_action(check: Callable[..., RunResult]) -> None:
    twin.deny("cloudwatch:GetMetricData")
    result = check()
    assert result.checks[0].status is Status.ERROR
    assert "access denied to cloudwatch:GetMetricData" in result.checks[0].reason


def test_metric_compare_without_deployment_says_how_to_give_one(run_checks: Callable[..., RunResult]) -> None:
    result = run_checks(CHECK.format(extra=""))
    assert result.checks[0].status is Status.ERROR
    assert "metric_compare needs the deployment being validated" in result.checks[0].reason
