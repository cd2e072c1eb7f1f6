"""What AWS documents of the lifecycle hook contracts, as checks that name every difference.

The facts live in `fixtures/*.json`, each transcribed from AWS's documentation (the source URLs are in
each fixture); this module only reads them. It depends on nothing of greenlight or of `events/`, so
any producer of hook events (the sample files, the twin's players) can be run through the same checks:

    from ecs_contract import problems_with_ecs_hook_event
    assert problems_with_ecs_hook_event(event, stage="PRODUCTION_TRAFFIC_SHIFT") == []
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"

_ARN = {
    "resourceArn": re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service-deployment/([^/]+)/([^/]+)/[^/]+"),
    "serviceArn": re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/([^/]+)/([^/]+)"),
    "targetServiceRevisionArn": re.compile(
        r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service-revision/([^/]+)/([^/]+)/[^/]+"
    ),
}


@cache
def fixture(name: str) -> dict[str, Any]:
    """A fixture transcribed from AWS's documentation (its `source` names where)."""
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _weights_problems(weights: Any, expected: Any, target: str, stage: str, name: str, *, rollback: bool) -> list[str]:
    path = f"executionDetails.{name}"
    if not isinstance(weights, Mapping):
        return [f"{path}: expected an object of service revision ARN -> percentage, got {type(weights).__name__}"]
    problems = []
    for arn, weight in weights.items():
        if not _ARN["targetServiceRevisionArn"].fullmatch(str(arn)):
            problems.append(f"{path}: key {arn!r} is not a service revision ARN")
        if not _number(weight) or not 0 <= weight <= 100:
            problems.append(f"{path}[{arn!r}] = {weight!r} is not a percentage")
    if problems:
        return problems
    when = f"at {stage}" + (" during a rollback" if rollback else "")
    if expected == "empty":
        if weights:
            problems.append(f"{path}: ECS sends {{}} {when}, got {dict(weights)}")
        return problems
    if not weights:
        return [f"{path}: ECS fills this map {when}, got {{}}"]
    if target not in weights:
        problems.append(f"{path}: the target revision {target} is not in the map")
        return problems
    if abs(sum(weights.values()) - 100) > 1e-6:
        problems.append(f"{path}: the weights add up to {sum(weights.values())}, not 100")
    others = {arn: w for arn, w in weights.items() if arn != target}
    if not others:
        problems.append(f"{path}: names only the target revision; ECS names the other revision too")
    want = expected["target"]
    if want == "step":
        if not 0 < weights[target] <= 100:
            problems.append(f"{path}: the target revision has {weights[target]} {when}; a traffic step gives it > 0")
    elif weights[target] != want:
        problems.append(f"{path}: the target revision has {weights[target]} {when}, ECS gives it {want}")
    return problems


