"""`compare`: green judged against blue: the same requests to both, interleaved in time, compared statistically.

One measurement sends `samples` requests to blue (the production listener) and as many to green (the test
listener), alternating which goes first, one at a time, within the check's `timeout`. Then:

- latency: green is slower (FAIL) when a one-sided Mann-Whitney U test says so (p < `alpha`) AND green's
  median exceeds blue's by more than the tolerance, the larger of `max_increase_pct` % of blue's median and
  `max_increase_ms`; significantly slower but within the tolerance is MARGINAL;
- errors (an answer with an `error_status`, or no answer at all): green fails more (FAIL) when a one-sided
  Fisher exact test says so (p < `alpha`) AND its rate exceeds blue's by more than
  `max_error_rate_increase`; significantly more but within that bound is MARGINAL.

A difference the test does not find significant is a PASS, however large it looks: with too few samples
to tell, the check does not guess (so a same-build comparison is not PASS in at most about `alpha` of runs
per metric).

Each metric is PASS, MARGINAL, FAIL or NODATA (fewer than `min_samples` on a side, except that a green
whose own error rate already exceeds `max_error_rate_increase` FAILs whatever blue gave); the outcome is the worst
of them (FAIL, then NODATA, then MARGINAL) and the score, Kayenta's, is the share of metrics that pass, a
marginal one counting half. The engine's measurement is PASS for PASS and MARGINAL (FAIL for MARGINAL with
`marginal: fail`), FAIL for FAIL, and what `on_no_data` says for NODATA. The samples are in the details.

`judge_latency`, `judge_errors` and `combine` are shared with `metric_compare`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from greenlight import stats
from greenlight.checks.http import SCHEMA as HTTP_SCHEMA
from greenlight.checks.http import STATUS_ITEM, HttpCheck, status_matches
from greenlight.engine.check import CheckContext, Destination, Needs, Target
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import Measurement, Status
from greenlight.probe import redact
from greenlight.probe.http import ProbeError, fetch
from greenlight.spec.errors import Problem
from greenlight.spec.schema import Duration, Field, Int, ListOf, Number, Obj, Str, join

PASS, MARGINAL, FAIL, NODATA = "PASS", "MARGINAL", "FAIL", "NODATA"
# Worst first: the outcome of a comparison is the first of these any metric came to.
SEVERITY = (FAIL, NODATA, MARGINAL, PASS)
# Kayenta's score: the share of metrics that pass; a marginal metric counts half.
METRIC_SCORE = {PASS: 100.0, MARGINAL: 50.0, FAIL: 0.0}
# Raw latencies kept per side in a measurement's details (the summaries cover every sample).
RAW_LIMIT = 200
URL = Str(pattern=r"https?://\S+", pattern_doc="an absolute http(s) URL")


# --- judging, shared with metric_compare ---------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """One metric's comparison: PASS, MARGINAL, FAIL or NODATA, a sentence saying why, and the figures."""

    metric: str
    outcome: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


def _ms(value: float) -> str:
    return f"{value:.3g}ms" if value < 10 else f"{value:.0f}ms"


def summary(values: Sequence[float]) -> dict[str, float]:
    """Count, min, p50, p90, p99 and max of latencies, rounded to 0.01 ms."""
    if not values:
        return {"n": 0}
    q = {f"p{int(p * 100)}": round(stats.quantile(values, p), 2) for p in (0.5, 0.9, 0.99)}
    return {"n": len(values), "min": round(min(values), 2), **q, "max": round(max(values), 2)}


def judge_latency(
    green: Sequence[float],
    blue: Sequence[float],
    *,
    alpha: float,
    max_increase_pct: float,
    max_increase_ms: float,
    min_samples: int,
    what: str = "latency",
) -> Judgement:
    """Is green slower than blue (values in milliseconds), significantly and by more than the tolerance?"""
    details: dict[str, Any] = {"green": summary(green), "blue": summary(blue)}
    if len(green) < min_samples or len(blue) < min_samples:
        return Judgement(
            what,
            NODATA,
            f"{what}: {len(green)} green and {len(blue)} blue value(s), fewer than min_samples {min_samples}",
            details,
        )
    test = stats.mann_whitney_u(green, blue, "greater")
    g, b = stats.median(green), stats.median(blue)
    excess = g - b
    tolerance = max(b * max_increase_pct / 100, max_increase_ms)
    significant, beyond = test.p < alpha, excess > tolerance
    details.update(p=test.p, u=test.u, method=test.method, median_increase_ms=excess, tolerance_ms=tolerance)
    change = f"{excess / b:+.0%}" if b > 0 else f"{excess:+.3g}ms"
    seen = (
        f"{what}: green median {_ms(g)} vs blue {_ms(b)} ({change}, tolerance {_ms(tolerance)}), "
        f"Mann-Whitney p={test.p:.3g} (alpha {alpha:g})"
    )
    return _judged(
        what, seen, details, significant, beyond, worse="green is slower", within="slower, within the tolerance"
    )


