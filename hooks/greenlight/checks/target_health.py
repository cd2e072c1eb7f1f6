"""`target_health`: every target registered in green's target group is healthy, as the load balancer sees it.

A `/health` probe through the listener cannot tell this: an ALB whose targets are all unhealthy
routes to all of them ("fail open"). With `count`/`interval` (and `failure_limit` for the measurements
taken while tasks are still starting) the check waits until the targets are healthy within its budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from greenlight.checks.support import TARGET_GROUP_REF, call, show_target, target_group
from greenlight.engine.check import Check, CheckContext, Needs
from greenlight.engine.model import Measurement, failed, passed
from greenlight.spec.schema import Field, Int, Obj

ACTION = "elasticloadbalancing:DescribeTargetHealth"

SCHEMA = Obj(
    {
        "target_group": Field(
            TARGET_GROUP_REF,
            default="green",
            doc="whose targets: `green` (the replacement task set's), `blue`, or a target group ARN",
        ),
        "min_healthy": Field(
            Int(min=1),
            doc="at least this many healthy targets (default 1); every registered target must be healthy too",
        ),
    }
)

# States that are neither healthy nor a failure of green: a target being deregistered is on its way out.
_LEAVING = frozenset({"draining"})


def describe_state(desc: Mapping[str, Any]) -> str:
    """'10.0.1.7:3000 unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [500])'."""
    health = desc.get("TargetHealth") or {}
    state = health.get("State", "unknown")
    why = ": ".join(str(x) for x in (health.get("Reason"), health.get("Description")) if x)
    return f"{show_target(desc)} {state}" + (f" ({why})" if why else "")


class TargetHealthCheck(Check):
    """Every target in the target group (default: green's) is healthy; names those that are not."""

    kind = "target_health"
    schema = SCHEMA
    iam_actions = (ACTION,)

    def prepare(self, ctx: CheckContext) -> None:
        self._arn, self._shown = target_group(ctx, self.body["target_group"], self.kind)

    def measure(self, ctx: CheckContext) -> Measurement:
        answer = call(ctx, "elbv2", "describe_target_health", ACTION, TargetGroupArn=self._arn)
        descriptions = answer.get("TargetHealthDescriptions") or []
        states = {show_target(d): (d.get("TargetHealth") or {}).get("State", "unknown") for d in descriptions}
        counted = [d for d in descriptions if (d.get("TargetHealth") or {}).get("State") not in _LEAVING]
        healthy = [d for d in counted if d["TargetHealth"]["State"] == "healthy"]
        bad = [d for d in counted if d["TargetHealth"]["State"] != "healthy"]
        wanted = self.body.get("min_healthy") or 1
        details: dict[str, Any] = {"target_group": self._arn, "targets": states}
        if not descriptions:
            return failed(f"no targets registered in {self._shown}", **details)
        problems = []
        if bad:
            problems.append(
                f"{len(bad)} of {len(counted)} target(s) not healthy in {self._shown}: "
                + "; ".join(describe_state(d) for d in bad)
            )
        if len(healthy) < wanted:
            problems.append(f"{len(healthy)} healthy target(s), expected at least {wanted}")
        if problems:
            return failed("; ".join(problems), **details)
        leaving = len(descriptions) - len(counted)
        note = f" ({leaving} draining, not counted)" if leaving else ""
        return passed(f"{len(healthy)} of {len(counted)} target(s) healthy in {self._shown}{note}", **details)

    @classmethod
    def needs(cls, body: Mapping[str, Any]) -> Needs:
        """The deployment, unless the target group is given as an ARN."""
        return Needs(deployment=not str(body.get("target_group", "green")).startswith("arn:"))
