"""The AppSpec builder: its CodeDeploy shape, task definition ARNs, defaults from stack outputs, errors."""

from __future__ import annotations

import json

import pytest
import yaml

from greenlight.lifecycle import CODEDEPLOY_HOOKS
from greenlight_cli.appspec import build as appspec
from greenlight_cli.appspec.build import (
    AppSpecError,
    StackInfo,
    StackOutputsError,
    TaskDefinitionArn,
    TaskDefinitionError,
    appspec_for_stack,
    build_appspec,
    hook_output,
    render,
)

REGION, ACCOUNT = "eu-south-1", "123456789012"
TASK_DEF = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/greenlight-demo:7"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/demo/0a1b2c3d-0000-4000-8000-000000000000"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def hook_arns(stack: str = "demo") -> dict[str, str]:
    return {hook: function_arn(f"CodeDeployHook_{stack}-{hook}") for hook in CODEDEPLOY_HOOKS}


def demo_stack(**overrides: str) -> StackInfo:
    outputs = {hook_output(h): arn for h, arn in hook_arns().items()}
    outputs |= {
        "DeploymentControllerType": "CODE_DEPLOY",
        "ContainerName": "sample-app",
        "ContainerPort": "3000",
        "CodeDeployApplicationName": "demo-app",
        "CodeDeployDeploymentGroupName": "demo-dg",
    }
    outputs |= overrides
    return StackInfo(name="demo", stack_id=STACK_ID, status="CREATE_COMPLETE", outputs=outputs)


def test_build_appspec_has_the_codedeploy_ecs_shape() -> None:
    # GIVEN a task definition, the load-balanced container and the five hook functions
    hooks = hook_arns()

    # WHEN the AppSpec is built
    spec = build_appspec(TASK_DEF, "sample-app", 3000, hooks)

    # THEN it is version 0.0 with one ECS service target and every hook wired to its function
    assert spec == {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": TASK_DEF,
                        "LoadBalancerInfo": {"ContainerName": "sample-app", "ContainerPort": 3000},
                    },
                }
            }
        ],
        "Hooks": [{h: hooks[h]} for h in CODEDEPLOY_HOOKS],
    }


def test_build_appspec_lists_hooks_in_the_order_codedeploy_runs_them() -> None:
    # GIVEN hooks given in reverse order, one of them missing
    given = dict(reversed(list(hook_arns().items())))
    del given["BeforeInstall"]

    # WHEN the AppSpec is built
    spec = build_appspec(TASK_DEF, "app", 80, given)

    # THEN the hooks follow the lifecycle order and the missing one is simply absent
    assert [next(iter(h)) for h in spec["Hooks"]] == [
        "AfterInstall",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AfterAllowTraffic",
    ]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_render_round_trips_with_version_zero(fmt: str) -> None:
    # GIVEN an AppSpec
    spec = build_appspec(TASK_DEF, "sample-app", 3000, hook_arns())

    # WHEN it is rendered and read back
    text = render(spec, fmt)
    loaded = json.loads(text) if fmt == "json" else yaml.safe_load(text)

    # THEN nothing is lost, the version is the number 0.0 CodeDeploy expects, and keys keep AppSpec order
    assert loaded == spec
    assert loaded["version"] == 0.0
    assert list(loaded) == ["version", "Resources", "Hooks"]
    assert text.lstrip("{\n ").startswith(("version: 0.0", '"version": 0.0'))


def test_render_rejects_an_unknown_format() -> None:
    # GIVEN / WHEN / THEN an unknown format names the ones there are
    with pytest.raises(AppSpecError, match="unknown format 'toml'.*yaml, json"):
        render({"version": 0.0}, "toml")


