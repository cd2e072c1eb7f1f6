"""What a durable validation is asked to do: which hook, whose ids, when it began and by when it must report.

A job is the durable execution's input (JSON), written by the function that starts it (a CodeDeploy hook
function or the ECS PAUSE hook's EventBridge target) and read by the worker on every replay, so it
carries only what the worker cannot learn again: the controller's ids, the hook, the time the hook began
(epoch seconds) and the time by which the verdict must reach the controller (`report_by`: CodeDeploy's
one-hour limit, or the PAUSE hook's `expiresAt`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from greenlight import lifecycle

CODE_DEPLOY = "CODE_DEPLOY"
ECS_PAUSE = "ECS_PAUSE"
CONTROLLERS = (CODE_DEPLOY, ECS_PAUSE)
JOB_VERSION = 1

# CodeDeploy fails a hook that has not reported within an hour of its start
# (https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html).
CODEDEPLOY_HOOK_LIMIT = 3600.0

# Lambda's Invoke takes a DurableExecutionName of 1-64 characters [a-zA-Z0-9-_]
# (botocore lambda model, shape DurableExecutionName).
NAME_MAX = 64
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


class JobError(ValueError):
    """A durable execution's input is not a greenlight job; the message names the field."""


@dataclass(frozen=True)
class Job:
    """One validation handed to the durable worker."""

    controller: str  # CODE_DEPLOY or ECS_PAUSE
    hook: str  # the CodeDeploy hook or the ECS lifecycle stage whose checks run
    started_at: float  # epoch seconds when the hook began
    report_by: float  # epoch seconds by which the controller must have the verdict
    # CodeDeploy: deploymentId, lifecycleEventHookExecutionId. ECS: serviceDeploymentArn, hookId, serviceArn,
    # targetServiceRevisionArn.
    ids: Mapping[str, str] = field(default_factory=dict)
    v: int = JOB_VERSION

    @property
    def execution_key(self) -> str:
        """The id of the hook execution this job validates (CodeDeploy's hook execution, ECS's hookId)."""
        return self.ids.get("lifecycleEventHookExecutionId") or self.ids.get("hookId") or ""

    def name(self) -> str:
        """The durable execution's name: one per hook execution, the same on every repeated start."""
        if self.controller == CODE_DEPLOY:
            return execution_name("cd", self.ids["deploymentId"], self.ids["lifecycleEventHookExecutionId"])
        return execution_name("ecs", self.ids["serviceDeploymentArn"], self.ids["hookId"])

    def to_payload(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["ids"] = dict(self.ids)
        return doc

    @classmethod
    def from_payload(cls, doc: Any) -> Job:
        """The job in a durable execution's input; JobError naming every field that is wrong."""
        if not isinstance(doc, Mapping):
            raise JobError(f"expected a greenlight job (a JSON object), got {type(doc).__name__}")
        problems: list[str] = []
        if doc.get("v") != JOB_VERSION:
            problems.append(f"v: unknown job version {doc.get('v')!r} (this worker reads {JOB_VERSION})")
        controller = doc.get("controller")
        if controller not in CONTROLLERS:
            problems.append(f"controller: expected one of {', '.join(CONTROLLERS)}, got {controller!r}")
        hook = doc.get("hook")
        if hook not in lifecycle.ALL_HOOK_NAMES:
            problems.append(f"hook: {hook!r} is not a CodeDeploy hook nor an ECS lifecycle stage")
        times = {}
        for key in ("started_at", "report_by"):
            value = doc.get(key)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not ok:
                problems.append(f"{key}: expected epoch seconds, got {value!r}")
            times[key] = float(value) if ok and value is not None else 0.0
        ids = doc.get("ids")
        wanted = {
            CODE_DEPLOY: ("deploymentId", "lifecycleEventHookExecutionId"),
            ECS_PAUSE: ("serviceDeploymentArn", "hookId"),
        }.get(str(controller), ())
        if not isinstance(ids, Mapping):
            problems.append("ids: expected an object of the controller's ids")
            ids = {}
        for key in wanted:
            if not isinstance(ids.get(key), str) or not ids.get(key):
                problems.append(f"ids.{key}: missing")
        if not problems and times["report_by"] <= times["started_at"]:
            problems.append("report_by: not after started_at")
        if problems:
            raise JobError("not a greenlight durable job: " + "; ".join(problems))
        return cls(
            controller=str(controller),
            hook=str(hook),
            started_at=times["started_at"],
            report_by=times["report_by"],
            ids={str(k): str(v) for k, v in ids.items() if isinstance(v, str)},
        )


def execution_name(kind: str, scope: str, execution: str) -> str:
    """`kind-<readable scope>-<digest>`: deterministic, within Lambda's 64 characters of [a-zA-Z0-9-_].

    The digest covers the full ids, so two hook executions never share a name however the readable part
    is shortened; the readable part lets an operator find the execution from the deployment.
    """
    digest = hashlib.sha256(f"{kind}\0{scope}\0{execution}".encode()).hexdigest()[:32]
    readable = re.sub(r"[^a-zA-Z0-9-]", "-", scope.rsplit("/", 1)[-1])[: NAME_MAX - len(kind) - len(digest) - 2]
    name = f"{kind}-{readable}-{digest}" if readable else f"{kind}-{digest}"
    assert _NAME.fullmatch(name), name  # by construction
    return name
