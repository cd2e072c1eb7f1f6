"""`metric_compare`: green's target group judged against blue's over the load balancer's own CloudWatch metrics.

One GetMetricData call over the last `window` reads, for each side's target group (dimensions `TargetGroup` and
`LoadBalancer`): `TargetResponseTime` as `statistic` per `period`, and `RequestCount` and
`HTTPCode_Target_5XX_Count` summed. Latency compares the two series of per-period values (as Kayenta compares
metric series) with the one-sided Mann-Whitney U test and the effect size; errors compare 5xx out of requests
with the one-sided Fisher test. The judging, the outcome (PASS, MARGINAL, FAIL, NODATA) and the score are
`compare`'s (greenlight.checks.compare).

This sees the traffic the load balancer served, not requests of its own: during the test-traffic hooks green
gets only what the test listener receives, so send some (a `compare` or `http` check, or a load generator).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from greenlight.checks.compare import JUDGING, combine, judge_errors, judge_latency, measurement
from greenlight.checks.metric import STATISTICS, valid_period
from greenlight.checks.support import NoDeploymentError, call, deployment_of, side_of
from greenlight.engine.check import Check, CheckContext, Needs
from greenlight.engine.model import Measurement
from greenlight.spec.errors import Problem
from greenlight.spec.schema import Duration, Field, Int, Obj, Str, join

ACTION = "cloudwatch:GetMetricData"
NAMESPACE = "AWS/ApplicationELB"
LATENCY, REQUESTS, ERRORS = "TargetResponseTime", "RequestCount", "HTTPCode_Target_5XX_Count"
_PERCENTILE = r"p(100|\d{1,2}(\.\d{1,2})?)"


def _check_body(body: dict[str, Any], path: str, problems: list[Problem]) -> None:
    window, period = body.get("window"), body.get("period")
    if period is not None and not valid_period(period):
        problems.append(
            Problem(join(path, "period"), f"expected 1, 5, 10, 30 or a multiple of 60 seconds, got {period:g}s")
        )
    if period is not None and window is not None and period * 3 > window:
        problems.append(
            Problem(
                join(path, "window"),
                f"the window {window:g}s holds fewer than 3 periods of {period:g}s: nothing to compare",
            )
        )


SCHEMA = Obj(
    {
        "statistic": Field(
            Str(pattern="|".join((*STATISTICS, _PERCENTILE)), pattern_doc=f"one of {', '.join(STATISTICS)} or pNN"),
            default="Average",
            doc=f"the statistic of `{LATENCY}` per period, e.g. `Average`, `p50`, `p99`",
        ),
        "window": Field(Duration(min=3, max=86400), default=300.0, doc="how far back to look"),
        "period": Field(
            Duration(min=1, max=86400),
            default=60.0,
            doc="one latency value per period: 1, 5, 10, 30 s or a multiple of 60 s (ALB publishes per minute)",
        ),
        "min_periods": Field(
            Int(min=1, max=1440),
            default=4,
            doc="fewer latency values than this on a side is NODATA for latency (4 a side can reach p < 0.05)",
        ),
        "min_requests": Field(
            Int(min=1), default=50, doc="fewer requests than this on a side (RequestCount) is NODATA for errors"
        ),
        **JUDGING,
    },
    check=_check_body,
)


class MetricCompareCheck(Check):
    """Green's target group against blue's: TargetResponseTime per period and 5xx out of RequestCount."""

    kind = "metric_compare"
    schema = SCHEMA
    iam_actions = (ACTION,)

    def prepare(self, ctx: CheckContext) -> None:
        deployment = deployment_of(ctx, self.kind)
        lb = deployment.load_balancer_dimension
        if not lb:
            raise NoDeploymentError(f"{self.kind}: {deployment.describe()} has no load balancer ARN")
        self._dims: dict[str, list[dict[str, str]]] = {}
        self._names: dict[str, str] = {}
        for label in ("green", "blue"):
            side = side_of(ctx, label, self.kind)
            tg = deployment.target_group_dimension(side.target_group_arn)
            if not tg:
                raise NoDeploymentError(f"{self.kind}: the {label} side of {deployment.describe()} has no target group")
            self._dims[label] = [{"Name": "TargetGroup", "Value": tg}, {"Name": "LoadBalancer", "Value": lb}]
            self._names[label] = side.target_group_name or tg

    def _queries(self) -> list[dict[str, Any]]:
        period, stat = int(self.body["period"]), self.body["statistic"]
        queries = []
        for label, dims in self._dims.items():
            for key, metric, statistic in (("lat", LATENCY, stat), ("req", REQUESTS, "Sum"), ("err", ERRORS, "Sum")):
                queries.append(
                    {
                        "Id": f"{key}_{label}",
                        "MetricStat": {
                            "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims},
                            "Period": period,
                            "Stat": statistic,
                        },
                        "ReturnData": True,
                    }
                )
        return queries

    def measure(self, ctx: CheckContext) -> Measurement:
        end = datetime.now(UTC)
        start = end - timedelta(seconds=self.body["window"])
        if self.body["period"] >= 60:
            start = start.replace(second=0, microsecond=0)  # CloudWatch aligns minute periods to whole minutes
        values: dict[str, list[float]] = {}
        token = None
        while True:
            params: dict[str, Any] = {"MetricDataQueries": self._queries(), "StartTime": start, "EndTime": end}
            if token:
                params["NextToken"] = token
            answer = call(ctx, "cloudwatch", "get_metric_data", ACTION, **params)
            for result in answer.get("MetricDataResults") or []:
                values.setdefault(str(result.get("Id")), []).extend(
                    float(v) for v in result.get("Values") or [] if v is not None
                )
            token = answer.get("NextToken")
            if not token:
                break
        body = self.body
        # TargetResponseTime is in seconds; the judging (and max_increase_ms) works in milliseconds.
        latency = {label: [v * 1000 for v in values.get(f"lat_{label}", [])] for label in self._dims}
        requests = {label: round(sum(values.get(f"req_{label}", []))) for label in self._dims}
        errors = {label: round(sum(values.get(f"err_{label}", []))) for label in self._dims}
        comparison = combine(
            [
                judge_latency(
                    latency["green"],
                    latency["blue"],
                    alpha=body["alpha"],
                    max_increase_pct=body["max_increase_pct"],
                    max_increase_ms=body["max_increase_ms"],
                    min_samples=body["min_periods"],
                    what=f"{LATENCY} {body['statistic']} per {body['period']:g}s",
                ),
                judge_errors(
                    min(errors["green"], requests["green"]),
                    requests["green"],
                    min(errors["blue"], requests["blue"]),
                    requests["blue"],
                    alpha=body["alpha"],
                    max_increase=body["max_error_rate_increase"],
                    min_samples=body["min_requests"],
                    what="5xx",
                ),
            ]
        )
        details: dict[str, Any] = {
            "window_s": body["window"],
            "period_s": body["period"],
            **{
                label: {
                    "target_group": self._names[label],
                    "latency_ms": [round(v, 2) for v in latency[label]],
                    "requests": requests[label],
                    "errors_5xx": errors[label],
                }
                for label in self._dims
            },
        }
        m = measurement(comparison, body, details)
        window = f"green target group {self._names['green']} vs blue {self._names['blue']} over {body['window']:g}s: "
        return Measurement(m.status, window + m.reason, details=m.details)

    @classmethod
    def needs(cls, body: Mapping[str, Any]) -> Needs:
        """Always the deployment: both sides' target groups and the load balancer."""
        return Needs(deployment=True)
