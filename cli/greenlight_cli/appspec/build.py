"""The AppSpec of a CodeDeploy ECS deployment, wired to the hook functions of a greenlight stack.

Building the AppSpec is pure (`build_appspec`, `appspec_for_stack`); reading the stack's outputs
goes through CloudFormation DescribeStacks with a client the caller may inject (`read_stack`).
The output names are those template.yaml declares.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from greenlight.lifecycle import CODEDEPLOY_HOOKS

APPSPEC_VERSION = 0.0
FORMATS = ("yaml", "json")

# Outputs of template.yaml that the AppSpec is made from.
OUTPUT_CONTROLLER = "DeploymentControllerType"
OUTPUT_CONTAINER_NAME = "ContainerName"
OUTPUT_CONTAINER_PORT = "ContainerPort"
OUTPUT_APPLICATION = "CodeDeployApplicationName"
OUTPUT_DEPLOYMENT_GROUP = "CodeDeployDeploymentGroupName"


def hook_output(hook: str) -> str:
    """The stack output holding the ARN of the function serving `hook`."""
    return f"{hook}FunctionArn"


# The managed policy AWSCodeDeployRoleForECSLimited lets CodeDeploy invoke only these functions.
HOOK_FUNCTION_PREFIX = "CodeDeployHook_"

_TASK_DEFINITION_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"task-definition/(?P<family>[A-Za-z0-9_-]{1,255}):(?P<revision>[1-9]\d{0,8})"
)
_LAMBDA_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:(?P<name>[A-Za-z0-9_-]{1,64})(:[A-Za-z0-9$_-]+)?"
)
_STACK_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):cloudformation:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):stack/"
)
_CONTAINER_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")


class AppSpecError(Exception):
    """The AppSpec cannot be built from these inputs; the message says which input and why."""


class StackNotFoundError(AppSpecError):
    """The named CloudFormation stack does not exist in this account and region."""


class StackOutputsError(AppSpecError):
    """The stack lacks outputs the AppSpec needs (the message names each one)."""


class TaskDefinitionError(AppSpecError):
    """The task definition is not a full, revisioned task definition ARN usable by this stack."""


class StackAccessError(Exception):
    """CloudFormation could not be asked (credentials, network, permissions, throttling)."""


@dataclass(frozen=True)
class TaskDefinitionArn:
    partition: str
    region: str
    account: str
    family: str
    revision: int

    def __str__(self) -> str:
        return f"arn:{self.partition}:ecs:{self.region}:{self.account}:task-definition/{self.family}:{self.revision}"

    @classmethod
    def parse(cls, text: str) -> TaskDefinitionArn:
        """The ARN's parts, or TaskDefinitionError saying what is wrong and how to get a good one."""
        value = text.strip()
        match = _TASK_DEFINITION_ARN.fullmatch(value)
        if match:
            return cls(
                partition=match["partition"],
                region=match["region"],
                account=match["account"],
                family=match["family"],
                revision=int(match["revision"]),
            )
        lookup = (
            "`aws ecs describe-task-definition --task-definition {} "
            "--query taskDefinition.taskDefinitionArn --output text` prints"
        )
        if not value:
            problem = "is empty"
        elif not value.startswith("arn:"):
            problem = "is not an ARN: the AppSpec needs the full task definition ARN, which " + lookup.format(
                shlex.quote(value)
            )
        elif ":task-definition/" not in value:
            problem = "is not a task definition ARN (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION)"
        elif re.fullmatch(r".*:task-definition/[A-Za-z0-9_-]{1,255}", value):
            family = value.rsplit("/", 1)[1]
            problem = "names no revision (CodeDeploy needs FAMILY:REVISION); the latest revision's ARN is what " + (
                lookup.format(family)
            )
        else:
            problem = (
                "is not a valid task definition ARN (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION; "
                "a family is 1-255 letters, digits, '-' or '_', a revision a positive number)"
            )
        raise TaskDefinitionError(f"--task-definition {text!r} {problem}")


@dataclass(frozen=True)
class StackInfo:
    """What DescribeStacks says about one stack: its id, status and outputs."""

    name: str
    stack_id: str = ""
    status: str = ""
    outputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def region(self) -> str | None:
        match = _STACK_ARN.match(self.stack_id)
        return match["region"] if match else None

    @property
    def account(self) -> str | None:
        match = _STACK_ARN.match(self.stack_id)
        return match["account"] if match else None


