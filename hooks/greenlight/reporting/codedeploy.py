"""Tells CodeDeploy a hook's outcome with PutLifecycleEventHookExecutionStatus, exactly once.

A hook that never reports holds the deployment for an hour, so a failed report is never swallowed:
throttling is retried with backoff, an already-completed hook execution is a logged no-op (a repeated
invocation must not flip the first result) that answers with the status CodeDeploy recorded, not its
own, and anything else is logged with what to fix and raised.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from greenlight.aws.errors import error_code, explain, is_denied, is_throttled

SUCCEEDED = "Succeeded"
FAILED = "Failed"
# What a repeated invocation answers when CodeDeploy refused its report and the recorded status cannot be read.
UNKNOWN = "Unknown"
# Longest wait for the recorded status after a refused report (the hook's answer is already in CodeDeploy).
LOOKUP_TIMEOUT = 5.0
# Time kept after a report call is given up, for the error to be logged and raised before Lambda stops the function.
SEND_MARGIN = 0.25
ACTION = "codedeploy:PutLifecycleEventHookExecutionStatus"


log = logging.getLogger("greenlight.reporting")


class ReportError(Exception):
    """The outcome could not be reported to CodeDeploy."""


@dataclass(frozen=True)
class ReportOutcome:
    # The status CodeDeploy holds: the one sent, or (recorded False) the one an earlier invocation reported.
    status: str
    recorded: bool  # False: the hook execution had already been completed by an earlier invocation
    attempts: int


class CodeDeployReporter:
    """Reports one lifecycle hook execution's status."""

    def __init__(
        self,
        client: Any,
        deployment_id: str,
        execution_id: str,
        *,
        deployment_group: str | None = None,
        max_attempts: int = 6,
        base_delay: float = 0.25,
        time_left: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        recorded_status: Callable[[], str | None] | None = None,
    ) -> None:
        self.client = client
        self.deployment_id = deployment_id
        self.execution_id = execution_id
        self.deployment_group = deployment_group
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.time_left = time_left
        self.sleep = sleep
        # Reads the status CodeDeploy recorded for this hook (GetDeploymentTarget's lifecycleEvents), for when
        # the report is refused as already completed; the handler sets it once it knows the hook's name.
        self.recorded_status = recorded_status
        self.reported: ReportOutcome | None = None

    def _where(self) -> str:
        group = f", deployment group {self.deployment_group}" if self.deployment_group else ""
        return f"deployment {self.deployment_id}{group}, hook execution {self.execution_id}"

    def _learn_deployment_group(self) -> None:
        """Best effort: the deployment group's name, so a denial names what the policy must cover."""
        if self.deployment_group:
            return
        try:
            info = self.client.get_deployment(deploymentId=self.deployment_id)["deploymentInfo"]
            self.deployment_group = info.get("deploymentGroupName") or None
        except Exception:  # the message still names the action; the group is a courtesy
            log.debug("could not look up the deployment group of %s", self.deployment_id, exc_info=True)

    def _recorded(self) -> str:
        """The status CodeDeploy recorded for this hook, read within what is left of the invocation; UNKNOWN when
        it cannot be read in time (never this invocation's own verdict, which CodeDeploy refused)."""
        lookup = self.recorded_status
        if lookup is None:
            return UNKNOWN
        left = self.time_left() if self.time_left else LOOKUP_TIMEOUT
        limit = max(min(LOOKUP_TIMEOUT, left - 0.5), 0.0)
        box: list[str | None] = []

        def work() -> None:
            try:
                box.append(lookup())
            except Exception:  # the answer below says it is unknown
                log.warning("could not read the status CodeDeploy recorded for %s", self._where(), exc_info=True)

        worker = threading.Thread(target=work, name="greenlight-recorded-status", daemon=True)
        worker.start()
        worker.join(limit)
        return (box[0] if box else None) or UNKNOWN

    def _send(self, status: str) -> None:
        """PutLifecycleEventHookExecutionStatus, waited for only until just before the function's time ends.

        botocore bounds each attempt, not their sum: without this, a CodeDeploy API that does not answer would
        keep the call going until Lambda stops the function, and the failure would never be logged."""

        def call() -> None:
            self.client.put_lifecycle_event_hook_execution_status(
                deploymentId=self.deployment_id, lifecycleEventHookExecutionId=self.execution_id, status=status
            )

        left = self.time_left() if self.time_left is not None else None
        if left is None or left <= 2 * SEND_MARGIN:
            call()  # no time to bound it by (or a context that says none is left): the report is the last chance
            return
        limit = left - SEND_MARGIN
        box: dict[str, BaseException | None] = {}

        def work() -> None:
            try:
                call()
            except BaseException as exc:  # handed to the reporting thread below
                box["error"] = exc
            else:
                box["error"] = None

        worker = threading.Thread(target=work, name="greenlight-report", daemon=True)
        worker.start()
        worker.join(limit)
        if "error" not in box:
            message = (
                f"cannot report {status} for {self._where()}: CodeDeploy did not answer within {limit:.1f}s, before "
                f"the function's time ran out; check the network path to the CodeDeploy API (an interface VPC "
                f"endpoint or a NAT gateway) and raise the reserve for reporting"
            )
            log.error(message, extra={"deployment_id": self.deployment_id, "status": status})
            raise ReportError(message)
        error = box["error"]
        if error is not None:
            raise error

    def report(self, succeeded: bool) -> ReportOutcome:
        """Send the status; retries throttling; raises ReportError on anything that is not a success."""
        if self.reported is not None:
            raise ReportError(f"status for {self._where()} was already reported as {self.reported.status}")
        status = SUCCEEDED if succeeded else FAILED
        attempt = 0
        while True:
            attempt += 1
            try:
                self._send(status)
            except ReportError:
                raise
            except Exception as exc:
                code = error_code(exc)
                if code == "LifecycleEventAlreadyCompletedException":
                    recorded = self._recorded()
                    log.warning(
                        "hook execution already completed as %s by an earlier invocation; this invocation's %s "
                        "was not recorded, nothing changed",
                        recorded,
                        status,
                        extra={
                            "deployment_id": self.deployment_id,
                            "execution_id": self.execution_id,
                            "status": recorded,
                            "not_recorded": status,
                        },
                    )
                    self.reported = ReportOutcome(recorded, False, attempt)
                    return self.reported
                delay = self.base_delay * (2 ** (attempt - 1))
                left = self.time_left() if self.time_left else float("inf")
                if is_throttled(exc) and attempt < self.max_attempts and left > delay + 1:
                    log.warning("report throttled, retrying in %.2fs (attempt %d)", delay, attempt)
                    self.sleep(delay)
                    continue
                if is_denied(exc):
                    self._learn_deployment_group()
                    message = (
                        f"cannot report {status} for {self._where()}: access denied. The hook's role needs "
                        f"{ACTION} on the deployment group's ARN "
                        f"(arn:aws:codedeploy:REGION:ACCOUNT:deploymentgroup:APPLICATION/"
                        f"{self.deployment_group or 'GROUP'}). AWS said: {exc}"
                    )
                else:
                    # Names the throttling, the missing route (VPC endpoint or NAT) or credentials, or AWS's own words.
                    detail = explain(exc, ACTION)
                    if code is None and str(exc)[:300] not in detail:
                        detail += f" ({exc})"  # where it tried to connect
                    message = f"cannot report {status} for {self._where()}: {detail}"
                log.error(message, extra={"deployment_id": self.deployment_id, "status": status})
                raise ReportError(message) from exc
            self.reported = ReportOutcome(status, True, attempt)
            log.info(
                "reported %s to CodeDeploy",
                status,
                extra={
                    "deployment_id": self.deployment_id,
                    "execution_id": self.execution_id,
                    "attempts": attempt,
                },
            )
            return self.reported