def judge_errors(
    green_errors: int,
    green_total: int,
    blue_errors: int,
    blue_total: int,
    *,
    alpha: float,
    max_increase: float,
    min_samples: int,
    what: str = "errors",
) -> Judgement:
    """Is green's error rate higher than blue's, significantly (Fisher) and by more than `max_increase`?"""
    details: dict[str, Any] = {
        "green": {"errors": green_errors, "total": green_total},
        "blue": {"errors": blue_errors, "total": blue_total},
    }
    if green_total >= min_samples > blue_total and green_errors / green_total > max_increase:
        # No baseline to compare with, but green alone already fails more than any baseline could excuse (blue's
        # rate is at least 0): a blue that hangs or is down must not turn green's errors into no data.
        return Judgement(
            what,
            FAIL,
            f"{what}: green {green_errors}/{green_total} ({green_errors / green_total:.1%}) with no baseline "
            f"(blue {blue_total} request(s), fewer than min_samples {min_samples}): more than "
            f"max_error_rate_increase {max_increase:g} above any blue rate",
            details,
        )
    if green_total < min_samples or blue_total < min_samples:
        return Judgement(
            what,
            NODATA,
            f"{what}: {green_total} green and {blue_total} blue request(s), fewer than min_samples {min_samples}",
            details,
        )
    rate_g, rate_b = green_errors / green_total, blue_errors / blue_total
    p = stats.fisher_greater(green_errors, green_total - green_errors, blue_errors, blue_total - blue_errors)
    significant, beyond = p < alpha, rate_g - rate_b > max_increase
    details.update(p=p, green_rate=rate_g, blue_rate=rate_b)
    seen = (
        f"{what}: green {green_errors}/{green_total} ({rate_g:.1%}) vs blue {blue_errors}/{blue_total} "
        f"({rate_b:.1%}), Fisher p={p:.3g} (alpha {alpha:g})"
    )
    within = f"more, within max_error_rate_increase {max_increase:g}"
    return _judged(what, seen, details, significant, beyond, worse="green fails more", within=within)


def _judged(
    what: str, seen: str, details: dict[str, Any], significant: bool, beyond: bool, *, worse: str, within: str
) -> Judgement:
    """FAIL when green is significantly worse by more than the tolerance, MARGINAL when significantly worse
    within it, PASS otherwise."""
    if significant and beyond:
        return Judgement(what, FAIL, f"{seen}: {worse}", details)
    if significant:
        return Judgement(what, MARGINAL, f"{seen}: {within}", details)
    return Judgement(what, PASS, seen, details)


@dataclass(frozen=True)
class Comparison:
    """The outcome over all metrics and its score (None when no metric had data)."""

    outcome: str
    score: float | None
    judgements: tuple[Judgement, ...]

    @property
    def reason(self) -> str:
        score = "no score" if self.score is None else f"score {self.score:.0f}"
        return f"{self.outcome} ({score}): " + "; ".join(j.reason for j in self.judgements)


def combine(judgements: Sequence[Judgement]) -> Comparison:
    """The worst outcome of the metrics (FAIL, NODATA, MARGINAL, PASS) and the Kayenta-style score 0-100."""
    outcome = next(o for o in SEVERITY if o in {j.outcome for j in judgements} or o == PASS)
    scored = [METRIC_SCORE[j.outcome] for j in judgements if j.outcome in METRIC_SCORE]
    score = round(sum(scored) / len(scored), 1) if scored else None
    return Comparison(outcome, score, tuple(judgements))


