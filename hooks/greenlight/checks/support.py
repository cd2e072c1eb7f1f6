"""What the AWS-side checks share: the deployment's sides, target group references, and AWS calls that name
the missing IAM action.

Nothing here imports boto3 or botocore at import time: spec validation imports every check module a
spec uses, and the handler's cold start must stay small.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from greenlight.aws.errors import explain
from greenlight.spec.schema import Str

if TYPE_CHECKING:
    from greenlight.discovery.model import Deployment, Side
    from greenlight.engine.check import CheckContext

TARGET_GROUP_REF = Str(
    pattern=r"green|blue|arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[A-Za-z0-9-]+/[0-9a-f]+",
    pattern_doc="'green', 'blue' or a target group ARN",
)

# boto3 sessions are not thread-safe while creating clients, and checks run side by side.
_clients_lock = threading.RLock()


class AwsCallError(Exception):
    """An AWS call a check needs failed; the message names the IAM action and what to do."""


class NoDeploymentError(Exception):
    """A check needs the deployment (green's target group, task set) and there is none, or not that part."""


# --- the deployment ---------------------------------------------------------------------------------


def deployment_of(ctx: CheckContext, kind: str) -> Deployment:
    """The discovered deployment, or NoDeploymentError saying how to give one."""
    if ctx.deployment is None:
        raise NoDeploymentError(
            f"{kind} needs the deployment being validated (its green target group and task set): it runs as a "
            "deployment hook, or from `greenlight check --deployment-id d-XXXXXXXXX`"
        )
    deployment: Deployment = ctx.deployment
    return deployment


def side_of(ctx: CheckContext, label: str, kind: str) -> Side:
    """The GREEN or BLUE side of the deployment, or NoDeploymentError naming what is missing."""
    deployment = deployment_of(ctx, kind)
    side = deployment.side(label)
    if side is None:
        raise NoDeploymentError(
            f"{kind}: {deployment.describe()} has no {label.lower()} side yet "
            "(in the BeforeInstall hook the replacement task set does not exist yet)"
        )
    return side


def target_group(ctx: CheckContext, ref: str, kind: str) -> tuple[str, str]:
    """(ARN, name for messages) of a target group reference: 'green', 'blue' or an ARN."""
    if ref.startswith("arn:"):
        return ref, ref.split(":targetgroup/", 1)[-1].split("/")[0]
    side = side_of(ctx, ref, kind)
    if not side.target_group_arn:
        raise NoDeploymentError(f"{kind}: the {ref} side of {deployment_of(ctx, kind).describe()} has no target group")
    return side.target_group_arn, f"{ref} target group {side.target_group_name or side.target_group_arn}"


# --- AWS calls ----------------------------------------------------------------------------------------


def clients(ctx: CheckContext) -> Any:
    """The invocation's AwsClients (created with default credentials when the context has none, as in the CLI)."""
    if ctx.aws is None:
        with _clients_lock:
            if ctx.aws is None:
                from greenlight.aws import AwsClients

                ctx.aws = AwsClients()
    return ctx.aws


def client(ctx: CheckContext, service: str) -> Any:
    """The invocation's client for `service` (AwsClients creates clients under its own lock)."""
    return clients(ctx).client(service)


def call(ctx: CheckContext, service: str, operation: str, action: str, /, **params: Any) -> dict[str, Any]:
    """One AWS API call; any failure becomes AwsCallError naming `action` (the engine makes it an ERROR)."""
    aws_client = client(ctx, service)
    try:
        response: dict[str, Any] = getattr(aws_client, operation)(**params)
    except Exception as exc:
        raise AwsCallError(explain(exc, action)) from exc
    return response


def paginate(
    ctx: CheckContext, service: str, operation: str, action: str, keys: tuple[str, ...], **params: Any
) -> list[dict[str, Any]]:
    """Every item under any of `keys` across all pages of a paginated AWS call."""
    aws_client = client(ctx, service)
    items: list[dict[str, Any]] = []
    try:
        for page in aws_client.get_paginator(operation).paginate(**params):
            for key in keys:
                items.extend(page.get(key) or [])
    except Exception as exc:
        raise AwsCallError(explain(exc, action)) from exc
    return items


def target_address(description: Mapping[str, Any]) -> tuple[str, int | None]:
    """(Id, Port) of one DescribeTargetHealth entry's target."""
    target = description.get("Target") or {}
    return str(target.get("Id", "?")), target.get("Port")


def show_target(description: Mapping[str, Any]) -> str:
    target_id, port = target_address(description)
    host = f"[{target_id}]" if ":" in target_id else target_id
    return f"{host}:{port}" if port else host


def task_definition_name(arn: str | None) -> str:
    """'family:revision' of a task definition ARN (or the text itself when it is not an ARN)."""
    if not arn:
        return "?"
    return arn.split(":task-definition/", 1)[-1]