@dataclass(frozen=True)
class AppSpecPlan:
    """An AppSpec plus what the caller may tell the user: where to deploy it and anything odd."""

    appspec: dict[str, Any]
    application: str | None = None
    deployment_group: str | None = None
    warnings: tuple[str, ...] = ()


def build_appspec(
    task_definition: str,
    container_name: str,
    container_port: int,
    hooks: Mapping[str, str],
) -> dict[str, Any]:
    """The AppSpec (version 0.0) for one ECS service: its task definition, load-balanced container, hooks.

    `hooks` maps CodeDeploy hook names to function names or ARNs; they are listed in the order
    CodeDeploy runs them. Raises AppSpecError naming the bad input.
    """
    arn = TaskDefinitionArn.parse(task_definition)
    if not isinstance(container_name, str) or not _CONTAINER_NAME.fullmatch(container_name):
        raise AppSpecError(
            f"container name {container_name!r} is not valid: 1-255 letters, digits, '-' or '_' "
            "(the container's name in the task definition)"
        )
    if isinstance(container_port, bool) or not isinstance(container_port, int) or not 1 <= container_port <= 65535:
        raise AppSpecError(f"container port {container_port!r} is not a port number (1-65535)")
    unknown = [h for h in hooks if h not in CODEDEPLOY_HOOKS]
    if unknown:
        raise AppSpecError(
            f"unknown CodeDeploy hook(s) {', '.join(map(repr, unknown))}; ECS hooks are {', '.join(CODEDEPLOY_HOOKS)}"
        )
    empty = [h for h in CODEDEPLOY_HOOKS if h in hooks and not str(hooks[h]).strip()]
    if empty:
        raise AppSpecError(f"no function given for hook(s) {', '.join(empty)}")
    return {
        "version": APPSPEC_VERSION,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": str(arn),
                        "LoadBalancerInfo": {
                            "ContainerName": container_name,
                            "ContainerPort": container_port,
                        },
                    },
                }
            }
        ],
        "Hooks": [{hook: str(hooks[hook]).strip()} for hook in CODEDEPLOY_HOOKS if hook in hooks],
    }


def hooks_from_outputs(stack: StackInfo) -> dict[str, str]:
    """The five hook function ARNs from the stack's outputs; StackOutputsError names each missing one."""
    outputs = stack.outputs
    if outputs.get(OUTPUT_CONTROLLER) == "ECS":
        raise StackOutputsError(
            f"stack {stack.name!r} was deployed with DeploymentController=ECS: ECS native blue/green runs "
            "its lifecycle hooks from the service's deploymentConfiguration, with no AppSpec. Deploy "
            "the stack with DeploymentController=CODE_DEPLOY for CodeDeploy hooks."
        )
    missing = [hook_output(h) for h in CODEDEPLOY_HOOKS if not outputs.get(hook_output(h), "").strip()]
    if missing:
        raise StackOutputsError(_missing_message(stack, missing, "the CodeDeploy hook functions"))
    return {h: outputs[hook_output(h)].strip() for h in CODEDEPLOY_HOOKS}