def measurement(comparison: Comparison, body: Mapping[str, Any], details: dict[str, Any]) -> Measurement:
    """The engine's measurement of a comparison: MARGINAL passes unless `marginal: fail`; NODATA as `on_no_data`."""
    status = {PASS: Status.PASS, FAIL: Status.FAIL}.get(comparison.outcome)
    if comparison.outcome == MARGINAL:
        status = Status.FAIL if body["marginal"] == "fail" else Status.PASS
    elif comparison.outcome == NODATA:
        status = {"pass": Status.PASS, "fail": Status.FAIL}.get(body["on_no_data"], Status.ERROR)
    assert status is not None
    reason = comparison.reason
    if comparison.outcome == NODATA:
        reason += f" (on_no_data: {body['on_no_data']})"
    elif comparison.outcome == MARGINAL:
        reason += f" (marginal: {body['marginal']})"
    details = {
        "outcome": comparison.outcome,
        "score": comparison.score,
        **details,
        "metrics": {j.metric: {"outcome": j.outcome, **j.details} for j in comparison.judgements},
    }
    return Measurement(status, reason, details=details)


# --- the spec ----------------------------------------------------------------------------------------------

JUDGING = {
    "alpha": Field(
        Number(min=0.0001, max=0.5),
        default=0.05,
        doc="significance level of each test: the false-alarm rate a same-build comparison may have",
    ),
    "max_increase_pct": Field(
        Number(min=0), default=10.0, doc="green's median latency may exceed blue's by this many percent ..."
    ),
    "max_increase_ms": Field(Number(min=0), default=5.0, doc="... or by this many milliseconds, whichever is larger"),
    "max_error_rate_increase": Field(
        Number(min=0, max=1),
        default=0.0,
        doc="green's error rate may exceed blue's by this much (0.01: one percentage point)",
    ),
    "marginal": Field(
        Str(choices=("pass", "fail")),
        default="pass",
        doc="what a MARGINAL comparison counts as (significantly worse, but within the tolerance)",
    ),
    "on_no_data": Field(
        Str(choices=("error", "pass", "fail")),
        default="error",
        doc="what a comparison with too few samples on a side counts as: an error, a pass or a failure",
    ),
}


def _check_body(body: dict[str, Any], path: str, problems: list[Problem]) -> None:
    http_check = HTTP_SCHEMA.check
    assert http_check is not None
    http_check(body, path, problems)
    if (
        body.get("min_samples") is not None
        and body.get("samples") is not None
        and body["min_samples"] > body["samples"]
    ):
        problems.append(
            Problem(join(path, "min_samples"), f"min_samples {body['min_samples']} is above samples {body['samples']}")
        )


SCHEMA = Obj(
    {
        **{k: v for k, v in HTTP_SCHEMA.fields.items() if k not in ("url", "listener", "expect", "path")},
        "path": Field(Str(min_len=1), default="/", doc="joined to both listener URLs (starts with `/`)"),
        "blue_url": Field(URL, doc="an absolute URL for blue instead of the production listener's"),
        "green_url": Field(URL, doc="an absolute URL for green instead of the test listener's"),
        "samples": Field(Int(min=3, max=1000), default=50, doc="requests to each side per measurement"),
        "min_samples": Field(
            Int(min=3, max=1000), default=10, doc="fewer answers than this on a side is NODATA (latency, errors)"
        ),
        "pause": Field(Duration(max=60), default=0.0, doc="wait between two pairs of requests"),
        "request_timeout": Field(
            Duration(min=0.001, max=60), default=5.0, doc="wall-clock bound of each request (no answer: an error)"
        ),
        "error_status": Field(
            ListOf(STATUS_ITEM, min_len=1, scalar_ok=True),
            default=lambda: ["4xx", "5xx"],
            doc="answers that count as errors (codes or classes); no answer, or a status outside 200-599, is one too",
        ),
        **JUDGING,
    },
    check=_check_body,
)


@dataclass
class _Side:
    url: str
    latencies: list[float] = field(default_factory=list)  # ms, of the answers that are not errors
    errors: int = 0
    sent: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # what the errors were: "503", "timeout", ...

    def record(self, what: str) -> None:
        self.errors += 1
        self.failures[what] = self.failures.get(what, 0) + 1

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "url": redact.url(self.url),
            "sent": self.sent,
            "errors": self.errors,
            "latency_ms": summary(self.latencies),
            "latencies_ms": [round(v, 2) for v in self.latencies[:RAW_LIMIT]],
        }
        if len(self.latencies) > RAW_LIMIT:
            out["latencies_truncated"] = True
        if self.failures:
            out["failures"] = dict(self.failures)
        return out


