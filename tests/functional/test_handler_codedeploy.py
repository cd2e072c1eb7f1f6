"""The CodeDeploy hook handler: validates against real servers and reports to CodeDeploy (the twin's moto).

One deployment is seeded in the twin for the module (`seed_bluegreen`), stopped at AfterAllowTestTraffic;
each test opens its own hook execution and reads back what the handler reported with `reported_status`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from greenlight.aws import AwsClients
from greenlight.handlers import codedeploy
from greenlight.handlers.inputs import InvalidEventError
from greenlight.reporting.codedeploy import ReportError
from greenlight_twin.aws import clear_faults, deny, open_hook_execution, reported_status, session
from support.lambda_context import FakeLambdaContext
from support.servers import HttpServer, RefusingPort, Reply

HOOK = "AfterAllowTestTraffic"
REPORT = "codedeploy:PutLifecycleEventHookExecutionStatus"


@dataclass
class Deployment:
    """A seeded deployment, its open hook execution, and AWS clients that reach the twin."""

    deployment_id: str
    execution_id: str
    aws: AwsClients
    session: Any

    @property
    def event(self) -> dict[str, str]:
        return {"DeploymentId": self.deployment_id, "LifecycleEventHookExecutionId": self.execution_id}

    def reported(self) -> str | None:
        return reported_status(self.execution_id)


@pytest.fixture
def deployment(seeded: tuple[Any, str], seeded_aws: AwsClients) -> Iterator[Deployment]:
    """A fresh hook execution of the seeded deployment, with this process's boto3 pointed at the twin."""
    twin, deployment_id = seeded
    execution_id = open_hook_execution(deployment_id, HOOK)
    yield Deployment(deployment_id, execution_id, seeded_aws, twin)
    clear_faults()


@pytest.fixture
def spec_file(tmp_path: Path) -> Callable[..., str]:
    """Factory: a spec file with one http check against `url` (more checks and settings optional)."""

    def write(url: str, checks: list[dict[str, Any]] | None = None, **settings: Any) -> str:
        doc = {
            "version": 1,
            "target": {"test_url": url, "prod_url": url},
            "settings": settings,
            "hooks": {HOOK: checks or [{"name": "health", "http": {"path": "/health"}, "count": 2, "interval": 0}]},
        }
        path = tmp_path / f"spec-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        return str(path)

    return write


def env_for(spec: str, **extra: str) -> dict[str, str]:
    return {"GREENLIGHT_HOOK": HOOK, "GREENLIGHT_SPEC": spec, **extra}


# --- the outcome is reported ----------------------------------------------------------------------------


def test_handler_codedeploy_reports_succeeded(
    deployment: Deployment, serve: Callable[..., HttpServer], spec_file: Callable[..., str]
) -> None:
    # GIVEN a healthy green service
    server = serve(Reply(json={"status": "ok"}))
    # WHEN the hook runs
    out = codedeploy.handle(
        deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env_for(spec_file(server.url))
    )
    # THEN CodeDeploy was told Succeeded, once
    assert deployment.reported() == "Succeeded"
    assert out["status"] == "Succeeded"
    assert out["recorded"] is True
    assert out["verdict"] == "PASSED"
    assert len(server.requests) == 2


def test_handler_codedeploy_reports_failed(
    deployment: Deployment, serve: Callable[..., HttpServer], spec_file: Callable[..., str]
) -> None:
    # GIVEN a green service answering 500
    server = serve(Reply(status=500))
    # WHEN the hook runs
    out = codedeploy.handle(
        deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env_for(spec_file(server.url))
    )
    # THEN CodeDeploy was told Failed, and the reason names the check and what it saw
    assert deployment.reported() == "Failed"
    assert (out["status"], out["verdict"]) == ("Failed", "FAILED")
    assert out["reason"].startswith("FAILED: health: ")
    assert "status 500, expected 200" in out["reason"]


