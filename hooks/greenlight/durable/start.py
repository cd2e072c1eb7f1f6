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
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from greenlight.aws.errors import error_code, explain, is_throttled
from greenlight.durable.job import CODE_DEPLOY, CODEDEPLOY_HOOK_LIMIT, Job
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


def hand_over(
    checks: Iterable[Check],
    hook: str,
    *,
    deployment_id: str,
    execution_id: str,
    started_at: float,
    seconds: float,
    aws: Any,
    env: Mapping[str, str] | None = None,
    time_left: Callable[[], float] | None = None,
) -> Started | None:
    """Start the durable validation of a CodeDeploy hook whose `checks` may outlast the `seconds` it has.

    None when the hook validates itself: no durable worker is configured (GREENLIGHT_DURABLE_FUNCTION unset) or the
    checks fit. StartError when the worker is needed and cannot be started: the hook reports Failed.
    """
    function = (os.environ if env is None else env).get(WORKER_VARIABLE, "")
    checks = tuple(checks)
    if not function or not needs_rounds(checks, seconds):
        return None
    job = Job(
        controller=CODE_DEPLOY,
        hook=hook,
        started_at=started_at,
        report_by=started_at + CODEDEPLOY_HOOK_LIMIT,
        ids={"deploymentId": deployment_id, "lifecycleEventHookExecutionId": execution_id},
    )
    log.info(
        "the checks of %s may need %.0fs, more than the %.0fs this invocation has: handing them to %s",
        hook,
        longest_run(checks),
        seconds,
        function,
    )
    return start(aws.client("lambda"), function, job, time_left=time_left)
