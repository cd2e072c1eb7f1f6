"""What the reliability tests share: the twin's AWS, one hook invocation.

Each test runs the real hook handler (`greenlight.handlers.codedeploy.handle`) against real HTTP servers
on 127.0.0.1 and the twin's AWS (moto in server mode on 127.0.0.1, extended with CodeDeploy's hook
API and fault injection). What CodeDeploy recorded is read back from the twin.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenlight.aws import AwsClients
from greenlight.checks import KINDS, Check, CheckContext
from greenlight.engine.model import Measurement, Status
from greenlight.spec.schema import Field, Obj, Str
from greenlight_twin import aws as twin_aws
from support.lambda_context import FakeLambdaContext, context_for

HOOK = "AfterAllowTestTraffic"
PUT_STATUS = "PutLifecycleEventHookExecutionStatus"
_OWN_EVENT: Any = object()  # invoke() default: the twin's own event for its open hook execution


@dataclass
class CallLog:
    """Every HTTP attempt a client made for one operation, with the Lambda time left when it was sent."""

    operation: str
    context: FakeLambdaContext | None = None
    sends: list[float] = field(default_factory=list)  # seconds left in the Lambda context at each attempt

    def hook(self, **_: Any) -> None:
        left = self.context.get_remaining_time_in_millis() / 1000 if self.context else float("nan")
        self.sends.append(left)


class Twin:
    """The twin's AWS for one test: a seeded blue/green deployment waiting at AfterAllowTestTraffic."""

    def __init__(self, server: Any, **seed: Any) -> None:
        self.server = server
        self.world = twin_aws.seed_bluegreen(server.session(), **seed)

    @property
    def deployment_id(self) -> str:
        assert self.world.deployment_id
        return self.world.deployment_id

    @property
    def execution_id(self) -> str:
        assert self.world.hook_execution_id
        return self.world.hook_execution_id

    def event(self) -> dict[str, str]:
        return {"DeploymentId": self.deployment_id, "LifecycleEventHookExecutionId": self.execution_id}

    def clients(self, context: FakeLambdaContext | None = None) -> tuple[AwsClients, CallLog]:
        """AWS clients for the handler, and a log of the report calls they send."""
        aws = AwsClients(session=self.server.session())
        calls = CallLog(PUT_STATUS, context)
        aws.client("codedeploy").meta.events.register(f"before-send.codedeploy.{PUT_STATUS}", calls.hook)
        return aws, calls

    def execution(self) -> Any:
        return twin_aws.hook_execution(self.execution_id)


@dataclass
class Invocation:
    """What one hook invocation returned or raised, and the report attempts it sent."""

    outcome: dict[str, Any] | None
    error: BaseException | None
    report_sends: list[float]  # Lambda seconds left at each attempt of PutLifecycleEventHookExecutionStatus


def write_spec(directory: Path, doc: Mapping[str, Any] | str, name: str = "greenlight.yaml") -> Path:
    path = directory / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(dict(doc), sort_keys=False), encoding="utf-8")
    return path


def http_spec(test_url: str, *, checks: list[dict[str, Any]], target: Mapping[str, Any] | None = None) -> dict:
    """A spec whose AfterAllowTestTraffic runs `checks` against `test_url`."""
    return {
        "version": 1,
        "target": {"test_url": test_url, "prod_url": test_url, **(target or {})},
        "hooks": {HOOK: checks},
    }


def invoke(
    twin: Twin,
    spec: Path | str | None,
    *,
    seconds: float = 120.0,
    context: FakeLambdaContext | None = None,
    env: Mapping[str, str] | None = None,
    event: Any = _OWN_EVENT,
) -> Invocation:
    """Run the CodeDeploy hook handler once, as Lambda would, with a real-clock context."""
    from greenlight.handlers.codedeploy import handle

    context = context or context_for(seconds)
    aws, calls = twin.clients(context)
    environment = {"GREENLIGHT_HOOK": HOOK, **({"GREENLIGHT_SPEC": str(spec)} if spec else {}), **(env or {})}
    try:
        outcome = handle(twin.event() if event is _OWN_EVENT else event, context, aws=aws, env=environment)
    except Exception as exc:  # the test asserts on what was raised
        return Invocation(None, exc, calls.sends)
    return Invocation(outcome, None, calls.sends)


def all_output(records: list[logging.LogRecord], *texts: str) -> str:
    """Every log record in full (message, extra fields, exception and traceback) plus the given texts."""
    parts = list(texts)
    for record in records:
        parts.append(record.getMessage())
        parts.append(json.dumps({k: v for k, v in vars(record).items() if k != "exc_info"}, default=str))
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


# Fixtures shared by the suites that invoke the hook against the twin's AWS (imported into their conftest.py).
@pytest.fixture(scope="module")
def twin_server() -> Iterator[Any]:
    """The twin's AWS endpoint (moto server mode on 127.0.0.1), one per test module."""
    with twin_aws.start() as server:
        yield server


@pytest.fixture
def twin(twin_server: Any) -> Iterator[Twin]:
    """A freshly seeded blue/green deployment waiting for its AfterAllowTestTraffic hook."""
    twin_server.reset()
    yield Twin(twin_server)
    twin_server.reset()


class HangingCheck(Check):
    """A check kind that ignores every bound: its `prepare` or `measure` (`where`) blocks until the test ends.

    What the runner's backstops are for: a probe honours its own timeout, a badly written check does not."""

    kind = "hang"
    schema = Obj({"where": Field(Str(choices=("prepare", "measure")), default="measure")})
    release = threading.Event()

    def prepare(self, ctx: CheckContext) -> None:
        if self.body["where"] == "prepare":
            self.release.wait(120)

    def measure(self, ctx: CheckContext) -> Measurement:
        self.release.wait(120)
        return Measurement(Status.PASS, "released")


@pytest.fixture
def hanging_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The `hang` check kind (HangingCheck) registered for one test, and released when it ends."""
    monkeypatch.setitem(KINDS, "hang", f"{__name__}:HangingCheck")
    HangingCheck.release.clear()
    yield
    HangingCheck.release.set()
