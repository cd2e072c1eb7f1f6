"""Tells ECS a lifecycle hook's outcome: the only code that builds what the ECS hook function returns.

An ECS native blue/green hook reports by returning `{"hookStatus", "callBackDelay", "hookDetails"}`
(ECS Developer Guide, "Lambda hooks for Amazon ECS service deployments"); like AWS's own example it adds a
`reason`, a one-line why for whoever reads the invocation's result.
ECS rolls the deployment back when the function fails or returns no valid hookStatus, and then
nobody learns why; so every answer is built here and checked against the contract before it leaves,
and an answer that does not pass the check is replaced by a FAILED one that says what was wrong.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any

from greenlight.engine.model import RunResult
from greenlight.reporting.ecs_state import (
    MAX_STATE_BYTES,
    STATE_KEY,
    STATE_VERSION,
    HookState,
    encode,
    result_entry,
    size_of,
)

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
IN_PROGRESS = "IN_PROGRESS"
HOOK_STATUSES: tuple[str, ...] = (SUCCEEDED, FAILED, IN_PROGRESS)

# ECS calls an IN_PROGRESS hook again after callBackDelay seconds (30 when it is not given).
DEFAULT_CALLBACK_DELAY = 30
MIN_CALLBACK_DELAY = 1
# Long enough for any interval a check would use between two measurements, short enough that a
# deployment never waits long on a hook whose state was lost.
MAX_CALLBACK_DELAY = 900
# greenlight's own key is bounded by MAX_STATE_BYTES; the margin covers the key and braces.
MAX_DETAILS_BYTES = MAX_STATE_BYTES + 64

_KEYS = frozenset({"hookStatus", "callBackDelay", "hookDetails", "reason"})
MAX_REASON = 1000

log = logging.getLogger("greenlight.reporting")


class ResponseError(ValueError):
    """A hook response that ECS would not accept; the message names the field."""


def callback_delay(seconds: float) -> int:
    """Whole seconds ECS should wait before the next invocation, within [MIN, MAX]_CALLBACK_DELAY."""
    if not math.isfinite(seconds):
        return MAX_CALLBACK_DELAY
    return int(min(max(math.ceil(seconds), MIN_CALLBACK_DELAY), MAX_CALLBACK_DELAY))


def validate_response(response: Any) -> None:
    """Raise ResponseError unless `response` is a hook answer ECS accepts (and greenlight's bounds hold)."""
    if not isinstance(response, Mapping):
        raise ResponseError(f"response: expected an object, got {type(response).__name__}")
    unknown = sorted(set(response) - _KEYS)
    if unknown:
        raise ResponseError(f"response: unknown field(s) {', '.join(map(str, unknown))}")
    status = response.get("hookStatus")
    if status not in HOOK_STATUSES:
        raise ResponseError(f"hookStatus: expected one of {', '.join(HOOK_STATUSES)}, got {status!r}")
    if "callBackDelay" in response:
        delay = response["callBackDelay"]
        if status != IN_PROGRESS:
            raise ResponseError(f"callBackDelay: only an IN_PROGRESS answer has one, this one is {status}")
        if isinstance(delay, bool) or not isinstance(delay, int):
            raise ResponseError(f"callBackDelay: expected whole seconds, got {delay!r}")
        if not MIN_CALLBACK_DELAY <= delay <= MAX_CALLBACK_DELAY:
            raise ResponseError(f"callBackDelay: {delay} is outside {MIN_CALLBACK_DELAY}..{MAX_CALLBACK_DELAY} seconds")
    if "reason" in response:
        reason = response["reason"]
        if not isinstance(reason, str) or len(reason) > MAX_REASON:
            raise ResponseError(f"reason: expected text of at most {MAX_REASON} characters, got {reason!r:.80}")
    details = response.get("hookDetails", {})
    if not isinstance(details, Mapping):
        raise ResponseError(f"hookDetails: expected an object, got {type(details).__name__}")
    try:
        size = size_of(details)
    except (TypeError, ValueError) as exc:
        raise ResponseError(f"hookDetails: not JSON: {exc}") from exc
    if size > MAX_DETAILS_BYTES:
        raise ResponseError(f"hookDetails: {size} bytes, more than the {MAX_DETAILS_BYTES}-byte bound")
    if status == IN_PROGRESS and not isinstance(details.get(STATE_KEY), Mapping):
        raise ResponseError(f"hookDetails.{STATE_KEY}: an IN_PROGRESS answer must carry the progress to resume")


def failure(reason: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A FAILED answer carrying `reason`; valid by construction, so it is the answer of last resort."""
    reason = _short(reason)
    body: dict[str, Any] = {"v": STATE_VERSION, "verdict": "ERROR", "status": FAILED, "reason": reason}
    for key, value in (extra or {}).items():
        if isinstance(value, str) and len(value) <= 2048:
            body.setdefault(key, value)
    return {"hookStatus": FAILED, "hookDetails": {STATE_KEY: body}, "reason": reason}


def _short(reason: str) -> str:
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


def respond(
    status: str,
    details: Mapping[str, Any] | None = None,
    *,
    delay: int | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The answer to return to ECS; an answer that would break the contract becomes FAILED, with why."""
    response: dict[str, Any] = {"hookStatus": status}
    if delay is not None:
        response["callBackDelay"] = delay
    response["hookDetails"] = dict(details or {})
    if reason:
        response["reason"] = _short(reason)
    try:
        validate_response(response)
        # The Lambda runtime serialises the answer; anything json cannot write would fail the invocation.
        json.dumps(response)
    except (ResponseError, TypeError, ValueError) as exc:
        message = f"greenlight built an invalid hook response ({exc}); returning FAILED instead of {status}"
        log.error(message)
        return failure(message)
    log.info(
        "returning %s to ECS%s",
        status,
        f", call again in {delay}s" if delay is not None else "",
        extra={"hook_status": status, "callback_delay": delay},
    )
    return response


def results_of(result: RunResult) -> dict[str, dict[str, Any]]:
    """What a final answer says of each check of a run: its status and tally."""
    return {c.name: result_entry(c.status.value, c.tally) for c in result.checks}


def final(state: HookState) -> dict[str, Any]:
    """The SUCCEEDED or FAILED answer that ends a validation, carrying its verdict (`state` is final)."""
    status = state.status or FAILED
    (log.info if status == SUCCEEDED else log.warning)(
        "%s %s: %s", state.identity.stage, status, state.reason, extra={"verdict": state.verdict, "round": state.round}
    )
    return respond(status, {STATE_KEY: encode(state)}, reason=state.reason or state.verdict)


def in_progress(state: HookState, due_in: float) -> dict[str, Any]:
    """The IN_PROGRESS answer carrying the progress to resume, asking to be called again in `due_in` seconds."""
    delay = callback_delay(due_in)
    reason = f"{len(state.checks)} check(s) still measuring after round {state.round}; next round in {delay}s"
    return respond(IN_PROGRESS, {STATE_KEY: encode(state)}, delay=delay, reason=reason)
