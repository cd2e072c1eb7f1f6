"""Fault injection for the moto server: deny, throttle or delay any AWS action, whatever the service.

Faults live in this process and apply to every server started by `greenlight_twin.aws.server` in it.
They are matched on the IAM action name (`codedeploy:PutLifecycleEventHookExecutionStatus`,
`elasticloadbalancing:DescribeTargetHealth`, `cloudwatch:GetMetricData`); `*` and `?` wildcards work
(`codedeploy:*`). The answers have the shape the real service gives for its protocol, so botocore
raises the same `ClientError` codes it would against AWS:

- JSON protocol (CodeDeploy, ECS, Secrets Manager, SSM): `AccessDeniedException` / `ThrottlingException`.
- Query protocol (ELBv2): `AccessDenied` / `Throttling`, in an XML `ErrorResponse`.
- JSON services that were query services (CloudWatch, `awsQueryCompatible`): the JSON error carries an
  `x-amzn-query-error` header, so botocore reports the query code (`AccessDenied` / `Throttling`).

Calls are recognised by their SigV4 credential scope and their `X-Amz-Target` header (JSON protocol) or
`Action` parameter (query protocol); REST-protocol services (S3, Lambda) are not matched.
"""

from __future__ import annotations

import difflib
import fnmatch
import io
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from greenlight_twin.aws._util import service_model

DEFAULT_PRINCIPAL = "arn:aws:sts::123456789012:assumed-role/greenlight-twin/greenlight"

# IAM action prefixes whose request signing name differs (the signing name is what a request carries).
_SIGNING_TO_IAM = {"monitoring": "cloudwatch"}
# Names people write for a service that are not its IAM prefix.
_ALIASES = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "monitoring": "cloudwatch"}
# IAM prefix -> botocore service name, to check that an action exists.
_IAM_TO_BOTOCORE = {"elasticloadbalancing": "elbv2"}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class _Fault:
    kind: str  # "deny" | "throttle" | "delay"
    pattern: str
    remaining: int | None  # None: every call
    message: str | None = None
    resource: str | None = None
    principal: str = DEFAULT_PRINCIPAL
    seconds: float = 0.0
    hits: int = field(default=0)


_lock = threading.Lock()
_faults: list[_Fault] = []


def _model(service: str) -> Any | None:
    """botocore's model of the service with this IAM prefix, or None if botocore does not know it."""
    from botocore.exceptions import UnknownServiceError

    try:
        return service_model(_IAM_TO_BOTOCORE.get(service, service))
    except UnknownServiceError:
        return None


def _normalise(action: str) -> str:
    """`service:Action` with the service as its IAM prefix; raises ValueError naming what is wrong."""
    if not isinstance(action, str) or action.count(":") != 1:
        raise ValueError(
            f"fault action {action!r} must look like 'service:Action', "
            "e.g. 'codedeploy:PutLifecycleEventHookExecutionStatus'"
        )
    service, name = action.split(":")
    service = _ALIASES.get(service.lower(), service.lower())
    if not service or not name:
        raise ValueError(f"fault action {action!r} must name both a service and an action")
    if not any(ch in action for ch in "*?["):
        _check_exists(service, name, action)
    return f"{service}:{name}"


def _check_exists(service: str, name: str, original: str) -> None:
    model = _model(service)
    if model is None:
        return  # a service botocore does not know: nothing to check against
    if name not in model.operation_names:
        hint = difflib.get_close_matches(name, model.operation_names, n=1)
        extra = f" (did you mean {service}:{hint[0]}?)" if hint else ""
        raise ValueError(f"fault action {original!r}: {service} has no action {name!r}{extra}")


def _add(fault: _Fault) -> None:
    with _lock:
        _faults.append(fault)


def deny(
    action: str,
    message: str | None = None,
    *,
    times: int | None = None,
    resource: str | None = None,
    principal: str = DEFAULT_PRINCIPAL,
) -> None:
    """Answer calls to `action` with the service's access-denied error (every call, or the next `times`).

    The default message reads like AWS's: "User: <principal> is not authorized to perform: <action>
    on resource: <resource> because no identity-based policy allows the <action> action". For CodeDeploy
    calls that name a deployment or deployment group the resource is that deployment group's ARN.
    """
    _add(_Fault("deny", _normalise(action), _count(times), message, resource, principal))


def throttle(action: str, times: int = 1, message: str = "Rate exceeded") -> None:
    """Answer the next `times` calls to `action` with the service's throttling error, then let calls pass."""
    _add(_Fault("throttle", _normalise(action), _count(times), message))


def delay(action: str, seconds: float, *, times: int | None = None) -> None:
    """Hold calls to `action` for `seconds` before answering them (every call, or the next `times`)."""
    if seconds < 0:
        raise ValueError(f"delay seconds must be >= 0, got {seconds!r}")
    _add(_Fault("delay", _normalise(action), _count(times), seconds=float(seconds)))


