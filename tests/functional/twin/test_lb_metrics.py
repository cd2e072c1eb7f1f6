"""Metrics of the twin's load balancer: in-process counts, and CloudWatch data in a moto server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from lb_harness import call, wait_for, wait_states

from greenlight_twin.lb import HEALTHY, NAMESPACE, ListenerConfig, TargetGroupConfig
from greenlight_twin.lb.config import HealthCheck


def _window() -> dict[str, datetime]:
    now = datetime.now(UTC)
    return {"StartTime": now - timedelta(minutes=10), "EndTime": now + timedelta(minutes=10)}


def statistic(cloudwatch: Any, metric: str, dims: dict[str, str], stat: str = "Sum") -> float | None:
    """GetMetricStatistics summed over its datapoints; None when there is no data."""
    points = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        Period=60,
        Statistics=[stat],
        **_window(),
    )["Datapoints"]
    return sum(p[stat] for p in points) if points else None


def exact_sum(cloudwatch: Any, metric: str, dims: dict[str, str]) -> float | None:
    """GetMetricData's Sum for exactly these dimensions (moto's GetMetricStatistics also matches
    series that have more dimensions, so a load-balancer-wide count would include the groups')."""
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        **_window(),
    )["MetricDataResults"][0]["Values"]
    return sum(result) if result else None


def _mixed_traffic(backend, closed_port):
    """Four groups behind four listeners: OK, target 500s, refused (502), empty (503)."""
    ok, failing = backend("ok"), backend("failing", mode="500")
    groups = [
        TargetGroupConfig("ok", [ok.target], group_id="aaaa000000000001"),
        TargetGroupConfig("failing", [failing.target], group_id="aaaa000000000002"),
        TargetGroupConfig("dead", [("127.0.0.1", closed_port)], group_id="aaaa000000000003"),
        TargetGroupConfig("empty", [], group_id="aaaa000000000004"),
    ]
    listeners = [ListenerConfig(name, {name: 1}) for name in ("ok", "failing", "dead", "empty")]
    return ok, groups, listeners


def _send(lb) -> None:
    for listener, times in (("ok", 3), ("failing", 2), ("dead", 1), ("empty", 1)):
        for _ in range(times):
            call(lb.port(listener))


def test_metrics_snapshot_counts_per_load_balancer_and_group(backend, closed_port, make_lb):
    # GIVEN a load balancer with an OK, a failing, a refusing and an empty group
    ok, groups, listeners = _mixed_traffic(backend, closed_port)
    lb = make_lb(groups, listeners)

    # WHEN 3 OK, 2 target-500, 1 refused and 1 no-target requests go through
    _send(lb)
    snap = lb.metrics_snapshot()

    # THEN the load balancer counts them as ALB does (no RequestCount for the rejected 503)
    assert {k: v for k, v in snap.load_balancer.counts.items() if v} == {
        "RequestCount": 6,
        "HTTPCode_Target_2XX_Count": 3,
        "HTTPCode_Target_5XX_Count": 2,
        "HTTPCode_ELB_502_Count": 1,
        "HTTPCode_ELB_503_Count": 1,
        "HTTPCode_ELB_5XX_Count": 2,
    }
    # AND each group counts its own
    assert snap.target_groups["ok"]["RequestCount"] == 3
    assert snap.target_groups["ok"]["HTTPCode_Target_2XX_Count"] == 3
    assert snap.target_groups["failing"]["HTTPCode_Target_5XX_Count"] == 2
    assert snap.target_groups["dead"]["HTTPCode_ELB_502_Count"] == 1
    assert snap.target_groups["empty"]["RequestCount"] == 0
    assert snap.target_groups["empty"]["HTTPCode_ELB_503_Count"] == 1
    # AND response times only for answers from targets
    assert snap.load_balancer.response_time.count == 5
    assert snap.target_groups["ok"].response_time.count == 3
    assert snap.target_groups["dead"].response_time.count == 0
    assert snap.targets["ok"] == {ok.target: 3}


