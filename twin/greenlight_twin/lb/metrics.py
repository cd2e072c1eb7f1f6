"""Request metrics of the twin's load balancer: counters in process, and CloudWatch data like ALB's.

Published to the `AWS/ApplicationELB` namespace with ALB's dimensions: `LoadBalancer=app/<name>/<id>`,
and `TargetGroup=targetgroup/<name>/<id>` + `LoadBalancer` for the per-group series. As on AWS,
load-balancer-generated codes (HTTPCode_ELB_*) exist for the load balancer only, and a count with
nothing to report in an interval is not sent at all (a check reading it sees no data, as on AWS).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from greenlight_twin.lb.config import Target

logger = logging.getLogger(__name__)

NAMESPACE = "AWS/ApplicationELB"

REQUEST_COUNT = "RequestCount"
TARGET_2XX = "HTTPCode_Target_2XX_Count"
TARGET_3XX = "HTTPCode_Target_3XX_Count"
TARGET_4XX = "HTTPCode_Target_4XX_Count"
TARGET_5XX = "HTTPCode_Target_5XX_Count"
ELB_4XX = "HTTPCode_ELB_4XX_Count"
ELB_500 = "HTTPCode_ELB_500_Count"
ELB_502 = "HTTPCode_ELB_502_Count"
ELB_503 = "HTTPCode_ELB_503_Count"
ELB_504 = "HTTPCode_ELB_504_Count"
ELB_5XX = "HTTPCode_ELB_5XX_Count"
TARGET_RESPONSE_TIME = "TargetResponseTime"
HEALTHY_HOST_COUNT = "HealthyHostCount"
UNHEALTHY_HOST_COUNT = "UnHealthyHostCount"

TARGET_CODES = (TARGET_2XX, TARGET_3XX, TARGET_4XX, TARGET_5XX)
ELB_CODES = (ELB_4XX, ELB_500, ELB_502, ELB_503, ELB_504, ELB_5XX)
COUNT_METRICS = (REQUEST_COUNT, *TARGET_CODES, *ELB_CODES)
# Which counts CloudWatch gets per scope, as AWS publishes them.
LOAD_BALANCER_COUNTS = frozenset(COUNT_METRICS)
TARGET_GROUP_COUNTS = frozenset((REQUEST_COUNT, *TARGET_CODES))

_MAX_VALUES = 150  # PutMetricData: at most 150 distinct values in one datum
_BATCH = 500  # PutMetricData: at most 1000 data in one call


@dataclass(frozen=True)
class ResponseTimes:
    """TargetResponseTime so far, in seconds."""

    count: int = 0
    total: float = 0.0
    minimum: float | None = None
    maximum: float | None = None

    @property
    def average(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(frozen=True)
class ScopeMetrics:
    """Counts (every name in COUNT_METRICS, zero included) and response times of one scope."""

    counts: Mapping[str, int]
    response_time: ResponseTimes

    def __getitem__(self, name: str) -> int:
        return self.counts[name]


@dataclass(frozen=True)
class MetricsSnapshot:
    """Everything counted since start. Group scopes also count the ELB codes of requests forwarded to
    them, which CloudWatch only gets per load balancer."""

    load_balancer: ScopeMetrics
    target_groups: Mapping[str, ScopeMetrics]
    targets: Mapping[str, Mapping[Target, int]]  # requests sent to each target, per group
    publish_calls: int  # put_metric_data calls that succeeded
    publish_failures: int
    last_publish_error: str | None


class _Scope:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter(dict.fromkeys(COUNT_METRICS, 0))
        self.times = ResponseTimes()
        self.pending_counts: Counter[str] = Counter()
        self.pending_times: list[float] = []

    def add(self, names: list[str], response_time: float | None) -> None:
        for name in names:
            self.counts[name] += 1
            self.pending_counts[name] += 1
        if response_time is not None:
            t = self.times
            self.times = ResponseTimes(
                t.count + 1,
                t.total + response_time,
                response_time if t.minimum is None else min(t.minimum, response_time),
                response_time if t.maximum is None else max(t.maximum, response_time),
            )
            self.pending_times.append(response_time)

    def view(self) -> ScopeMetrics:
        return ScopeMetrics(dict(self.counts), self.times)

    def take(self) -> tuple[Counter[str], list[float]]:
        taken = (self.pending_counts, self.pending_times)
        self.pending_counts, self.pending_times = Counter(), []
        return taken


class RequestMetrics:
    """Counts each request once for the load balancer and once for the target group it went to."""

    def __init__(self, groups: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._lb = _Scope()
        self._groups = {name: _Scope() for name in groups}
        self.publish_calls = 0
        self.publish_failures = 0
        self.last_publish_error: str | None = None

    def record(
        self,
        group: str,
        *,
        target_chosen: bool,
        target_status: int | None = None,
        elb_status: int | None = None,
        response_time: float | None = None,
    ) -> None:
        names = []
        # ALB's RequestCount leaves out requests rejected before a target was chosen.
        if target_chosen:
            names.append(REQUEST_COUNT)
        if target_status is not None and 2 <= target_status // 100 <= 5:
            names.append(f"HTTPCode_Target_{target_status // 100}XX_Count")
        if elb_status is not None:
            if elb_status in (500, 502, 503, 504):
                names.append(f"HTTPCode_ELB_{elb_status}_Count")
            if 500 <= elb_status <= 599:
                names.append(ELB_5XX)
            elif 400 <= elb_status <= 499:
                names.append(ELB_4XX)
        with self._lock:
            self._lb.add(names, response_time)
            scope = self._groups.get(group)
            if scope is not None:
                scope.add(names, response_time)

    def record_lb_only(self, elb_status: int) -> None:
        """A request rejected before any group was chosen (malformed, too large)."""
        self.record("", target_chosen=False, elb_status=elb_status)

    def note_publish(self, error: str | None) -> None:
        with self._lock:
            if error is None:
                self.publish_calls += 1
            else:
                self.publish_failures += 1
                self.last_publish_error = error

    def snapshot(self, targets: Mapping[str, Mapping[Target, int]]) -> MetricsSnapshot:
        with self._lock:
            return MetricsSnapshot(
                load_balancer=self._lb.view(),
                target_groups={name: scope.view() for name, scope in self._groups.items()},
                targets={name: dict(counts) for name, counts in targets.items()},
                publish_calls=self.publish_calls,
                publish_failures=self.publish_failures,
                last_publish_error=self.last_publish_error,
            )

    def take_pending(self) -> tuple[tuple[Counter[str], list[float]], dict[str, tuple[Counter[str], list[float]]]]:
        with self._lock:
            return self._lb.take(), {name: scope.take() for name, scope in self._groups.items()}


class MetricsPublisher:
    """Sends what was counted since the last call to CloudWatch with put_metric_data."""

    def __init__(
        self,
        client: Any,
        metrics: RequestMetrics,
        load_balancer_dimension: str,
        group_dimensions: Mapping[str, str],
        host_counts: Callable[[], Mapping[str, tuple[int, int]]],
    ) -> None:
        self._client = client
        self._metrics = metrics
        self._lb_dimension = load_balancer_dimension
        self._group_dimensions = dict(group_dimensions)
        self._host_counts = host_counts
        self._lock = threading.Lock()  # one publish at a time: the thread's and a final flush

    def publish(self) -> int:
        """Publishes the pending data; returns how many data were sent. Failures are counted and logged."""
        with self._lock:
            data = self.build()
            sent = 0
            for start in range(0, len(data), _BATCH):
                batch = data[start : start + _BATCH]
                try:
                    self._client.put_metric_data(Namespace=NAMESPACE, MetricData=batch)
                except Exception as exc:  # any botocore error: the twin keeps serving traffic
                    logger.warning("load balancer metrics: put_metric_data failed: %s", exc)
                    self._metrics.note_publish(f"{type(exc).__name__}: {exc}")
                    continue
                sent += len(batch)
                self._metrics.note_publish(None)
            return sent

    def build(self) -> list[dict[str, Any]]:
        timestamp = datetime.now(UTC)
        lb_dims = [{"Name": "LoadBalancer", "Value": self._lb_dimension}]
        (lb_counts, lb_times), groups = self._metrics.take_pending()
        data = _scope_data(lb_counts, lb_times, LOAD_BALANCER_COUNTS, lb_dims, timestamp)
        for name, (counts, times) in groups.items():
            dims = [{"Name": "TargetGroup", "Value": self._group_dimensions[name]}, *lb_dims]
            data.extend(_scope_data(counts, times, TARGET_GROUP_COUNTS, dims, timestamp))
        # Host counts are always reported on AWS, requests or not.
        for name, (healthy, unhealthy) in self._host_counts().items():
            dims = [{"Name": "TargetGroup", "Value": self._group_dimensions[name]}, *lb_dims]
            for metric, value in ((HEALTHY_HOST_COUNT, healthy), (UNHEALTHY_HOST_COUNT, unhealthy)):
                data.append(_datum(metric, dims, timestamp, Value=float(value), Unit="Count"))
        return data


def _scope_data(
    counts: Counter[str],
    times: list[float],
    allowed: frozenset[str],
    dims: list[dict[str, str]],
    timestamp: datetime,
) -> list[dict[str, Any]]:
    data = [
        _datum(name, dims, timestamp, Value=float(value), Unit="Count")
        for name, value in sorted(counts.items())
        if value and name in allowed
    ]
    # Same values (to 0.1 ms) are sent once with a count, so a busy interval stays within the limits.
    grouped = sorted(Counter(round(t, 4) for t in times).items())
    for start in range(0, len(grouped), _MAX_VALUES):
        chunk = grouped[start : start + _MAX_VALUES]
        data.append(
            _datum(
                TARGET_RESPONSE_TIME,
                dims,
                timestamp,
                Values=[value for value, _ in chunk],
                Counts=[float(count) for _, count in chunk],
                Unit="Seconds",
            )
        )
    return data


def _datum(name: str, dims: list[dict[str, str]], timestamp: datetime, **fields: Any) -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": dims, "Timestamp": timestamp, **fields}
