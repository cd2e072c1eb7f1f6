"""A typical hand-written CodeDeploy lifecycle hook, the yardstick of `make bench`: one GET of /health, one report."""

from __future__ import annotations

import os
from typing import Any

import boto3
import requests

codedeploy = boto3.client("codedeploy")
HEALTH_URL = os.environ["HEALTH_URL"]


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    status = "Failed"
    try:
        if requests.get(HEALTH_URL, timeout=5).status_code == 200:
            status = "Succeeded"
    except requests.RequestException as exc:
        print(f"health check failed: {exc}")
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status}
