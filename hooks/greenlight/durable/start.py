"""Hands a validation to the durable worker: decides when it is needed, and starts one execution per hook execution.

The execution is started with an asynchronous Invoke of the worker's qualified ARN (a synchronous one is
capped at 15 minutes) under the job's deterministic name (`Job.name`). Lambda answers a second start
under the same name with the existing execution, or with DurableExecutionAlreadyStartedException when the
input differs (botocore lambda model, Invoke's DurableExecutionName): either way the validation is already
running, so a repeated hook invocation can never start a second one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from greenlight.aws.errors import error_code, explain, is_throttled
from greenlight.durable.job import Job
from greenlight.engine.check import Check
from greenlight.engine.runner import GRACE

ACTION = "lambda:InvokeFunction"
ALREADY_STARTED = "DurableExecutionAlreadyStartedException"
# The environment variable of a hook function naming the durable worker (its alias or version ARN).
WORKER_VARIABLE = "GREENLIGHT_DURABLE_FUNCTION"

log = logging.getLogger("greenlight.durable")


class StartError(Exception):
    """The durable execution could not be started; the hook must report Failed at once."""


@dataclass(frozen=True)
class Started:
    name: str
    arn: str | None  # None when an earlier invocation had started it
    already: bool


def longest_run(checks: Iterable[Check]) -> float:
    """Seconds the slowest check may take when nothing ends it early: every measurement, every interval."""
    return max(
        ((c.policy.count - 1) * c.policy.interval + c.policy.timeout + GRACE for c in checks),
        default=0.0,
    )


def needs_rounds(checks: Iterable[Check], seconds: float) -> bool:
    """Whether `checks` may need longer than the `seconds` one invocation has for them."""
    return longest_run(checks) > seconds


def qualified(function: str) -> bool:
    """`name:qualifier` or `arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER` (a version or an alias)."""
    parts = function.split(":")
    if function.startswith("arn:"):
        return len(parts) == 8 and bool(parts[7])
    return len(parts) == 2 and all(parts)


def start(
    client: Any,
    function: str,
    job: Job,
    *,
    time_left: Callable[[], float] | None = None,
    max_attempts: int = 5,
    base_delay: float = 0.25,
    sleep: Callable[[float], None] = time.sleep,
) -> Started:
    """Start the durable execution of `job` on `function`; StartError when it is not running afterwards."""
    name = job.name()
    if not qualified(function):
        raise StartError(
            f"{WORKER_VARIABLE}={function!r} is not a qualified function ARN: a durable function is invoked by "
            "version or alias (arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS)"
        )
    payload = json.dumps(job.to_payload(), separators=(",", ":")).encode()
    attempt = 0
    while True:
        attempt += 1
        try:
            answer = client.invoke(
                FunctionName=function, InvocationType="Event", DurableExecutionName=name, Payload=payload
            )
        except Exception as exc:
            if error_code(exc) == ALREADY_STARTED:
                log.info("durable execution %s was already started; not starting another", name)
                return Started(name, None, True)
            delay = base_delay * 2 ** (attempt - 1)
            left = time_left() if time_left else float("inf")
            if is_throttled(exc) and attempt < max_attempts and left > delay + 1:
                log.warning("starting %s throttled, retrying in %.2fs", name, delay)
                sleep(delay)
                continue
            raise StartError(f"cannot start durable execution {name} on {function}: {explain(exc, ACTION)}") from exc
        arn = answer.get("DurableExecutionArn")
        log.info(
            "started durable execution %s",
            name,
            extra={"durable_execution_name": name, "durable_execution_arn": arn, "hook": job.hook},
        )
        return Started(name, arn, False)
