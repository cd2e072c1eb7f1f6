"""`metric`: a CloudWatch metric stays within a bound over a recent window (GetMetricData).

By default the metric is the load balancer's, for green's target group: namespace AWS/ApplicationELB,
dimensions `TargetGroup` (`targetgroup/<name>/<id>`) and `LoadBalancer` (`app/<name>/<id>`). The
statistic is taken per `period` (default: the whole window) and every value in the window must be
within `max`/`min`. A window with no data points is never a silent pass: `on_no_data` decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from greenlight.checks.support import NoDeploymentError, call, deployment_of
from greenlight.engine.check import Check, CheckContext, Needs
from greenlight.engine.model import Measurement, errored, failed, passed
from greenlight.spec.errors import Problem
from greenlight.spec.schema import Duration, Field, MapOf, Number, Obj, Str, join

ACTION = "cloudwatch:GetMetricData"
ELB_NAMESPACES = ("AWS/ApplicationELB", "AWS/NetworkELB")
STATISTICS = ("Sum", "Average", "Maximum", "Minimum", "SampleCount")
_PERCENTILE = r"p(100|\d{1,2}(\.\d{1,2})?)"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# What `{name}` in a dimension value stands for, from the discovered deployment.
PLACEHOLDERS = ("green_target_group", "blue_target_group", "load_balancer", "cluster", "service")
DEFAULT_ELB_DIMENSIONS = {"TargetGroup": "{green_target_group}", "LoadBalancer": "{load_balancer}"}


def valid_period(seconds: float) -> bool:
    """CloudWatch periods: 1, 5, 10, 30 (high resolution) or a multiple of 60 seconds."""
    return seconds in (1, 5, 10, 30) or (seconds >= 60 and seconds % 60 == 0)


def _check_body(body: dict[str, Any], path: str, problems: list[Problem]) -> None:
    if body.get("max") is None and body.get("min") is None:
        problems.append(Problem(join(path, "max"), "give a bound: 'max' and/or 'min'"))
    if body.get("max") is not None and body.get("min") is not None and body["min"] > body["max"]:
        problems.append(Problem(join(path, "min"), f"min {body['min']:g} is above max {body['max']:g}"))
    window, period = body.get("window"), body.get("period")
    if period is not None and not valid_period(period):
        problems.append(
            Problem(join(path, "period"), f"expected 1, 5, 10, 30 or a multiple of 60 seconds, got {period:g}s")
        )
    if period is None and window is not None and not valid_period(window):
        problems.append(
            Problem(
                join(path, "period"),
                f"the window {window:g}s is not a CloudWatch period: set period (1, 5, 10, 30 or a multiple of 60 s)",
            )
        )
    if period is not None and window is not None and period > window:
        problems.append(Problem(join(path, "period"), f"period {period:g}s is longer than the window {window:g}s"))
    for name, value in (body.get("dimensions") or {}).items():
        for placeholder in _PLACEHOLDER.findall(value or ""):
            if placeholder not in PLACEHOLDERS:
                problems.append(
                    Problem(
                        join(join(path, "dimensions"), name),
                        f"unknown placeholder {{{placeholder}}}; expected one of "
                        + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
                    )
                )


SCHEMA = Obj(
    {
        "namespace": Field(Str(min_len=1), default="AWS/ApplicationELB", doc="the metric's namespace"),
        "metric_name": Field(
            Str(min_len=1), required=True, doc="e.g. `HTTPCode_Target_5XX_Count`, `TargetResponseTime`"
        ),
        "statistic": Field(
            Str(pattern="|".join((*STATISTICS, _PERCENTILE)), pattern_doc=f"one of {', '.join(STATISTICS)} or pNN"),
            required=True,
            doc="a percentile is written `p99`, `p99.9`",
        ),
        "window": Field(Duration(min=1, max=86400), default=300.0, doc="how far back to look"),
        "period": Field(
            Duration(min=1, max=86400),
            doc="the statistic's period: 1, 5, 10, 30 s or a multiple of 60 s, at most the window "
            "(default: the whole window)",
        ),
        "dimensions": Field(
            MapOf(Str()),
            doc="dimension name -> value, which may hold placeholders (see below); default for the ELB namespaces: "
            "green's `TargetGroup` and `LoadBalancer`, otherwise none",
        ),
        "max": Field(Number(), doc="every value must be at most this (give `max`, `min` or both)"),
        "min": Field(Number(), doc="every value must be at least this"),
        "on_no_data": Field(
            Str(choices=("error", "pass", "fail")),
            default="error",
            doc="what a window without data points counts as: an error, a pass or a failure",
        ),
    },
    check=_check_body,
)


def _dimensions(body: Mapping[str, Any]) -> dict[str, str]:
    if body.get("dimensions") is not None:
        return dict(body["dimensions"])
    return dict(DEFAULT_ELB_DIMENSIONS) if body["namespace"] in ELB_NAMESPACES else {}


def _fmt(value: float) -> str:
    return f"{value:.6g}"


class MetricCheck(Check):
    """Every value of a statistic over the window stays within `max`/`min`."""

    kind = "metric"
    schema = SCHEMA
    iam_actions = (ACTION,)

    def prepare(self, ctx: CheckContext) -> None:
        self._dims = [{"Name": k, "Value": self._expand(ctx, v, k)} for k, v in _dimensions(self.body).items()]
        window = self.body["window"]
        self._period = int(self.body.get("period") or window)
        self._window = window

    def _expand(self, ctx: CheckContext, value: str, name: str) -> str:
        if not _PLACEHOLDER.search(value):
            return value
        deployment = deployment_of(ctx, self.kind)

        def sub(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in ("green_target_group", "blue_target_group"):
                side = deployment.side(key.split("_")[0])
                found = deployment.target_group_dimension(side.target_group_arn if side else None)
            elif key == "load_balancer":
                found = deployment.load_balancer_dimension
            else:
                found = getattr(deployment, key)
            if not found:
                raise NoDeploymentError(
                    f"{self.kind}: dimension {name}: {deployment.describe()} has no {key.replace('_', ' ')}; "
                    "set the dimension's value explicitly"
                )
            return str(found)

        return _PLACEHOLDER.sub(sub, value)

    def _show(self) -> str:
        dims = ", ".join(f"{d['Name']}={d['Value']}" for d in self._dims)
        return f"{self.body['namespace']} {self.body['metric_name']} {self.body['statistic']}" + (
            f" [{dims}]" if dims else ""
        )

    def measure(self, ctx: CheckContext) -> Measurement:
        end = datetime.now(UTC)
        start = end - timedelta(seconds=self._window)
        if self._period >= 60:
            start = start.replace(second=0, microsecond=0)  # CloudWatch aligns minute periods to whole minutes
        query = {
            "Id": "m",
            "MetricStat": {
                "Metric": {
                    "Namespace": self.body["namespace"],
                    "MetricName": self.body["metric_name"],
                    "Dimensions": self._dims,
                },
                "Period": self._period,
                "Stat": self.body["statistic"],
            },
            "ReturnData": True,
        }
        points: list[tuple[datetime, float]] = []
        token = None
        while True:
            params: dict[str, Any] = {"MetricDataQueries": [query], "StartTime": start, "EndTime": end}
            if token:
                params["NextToken"] = token
            answer = call(ctx, "cloudwatch", "get_metric_data", ACTION, **params)
            for result in answer.get("MetricDataResults") or []:
                values = result.get("Values") or []
                points.extend(zip(result.get("Timestamps") or [], values, strict=False))
            token = answer.get("NextToken")
            if not token:
                break
        window = f"over the last {self._window:g}s (period {self._period}s)"
        details: dict[str, Any] = {
            "metric": self._show(),
            "points": len(points),
            "window_s": self._window,
            "period_s": self._period,
        }
        if not points:
            text = f"no data points for {self._show()} {window} (on_no_data: {self.body['on_no_data']})"
            return {"pass": passed, "fail": failed}.get(self.body["on_no_data"], errored)(text, **details)
        hi_at, hi = max(points, key=lambda p: p[1])
        lo_at, lo = min(points, key=lambda p: p[1])
        details.update(max_seen=hi, min_seen=lo)
        problems = []
        if self.body.get("max") is not None and hi > self.body["max"]:
            problems.append(f"reached {_fmt(hi)} at {hi_at:%H:%M:%S}Z, expected at most {_fmt(self.body['max'])}")
        if self.body.get("min") is not None and lo < self.body["min"]:
            problems.append(f"fell to {_fmt(lo)} at {lo_at:%H:%M:%S}Z, expected at least {_fmt(self.body['min'])}")
        if problems:
            return failed(f"{self._show()} {window}: " + "; ".join(problems), **details)
        seen = _fmt(hi) if hi == lo else f"{_fmt(lo)}..{_fmt(hi)}"
        return passed(f"{self._show()} {window}: {seen} over {len(points)} point(s), within bounds", **details)

    @classmethod
    def needs(cls, body: Mapping[str, Any]) -> Needs:
        """The deployment, when a dimension holds a placeholder (the ELB namespaces' default dimensions do)."""
        return Needs(deployment=any(_PLACEHOLDER.search(v or "") for v in _dimensions(body).values()))
