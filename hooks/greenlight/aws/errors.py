"""The one vocabulary for AWS errors: which codes mean denied, throttled or unreachable, and how to say so.

Every caller that classifies an AWS failure (checks, discovery, reporting, secrets) asks here, so "denied" means
the same everywhere and every message names the IAM action to allow. Nothing here imports botocore: the
exceptions are recognised by their `response` and their class name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Error codes AWS services answer when the caller's policy does not allow the action.
DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException", "NotAuthorized"}
)
# Error codes of throttling: worth a retry with backoff.
THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
    }
)
# How a local invoke names the API it could not reach, by IAM prefix.
_SERVICE_NAMES = {
    "codedeploy": "CodeDeploy",
    "ecs": "ECS",
    "elasticloadbalancing": "Elastic Load Balancing",
    "cloudwatch": "CloudWatch",
    "secretsmanager": "Secrets Manager",
    "ssm": "SSM",
}
# botocore exceptions (by class name) raised when no answer came: no route, no DNS, a timeout.
UNREACHABLE = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ProxyConnectionError",
        "SSLError",
    }
)
NO_CREDENTIALS = frozenset({"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"})


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (None for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        code = error.get("Code") if isinstance(error, Mapping) else None
        return str(code) if code else None
    return None


def error_message(exc: BaseException) -> str:
    """AWS's own message for a ClientError, else the exception's text."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping) and error.get("Message"):
            return str(error["Message"])
    return str(exc)


def is_denied(exc: BaseException) -> bool:
    return error_code(exc) in DENIED


def is_throttled(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLED


def is_unreachable(exc: BaseException) -> bool:
    return error_code(exc) is None and type(exc).__name__ in UNREACHABLE


def explain(exc: BaseException, action: str) -> str:
    """One sentence on why an AWS call failed, naming the IAM action and what to do about it."""
    code = error_code(exc)
    if code in DENIED:
        return f"access denied to {action}; allow {action} in the IAM role greenlight runs with"
    if code in THROTTLED:
        return f"{action} was throttled after retries ({code}); try again, or measure less often"
    if code is not None:
        return f"{action} failed: {code}: {error_message(exc)[:300]}"
    name = type(exc).__name__
    if name in UNREACHABLE:
        if os.environ.get("AWS_SAM_LOCAL") == "true":  # set by `sam local`: no VPC, most likely no AWS at all
            service = _SERVICE_NAMES.get(action.partition(":")[0], action.partition(":")[0])
            return f"cannot reach the {service} API (offline? use the twin: make sam-local) for {action} ({name})"
        return (
            f"no answer from the AWS API for {action} ({name}); a function in a VPC needs a route to it "
            "(an interface VPC endpoint or a NAT gateway)"
        )
    if name in NO_CREDENTIALS:
        return f"no AWS credentials for {action}: configure credentials (or run inside Lambda)"
    if name == "NoRegionError":
        return f"no AWS region for {action}: set AWS_REGION or AWS_DEFAULT_REGION"
    return f"{action} failed: {name}: {str(exc)[:300]}"
