"""`greenlight appspec` in-process against CloudFormation stacks on a moto server (127.0.0.1).

The stacks are simple templates whose Outputs carry the names template.yaml declares (the template
tests check that it does), so the command reads real DescribeStacks answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from greenlight.lifecycle import CODEDEPLOY_HOOKS
from greenlight_cli.appspec.build import hook_output
from greenlight_cli.main import main

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
TASK_DEF = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/greenlight-demo:2"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def hook_outputs(stack: str) -> dict[str, str]:
    return {hook_output(h): function_arn(f"CodeDeployHook_{stack}-{h}") for h in CODEDEPLOY_HOOKS}


@pytest.fixture(scope="module")
def moto_endpoint(moto_server: Any) -> str:
    """The session's moto server (tests/functional/conftest.py), emptied for this module."""
    moto_server.reset()
    return str(moto_server.endpoint_url)


@pytest.fixture(scope="module")
def stacks(moto_endpoint: str) -> dict[str, dict[str, str]]:
    """Stacks shaped like the template's modes: demo, hooks-only, ECS native, and not greenlight at all."""
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    shapes = {
        "gl-demo": {
            "DeploymentControllerType": "CODE_DEPLOY",
            **hook_outputs("gl-demo"),
            "ContainerName": "sample-app",
            "ContainerPort": "3000",
            "CodeDeployApplicationName": "gl-demo-app",
            "CodeDeployDeploymentGroupName": "gl-demo-dg",
        },
        "gl-hooks": {
            "DeploymentControllerType": "CODE_DEPLOY",
            **hook_outputs("gl-hooks"),
            "CodeDeployApplicationName": "shop",
            "CodeDeployDeploymentGroupName": "shop-web",
        },
        "gl-native": {
            "DeploymentControllerType": "ECS",
            "EcsHookFunctionArn": function_arn("gl-native-ecs-hook"),
        },
        "not-greenlight": {"BucketName": "something-else"},
    }
    for name, outputs in shapes.items():
        template: dict[str, Any] = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    return shapes


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every boto3 client the command makes at the moto server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def run_cli(*argv: str) -> int:
    return main(["appspec", *argv])


@pytest.mark.usefixtures("aws_env")
def test_appspec_cli_demo_stack_yaml_to_stdout(
    stacks: dict[str, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a demo stack
    # WHEN the AppSpec is asked for with only the stack and the task definition
    code = run_cli("--stack", "gl-demo", "--task-definition", TASK_DEF)

    # THEN it prints YAML with the container and port from the outputs and every hook wired
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = yaml.safe_load(out)
    assert doc["version"] == 0.0
    target = doc["Resources"][0]["TargetService"]
    assert target["Type"] == "AWS::ECS::Service"
    assert target["Properties"] == {
        "TaskDefinition": TASK_DEF,
        "LoadBalancerInfo": {"ContainerName": "sample-app", "ContainerPort": 3000},
    }
    wired = [next(iter(h.items())) for h in doc["Hooks"]]
    assert wired == [(h, stacks["gl-demo"][hook_output(h)]) for h in CODEDEPLOY_HOOKS]
    assert all(":function:CodeDeployHook_gl-demo-" in arn for _, arn in wired)
    assert err == ""


@pytest.mark.usefixtures("aws_env", "stacks")
def test_appspec_cli_json_to_file_prints_the_next_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an output file
    target = tmp_path / "appspec.json"

    # WHEN the AppSpec is written as JSON
    code = run_cli("--stack", "gl-demo", "--task-definition", TASK_DEF, "--format", "json", "--output", str(target))

    # THEN the file holds it, stdout stays empty and stderr says how to deploy it
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == ""
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"] == TASK_DEF
    assert len(doc["Hooks"]) == 5
    assert f"wrote {target}" in err
    assert "aws deploy create-deployment --application-name gl-demo-app --deployment-group-name gl-demo-dg" in err


@pytest.mark.usefixtures("aws_env", "stacks")
def test_appspec_cli_hooks_only_stack_takes_container_and_port(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a hooks-only stack (no container outputs)
    # WHEN the container and port are given
    code = run_cli("--stack", "gl-hooks", "--task-definition", TASK_DEF, "--container", "web", "--port", "8080")

    # THEN they are used
    out, err = capsys.readouterr()
    assert code == 0, err
    info = yaml.safe_load(out)["Resources"][0]["TargetService"]["Properties"]["LoadBalancerInfo"]
    assert info == {"ContainerName": "web", "ContainerPort": 8080}


@pytest.mark.usefixtures("aws_env", "stacks")
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--stack", "gl-hooks", "--task-definition", TASK_DEF],
            "stack 'gl-hooks' has no ContainerName or ContainerPort output",
        ),
        (["--stack", "no-such-stack", "--task-definition", TASK_DEF], "stack 'no-such-stack' not found in us-east-1"),
        (
            ["--stack", "not-greenlight", "--task-definition", TASK_DEF],
            "lacks the outputs of the CodeDeploy hook functions: BeforeInstallFunctionArn, AfterInstallFunctionArn, "
            "AfterAllowTestTrafficFunctionArn, BeforeAllowTrafficFunctionArn, AfterAllowTrafficFunctionArn; "
            "is this a greenlight stack",
        ),
        (["--stack", "gl-native", "--task-definition", TASK_DEF], "DeploymentController=ECS"),
        (["--stack", "gl-demo", "--task-definition", "greenlight-demo:2"], "is not an ARN"),
        (
            ["--stack", "gl-demo", "--task-definition", TASK_DEF.replace(REGION, "eu-west-1")],
            "in region eu-west-1 but stack 'gl-demo' is in us-east-1",
        ),
    ],
    ids=["hooks-only-no-container", "stack-not-found", "outputs-missing", "ecs-controller", "bad-arn", "other-region"],
)
def test_appspec_cli_bad_inputs_exit_2_with_the_reason(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN / WHEN the command is run with an input it cannot use
    code = run_cli(*argv)

    # THEN it exits 2, prints nothing on stdout and says why on stderr
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("greenlight appspec: ")
    assert expected in err


@pytest.mark.usefixtures("aws_env", "stacks")
def test_appspec_cli_unwritable_output_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an output path inside a directory that does not exist
    target = tmp_path / "missing" / "appspec.yaml"

    # WHEN / THEN
    code = run_cli("--stack", "gl-demo", "--task-definition", TASK_DEF, "--output", str(target))
    _, err = capsys.readouterr()
    assert code == 2
    assert f"--output {target}:" in err
    assert not target.exists()


@pytest.mark.usefixtures("aws_env", "stacks")
def test_appspec_cli_bad_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN / WHEN a port that is not a number
    code = run_cli("--stack", "gl-demo", "--task-definition", TASK_DEF, "--port", "http")

    # THEN it exits 2 naming the flag (argparse's message; main returns its code rather than exiting)
    assert code == 2
    assert "argument --port: invalid int value: 'http'" in capsys.readouterr().err