def test_metrics_published_to_cloudwatch_with_alb_dimensions(backend, closed_port, make_lb, cloudwatch):
    # GIVEN a load balancer publishing every 0.2 s to a moto server, with ids from its ARNs
    lb_id = uuid.uuid4().hex[:16]
    _, groups, listeners = _mixed_traffic(backend, closed_port)
    lb = make_lb(groups, listeners, name="shop", lb_id=lb_id, cloudwatch=cloudwatch, metrics_interval=0.2)
    lb_dims = {"LoadBalancer": f"app/shop/{lb_id}"}

    def tg(name: str, group_id: str) -> dict[str, str]:
        return {"TargetGroup": f"targetgroup/{name}/{group_id}", **lb_dims}

    # WHEN mixed traffic goes through
    _send(lb)

    # THEN CloudWatch gets the counts per group (TargetGroup + LoadBalancer dimensions) ...
    wait_for(lambda: statistic(cloudwatch, "RequestCount", tg("ok", "aaaa000000000001")) == 3, "ok RequestCount")
    assert statistic(cloudwatch, "HTTPCode_Target_2XX_Count", tg("ok", "aaaa000000000001")) == 3
    wait_for(
        lambda: statistic(cloudwatch, "HTTPCode_Target_5XX_Count", tg("failing", "aaaa000000000002")) == 2,
        "failing HTTPCode_Target_5XX_Count",
    )
    wait_for(lambda: statistic(cloudwatch, "RequestCount", tg("dead", "aaaa000000000003")) == 1, "dead RequestCount")
    # ... and per load balancer, where the ELB-generated codes live
    wait_for(lambda: statistic(cloudwatch, "HTTPCode_ELB_5XX_Count", lb_dims) == 2, "HTTPCode_ELB_5XX_Count")
    assert statistic(cloudwatch, "HTTPCode_ELB_502_Count", lb_dims) == 1
    assert statistic(cloudwatch, "HTTPCode_ELB_503_Count", lb_dims) == 1
    assert exact_sum(cloudwatch, "RequestCount", lb_dims) == 6
    assert exact_sum(cloudwatch, "HTTPCode_Target_5XX_Count", lb_dims) == 2
    # AND per-request response times, in seconds
    assert statistic(cloudwatch, "TargetResponseTime", tg("ok", "aaaa000000000001"), "SampleCount") == 3
    slowest = statistic(cloudwatch, "TargetResponseTime", tg("ok", "aaaa000000000001"), "Maximum")
    assert slowest is not None and 0 < slowest < 10
    # AND every series has exactly ALB's dimension names; ELB codes are never per group; zeros are not sent
    listed = cloudwatch.list_metrics(
        Namespace=NAMESPACE, Dimensions=[{"Name": "LoadBalancer", "Value": lb_dims["LoadBalancer"]}]
    )
    series = {(m["MetricName"], tuple(sorted(d["Name"] for d in m["Dimensions"]))) for m in listed["Metrics"]}
    assert ("HTTPCode_ELB_502_Count", ("LoadBalancer",)) in series
    assert not [s for s in series if s[0].startswith("HTTPCode_ELB") and "TargetGroup" in s[1]]
    assert {dims for _, dims in series} == {("LoadBalancer",), ("LoadBalancer", "TargetGroup")}
    assert statistic(cloudwatch, "HTTPCode_Target_4XX_Count", lb_dims) is None
    assert lb.metrics_snapshot().publish_failures == 0


def test_metrics_host_counts_published_per_group(backend, closed_port, make_lb, moto_endpoint, cloudwatch):
    # GIVEN a group with one healthy and one refusing target, publishing through an endpoint URL
    lb_id = uuid.uuid4().hex[:16]
    good = backend("good")
    group = TargetGroupConfig(
        "blue",
        [good.target, ("127.0.0.1", closed_port)],
        health_check=HealthCheck(interval=0.1, timeout=0.3, healthy_threshold=2),
        group_id="bbbb000000000001",
    )
    lb = make_lb(
        [group],
        [ListenerConfig("prod", {"blue": 1})],
        name="hosts",
        lb_id=lb_id,
        cloudwatch_endpoint_url=moto_endpoint,
        region="us-east-1",
        metrics_interval=0.2,
    )
    wait_states(lb, "blue", {good.port: HEALTHY, closed_port: "unhealthy"})
    dims = {"TargetGroup": "targetgroup/blue/bbbb000000000001", "LoadBalancer": f"app/hosts/{lb_id}"}

    # WHEN the load balancer publishes with no traffic at all
    # THEN HealthyHostCount and UnHealthyHostCount still arrive, as ALB always reports them
    wait_for(lambda: statistic(cloudwatch, "HealthyHostCount", dims, "Maximum") == 1, "HealthyHostCount 1")
    wait_for(lambda: statistic(cloudwatch, "UnHealthyHostCount", dims, "Maximum") == 1, "UnHealthyHostCount 1")
    assert statistic(cloudwatch, "RequestCount", dims) is None


def test_metrics_without_client_are_counted_but_not_published(backend, make_lb):
    # GIVEN a load balancer with no CloudWatch client
    blue = backend("blue")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # WHEN requests go through and a publish is asked for
    call(lb.port("prod"))
    sent = lb.publish_metrics()

    # THEN nothing is sent, and the counts are there in process
    assert sent == 0
    assert lb.metrics_snapshot().load_balancer["RequestCount"] == 1
    assert lb.metrics_snapshot().publish_calls == 0


def test_metrics_failed_publish_is_counted_and_traffic_goes_on(backend, closed_port, make_lb):
    # GIVEN a load balancer whose CloudWatch endpoint refuses connections
    blue = backend("blue")
    lb = make_lb(
        {"blue": [blue.target]},
        {"prod": {"blue": 1}},
        cloudwatch_endpoint_url=f"http://127.0.0.1:{closed_port}",
        metrics_interval=60,
    )

    # WHEN traffic goes through and metrics are published
    status = call(lb.port("prod")).status
    lb.publish_metrics()

    # THEN the failure is recorded and traffic was not affected
    snap = lb.metrics_snapshot()
    assert status == 200
    assert snap.publish_failures >= 1
    assert "EndpointConnectionError" in (snap.last_publish_error or "")
