"""The `load` check kind: judges the hook's load (its `load` section) by error rate, achieved rate and latency."""

from __future__ import annotations

from typing import Any, ClassVar

from greenlight.engine.check import Check, CheckContext
from greenlight.engine.model import Measurement, Status
from greenlight.spec.schema import Field, Int, Number, Obj

SCHEMA = Obj(
    {
        "max_error_rate": Field(
            Number(min=0, max=1), default=0.01, doc="most errors per answered request (0.01: 1 %; 1 judges no errors)"
        ),
        "min_achieved_rate_ratio": Field(
            Number(min=0, max=1), doc="least share of the asked rate actually sent (missed requests lower it)"
        ),
        "max_p99_ms": Field(Number(min=0), doc="the slowest acceptable 99th percentile latency, in milliseconds"),
        "min_requests": Field(Int(min=1, max=1_000_000), default=20, doc="answers needed before judging"),
    }
)


class LoadCheck(Check):
    """The hook's load so far, against limits; FAIL when fewer than `min_requests` answers came within its timeout."""

    kind = "load"
    schema = SCHEMA
    # The check itself calls nothing; the load section it judges reads its secret headers (greenlight.secrets).
    iam_actions: ClassVar[tuple[str, ...]] = ("secretsmanager:GetSecretValue", "ssm:GetParameter")

    def measure(self, ctx: CheckContext) -> Measurement:
        if ctx.load is None:
            raise ValueError("no load is running for this hook; add a load section for it")
        # The first measurement comes as the load starts: wait (within the measurement's own bound) for the
        # answers it needs rather than judge nothing.
        wanted = self.body["min_requests"]
        give_up = ctx.deadline.clock.monotonic() + ctx.deadline.bound(self.policy.timeout) * 0.9
        while True:
            snap: dict[str, Any] = ctx.load.snapshot()
            if snap.get("error"):
                raise RuntimeError(snap["error"])
            answered = snap["completed"] + snap["error_count"]
            if answered >= wanted or ctx.deadline.clock.monotonic() >= give_up or ctx.load.stopped:
                break
            ctx.load.wait_for_answers(wanted, give_up - ctx.deadline.clock.monotonic())
        if answered < self.body["min_requests"]:
            return Measurement(
                Status.FAIL, f"only {answered} of {self.body['min_requests']} answers needed so far", details=snap
            )
        problems = []
        if not snap["completed"]:
            # Answers that are all errors never make a passing load, whatever the limits tolerate.
            problems.append(f"none of {answered} requests succeeded ({snap['errors']})")
        limit = self.body["max_error_rate"]
        if (snap["error_rate"] or 0.0) > limit:
            problems.append(f"error rate {snap['error_rate']:.2%} above {limit:.2%} ({snap['errors']})")
        ratio = self.body.get("min_achieved_rate_ratio")
        if ratio is not None and snap["achieved_rate"] < ratio * snap["rate"]:
            problems.append(
                f"achieved {snap['achieved_rate']:g}/s of {snap['rate']:g}/s asked (below {ratio:.0%}; "
                f"{snap['missed']} missed)"
            )
        p99 = snap["latency_ms"]["p99"]
        most = self.body.get("max_p99_ms")
        if most is not None and p99 is None:
            problems.append(f"no latency measured to hold against max_p99_ms {most:g}")
        elif most is not None and p99 > most:
            problems.append(f"p99 latency {p99:g}ms above {most:g}ms")
        if problems:
            return Measurement(Status.FAIL, "; ".join(problems), details=snap)
        return Measurement(
            Status.PASS,
            f"{answered} answers at {snap['achieved_rate']:g}/s, error rate {snap['error_rate'] or 0:.2%}, p99 {p99}ms",
            details=snap,
        )
