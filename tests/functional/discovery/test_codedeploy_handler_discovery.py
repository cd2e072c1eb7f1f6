"""The CodeDeploy hook handler and `greenlight check` with discovery: a real HTTP server on 127.0.0.1 plays
the load balancer's test listener, the twin's moto server plays CodeDeploy, ELBv2 and ECS."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from greenlight.handlers.codedeploy import handle
from greenlight_cli.main import main
from greenlight_twin import aws as twin
from support.servers import HttpServer, Reply

HOOK = "AfterAllowTestTraffic"

SPEC = """\
version: 1
{target}
hooks:
  AfterAllowTestTraffic:
    - name: health
      http:
        path: /health
        expect: {{json: {{status: ok}}}}
    - name: green-targets
      target_health: {{}}
    - name: green-task-set
      task_set: {{}}
"""


def _spec(tmp_path: Path, target: str = "") -> Path:
    path = tmp_path / "greenlight.yaml"
    path.write_text(SPEC.format(target=target), encoding="utf-8")
    return path


def _invoke(world: twin.World, spec: Path, aws: Any) -> dict[str, Any]:
    event = {"DeploymentId": world.deployment_id, "LifecycleEventHookExecutionId": world.hook_execution_id}
    env = {"GREENLIGHT_HOOK": HOOK, "GREENLIGHT_SPEC": str(spec)}
    return handle(event, None, aws=aws, env=env)


@pytest.fixture
def listener(serve: Callable[..., HttpServer]) -> HttpServer:
    """The test listener: a real HTTP server on 127.0.0.1 answering /health like green does."""
    return serve(routes={"/health": Reply(json={"status": "ok"})})


def test_handler_discovers_the_test_listener_and_reports_succeeded(
    seed: Callable[..., twin.World],
    listener: HttpServer,
    counted: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a deployment whose load balancer's test listener is the local server, and a spec with no URL
    world = seed(lb_dns_name="127.0.0.1", test_port=listener.port)
    spec = _spec(tmp_path)

    # WHEN CodeDeploy invokes the hook
    with caplog.at_level(logging.INFO, logger="greenlight"):
        outcome = _invoke(world, spec, counted.aws)

    # THEN the probes went to the discovered test listener, the AWS-side checks passed, Succeeded was reported
    assert outcome["status"] == "Succeeded", outcome
    assert outcome["recorded"] is True
    assert twin.reported_status(world.hook_execution_id or "") == "Succeeded"
    assert len(listener.requests_to("/health")) >= 1
    # ... and the discovered values are in the run's context, in the logs
    verdicts = [r for r in caplog.records if getattr(r, "verdict", None)]
    assert verdicts, "no verdict log record"
    context = verdicts[-1].context  # type: ignore[attr-defined]
    assert context["test_url"] == f"http://127.0.0.1:{listener.port}"
    assert context["discovered"]["green"]["target_group_name"] == world.green_tg_name
    assert context["discovered"]["green"]["task_set_id"] == world.green_task_set_id
    # ... with each discovery API called once (the checks' own calls are separate APIs)
    assert counted.calls["codedeploy.GetDeploymentTarget"] == 1
    assert counted.calls["elastic-load-balancing-v2.DescribeListeners"] == 1


def test_handler_repeat_invocation_does_not_probe_again_or_flip_the_result(
    seed: Callable[..., twin.World], listener: HttpServer, counted: Any, tmp_path: Path
) -> None:
    # GIVEN a hook execution that an earlier invocation already reported as Succeeded
    world = seed(lb_dns_name="127.0.0.1", test_port=listener.port)
    spec = _spec(tmp_path)
    first = _invoke(world, spec, counted.aws)
    assert first["status"] == "Succeeded"
    probes_before = len(listener.requests)
    # ... and green has since gone bad
    listener.set("/health", Reply(500))

    # WHEN Lambda delivers the same invocation again
    again = _invoke(world, spec, counted.aws)

    # THEN nothing is probed or reported again, and the recorded result stays Succeeded
    assert again["verdict"] == "ALREADY_COMPLETED"
    assert again["status"] == "Succeeded"
    assert again["recorded"] is False
    assert len(listener.requests) == probes_before
    execution = twin.hook_execution(world.hook_execution_id or "")
    assert execution.status == "Succeeded"
    assert execution.reports == ("Succeeded",)


def test_handler_reports_failed_when_discovery_is_denied(
    seed: Callable[..., twin.World], listener: HttpServer, counted: Any, tmp_path: Path
) -> None:
    # GIVEN a hook role without elasticloadbalancing:DescribeListeners
    world = seed(lb_dns_name="127.0.0.1", test_port=listener.port)
    twin.deny("elasticloadbalancing:DescribeListeners")

    # WHEN the hook runs
    outcome = _invoke(world, _spec(tmp_path), counted.aws)

    # THEN it reports Failed (never hangs the deployment) and the reason names the missing action
    assert outcome["status"] == "Failed"
    assert twin.reported_status(world.hook_execution_id or "") == "Failed"
    assert "DiscoveryError" in outcome["reason"]
    assert "access denied to elasticloadbalancing:DescribeListeners" in outcome["reason"]
    assert listener.requests == []


def test_handler_explicit_test_url_wins_over_discovery(
    seed: Callable[..., twin.World],
    serve: Callable[..., HttpServer],
    listener: HttpServer,
    counted: Any,
    tmp_path: Path,
) -> None:
    # GIVEN a discovered test listener (one server) and a spec naming another URL explicitly
    world = seed(lb_dns_name="127.0.0.1", test_port=listener.port)
    explicit = serve(routes={"/health": Reply(json={"status": "ok"})})
    spec = _spec(tmp_path, target=f"target: {{test_url: {explicit.url}}}")

    # WHEN the hook runs (target_health and task_set still need the deployment)
    outcome = _invoke(world, spec, counted.aws)

    # THEN the probes went to the explicit URL only
    assert outcome["status"] == "Succeeded", outcome
    assert len(explicit.requests_to("/health")) >= 1
    assert listener.requests == []


def test_handler_skips_discovery_when_no_check_needs_it(
    seed: Callable[..., twin.World], listener: HttpServer, counted: Any, tmp_path: Path
) -> None:
    # GIVEN a spec with an explicit test URL and only an http check through it
    world = seed()
    spec = tmp_path / "plain.yaml"
    spec.write_text(
        f"version: 1\ntarget: {{test_url: {listener.url}}}\nhooks:\n  {HOOK}:\n"
        "    - name: health\n      http: {path: /health}\n",
        encoding="utf-8",
    )

    # WHEN the hook runs
    outcome = _invoke(world, spec, counted.aws)

    # THEN it passes without reading the deployment (only the completion check and the report)
    assert outcome["status"] == "Succeeded", outcome
    assert set(counted.calls) == {
        "codedeploy.ListDeploymentTargets",
        "codedeploy.GetDeploymentTarget",
        "codedeploy.PutLifecycleEventHookExecutionStatus",
    }


def test_cli_check_with_deployment_id_discovers_and_runs_aws_side_checks(
    seed: Callable[..., twin.World],
    listener: HttpServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a deployment on the twin (this process's default AWS endpoint) and a spec without URLs
    world = seed(lb_dns_name="127.0.0.1", test_port=listener.port)
    spec = _spec(tmp_path)

    # WHEN `greenlight check --deployment-id` runs
    code = main(["check", "--spec", str(spec), "--deployment-id", world.deployment_id or "", "--json"])

    # THEN it discovered the test listener, ran the AWS-side checks, and passed
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["context"]["test_url"] == f"http://127.0.0.1:{listener.port}"
    assert report["context"]["discovered"]["deployment_id"] == world.deployment_id
    assert {c["name"]: c["status"] for c in report["checks"]} == {
        "health": "PASS",
        "green-targets": "PASS",
        "green-task-set": "PASS",
    }


def test_cli_check_with_unknown_deployment_id_says_so(
    session: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a deployment id the account does not have
    # WHEN `greenlight check --deployment-id` runs
    code = main(["check", "--spec", str(_spec(tmp_path)), "--deployment-id", "d-BBBBBBBBB", "--quiet"])

    # THEN it stops before probing, naming the deployment
    assert code == 2
    assert "deployment d-BBBBBBBBB does not exist" in capsys.readouterr().err
