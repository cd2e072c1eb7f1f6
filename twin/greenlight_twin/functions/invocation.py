"""What one invocation through the emulator came to, decoded from its HTTP answer as Lambda's Invoke API says it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenlight_twin.functions.errors import FunctionError, HandlerImportError

__all__ = ["InvocationResult", "decode_answer"]

_TIMEOUT_BODY = re.compile(r"Task timed out after [0-9.]+ seconds")
_ERROR_KEYS = frozenset({"errorMessage", "errorType", "requestId", "stackTrace"})


@dataclass(frozen=True)
class InvocationResult:
    """What one invocation returned, in the terms of Lambda's Invoke API.

    `payload` is the decoded response (for a handler error: the error document, as Lambda returns it);
    `error_type`/`error_message` are set when the function failed (`Sandbox.Timedout` on a timeout);
    `init_error` when the handler could not even be imported. `duration_ms` is the wall-clock time of
    the HTTP round trip, so a cold start's import is included.
    """

    payload: Any
    error_type: str | None
    error_message: str | None
    duration_ms: float
    timed_out: bool
    request_id: str = ""
    stack_trace: tuple[str, ...] = ()
    init_error: bool = False
    function_name: str = ""
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def raise_for_error(self) -> InvocationResult:
        """Returns self when the function succeeded; raises HandlerImportError or FunctionError otherwise."""
        if self.ok:
            return self
        where = f"{self.function_name}: " if self.function_name else ""
        log = f" (log: {self.log_path})" if self.log_path else ""
        message = f"{where}{self.error_type}: {self.error_message}{log}"
        if self.init_error:
            raise HandlerImportError(message)
        raise FunctionError(message)


def decode_answer(status: int, raw: bytes, request_id: str, **common: Any) -> InvocationResult | None:
    """The result an emulator answer stands for, or None when the answer is not one the emulator gives.

    `common` holds the fields every result carries (duration_ms, request_id, function_name, log_path).
    """
    common["request_id"] = request_id
    text = raw.decode("utf-8", errors="replace")
    if status == 200 and _TIMEOUT_BODY.fullmatch(text.strip()):
        return InvocationResult(
            payload=None, error_type="Sandbox.Timedout", error_message=text.strip(), timed_out=True, **common
        )
    payload = _decode(raw)
    is_error = isinstance(payload, dict) and "errorType" in payload and set(payload) <= _ERROR_KEYS
    if status == 200:
        # A handler error is also HTTP 200; the document carries our request id, a return value never does.
        if is_error and payload.get("requestId", request_id) in {request_id, ""}:
            return _error_result(payload, init_error=False, common=common)
        return InvocationResult(payload=payload, error_type=None, error_message=None, timed_out=False, **common)
    if status == 502 and is_error:
        return _error_result(payload, init_error=True, common=common)
    return None


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def _error_result(document: Mapping[str, Any], *, init_error: bool, common: Mapping[str, Any]) -> InvocationResult:
    trace = document.get("stackTrace") or []
    return InvocationResult(
        payload=dict(document),
        error_type=str(document.get("errorType")),
        error_message=str(document.get("errorMessage", "")),
        timed_out=False,
        stack_trace=tuple(str(line) for line in trace) if isinstance(trace, list) else (str(trace),),
        init_error=init_error,
        **common,
    )