@pytest.mark.parametrize("healthy", [True, False], ids=["success-report", "failure-report"])
def test_handler_codedeploy_raises_when_the_report_is_denied(
    deployment: Deployment, serve: Callable[..., HttpServer], spec_file: Callable[..., str], healthy: bool
) -> None:
    # GIVEN a role that may not report to CodeDeploy, and a healthy or unhealthy service
    server = serve(Reply() if healthy else Reply(status=500))
    deny(REPORT)
    # WHEN the hook runs
    with pytest.raises(ReportError) as caught:
        codedeploy.handle(deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env_for(spec_file(server.url)))
    # THEN the handler raises (never swallows) with what the role lacks, and nothing was recorded
    message = str(caught.value)
    assert f"cannot report {'Succeeded' if healthy else 'Failed'}" in message
    assert "access denied" in message
    assert REPORT in message
    assert deployment.reported() is None


def test_handler_codedeploy_raises_when_codedeploy_is_unreachable(
    deployment: Deployment, serve: Callable[..., HttpServer], spec_file: Callable[..., str], refused_port: RefusingPort
) -> None:
    # GIVEN a function with no network path to the CodeDeploy API
    server = serve(Reply())
    cut_off = AwsClients(session=session(refused_port.url))
    # WHEN the hook runs
    with pytest.raises(ReportError) as caught:
        codedeploy.handle(deployment.event, FakeLambdaContext(), aws=cut_off, env=env_for(spec_file(server.url)))
    # THEN the error says the report failed and hints at the VPC route
    assert "cannot report Succeeded" in str(caught.value)
    assert "VPC" in str(caught.value)
    assert deployment.reported() is None


# --- failure reported, never silence -----------------------------------------------------------------


def test_handler_codedeploy_reports_failed_when_the_spec_is_invalid(deployment: Deployment, tmp_path: Path) -> None:
    # GIVEN a spec with a mistake
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - name: h\n      htp: {path: /}\n")
    # WHEN the hook runs
    out = codedeploy.handle(deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env_for(str(path)))
    # THEN Failed is reported, and the reason carries the spec's problems
    assert deployment.reported() == "Failed"
    assert out["reason"].startswith("SpecError: invalid spec ")
    assert "hooks.AfterAllowTestTraffic[0]" in out["reason"]


def test_handler_codedeploy_reports_failed_when_the_spec_is_unreadable(deployment: Deployment, tmp_path: Path) -> None:
    # GIVEN a spec location where there is no file
    missing = tmp_path / "nowhere.yaml"
    # WHEN the hook runs
    out = codedeploy.handle(deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env_for(str(missing)))
    # THEN Failed is reported, naming the missing file
    assert deployment.reported() == "Failed"
    assert out["reason"] == f"SpecSourceError: spec file not found: {missing}"


def test_handler_codedeploy_reports_failed_when_a_check_crashes(
    deployment: Deployment, serve: Callable[..., HttpServer], spec_file: Callable[..., str]
) -> None:
    # GIVEN a check whose header refers to a secret that does not exist
    server = serve(Reply())
    checks = [{"name": "auth", "http": {"path": "/", "headers": {"Authorization": {"secret": "secretsmanager:nope"}}}}]
    # WHEN the hook runs
    out = codedeploy.handle(
        deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env_for(spec_file(server.url, checks))
    )
    # THEN the check is an ERROR, Failed is reported, and nothing was probed
    assert deployment.reported() == "Failed"
    assert out["verdict"] == "ERROR"
    assert out["reason"].startswith("ERROR: auth: could not prepare: ")
    assert server.requests == []


def test_handler_codedeploy_reports_failed_when_validation_crashes(
    deployment: Deployment, serve: Callable[..., HttpServer], spec_file: Callable[..., str], monkeypatch: Any
) -> None:
    """The engine is replaced by one that raises: nothing real crashes the engine on demand."""
    # GIVEN an engine that blows up
    server = serve(Reply())

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr("greenlight.plan.execute", explode)
    # WHEN the hook runs
    out = codedeploy.handle(
        deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env_for(spec_file(server.url))
    )
    # THEN Failed is still reported, with the exception as the reason
    assert deployment.reported() == "Failed"
    assert out["reason"] == "RuntimeError: engine exploded"


def test_handler_codedeploy_reports_failed_when_the_hook_is_not_configured(
    deployment: Deployment, serve: Callable[..., HttpServer], spec_file: Callable[..., str]
) -> None:
    # GIVEN a function without GREENLIGHT_HOOK
    server = serve(Reply())
    # WHEN the hook runs
    out = codedeploy.handle(
        deployment.event, FakeLambdaContext(), aws=deployment.aws, env={"GREENLIGHT_SPEC": spec_file(server.url)}
    )
    # THEN Failed is reported, naming the variable to set
    assert deployment.reported() == "Failed"
    assert "GREENLIGHT_HOOK is not set" in out["reason"]
    assert server.requests == []