def problems_with_ecs_hook_event(event: Any, *, stage: str, rollback: bool = False) -> list[str]:
    """Every way `event` differs from what ECS sends a Lambda hook at `stage` (a rollback re-run if asked)."""
    doc = fixture("ecs_lifecycle_payloads")
    if not isinstance(event, Mapping):
        return [f"event: expected an object, got {type(event).__name__}"]
    if stage not in doc["stages"]:
        return [f"{stage!r} is not a lifecycle stage a hook runs at ({', '.join(doc['stages'])})"]
    if rollback and stage not in doc["rollback"]["stages"]:
        return [f"{stage} does not run during a rollback (only {', '.join(doc['rollback']['stages'])})"]
    problems: list[str] = []
    keys = doc["event_keys"]
    missing = [k for k in keys["required"] if k not in event]
    unknown = sorted(set(event) - set(keys["required"]) - set(keys["optional"]))
    if missing:
        problems.append(f"event: missing {', '.join(missing)}")
    if unknown:
        problems.append(f"event: fields ECS does not send: {', '.join(map(str, unknown))}")
    if "hookDetails" in event:
        try:
            json.dumps(event["hookDetails"], allow_nan=False)
        except (TypeError, ValueError) as exc:
            problems.append(f"hookDetails: not a JSON value ({exc})")
    execution_id = event.get("executionId")
    if "executionId" in event and (not isinstance(execution_id, str) or not execution_id):
        problems.append(f"executionId: expected a non-empty string, got {execution_id!r}")
    if "lifecycleStage" in event and event["lifecycleStage"] != stage:
        problems.append(f"lifecycleStage: {event['lifecycleStage']!r}, expected {stage!r}")
    names: dict[str, tuple[str, str]] = {}
    resource = event.get("resourceArn")
    if "resourceArn" in event:
        found = _ARN["resourceArn"].fullmatch(str(resource)) if isinstance(resource, str) else None
        if found is None:
            problems.append(f"resourceArn: {resource!r} is not a {doc['arn_forms']['resourceArn']}")
        else:
            names["resourceArn"] = (found.group(1), found.group(2))
    details = event.get("executionDetails")
    if "executionDetails" in event and not isinstance(details, Mapping):
        problems.append(f"executionDetails: expected an object, got {type(details).__name__}")
        details = None
    if isinstance(details, Mapping):
        want = doc["execution_details_keys"]
        missing = [k for k in want if k not in details]
        unknown = sorted(set(details) - set(want))
        if missing:
            problems.append(f"executionDetails: missing {', '.join(missing)}")
        if unknown:
            problems.append(f"executionDetails: fields ECS does not send: {', '.join(map(str, unknown))}")
        for key in ("serviceArn", "targetServiceRevisionArn"):
            value = details.get(key)
            if key not in details:
                continue
            found = _ARN[key].fullmatch(str(value)) if isinstance(value, str) else None
            if found is None:
                problems.append(f"executionDetails.{key}: {value!r} is not a {doc['arn_forms'][key]}")
            else:
                names[key] = (found.group(1), found.group(2))
        if len(set(names.values())) > 1:
            problems.append(f"resourceArn, serviceArn and targetServiceRevisionArn name different services: {names}")
        target = str(details.get("targetServiceRevisionArn"))
        expected = doc["rollback"][stage] if rollback else doc["stages"][stage]
        for name in ("testTrafficWeights", "productionTrafficWeights"):
            if name in details:
                problems += _weights_problems(details[name], expected[name], target, stage, name, rollback=rollback)
    return problems


def problems_with_codedeploy_hook_event(event: Any) -> list[str]:
    """Every way `event` differs from what CodeDeploy sends an ECS lifecycle hook function."""
    doc = fixture("codedeploy_hook_event")
    if not isinstance(event, Mapping):
        return [f"event: expected an object, got {type(event).__name__}"]
    problems = []
    if set(event) != set(doc["keys"]):
        problems.append(f"event: keys {sorted(event)}, CodeDeploy sends exactly {doc['keys']}")
    deployment = event.get("DeploymentId")
    if not isinstance(deployment, str) or not re.fullmatch(doc["DeploymentId"], deployment):
        problems.append(f"DeploymentId: {deployment!r} is not a deployment id ({doc['DeploymentId']})")
    execution = event.get("LifecycleEventHookExecutionId")
    if not isinstance(execution, str) or not execution:
        problems.append(f"LifecycleEventHookExecutionId: expected a non-empty string, got {execution!r}")
    return problems


def problems_with_ecs_hook_response(answer: Any) -> list[str]:
    """Every way a hook function's answer differs from what ECS documents it reads."""
    doc = fixture("ecs_hook_response")
    if not isinstance(answer, Mapping):
        return [f"answer: expected an object, got {type(answer).__name__}"]
    problems = []
    unknown = sorted(set(answer) - {"hookStatus", "callBackDelay", "hookDetails", "reason"})
    if unknown:
        problems.append(f"answer: fields ECS does not document: {', '.join(map(str, unknown))}")
    status = answer.get("hookStatus")
    if status not in doc["hookStatus"]:
        problems.append(f"hookStatus: {status!r} is not one of {', '.join(doc['hookStatus'])} (ECS would roll back)")
    if "callBackDelay" in answer:
        delay = answer["callBackDelay"]
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            problems.append(f"callBackDelay: expected whole seconds, got {delay!r}")
        if status != "IN_PROGRESS":
            problems.append(f"callBackDelay: only read with IN_PROGRESS, the answer is {status}")
    if "hookDetails" in answer:
        details = answer["hookDetails"]
        if not isinstance(details, Mapping):
            problems.append(f"hookDetails: expected an object, got {type(details).__name__}")
        try:
            json.dumps(details, allow_nan=False)
        except (TypeError, ValueError) as exc:
            problems.append(f"hookDetails: not JSON ({exc})")
    if "reason" in answer and not isinstance(answer["reason"], str):
        problems.append(f"reason: expected a string, got {type(answer['reason']).__name__}")
    return problems
