"""Lambda handlers the emulator tests run; each returns what one test needs to see."""

from __future__ import annotations

import os
import time
from typing import Any


def echo(event: Any, context: Any) -> dict[str, Any]:
    """Returns the event and what the runtime's context says about this invocation."""
    return {
        "event": event,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "pid": os.getpid(),
    }


def fail(event: Any, context: Any) -> None:
    raise ValueError(event.get("message", "failed on purpose"))


def sleep(event: Any, context: Any) -> dict[str, Any]:
    time.sleep(float(event["seconds"]))
    return {"slept": event["seconds"]}


def environment(event: Any, context: Any) -> dict[str, str | None]:
    """The values of the environment variables the event names (None when unset)."""
    return {name: os.environ.get(name) for name in event["names"]}


def ssm_parameter(event: Any, context: Any) -> str:
    """Reads an SSM parameter through whatever endpoint, region and credentials the environment gives."""
    import boto3

    return boto3.client("ssm").get_parameter(Name=event["name"])["Parameter"]["Value"]
