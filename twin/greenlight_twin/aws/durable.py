"""Lambda durable executions in the twin: Invoke with a DurableExecutionName starts a registered durable worker.

What `install()` changes in moto 5: LambdaResponse.invoke answers an Invoke that carries the
`X-Amz-Durable-Execution-Name` header (botocore lambda model: Invoke's DurableExecutionName, answered with
the `X-Amz-Durable-Execution-Arn` header) for a function registered with `register_worker`, instead of
looking the function up in moto's Lambda backend (the twin's functions are not moto functions). As Lambda
does, a second start under the same name returns the existing execution when the payload is the same, and
answers 409 DurableExecutionAlreadyStartedException when it differs.

The execution itself runs wherever the registered starter runs it: the twin runs the durable worker with
the SDK's local runner (greenlight_twin.durable).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from moto.awslambda import responses as lambda_responses

# starter(execution name, payload bytes) -> the execution's ARN
Starter = Callable[[str, bytes], str]

_lock = threading.Lock()
_workers: dict[str, Starter] = {}
_started: dict[tuple[str, str], tuple[bytes, str]] = {}  # (function, name) -> (payload, ARN)
_original_invoke: Any = None


def register_worker(function_name: str, starter: Starter) -> None:
    """Route durable Invokes of `function_name` (its name, any qualifier) to `starter`."""
    with _lock:
        _workers[function_name] = starter


def unregister_worker(function_name: str) -> None:
    with _lock:
        _workers.pop(function_name, None)
        for key in [k for k in _started if k[0] == function_name]:
            del _started[key]


def started(function_name: str) -> list[str]:
    """Names of the durable executions started on `function_name`, oldest first."""
    with _lock:
        return [name for (fn, name) in _started if fn == function_name]


def _function_name(path: str) -> str:
    # /2015-03-31/functions/{FunctionName}/invocations; the name may be an ARN, with a qualifier.
    raw = unquote(path.rsplit("/", 2)[-2])
    if raw.startswith("arn:"):
        return raw.split(":")[6]
    return raw.split(":")[0]


def _invoke(self: Any) -> Any:
    name = self.headers.get("X-Amz-Durable-Execution-Name")
    function = _function_name(self.path)
    with _lock:
        starter = _workers.get(function)
    if not name or starter is None:
        return _original_invoke(self)
    payload = self.body if isinstance(self.body, bytes) else (self.body or "").encode()
    with _lock:
        earlier = _started.get((function, name))
    if earlier is not None:
        if earlier[0] != payload:
            body = {
                "Type": "User",
                "message": f"Durable execution {name} already started with a different payload",
            }
            # moto's dispatch takes the status from the "status" header, as its own invoke sets it.
            headers = {"x-amzn-ErrorType": "DurableExecutionAlreadyStartedException", "status": "409"}
            return 409, {**headers, "content-type": "application/json"}, json.dumps(body)
        arn = earlier[1]
    else:
        arn = starter(name, payload)
        with _lock:
            _started[(function, name)] = (payload, arn)
    return 202, {"X-Amz-Durable-Execution-Arn": arn, "content-type": "application/json", "status": "202"}, ""


def install() -> None:
    """Monkeypatch moto's Lambda Invoke (called once by greenlight_twin.aws.server.install)."""
    global _original_invoke
    response_cls = lambda_responses.LambdaResponse
    if _original_invoke is None:
        _original_invoke = response_cls.invoke
        # moto monkeypatch: durable Invokes of registered workers start a durable execution.
        response_cls.invoke = _invoke  # type: ignore[method-assign]