class CompareCheck(HttpCheck):
    """The same requests to blue and green, interleaved; green's latency and errors judged against blue's."""

    kind = "compare"
    schema = SCHEMA

    def prepare(self, ctx: CheckContext) -> None:
        from greenlight.secrets import resolve_headers

        self._headers, self._secrets = resolve_headers(self.body["headers"], ctx)
        self._blue_url = self.side_url(ctx.target, "blue")
        self._green_url = self.side_url(ctx.target, "green")

    def side_url(self, target: Target, side: str) -> str:
        given = self.body.get(f"{side}_url")
        if given:
            return str(given)
        listener, base = ("prod", target.prod_url) if side == "blue" else ("test", target.test_url)
        if not base:
            raise ValueError(
                f"no {listener} listener URL for {side}: set target.{listener}_url (or --{listener}-url) or "
                f"{side}_url, or run inside a deployment where it can be discovered"
            )
        return base.rstrip("/") + self.body["path"]

    def _sample(self, ctx: CheckContext, side: _Side, budget: Deadline) -> None:
        limit = budget.bound(self.body["request_timeout"])
        request = replace(self.request(ctx, side.url), timeout=limit)
        try:
            resp = fetch(request)
        except ProbeError as exc:
            if limit < self.body["request_timeout"] and budget.expired():
                return  # cut short by the measurement's end, not by the side: no sample either way
            side.sent += 1
            side.record(exc.kind)
            return
        side.sent += 1
        if not 200 <= resp.status <= 599 or status_matches(resp.status, self.body["error_status"]):
            # A final 1xx (103 Early Hints alone) or a status HTTP does not define is no answer to compare.
            side.record(str(resp.status))
        else:
            side.latencies.append(resp.elapsed_ms)

    def measure(self, ctx: CheckContext) -> Measurement:
        seconds = ctx.deadline.bound(self.policy.timeout)
        budget = Deadline.after(seconds, ctx.deadline.clock)
        blue, green = _Side(self._blue_url), _Side(self._green_url)
        planned, pause = self.body["samples"], self.body["pause"]
        started = time.monotonic()
        for i in range(planned):
            # Alternate which side goes first, so neither always gets the warmer connection or the quieter moment.
            for side in (blue, green) if i % 2 == 0 else (green, blue):
                if budget.expired():
                    break
                self._sample(ctx, side, budget)
            if budget.expired():
                break
            if pause and i + 1 < planned:
                time.sleep(budget.bound(pause))
        body = self.body
        comparison = combine(
            [
                judge_latency(
                    green.latencies,
                    blue.latencies,
                    alpha=body["alpha"],
                    max_increase_pct=body["max_increase_pct"],
                    max_increase_ms=body["max_increase_ms"],
                    min_samples=body["min_samples"],
                ),
                judge_errors(
                    green.errors,
                    green.sent,
                    blue.errors,
                    blue.sent,
                    alpha=body["alpha"],
                    max_increase=body["max_error_rate_increase"],
                    min_samples=body["min_samples"],
                ),
            ]
        )
        details: dict[str, Any] = {"samples": planned, "blue": blue.details(), "green": green.details()}
        m = measurement(comparison, body, details)
        if green.sent and green.errors == green.sent:
            # Not one answer from green that is not an error: whatever blue did (down, hanging, failing as much),
            # there is nothing green got right to compare, and NODATA must not let it pass.
            m = replace(m, status=Status.FAIL, reason=f"none of green's {green.sent} request(s) succeeded; {m.reason}")
        if min(blue.sent, green.sent) < planned:
            note = (
                f"; stopped after {blue.sent} blue and {green.sent} green of {planned} request(s) each, at the end of "
                f"the {seconds:.3g}s the measurement had (the check's timeout {self.policy.timeout:g}s, or less "
                "when the hook's deadline came first: raise `timeout`, or lower `samples`)"
            )
            m = replace(m, reason=m.reason + note)
        return replace(m, reason=redact.text(m.reason, self._secrets), duration_ms=(time.monotonic() - started) * 1000)

    @classmethod
    def needs(cls, body: Mapping[str, Any]) -> Needs:
        """The production listener (blue) and the test listener (green), unless `blue_url`/`green_url` replace them."""
        wanted = {"prod"} if not body.get("blue_url") else set()
        if not body.get("green_url"):
            wanted.add("test")
        return Needs(listeners=frozenset(wanted))

    @classmethod
    def destinations(cls, body: Mapping[str, Any]) -> Iterable[Destination]:
        """`blue_url` and `green_url` when given (their hosts must be allowed); the listeners always are."""
        return tuple(
            Destination((name,), url=body[name])
            for name in ("blue_url", "green_url")
            if isinstance(body.get(name), str)
        )