@pytest.mark.parametrize(
    "arn",
    [
        TASK_DEF,
        "arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/app_1:12",
        "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task-definition/a:1",
    ],
)
def test_task_definition_arn_parses_every_partition(arn: str) -> None:
    # GIVEN / WHEN a revisioned task definition ARN is parsed
    parsed = TaskDefinitionArn.parse(arn)

    # THEN it prints back unchanged
    assert str(parsed) == arn
    assert parsed.revision >= 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "is empty"),
        ("greenlight-demo:7", "is not an ARN.*describe-task-definition --task-definition greenlight-demo:7"),
        (f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/greenlight-demo", "names no revision"),
        (f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/cluster/web", "is not a task definition ARN"),
        (f"arn:aws:ecs:{REGION}:1234:task-definition/app:1", "is not a valid task definition ARN"),
        (f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:0", "is not a valid task definition ARN"),
        (f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/bad name:1", "is not a valid task definition ARN"),
    ],
)
def test_task_definition_arn_rejects_what_codedeploy_would(value: str, expected: str) -> None:
    # GIVEN / WHEN / THEN each bad value is refused with the flag, the value and the reason
    with pytest.raises(TaskDefinitionError, match=f"--task-definition '{value}' {expected}"):
        TaskDefinitionArn.parse(value)


@pytest.mark.parametrize(
    ("container", "port", "expected"),
    [
        ("", 3000, "container name '' is not valid"),
        ("has space", 3000, "container name 'has space' is not valid"),
        ("app", 0, "container port 0 is not a port number"),
        ("app", 65536, "container port 65536 is not a port number"),
        ("app", True, "container port True is not a port number"),
    ],
)
def test_build_appspec_rejects_bad_containers(container: str, port: int, expected: str) -> None:
    # GIVEN / WHEN / THEN
    with pytest.raises(AppSpecError, match=expected):
        build_appspec(TASK_DEF, container, port, hook_arns())


def test_build_appspec_rejects_unknown_and_empty_hooks() -> None:
    # GIVEN a hook name of the ECS native controller, and a hook with no function
    # WHEN / THEN each is named
    with pytest.raises(AppSpecError, match="unknown CodeDeploy hook.*'POST_SCALE_UP'"):
        build_appspec(TASK_DEF, "app", 3000, {"POST_SCALE_UP": function_arn("x")})
    with pytest.raises(AppSpecError, match="no function given for hook.*AfterInstall"):
        build_appspec(TASK_DEF, "app", 3000, {"AfterInstall": "  "})


def test_appspec_for_stack_takes_container_port_and_hooks_from_outputs() -> None:
    # GIVEN a demo stack's outputs
    stack = demo_stack()

    # WHEN the AppSpec is planned without --container/--port
    plan = appspec_for_stack(stack, TASK_DEF)

    # THEN the container, port and hooks come from the outputs, and so does where to deploy it
    props = plan.appspec["Resources"][0]["TargetService"]["Properties"]
    assert props["LoadBalancerInfo"] == {"ContainerName": "sample-app", "ContainerPort": 3000}
    assert plan.appspec["Hooks"] == [{h: a} for h, a in hook_arns().items()]
    assert (plan.application, plan.deployment_group) == ("demo-app", "demo-dg")
    assert plan.warnings == ()


def test_appspec_for_stack_explicit_container_and_port_win() -> None:
    # GIVEN a hooks-only stack (no ContainerName/ContainerPort outputs)
    outputs = {k: v for k, v in demo_stack().outputs.items() if not k.startswith("Container")}
    stack = StackInfo(name="hooks", stack_id=STACK_ID, status="UPDATE_COMPLETE", outputs=outputs)

    # WHEN the container and port are given
    plan = appspec_for_stack(stack, TASK_DEF, container_name="web", container_port=8080)

    # THEN they are used
    props = plan.appspec["Resources"][0]["TargetService"]["Properties"]
    assert props["LoadBalancerInfo"] == {"ContainerName": "web", "ContainerPort": 8080}


def test_appspec_for_stack_hooks_only_without_container_says_which_flags() -> None:
    # GIVEN a hooks-only stack
    outputs = {k: v for k, v in demo_stack().outputs.items() if not k.startswith("Container")}
    stack = StackInfo(name="hooks", stack_id=STACK_ID, status="CREATE_COMPLETE", outputs=outputs)

    # WHEN / THEN both missing outputs and both flags are named
    with pytest.raises(StackOutputsError, match="no ContainerName or ContainerPort output.*--container and --port"):
        appspec_for_stack(stack, TASK_DEF)
    # AND only the port when the container is given
    with pytest.raises(StackOutputsError, match="no ContainerPort output.*pass --port$"):
        appspec_for_stack(stack, TASK_DEF, container_name="web")


def test_appspec_for_stack_names_each_missing_hook_output() -> None:
    # GIVEN a stack missing two hook outputs
    outputs = dict(demo_stack().outputs)
    del outputs["AfterInstallFunctionArn"], outputs["AfterAllowTrafficFunctionArn"]
    stack = StackInfo(name="demo", stack_id=STACK_ID, status="UPDATE_COMPLETE", outputs=outputs)

    # WHEN / THEN both are named
    with pytest.raises(StackOutputsError) as caught:
        appspec_for_stack(stack, TASK_DEF)
    assert "AfterInstallFunctionArn, AfterAllowTrafficFunctionArn" in str(caught.value)
    assert "'demo'" in str(caught.value)


def test_appspec_for_stack_on_a_failed_stack_says_so() -> None:
    # GIVEN a stack whose creation rolled back (no outputs)
    stack = StackInfo(name="demo", stack_id=STACK_ID, status="ROLLBACK_COMPLETE", outputs={})

    # WHEN / THEN the message gives the status as the likely reason
    with pytest.raises(StackOutputsError, match="status ROLLBACK_COMPLETE.*not been created or updated successfully"):
        appspec_for_stack(stack, TASK_DEF)


def test_appspec_for_stack_refuses_an_ecs_controller_stack() -> None:
    # GIVEN a stack deployed for ECS native blue/green
    stack = StackInfo(
        name="native",
        stack_id=STACK_ID,
        status="CREATE_COMPLETE",
        outputs={"DeploymentControllerType": "ECS", "EcsHookFunctionArn": function_arn("native-ecs-hook")},
    )

    # WHEN / THEN the error explains that this mode has no AppSpec
    with pytest.raises(StackOutputsError, match="DeploymentController=ECS.*no AppSpec"):
        appspec_for_stack(stack, TASK_DEF)


@pytest.mark.parametrize(
    ("task_definition", "expected"),
    [
        (f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/app:1", f"region us-east-1 but stack 'demo' is in {REGION}"),
        (f"arn:aws:ecs:{REGION}:999999999999:task-definition/app:1", "account 999999999999 but stack 'demo'"),
    ],
)
def test_appspec_for_stack_refuses_a_task_definition_from_elsewhere(task_definition: str, expected: str) -> None:
    # GIVEN / WHEN / THEN a task definition the stack's deployment group cannot use is refused
    with pytest.raises(TaskDefinitionError, match=expected):
        appspec_for_stack(demo_stack(), task_definition)


def test_appspec_for_stack_warns_about_functions_codedeploy_may_not_invoke() -> None:
    # GIVEN an AfterInstall output pointing at a function without the CodeDeployHook_ prefix
    stack = demo_stack(AfterInstallFunctionArn=function_arn("my-validator"))

    # WHEN the AppSpec is planned
    plan = appspec_for_stack(stack, TASK_DEF)

    # THEN it is still built, with a warning naming the hook and the managed policy
    assert plan.appspec["Hooks"][1] == {"AfterInstall": function_arn("my-validator")}
    assert len(plan.warnings) == 1
    assert "AfterInstall: function my-validator" in plan.warnings[0]
    assert "AWSCodeDeployRoleForECSLimited" in plan.warnings[0]


def test_appspec_for_stack_rejects_a_non_numeric_port_output() -> None:
    # GIVEN a stack whose ContainerPort output is not a number
    stack = demo_stack(ContainerPort="http")

    # WHEN / THEN
    with pytest.raises(StackOutputsError, match="ContainerPort is 'http', not a port number; pass --port"):
        appspec_for_stack(stack, TASK_DEF)


def test_stack_info_region_and_account_come_from_the_stack_id() -> None:
    # GIVEN / WHEN / THEN
    assert (demo_stack().region, demo_stack().account) == (REGION, ACCOUNT)
    assert StackInfo(name="x").region is None


def test_hook_output_names_follow_the_template() -> None:
    # GIVEN / WHEN / THEN the output names are <Hook>FunctionArn (template.yaml declares the same)
    assert [hook_output(h) for h in CODEDEPLOY_HOOKS][0] == "BeforeInstallFunctionArn"
    assert appspec.HOOK_FUNCTION_PREFIX == "CodeDeployHook_"
