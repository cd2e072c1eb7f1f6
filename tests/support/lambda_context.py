"""A stand-in for the context Lambda passes to a handler (no Lambda runtime runs in these tests).

It has the attributes Powertools reads, and a remaining time that counts down from the real clock,
so deadlines and reserves behave as they do in Lambda.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class FakeLambdaContext:
    remaining_ms: int = 120_000
    function_name: str = "CodeDeployHook_greenlight"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = "2026/01/01/[$LATEST]0123456789abcdef"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self.remaining_ms - (time.monotonic() - self._started) * 1000), 0)


def context_for(seconds: float, function_name: str = "CodeDeployHook_greenlight") -> FakeLambdaContext:
    """A context with `seconds` left from now."""
    return FakeLambdaContext(remaining_ms=int(seconds * 1000), function_name=function_name)
