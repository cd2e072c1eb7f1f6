"""`task_set`: green's task set (CodeDeploy) is steady: every desired task runs and ECS calls it STEADY_STATE."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from greenlight.checks.support import NoDeploymentError, call, deployment_of, side_of, task_definition_name
from greenlight.engine.check import Check, CheckContext, Needs
from greenlight.engine.model import Measurement, failed, passed
from greenlight.spec.schema import Bool, Field, Obj, Str

ACTION = "ecs:DescribeTaskSets"

SCHEMA = Obj(
    {
        "side": Field(Str(choices=("green", "blue")), default="green", doc="whose task set"),
        "steady_state": Field(
            Bool(),
            default=True,
            doc="also require the task set's `stabilityStatus` to be `STEADY_STATE` (`false`: counts only)",
        ),
    }
)


class TaskSetCheck(Check):
    """runningCount == desiredCount > 0 (and STEADY_STATE) for the deployment's green task set."""

    kind = "task_set"
    schema = SCHEMA
    iam_actions = (ACTION,)

    def prepare(self, ctx: CheckContext) -> None:
        deployment = deployment_of(ctx, self.kind)
        side = side_of(ctx, self.body["side"], self.kind)
        if not side.task_set_id or not deployment.cluster or not deployment.service:
            raise NoDeploymentError(
                f"{self.kind}: {deployment.describe()} has no {self.body['side']} task set "
                "(task sets belong to CodeDeploy deployments; for ECS-native deployments use target_health)"
            )
        self._cluster, self._service, self._id = deployment.cluster, deployment.service, side.task_set_id

    def measure(self, ctx: CheckContext) -> Measurement:
        answer = call(
            ctx, "ecs", "describe_task_sets", ACTION, cluster=self._cluster, service=self._service, taskSets=[self._id]
        )
        sets = answer.get("taskSets") or []
        if not sets:
            reasons = "; ".join(f"{f.get('arn')}: {f.get('reason')}" for f in answer.get("failures") or [])
            raise LookupError(
                f"{self.body['side']} task set {self._id} of service {self._service} in cluster {self._cluster} "
                f"not found{': ' + reasons if reasons else ''}"
            )
        ts = sets[0]
        desired = ts.get("computedDesiredCount")
        running, pending = ts.get("runningCount", 0), ts.get("pendingCount", 0)
        stability = ts.get("stabilityStatus")
        shown = f"{self.body['side']} task set {self._id} ({task_definition_name(ts.get('taskDefinition'))})"
        counts = f"running {running} of {desired} desired, {pending} pending"
        details: dict[str, Any] = {
            "task_set": ts.get("taskSetArn", self._id),
            "desired": desired,
            "running": running,
            "pending": pending,
            "stability": stability,
            "status": ts.get("status"),
        }
        problems = []
        if desired is None:
            problems.append("no computedDesiredCount in the answer")
        elif desired == 0:
            problems.append("desired count is 0 (no tasks would serve)")
        elif running != desired:
            problems.append(f"{running} running, expected {desired}")
        if self.body["steady_state"] and stability != "STEADY_STATE":
            problems.append(f"stabilityStatus {stability}, expected STEADY_STATE")
        if problems:
            return failed(f"{shown}: {counts}, stabilityStatus {stability}: " + "; ".join(problems), **details)
        return passed(f"{shown}: {counts}, {stability}", **details)

    @classmethod
    def needs(cls, body: Mapping[str, Any]) -> Needs:
        """Always the deployment: the task set is the deployment's."""
        return Needs(deployment=True)