def clear_faults() -> None:
    """Remove every deny, throttle and delay."""
    with _lock:
        _faults.clear()


def active_faults() -> list[dict[str, Any]]:
    """The faults still in force, as plain data (kind, action, remaining, hits)."""
    with _lock:
        return [{"kind": f.kind, "action": f.pattern, "remaining": f.remaining, "hits": f.hits} for f in _faults]


def _count(times: int | None) -> int | None:
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ValueError(f"times must be a positive integer or None, got {times!r}")
    return times


def _take(iam_action: str) -> list[_Fault]:
    """The faults that apply to this call, in the order they were added; uses up counted ones."""
    taken: list[_Fault] = []
    with _lock:
        for fault in list(_faults):
            if not fnmatch.fnmatchcase(iam_action.lower(), fault.pattern.lower()):
                continue
            if fault.kind != "delay" and any(t.kind != "delay" for t in taken):
                continue  # one error answer per call; later faults wait for later calls
            fault.hits += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    _faults.remove(fault)
            taken.append(fault)
    return taken


# --- the WSGI middleware -------------------------------------------------------------------------------


@dataclass
class _Call:
    service: str  # IAM prefix
    action: str
    region: str
    protocol: str  # "json" | "query"
    content_type: str
    body: bytes

    @property
    def iam_action(self) -> str:
        return f"{self.service}:{self.action}"


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    return body


def _identify(environ: dict[str, Any]) -> _Call | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        _key, _date, region, signing_name, _term = scope.split("/")
    except (IndexError, ValueError):
        return None  # unsigned or not SigV4: nothing AWS-like to match
    service = _SIGNING_TO_IAM.get(signing_name.lower(), signing_name.lower())
    content_type = environ.get("CONTENT_TYPE", "")
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return _Call(service, target.rsplit(".", 1)[-1], region, "json", content_type, _read_body(environ))
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = _read_body(environ)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        if action:
            return _Call(service, action, region, "query", content_type, body)
    return None


def _query_compatible(service: str) -> bool:
    model = _model(service)
    return model is not None and "awsQueryCompatible" in model.metadata


def _api_version(service: str) -> str:
    model = _model(service)
    return "" if model is None else str(model.api_version)


def _resource_for(call: _Call) -> str | None:
    """The ARN AWS would name in the denial, where the request says it (CodeDeploy deployments, groups)."""
    if call.protocol != "json" or call.service != "codedeploy":
        return None
    try:
        params = json.loads(call.body or b"{}")
    except ValueError:
        return None
    from greenlight_twin.aws.codedeploy import deployment_group_arn

    return deployment_group_arn(
        region=call.region,
        deployment_id=params.get("deploymentId"),
        application_name=params.get("applicationName"),
        deployment_group_name=params.get("deploymentGroupName"),
    )


def _error(call: _Call, code_json: str, code_query: str, status: int, message: str) -> tuple[int, list, bytes]:
    request_id = str(uuid.uuid4())
    if call.protocol == "query":
        namespace = f"http://{call.service}.amazonaws.com/doc/{_api_version(call.service)}/"
        xml = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type><Code>{code_query}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        return status, headers, xml.encode()
    body = json.dumps({"__type": code_json, "message": message}).encode()
    headers = [
        ("Content-Type", call.content_type or "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", code_json),
    ]
    if _query_compatible(call.service):
        headers.append(("x-amzn-query-error", f"{code_query};Sender"))
    return status, headers, body


def _denial_message(fault: _Fault, call: _Call) -> str:
    if fault.message:
        return fault.message
    resource = fault.resource or _resource_for(call)
    where = f" on resource: {resource}" if resource else ""
    return (
        f"User: {fault.principal} is not authorized to perform: {call.iam_action}{where} "
        f"because no identity-based policy allows the {call.iam_action} action"
    )


_STATUS_TEXT = {400: "400 Bad Request", 403: "403 Forbidden"}


class FaultMiddleware:
    """Wraps moto's WSGI app: applies the faults in force before moto sees the call."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with _lock:
            idle = not _faults
        if idle:
            return self.app(environ, start_response)
        call = _identify(environ)
        if call is None:
            return self.app(environ, start_response)
        for fault in _take(call.iam_action):
            if fault.kind == "delay":
                time.sleep(fault.seconds)
                continue
            if fault.kind == "deny":
                status, headers, body = _error(
                    call,
                    "AccessDeniedException",
                    "AccessDenied",
                    400 if call.protocol == "json" else 403,
                    _denial_message(fault, call),
                )
            else:
                status, headers, body = _error(
                    call, "ThrottlingException", "Throttling", 400, fault.message or "Rate exceeded"
                )
            headers.append(("Content-Length", str(len(body))))
            start_response(_STATUS_TEXT[status], headers)
            return [body]
        return self.app(environ, start_response)