def appspec_for_stack(
    stack: StackInfo,
    task_definition: str,
    *,
    container_name: str | None = None,
    container_port: int | None = None,
) -> AppSpecPlan:
    """The AppSpec wired to `stack`'s hooks; container and port default to the stack's outputs."""
    arn = TaskDefinitionArn.parse(task_definition)
    if stack.region and arn.region != stack.region:
        raise TaskDefinitionError(
            f"--task-definition is in region {arn.region} but stack {stack.name!r} is in {stack.region}: "
            "CodeDeploy deploys a task definition of the service's own region"
        )
    if stack.account and arn.account != stack.account:
        raise TaskDefinitionError(
            f"--task-definition belongs to account {arn.account} but stack {stack.name!r} to {stack.account}"
        )
    hooks = hooks_from_outputs(stack)

    missing = []
    if container_name is None:
        container_name = stack.outputs.get(OUTPUT_CONTAINER_NAME) or None
        if container_name is None:
            missing.append(OUTPUT_CONTAINER_NAME)
    if container_port is None:
        raw_port = stack.outputs.get(OUTPUT_CONTAINER_PORT, "").strip()
        if not raw_port:
            missing.append(OUTPUT_CONTAINER_PORT)
        elif not raw_port.isdigit():
            raise StackOutputsError(
                f"stack {stack.name!r}: output {OUTPUT_CONTAINER_PORT} is {raw_port!r}, not a port number; pass --port"
            )
        else:
            container_port = int(raw_port)
    if missing:
        flags = {OUTPUT_CONTAINER_NAME: "--container", OUTPUT_CONTAINER_PORT: "--port"}
        raise StackOutputsError(
            f"stack {stack.name!r} has no {' or '.join(missing)} output (a hooks-only stack has none): "
            f"pass {' and '.join(flags[m] for m in missing)}"
        )
    assert container_name is not None and container_port is not None  # for the type checker

    warnings = []
    for hook, function in hooks.items():
        match = _LAMBDA_ARN.fullmatch(function)
        name = match["name"] if match else function
        if not name.startswith(HOOK_FUNCTION_PREFIX):
            warnings.append(
                f"{hook}: function {name} is not named {HOOK_FUNCTION_PREFIX}*; a CodeDeploy role with "
                "AWSCodeDeployRoleForECSLimited cannot invoke it"
            )
    return AppSpecPlan(
        appspec=build_appspec(str(arn), container_name, container_port, hooks),
        application=stack.outputs.get(OUTPUT_APPLICATION) or None,
        deployment_group=stack.outputs.get(OUTPUT_DEPLOYMENT_GROUP) or None,
        warnings=tuple(warnings),
    )


def render(appspec: Mapping[str, Any], fmt: str = "yaml") -> str:
    """The AppSpec as YAML or JSON text (keys in AppSpec order)."""
    if fmt == "json":
        return json.dumps(appspec, indent=2) + "\n"
    if fmt == "yaml":
        import yaml

        return str(yaml.safe_dump(dict(appspec), sort_keys=False, default_flow_style=False))
    raise AppSpecError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def read_stack(
    stack_name: str,
    *,
    cloudformation: Any = None,
    session: Any = None,
    region: str | None = None,
) -> StackInfo:
    """The stack's id, status and outputs through DescribeStacks.

    `cloudformation` is a boto3 CloudFormation client (tests pass one); otherwise one is made with
    greenlight's timeouts and retries from `session`/`region` or the environment.
    """
    if not stack_name or not stack_name.strip():
        raise AppSpecError("--stack is empty: name the greenlight stack (sam deploy's stack_name)")
    client = cloudformation
    if client is None:
        from greenlight.aws import AwsClients

        client = AwsClients(session=session, region=region).client("cloudformation")
    from botocore.exceptions import BotoCoreError, ClientError

    where = getattr(getattr(client, "meta", None), "region_name", None) or "the configured region"
    try:
        response = client.describe_stacks(StackName=stack_name)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", str(exc))
        if code == "ValidationError" and "does not exist" in message:
            raise StackNotFoundError(
                f"stack {stack_name!r} not found in {where}: check the name and the region "
                "(AWS_REGION / AWS_DEFAULT_REGION)"
            ) from None
        if code == "ValidationError":
            raise AppSpecError(f"--stack {stack_name!r}: {message}") from None
        raise StackAccessError(f"cannot read stack {stack_name!r} in {where}: {code}: {message}") from exc
    except BotoCoreError as exc:
        raise StackAccessError(f"cannot read stack {stack_name!r} in {where}: {exc}") from exc
    stacks = response.get("Stacks") or []
    if not stacks:
        raise StackNotFoundError(f"stack {stack_name!r} not found in {where}")
    stack = stacks[0]
    outputs = {
        str(o["OutputKey"]): str(o.get("OutputValue", "")) for o in stack.get("Outputs") or [] if "OutputKey" in o
    }
    return StackInfo(
        name=str(stack.get("StackName", stack_name)),
        stack_id=str(stack.get("StackId", "")),
        status=str(stack.get("StackStatus", "")),
        outputs=outputs,
    )


def _missing_message(stack: StackInfo, missing: list[str], what: str) -> str:
    status = f" (status {stack.status})" if stack.status else ""
    hint = ""
    unfinished = not stack.status.endswith("_COMPLETE") or stack.status in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE")
    if stack.status and unfinished:
        hint = "; the stack has not been created or updated successfully, so its outputs may not exist"
    elif OUTPUT_CONTROLLER not in stack.outputs:
        hint = "; is this a greenlight stack (template.yaml)?"
    return f"stack {stack.name!r}{status} lacks the outputs of {what}: {', '.join(missing)}{hint}"