def test_handler_codedeploy_too_little_time_fails_at_once(
    deployment: Deployment, serve: Callable[..., HttpServer], spec_file: Callable[..., str]
) -> None:
    # GIVEN an invocation with less time left than the reporting reserve
    server = serve(Reply())
    # WHEN the hook runs
    out = codedeploy.handle(
        deployment.event,
        FakeLambdaContext(remaining_ms=5_000),
        aws=deployment.aws,
        env=env_for(spec_file(server.url), GREENLIGHT_REPORT_RESERVE="10"),
    )
    # THEN Failed is reported without probing, and the reason says to raise the timeout
    assert deployment.reported() == "Failed"
    assert "within the 10s reserve for reporting" in out["reason"]
    assert server.requests == []


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"DeploymentId": "d-123"},
        {"DeploymentId": "not-a-deployment", "LifecycleEventHookExecutionId": "x"},
        {"LifecycleEventHookExecutionId": "x"},
        ["DeploymentId"],
        "d-ABCDEFGHI",
    ],
    ids=["empty", "no-execution-id", "bad-deployment-id", "no-deployment-id", "a-list", "a-string"],
)
def test_handler_codedeploy_malformed_event_raises_and_reports_nothing(
    deployment: Deployment, event: Any, spec_file: Callable[..., str], serve: Callable[..., HttpServer]
) -> None:
    # GIVEN an event that is not a CodeDeploy lifecycle hook event
    server = serve(Reply())
    # WHEN the hook runs
    with pytest.raises(InvalidEventError) as caught:
        codedeploy.handle(event, FakeLambdaContext(), aws=deployment.aws, env=env_for(spec_file(server.url)))
    # THEN the error says what is wrong, nothing was probed and nothing was reported
    assert "CodeDeploy lifecycle hook event" in str(caught.value)
    assert server.requests == []
    assert deployment.reported() is None


def test_handler_codedeploy_repeat_invocation_does_not_flip_the_result(
    deployment: Deployment, serve: Callable[..., HttpServer], spec_file: Callable[..., str]
) -> None:
    # GIVEN a hook that already reported Succeeded
    server = serve(Reply())
    env = env_for(spec_file(server.url))
    codedeploy.handle(deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env)
    # WHEN the same event arrives again while the service now fails
    server.set(None, Reply(status=500))
    out = codedeploy.handle(deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env)
    # THEN the second invocation records nothing and the first result stands
    assert out["recorded"] is False
    assert deployment.reported() == "Succeeded"


# --- through the Lambda entry point ------------------------------------------------------------------


def test_handler_codedeploy_lambda_entry_point_reports(
    deployment: Deployment,
    serve: Callable[..., HttpServer],
    spec_file: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the function's environment and a healthy service
    server = serve(Reply(json={"status": "ok"}))
    for name, value in env_for(spec_file(server.url)).items():
        monkeypatch.setenv(name, value)
    # WHEN Lambda invokes the decorated handler with an event and a context
    out = codedeploy.handler(deployment.event, FakeLambdaContext())
    # THEN it reported Succeeded through the default AWS clients
    assert out["status"] == "Succeeded"
    assert deployment.reported() == "Succeeded"


def test_handler_codedeploy_spec_from_ssm(
    deployment: Deployment, serve: Callable[..., HttpServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a spec kept in an SSM parameter
    server = serve(Reply())
    spec = {
        "version": 1,
        "target": {"test_url": server.url, "prod_url": server.url},
        "hooks": {HOOK: [{"name": "root", "http": {"path": "/"}}]},
    }
    deployment.session.client("ssm").put_parameter(
        Name="/greenlight/handler-spec", Value=json.dumps(spec), Type="String", Overwrite=True
    )
    # WHEN the hook runs with GREENLIGHT_SPEC naming the parameter
    out = codedeploy.handle(
        deployment.event, FakeLambdaContext(), aws=deployment.aws, env=env_for("ssm:/greenlight/handler-spec")
    )
    # THEN the spec was read from SSM and the check ran
    assert out["verdict"] == "PASSED"
    assert deployment.reported() == "Succeeded"
    assert len(server.requests) == 1
