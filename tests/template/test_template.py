"""template.yaml and samconfig.toml: what a deployment depends on, asserted on the template as data.

The structural tests read the template with load_template; the mode tests evaluate its conditions
for each combination of CreateDemoEnvironment and DeploymentController (cfn_conditions). The last
tests run the real linters: cfn-lint from the dev environment, and `sam validate --lint` from
.venv-sam when it exists (`make validate` creates it).
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfn_conditions import PSEUDO, Evaluation, evaluate_template, references, resolve_ifs

from greenlight.lifecycle import CODEDEPLOY_HOOKS
from greenlight_cli.appspec import build as appspec

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
LAMBDA_NAME_MAX = 64
HOOK_PREFIX = "CodeDeployHook_"
ECS_STAGES_DEFAULT = [
    "POST_SCALE_UP",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
]
CODEDEPLOY_ACTIONS = {
    "codedeploy:PutLifecycleEventHookExecutionStatus",
    "codedeploy:GetDeployment",
    "codedeploy:GetDeploymentGroup",
    "codedeploy:GetDeploymentTarget",
    "codedeploy:ListDeploymentTargets",
}
# Actions that may be granted on "*": reads without resource-level permissions, and the CodeDeploy calls
# that have no resource type (StopDeployment: the durable worker's rollback on a bake breach).
UNSCOPED_READS = re.compile(
    r"(elasticloadbalancing:Describe\w+|cloudwatch:GetMetricData|ecs:DescribeTaskDefinition"
    r"|codedeploy:(PutLifecycleEventHookExecutionStatus|GetDeploymentTarget|ListDeploymentTargets|StopDeployment))"
)

MODES = {
    "demo-codedeploy": {},
    "demo-ecs": {"DeploymentController": "ECS"},
    "hooks-codedeploy": {
        "CreateDemoEnvironment": "false",
        "CodeDeployApplicationName": "shop",
        "CodeDeployDeploymentGroupName": "shop-web",
    },
    "hooks-ecs": {"CreateDemoEnvironment": "false", "DeploymentController": "ECS"},
    "hooks-codedeploy-in-vpc": {
        "CreateDemoEnvironment": "false",
        "CodeDeployApplicationName": "shop",
        "CodeDeployDeploymentGroupName": "shop-web",
        "HookSubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
        "HookSecurityGroupIds": "sg-0123456789abcdef0",
    },
    "demo-existing-vpc": {
        "VpcId": "vpc-0123456789abcdef0",
        "PublicSubnetIds": "subnet-0aaaaaaaaaaaaaaa0,subnet-0aaaaaaaaaaaaaaa1",
        "HookSubnetIds": "subnet-0bbbbbbbbbbbbbbb0,subnet-0bbbbbbbbbbbbbbb1",
    },
    "demo-with-secrets": {
        "SecretArns": "arn:aws:secretsmanager:eu-south-1:123456789012:secret:probe-token-AbCdEf",
        "SsmParameterArns": "arn:aws:ssm:eu-south-1:123456789012:parameter/greenlight/token",
        "KmsKeyArns": "arn:aws:kms:eu-south-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000000",
        "GreenlightSpec": "ssm:/greenlight/spec",
        "TestListenerIngressCidr": "203.0.113.7/32",
    },
    "demo-with-reports": {
        "ReportBucketName": "team-reports",
        "ReportKmsKeyArn": "arn:aws:kms:eu-south-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001",
        "NotificationTopicArn": "arn:aws:sns:eu-south-1:123456789012:deployments",
        "WebhookSecretArn": "arn:aws:secretsmanager:eu-south-1:123456789012:secret:chat-webhook-AbCdEf",
        "CreateDashboard": "true",
    },
}
DEMO_PARAMS = {"AppImage": "123456789012.dkr.ecr.eu-south-1.amazonaws.com/greenlight-sample:1.0.0"}

# The durable worker's alias, by name (docs/long-validations.md)
WORKER_ALIAS = {
    "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    "${AWS::StackName}-durable-worker:live"
}


def mode(template: dict[str, Any], name: str) -> Evaluation:
    return evaluate_template(template, **(DEMO_PARAMS | MODES[name]))


def function_properties(ev: Evaluation, name: str) -> dict[str, Any]:
    """A serverless function's properties as SAM merges them with Globals.Function."""
    merged = dict(resolve_ifs(ev.template["Globals"]["Function"], ev.conditions))
    own = ev.resources[name]["Properties"]
    for key, value in own.items():
        if key == "Environment":
            variables = merged.get("Environment", {}).get("Variables", {}) | value["Variables"]
            merged["Environment"] = {"Variables": variables}
        else:
            merged[key] = value
    return merged


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement of every role and managed policy, both branches of each Fn::If."""

    def unwrap(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict) and set(node) == {"Fn::If"}:
            for branch in node["Fn::If"][1:]:
                yield from unwrap(branch)
        elif isinstance(node, dict) and node != {"Ref": "AWS::NoValue"}:
            yield node

    for name, res in template["Resources"].items():
        if res["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in res["Properties"].get("Policies", [])]
        elif res["Type"] == "AWS::IAM::ManagedPolicy":
            documents = [res["Properties"]["PolicyDocument"]]
        else:
            continue
        for document in documents:
            for statement in document["Statement"]:
                for s in unwrap(statement):
                    yield name, s


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------------------------
# Hook functions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hook", CODEDEPLOY_HOOKS)
def test_template_codedeploy_hook_function_is_named_wired_and_conditional(template: dict[str, Any], hook: str) -> None:
    # GIVEN the function resource of one CodeDeploy hook
    res = template["Resources"][f"{hook}Hook"]
    props = res["Properties"]

    # THEN it is a SAM function named CodeDeployHook_<stack>-<Hook>, with the CodeDeploy handler
    assert res["Type"] == "AWS::Serverless::Function"
    assert res["Condition"] == "UseCodeDeploy"
    assert props["FunctionName"] == {"Fn::Sub": f"{HOOK_PREFIX}${{AWS::StackName}}-{hook}"}
    assert props["Handler"] == "greenlight.handlers.codedeploy.handler"
    assert props["Environment"]["Variables"] == {"GREENLIGHT_HOOK": hook, "GREENLIGHT_DURABLE_FUNCTION": WORKER_ALIAS}
    assert props["Role"] == {"Fn::GetAtt": ["CodeDeployHookRole", "Arn"]}


def test_template_has_exactly_the_five_codedeploy_hooks_and_one_ecs_hook(template: dict[str, Any]) -> None:
    # GIVEN every serverless function
    functions = {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}

    # THEN there is one per CodeDeploy hook, plus the ECS native hook
    hooks = {
        r["Properties"].get("Environment", {}).get("Variables", {}).get("GREENLIGHT_HOOK") for r in functions.values()
    }
    assert hooks == {*CODEDEPLOY_HOOKS, None}
    ecs = functions["EcsHook"]
    assert ecs["Condition"] == "UseEcsController"
    assert ecs["Properties"]["Handler"] == "greenlight.handlers.ecs.handler"
    # one function serves every ECS stage: the event names the stage, so no GREENLIGHT_HOOK
    assert "GREENLIGHT_HOOK" not in ecs["Properties"].get("Environment", {}).get("Variables", {})


def test_template_stack_name_limit_keeps_function_names_within_64(template: dict[str, Any]) -> None:
    # GIVEN the function names with the stack name left out
    names = [
        r["Properties"]["FunctionName"]["Fn::Sub"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    ]
    fixed = max(len(n.replace("${AWS::StackName}", "")) for n in names)

    # WHEN the longest stack name that still fits is worked out
    limit = LAMBDA_NAME_MAX - fixed

    # THEN it is 27 (CodeDeployHook_ + -AfterAllowTestTraffic), and the template, the docs and
    # samconfig.toml all agree with it
    assert limit == LAMBDA_NAME_MAX - len(HOOK_PREFIX) - len("-AfterAllowTestTraffic") == 27
    assert f"longer than {limit} characters" in " ".join(template["Description"].split())
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert f"at most {limit} characters" in docs
    stack_name = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))["default"]["global"][
        "parameters"
    ]["stack_name"]
    assert len(stack_name) <= limit
    assert all(len(n.replace("${AWS::StackName}", "x" * limit)) <= LAMBDA_NAME_MAX for n in names)


def test_template_globals_set_runtime_architecture_limits_and_powertools(template: dict[str, Any]) -> None:
    # GIVEN Globals.Function and the parameters it uses
    glob = template["Globals"]["Function"]
    params = template["Parameters"]

    # THEN the runtime, code, architecture, memory and timeout are the agreed ones
    assert glob["Runtime"] == "python3.13"
    assert glob["CodeUri"] == "hooks/"
    assert glob["Architectures"] == [{"Ref": "Architecture"}]
    assert params["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]
    assert params["Architecture"]["Default"] == "arm64"
    assert glob["MemorySize"] == {"Ref": "HookMemorySize"}
    assert glob["Timeout"] == {"Ref": "HookTimeoutSeconds"}
    timeout = params["HookTimeoutSeconds"]
    assert (timeout["Default"], timeout["MaxValue"]) == (300, 900)  # Lambda caps a run at 15 minutes
    # AND the environment every handler reads
    assert glob["Environment"]["Variables"] == {
        "GREENLIGHT_SPEC": {"Ref": "GreenlightSpec"},
        "POWERTOOLS_SERVICE_NAME": "greenlight",
        "POWERTOOLS_METRICS_NAMESPACE": "greenlight",
        "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
        # Where reports and notifications go (docs/reports.md; tests/template/test_template_reports.py).
        "GREENLIGHT_REPORT_BUCKET": {"Ref": "ReportBucketName"},
        "GREENLIGHT_REPORT_PREFIX": {"Ref": "ReportPrefix"},
        "GREENLIGHT_REPORT_KMS_KEY_ARN": {"Ref": "ReportKmsKeyArn"},
        "GREENLIGHT_EVENT_BUS": {"Fn::If": ["PublishEvents", "default", ""]},
        "GREENLIGHT_SNS_TOPIC_ARN": {"Ref": "NotificationTopicArn"},
        "GREENLIGHT_WEBHOOK_SECRET_ARN": {"Ref": "WebhookSecretArn"},
        # Declared for sam local only (it passes on declared variables alone); absent in AWS (docs/sam-local.md).
        "AWS_ENDPOINT_URL": {
            "Fn::If": ["HasLocalAwsEndpoint", {"Ref": "LocalAwsEndpointUrl"}, {"Ref": "AWS::NoValue"}]
        },
    }
    assert params["LocalAwsEndpointUrl"]["Default"] == ""
    assert params["GreenlightSpec"]["Default"] == ""
    assert glob["LoggingConfig"] == {"LogGroup": {"Ref": "HookLogGroup"}}


def test_template_layer_holds_pinned_runtime_dependencies() -> None:
    # GIVEN the dependency layer's requirements
    lines = (ROOT / "bundle" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = dict(line.split("==", 1) for line in lines if line and not line.startswith("#"))

    # THEN Powertools is bundled (not AWS's public layer), with the other runtime dependencies, each pinned
    assert {name.lower() for name in pins} == {
        "aws-lambda-powertools",
        "boto3",
        "requests",
        "pyyaml",
        "google-re2",
        "aws-durable-execution-sdk-python",
    }
    assert all(re.fullmatch(r"\d+(\.\d+)+", version) for version in pins.values())
    assert (ROOT / "hooks" / "greenlight" / "default_spec.yaml").is_file()


@pytest.mark.parametrize("module", ["greenlight.handlers.codedeploy", "greenlight.handlers.ecs"])
def test_template_handlers_exist_in_the_package(template: dict[str, Any], module: str) -> None:
    # GIVEN a handler the template names
    handlers = {
        r["Properties"]["Handler"] for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    }
    assert f"{module}.handler" in handlers
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not in the package yet: the template names it, sam build would bundle it")

    # WHEN its module is imported THEN it has a callable `handler`
    assert callable(importlib.import_module(module).handler)


# --------------------------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------------------------


def test_template_no_statement_grants_wildcard_actions(template: dict[str, Any]) -> None:
    # GIVEN / WHEN every statement THEN none allows "*" or "service:*"
    for role, s in statements(template):
        for action in as_list(s["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{role}: {action}"


def test_template_codedeploy_actions_are_scoped_to_one_deployment_group(template: dict[str, Any]) -> None:
    # GIVEN the statements that grant CodeDeploy actions to the hooks (the durable worker's: below)
    granted = [
        (role, s)
        for role, s in statements(template)
        if role != "DurableWorkerRole" and any(a.startswith("codedeploy:") for a in as_list(s["Action"]))
    ]

    # THEN both are on the hooks' role: the reads with a resource type on one deployment group, the three
    # actions without one (Service Authorization Reference) on "*", where IAM matches them
    assert [role for role, _ in granted] == ["CodeDeployHookRole", "CodeDeployHookRole"]
    scoped, unscoped = (s for _, s in granted)
    assert set(scoped["Action"]) | set(unscoped["Action"]) == CODEDEPLOY_ACTIONS
    assert set(unscoped["Action"]) == {
        "codedeploy:PutLifecycleEventHookExecutionStatus",
        "codedeploy:GetDeploymentTarget",
        "codedeploy:ListDeploymentTargets",
    }
    assert unscoped["Resource"] == "*"
    text, variables = scoped["Resource"]["Fn::Sub"]
    assert text == "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentgroup:${App}/${Group}"
    assert variables == {
        "App": {"Fn::If": ["DemoCodeDeploy", {"Ref": "CodeDeployApplication"}, {"Ref": "CodeDeployApplicationName"}]},
        "Group": {"Fn::If": ["DemoCodeDeploy", {"Ref": "DeploymentGroup"}, {"Ref": "CodeDeployDeploymentGroupName"}]},
    }


@pytest.mark.parametrize("name", ["demo-codedeploy", "hooks-codedeploy"])
def test_template_codedeploy_scope_resolves_to_a_named_group(template: dict[str, Any], name: str) -> None:
    # GIVEN a CodeDeploy mode
    ev = mode(template, name)
    statement = next(s for r, s in statements(template) if "codedeploy:GetDeployment" in as_list(s["Action"]))

    # WHEN the resource is resolved (the demo's names are only known once created)
    resource = ev.resources["CodeDeployHookRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0][
        "Resource"
    ]

    # THEN hooks-only mode names the given group, the demo the group it creates
    if name == "hooks-codedeploy":
        assert ev.value(resource) == "arn:aws:codedeploy:eu-south-1:123456789012:deploymentgroup:shop/shop-web"
    else:
        assert resource["Fn::Sub"][1] == {"App": {"Ref": "CodeDeployApplication"}, "Group": {"Ref": "DeploymentGroup"}}
    assert statement["Resource"]["Fn::Sub"][0].endswith(":deploymentgroup:${App}/${Group}")


def test_template_secret_reads_are_granted_only_on_named_arns(template: dict[str, Any]) -> None:
    # GIVEN the statements granting Secrets Manager, SSM and KMS actions
    sensitive = [
        s
        for _, s in statements(template)
        if any(a.split(":")[0] in ("secretsmanager", "ssm", "kms") for a in as_list(s["Action"]))
    ]

    # THEN each is on named ARNs: a parameter list, or the spec parameter - never a wildcard
    resources = {s["Sid"]: s["Resource"] for s in sensitive}
    assert resources["ReadNamedSecrets"] == {"Ref": "SecretArns"}
    assert resources["ReadNamedParameters"] == {"Ref": "SsmParameterArns"}
    assert resources["DecryptNamedKeysViaSecretsOnly"] == {"Ref": "KmsKeyArns"}
    assert "parameter${Name}" in resources["ReadSpecParameter"]["Fn::Sub"][0]
    assert all("*" not in str(r) for r in resources.values())
    kms = next(s for s in sensitive if s["Sid"] == "DecryptNamedKeysViaSecretsOnly")
    assert {kms["Condition"]["StringEquals"]["kms:ViaService"][i]["Fn::Sub"] for i in (0, 1)} == {
        "secretsmanager.${AWS::Region}.amazonaws.com",
        "ssm.${AWS::Region}.amazonaws.com",
    }


@pytest.mark.parametrize(
    ("name", "expected_sids"),
    [
        ("demo-codedeploy", set()),
        (
            "demo-with-secrets",
            {"ReadNamedSecrets", "ReadNamedParameters", "ReadSpecParameter", "DecryptNamedKeysViaSecretsOnly"},
        ),
    ],
)
def test_template_secret_statements_exist_only_when_arns_are_given(
    template: dict[str, Any], name: str, expected_sids: set[str]
) -> None:
    # GIVEN a mode with or without secret ARNs and an SSM spec
    ev = mode(template, name)

    # WHEN the read policy's statements are resolved
    policy = ev.resources["HookReadPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    sids = {s["Sid"] for s in policy}

    # THEN the secret statements are there exactly when their parameters are set
    secret_sids = {"ReadNamedSecrets", "ReadNamedParameters", "ReadSpecParameter", "DecryptNamedKeysViaSecretsOnly"}
    assert sids & secret_sids == expected_sids
    if "ReadSpecParameter" in sids:
        spec = next(s for s in policy if s["Sid"] == "ReadSpecParameter")
        assert ev.value(spec["Resource"]) == "arn:aws:ssm:eu-south-1:123456789012:parameter/greenlight/spec"
    if "ReadNamedSecrets" in sids:
        secrets = next(s for s in policy if s["Sid"] == "ReadNamedSecrets")
        assert ev.value(secrets["Resource"]) == [MODES["demo-with-secrets"]["SecretArns"]]


@pytest.mark.parametrize("spec", ["", "/var/task/custom.yaml", "ssm:/greenlight/spec"])
def test_template_spec_parameter_arn_expression_never_breaks(template: dict[str, Any], spec: str) -> None:
    # GIVEN any GREENLIGHT_SPEC value
    ev = evaluate_template(template, **DEMO_PARAMS, GreenlightSpec=spec)
    statement = next(s for _, s in statements(template) if s.get("Sid") == "ReadSpecParameter")

    # WHEN the parameter ARN expression is evaluated (CloudFormation evaluates it even when unused)
    arn = ev.value(statement["Resource"])

    # THEN it resolves, and the statement exists only for an ssm: spec
    assert arn.startswith("arn:aws:ssm:eu-south-1:123456789012:parameter")
    assert ev.conditions["SpecFromSsm"] is spec.startswith("ssm:")


def test_template_wildcard_resources_only_for_reads_without_resource_scoping(template: dict[str, Any]) -> None:
    # GIVEN / WHEN the statements on "*" THEN they only hold reads IAM cannot scope
    for role, s in statements(template):
        if s["Resource"] == "*":
            for action in as_list(s["Action"]):
                assert UNSCOPED_READS.fullmatch(action), f"{role}: {action} on *"


def test_template_hook_roles_trust_lambda_and_write_only_their_log_group(template: dict[str, Any]) -> None:
    # GIVEN the hook functions' roles
    res = template["Resources"]
    for role in ("CodeDeployHookRole", "EcsHookRole"):
        trust = res[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        # THEN only Lambda may assume them, and they share the read policy
        assert [s["Principal"] for s in trust] == [{"Service": "lambda.amazonaws.com"}]
        assert {"Ref": "HookReadPolicy"} in res[role]["Properties"]["ManagedPolicyArns"]
    logs = next(s for n, s in statements(template) if s.get("Sid") == "WriteOwnLogGroup")
    assert logs["Resource"] == {"Fn::GetAtt": ["HookLogGroup", "Arn"]}


def granted(template: dict[str, Any], role: str) -> set[str]:
    """Actions a role is allowed: its inline policies and the managed policies of this template it attaches
    (either branch of an attachment under Fn::If)."""

    def refs(value: Any) -> list[str]:
        if isinstance(value, dict) and "Ref" in value:
            return [value["Ref"]]
        if isinstance(value, dict) and "Fn::If" in value:
            return [r for branch in value["Fn::If"][1:] for r in refs(branch)]
        return []

    attached = {r for p in template["Resources"][role]["Properties"].get("ManagedPolicyArns", []) for r in refs(p)}
    return {a for source, s in statements(template) if source in {role, *attached} for a in as_list(s["Action"])}


def declared_actions(*modules: str) -> set[str]:
    """IAM actions the code declares it calls: every check kind's `iam_actions`, and the IAM_ACTIONS or ACTION
    of the given modules (discovery, reporting, the spec loader)."""
    from greenlight.checks import iam_actions

    actions = {action for declared in iam_actions().values() for action in declared}
    for name in modules:
        module = importlib.import_module(name)
        actions |= set(getattr(module, "IAM_ACTIONS", ()))
        if isinstance(getattr(module, "ACTION", None), str):
            actions.add(module.ACTION)
    return actions


def test_template_durable_worker_is_a_durable_function_invoked_by_alias(template: dict[str, Any]) -> None:
    # GIVEN the durable worker (docs/long-validations.md)
    res = template["Resources"]["DurableWorkerFunction"]
    props = res["Properties"]
    # THEN it is a durable function with an alias, that the CodeDeploy hooks may invoke and nothing else
    assert res["Condition"] == "UseDurableWorker"
    assert props["Handler"] == "greenlight.durable.worker.handler"
    assert props["AutoPublishAlias"] == "live"
    assert props["DurableConfig"] == {
        "ExecutionTimeout": {"Ref": "ValidationTimeoutSeconds"},
        "RetentionPeriodInDays": 14,
    }
    assert props["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-durable-worker"}
    invokes = [
        (role, s["Resource"]) for role, s in statements(template) if "lambda:InvokeFunction" in as_list(s["Action"])
    ]
    assert sorted(invokes, key=str) == sorted(
        [
            ("CodeDeployHookRole", WORKER_ALIAS),
            ("PauseHookRole", WORKER_ALIAS),
            ("EcsHookInvokeRole", {"Fn::GetAtt": ["EcsHook", "Arn"]}),
        ],
        key=str,
    )
    # ... and the PAUSE hook's EventBridge rule matches ECS's hook state changes
    pause = template["Resources"]["PauseHook"]
    assert pause["Condition"] == "HasPauseHook"
    (event,) = pause["Properties"]["Events"].values()
    assert event["Properties"]["Pattern"] == {"source": ["aws.ecs"], "detail-type": ["ECS Hook State Change"]}


# Each role and the modules whose declared IAM actions it serves.
ROLE_MODULES = [
    (
        "CodeDeployHookRole",
        [
            "greenlight.discovery.codedeploy",
            "greenlight.reporting.codedeploy",
            "greenlight.reporting.publish",
            "greenlight.spec.loader",
            "greenlight.durable.start",
        ],
    ),
    ("EcsHookRole", ["greenlight.discovery.ecs", "greenlight.reporting.publish", "greenlight.spec.loader"]),
    ("DurableWorkerRole", ["greenlight.durable.worker", "greenlight.reporting.publish"]),
    ("PauseHookRole", ["greenlight.durable.pause"]),
]


@pytest.mark.parametrize(("role", "modules"), ROLE_MODULES)
def test_template_roles_grant_every_action_the_code_declares(
    template: dict[str, Any], role: str, modules: list[str]
) -> None:
    # GIVEN the IAM actions that discovery, reporting and every check kind declare
    needed = declared_actions(*modules)
    assert needed, "no declared actions found: the constants moved?"

    # WHEN the role's grants are collected
    allowed = granted(template, role)

    # THEN nothing the code calls would be denied
    assert needed - allowed == set()


@pytest.mark.parametrize(("role", "modules"), ROLE_MODULES)
def test_template_roles_grant_nothing_the_code_does_not_call(
    template: dict[str, Any], role: str, modules: list[str]
) -> None:
    # GIVEN what a hook role is granted, and what the code declares it calls (both hook kinds share the reads)
    declared = declared_actions(
        "greenlight.discovery.codedeploy",
        "greenlight.reporting.codedeploy",
        "greenlight.discovery.ecs",
        "greenlight.spec.loader",
        *modules,
    )
    # WHEN the grants the code does not declare are listed (the log writes and secret reads aside: the
    # runtime and the secret references need those)
    runtime = {"logs:CreateLogStream", "logs:PutLogEvents", "secretsmanager:GetSecretValue", "kms:Decrypt"}
    unused = granted(template, role) - declared - runtime
    # THEN there are none
    assert unused == set()


def test_template_ecs_invoke_role_may_invoke_only_the_ecs_hook(template: dict[str, Any]) -> None:
    # GIVEN the role ECS assumes for lifecycle hooks
    role = template["Resources"]["EcsHookInvokeRole"]["Properties"]

    # THEN ECS assumes it and it invokes one function
    assert [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]] == [{"Service": "ecs.amazonaws.com"}]
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == {"Fn::GetAtt": ["EcsHook", "Arn"]}


# --------------------------------------------------------------------------------------------
# Demo network: who reaches the test listener
# --------------------------------------------------------------------------------------------


def test_template_test_listener_admits_only_the_hooks_and_the_optional_cidr(template: dict[str, Any]) -> None:
    # GIVEN every ingress rule of the load balancer's security group (both branches of each Fn::If)
    res = template["Resources"]
    rules = []
    for rule in res["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"]:
        if "Fn::If" in rule:
            condition, chosen, otherwise = rule["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            rules.append((condition, chosen))
        else:
            rules.append((None, rule))
    assert not [n for n, r in res.items() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]

    # WHEN they are split by port
    production = [r for _, r in rules if r["FromPort"] == {"Ref": "ProductionListenerPort"}]
    test = [(c, r) for c, r in rules if r["FromPort"] == {"Ref": "TestListenerPort"}]

    # THEN only the production listener is open to ProductionIngressCidr
    assert len(production) + len(test) == len(rules)
    assert [r["CidrIp"] for r in production] == [{"Ref": "ProductionIngressCidr"}]
    # AND the test listener admits the hooks' security group, the hooks' NAT address and the CIDR parameter
    assert all(r["ToPort"] == {"Ref": "TestListenerPort"} for _, r in test)
    sources = [(c, {k: v for k, v in r.items() if k in ("SourceSecurityGroupId", "CidrIp")}) for c, r in test]
    assert sources == [
        (None, {"SourceSecurityGroupId": {"Ref": "HookSecurityGroup"}}),
        ("CreateVpc", {"CidrIp": {"Fn::Sub": "${NatEip.PublicIp}/32"}}),
        ("HasTestListenerIngressCidr", {"CidrIp": {"Ref": "TestListenerIngressCidr"}}),
    ]
    assert template["Parameters"]["TestListenerIngressCidr"]["Default"] == ""
    # AND the hook group itself accepts nothing
    assert "SecurityGroupIngress" not in res["HookSecurityGroup"]["Properties"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("demo-codedeploy", [{"Ref": "HookSecurityGroup"}, {"Fn::Sub": "${NatEip.PublicIp}/32"}]),
        (
            "demo-with-secrets",
            [{"Ref": "HookSecurityGroup"}, {"Fn::Sub": "${NatEip.PublicIp}/32"}, "203.0.113.7/32"],
        ),
        ("demo-existing-vpc", [{"Ref": "HookSecurityGroup"}]),
    ],
)
def test_template_test_listener_ingress_per_mode(template: dict[str, Any], name: str, expected: list[Any]) -> None:
    # GIVEN a demo mode
    ev = mode(template, name)

    # WHEN the load balancer group's rules on the test port are resolved
    rules = ev.resources["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    sources = [
        r.get("SourceSecurityGroupId") or (ev.value(r["CidrIp"]) if "Ref" in r["CidrIp"] else r["CidrIp"])
        for r in rules
        if r["FromPort"] == {"Ref": "TestListenerPort"}
    ]

    # THEN exactly the expected sources are admitted, and never the whole internet
    assert sources == expected
    assert "0.0.0.0/0" not in sources


@pytest.mark.parametrize(
    ("name", "subnets", "groups"),
    [
        ("demo-codedeploy", [{"Ref": "HookSubnet1"}, {"Ref": "HookSubnet2"}], [{"Ref": "HookSecurityGroup"}]),
        ("demo-existing-vpc", ["subnet-0bbbbbbbbbbbbbbb0", "subnet-0bbbbbbbbbbbbbbb1"], [{"Ref": "HookSecurityGroup"}]),
        ("hooks-codedeploy-in-vpc", ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"], ["sg-0123456789abcdef0"]),
        ("hooks-codedeploy", None, None),
    ],
)
def test_template_hook_vpc_attachment_per_mode(
    template: dict[str, Any], name: str, subnets: list[Any] | None, groups: list[Any] | None
) -> None:
    # GIVEN a mode
    ev = mode(template, name)

    # WHEN a hook function's VPC configuration is resolved
    vpc = function_properties(ev, "AfterAllowTestTrafficHook").get("VpcConfig")

    # THEN the demo runs the hooks in its VPC with their own group, hooks-only as asked, else outside any VPC
    if subnets is None:
        assert vpc is None
        assert not any(
            "ENIManagement" in str(p) for p in ev.resources["CodeDeployHookRole"]["Properties"]["ManagedPolicyArns"]
        )
        return

    def resolve(value: Any) -> Any:
        # Parameters resolve to their values; resource references stay as they are.
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return ev.value(value) if value.get("Ref") in ev.params else value

    assert {k: resolve(v) for k, v in vpc.items()} == {"SubnetIds": subnets, "SecurityGroupIds": groups}
    policies = ev.resources["CodeDeployHookRole"]["Properties"]["ManagedPolicyArns"]
    assert any("AWSLambdaENIManagementAccess" in str(p) for p in policies)


# --------------------------------------------------------------------------------------------
# Demo: load balancer, ECS, CodeDeploy
# --------------------------------------------------------------------------------------------


def test_template_demo_matches_the_seed_setup(template: dict[str, Any]) -> None:
    # GIVEN the demo's listeners, target groups and task definition
    res, params = template["Resources"], template["Parameters"]

    # THEN production 8080 and test 9080 forward to the first target group; both groups check /health over IP targets
    assert (params["ProductionListenerPort"]["Default"], params["TestListenerPort"]["Default"]) == (8080, 9080)
    for listener in ("ProductionListener", "TestListener"):
        (action,) = res[listener]["Properties"]["DefaultActions"]
        assert action == {"Type": "forward", "TargetGroupArn": {"Ref": "BlueTargetGroup"}}
    for tg in ("BlueTargetGroup", "GreenTargetGroup"):
        props = res[tg]["Properties"]
        assert (props["TargetType"], props["HealthCheckPath"], props["Port"]) == (
            "ip",
            "/health",
            {"Ref": "ContainerPort"},
        )
    assert params["ContainerPort"]["Default"] == 3000
    # AND the task runs the sample image on Fargate with its version in APP_VERSION
    task = res["TaskDefinition"]["Properties"]
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    (container,) = task["ContainerDefinitions"]
    assert container["Image"] == {"Ref": "AppImage"}
    assert container["PortMappings"][0]["ContainerPort"] == {"Ref": "ContainerPort"}
    assert {"Name": "APP_VERSION", "Value": {"Ref": "AppVersion"}} in container["Environment"]


def test_template_deployment_group_is_blue_green_with_rollback_and_alarm(template: dict[str, Any]) -> None:
    # GIVEN the demo's CodeDeploy deployment group
    res = template["Resources"]
    group = res["DeploymentGroup"]
    props = group["Properties"]

    # THEN it is a blue/green deployment with traffic control and a termination wait
    assert group["Condition"] == "DemoCodeDeploy"
    assert props["DeploymentStyle"] == {"DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL"}
    terminate = props["BlueGreenDeploymentConfiguration"]["TerminateBlueInstancesOnDeploymentSuccess"]
    assert terminate == {"Action": "TERMINATE", "TerminationWaitTimeInMinutes": {"Ref": "TerminationWaitMinutes"}}
    # AND it rolls back on failure and on alarm, with the green target group's 5xx alarm configured
    assert props["AutoRollbackConfiguration"]["Enabled"] is True
    assert set(props["AutoRollbackConfiguration"]["Events"]) == {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
    assert props["AlarmConfiguration"]["Enabled"] is True
    assert {"Name": {"Ref": "GreenTargetGroup5xxAlarm"}} in props["AlarmConfiguration"]["Alarms"]
    alarm = res["GreenTargetGroup5xxAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count")
    assert {"Name": "TargetGroup", "Value": {"Fn::GetAtt": ["GreenTargetGroup", "TargetGroupFullName"]}} in alarm[
        "Dimensions"
    ]
    # AND green is the second target group of the pair, behind the production and test listeners
    (pair,) = props["LoadBalancerInfo"]["TargetGroupPairInfoList"]
    assert [tg["Name"]["Fn::GetAtt"][0] for tg in pair["TargetGroups"]] == ["BlueTargetGroup", "GreenTargetGroup"]
    assert pair["ProdTrafficRoute"] == {"ListenerArns": [{"Ref": "ProductionListener"}]}
    assert pair["TestTrafficRoute"] == {"ListenerArns": [{"Ref": "TestListener"}]}
    assert props["ServiceRoleArn"] == {"Fn::GetAtt": ["CodeDeployServiceRole", "Arn"]}
    managed = res["CodeDeployServiceRole"]["Properties"]["ManagedPolicyArns"]
    assert managed == [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSCodeDeployRoleForECSLimited"}]


def test_template_ecs_mode_uses_native_blue_green_with_greenlight_hooks(template: dict[str, Any]) -> None:
    # GIVEN the demo in ECS native mode
    ev = mode(template, "demo-ecs")
    service = ev.resources["Service"]["Properties"]

    # THEN the service uses the ECS controller with the BLUE_GREEN strategy and its bake time
    assert ev.value(service["DeploymentController"]["Type"]) == "ECS"
    config = service["DeploymentConfiguration"]
    assert ev.value(config["Strategy"]) == "BLUE_GREEN"
    assert "LinearConfiguration" not in config and "CanaryConfiguration" not in config
    assert config["BakeTimeInMinutes"] == {"Ref": "BakeTimeInMinutes"}
    assert config["Alarms"]["Enable"] is True and config["Alarms"]["Rollback"] is True
    # AND the greenlight ECS function is the hook for the stages of the parameter (default: four stages)
    (hook,) = config["LifecycleHooks"]
    assert hook["HookTargetArn"] == {"Fn::GetAtt": ["EcsHook", "Arn"]}
    assert hook["RoleArn"] == {"Fn::GetAtt": ["EcsHookInvokeRole", "Arn"]}
    assert ev.value(hook["LifecycleStages"]) == ECS_STAGES_DEFAULT
    # AND the load balancer has the alternate target group, both listener rules and the ELB role
    (lb,) = service["LoadBalancers"]
    assert lb["TargetGroupArn"] == {"Ref": "BlueTargetGroup"}
    assert lb["AdvancedConfiguration"] == {
        "AlternateTargetGroupArn": {"Ref": "GreenTargetGroup"},
        "ProductionListenerRule": {"Ref": "ProductionListenerRule"},
        "TestListenerRule": {"Ref": "TestListenerRule"},
        "RoleArn": {"Fn::GetAtt": ["EcsInfrastructureRole", "Arn"]},
    }
    infra = ev.resources["EcsInfrastructureRole"]["Properties"]
    assert infra["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert "AmazonECSInfrastructureRolePolicyForLoadBalancers" in str(infra["ManagedPolicyArns"])
    # AND no CodeDeploy application, deployment group or CodeDeploy hook exists
    for absent in ("CodeDeployApplication", "DeploymentGroup", "CodeDeployServiceRole", "CodeDeployHookRole"):
        assert absent not in ev.resources
    assert not [n for n in ev.resources if n.endswith("Hook") and n != "EcsHook"]


def test_template_ecs_lifecycle_stages_parameter_is_checked_by_a_rule(template: dict[str, Any]) -> None:
    # GIVEN the stages parameter and its rule
    assert template["Parameters"]["EcsLifecycleStages"]["Default"] == ",".join(ECS_STAGES_DEFAULT)
    (assertion,) = template["Rules"]["EcsLifecycleStagesAreKnown"]["Assertions"]
    values, allowed = assertion["Assert"]["Fn::EachMemberIn"]

    # THEN every stage ECS knows is allowed, and the default is a subset
    assert values == {"Ref": "EcsLifecycleStages"}
    assert set(ECS_STAGES_DEFAULT) <= set(allowed)
    assert len(allowed) == 8


def test_template_codedeploy_mode_service_has_no_native_settings(template: dict[str, Any]) -> None:
    # GIVEN the demo in CodeDeploy mode
    ev = mode(template, "demo-codedeploy")
    service = ev.resources["Service"]["Properties"]

    # THEN the service is handed to CodeDeploy, without ECS native settings or listener rules
    assert ev.value(service["DeploymentController"]["Type"]) == "CODE_DEPLOY"
    assert "DeploymentConfiguration" not in service
    assert "AdvancedConfiguration" not in service["LoadBalancers"][0]
    assert not {"ProductionListenerRule", "TestListenerRule", "EcsInfrastructureRole", "EcsHook"} & set(ev.resources)


@pytest.mark.parametrize("name", ["hooks-codedeploy", "hooks-ecs"])
def test_template_hooks_only_mode_creates_only_the_hooks(template: dict[str, Any], name: str) -> None:
    # GIVEN / WHEN the hooks-only modes are evaluated
    created = set(mode(template, name).resources)

    # THEN only the functions, their dependency layer, roles, policy and log group exist
    if name == "hooks-codedeploy":
        assert created == {
            "HookLogGroup",
            "HookReadPolicy",
            "ReportPublishPolicy",  # the verdict event is published by default
            "DependenciesLayer",
            "CodeDeployHookRole",
            *(f"{h}Hook" for h in CODEDEPLOY_HOOKS),
            "DurableWorkerRole",
            "DurableWorkerFunction",
        }
    else:
        assert created == {
            "HookLogGroup",
            "HookReadPolicy",
            "ReportPublishPolicy",
            "DependenciesLayer",
            "EcsHookRole",
            "EcsHook",
            "EcsHookInvokeRole",
        }


def test_template_rules_require_the_inputs_each_mode_needs(template: dict[str, Any]) -> None:
    # GIVEN the Rules section
    rules = template["Rules"]

    # THEN hooks-only CodeDeploy needs the application and group, the demo an image, an existing VPC its subnets
    hooks_only = str(rules["HooksOnlyCodeDeployNeedsDeploymentGroup"]["Assertions"])
    assert "CodeDeployApplicationName" in hooks_only and "CodeDeployDeploymentGroupName" in hooks_only
    assert "AppImage" in str(rules["DemoNeedsImage"]["Assertions"])
    existing = str(rules["DemoInExistingVpcNeedsSubnets"]["Assertions"])
    assert "PublicSubnetIds" in existing and "HookSubnetIds" in existing
    for rule in rules.values():
        assert all(a["AssertDescription"] for a in rule["Assertions"])


@pytest.mark.parametrize("name", list(MODES))
def test_template_every_reference_exists_in_each_mode(template: dict[str, Any], name: str) -> None:
    # GIVEN a mode
    ev = mode(template, name)
    created = set(ev.resources)
    known = created | set(ev.params) | set(PSEUDO) | {"AWS::NoValue"}
    globals_ = template["Globals"]["Function"]

    # WHEN every Ref/GetAtt/Sub of created resources (with Globals for functions) and outputs is listed
    problems = []
    for res_name, res in ev.resources.items():
        extra = globals_ if res["Type"] == "AWS::Serverless::Function" else {}
        for ref in references(res.get("Properties", {})) | references(resolve_ifs(extra, ev.conditions)):
            if ref not in known:
                problems.append(f"{res_name} -> {ref}")
    for out_name, out in ev.outputs.items():
        problems += [f"output {out_name} -> {ref}" for ref in references(out["Value"]) if ref not in known]

    # THEN none points at a resource this mode does not create
    assert problems == []


# --------------------------------------------------------------------------------------------
# Outputs and parameters
# --------------------------------------------------------------------------------------------


def test_template_every_output_and_parameter_has_a_description(template: dict[str, Any]) -> None:
    # GIVEN / WHEN / THEN
    assert [n for n, o in template["Outputs"].items() if not str(o.get("Description", "")).strip()] == []
    assert [n for n, p in template["Parameters"].items() if not str(p.get("Description", "")).strip()] == []


def test_template_outputs_carry_what_the_appspec_command_reads(template: dict[str, Any]) -> None:
    # GIVEN the outputs
    outputs = template["Outputs"]

    # THEN the names greenlight appspec reads exist, with the expected values
    for hook in CODEDEPLOY_HOOKS:
        assert outputs[appspec.hook_output(hook)]["Value"] == {"Fn::GetAtt": [f"{hook}Hook", "Arn"]}
        assert outputs[f"{hook}FunctionName"]["Value"] == {"Ref": f"{hook}Hook"}
    assert outputs[appspec.OUTPUT_CONTROLLER]["Value"] == {"Ref": "DeploymentController"}
    assert outputs[appspec.OUTPUT_CONTAINER_NAME]["Value"] == {"Ref": "ContainerName"}
    assert outputs[appspec.OUTPUT_CONTAINER_PORT]["Value"] == {"Ref": "ContainerPort"}
    assert appspec.OUTPUT_APPLICATION in outputs and appspec.OUTPUT_DEPLOYMENT_GROUP in outputs
    # AND the rest of what a user needs: listener URLs, the ECS hook, the task definition, the log group
    for name in (
        "ProductionListenerUrl",
        "TestListenerUrl",
        "EcsHookFunctionArn",
        "EcsHookInvokeRoleArn",
        "TaskDefinitionArn",
        "HookLogGroupName",
    ):
        assert name in outputs
    assert outputs["TestListenerUrl"]["Value"] == {"Fn::Sub": "http://${LoadBalancer.DNSName}:${TestListenerPort}"}


# --------------------------------------------------------------------------------------------
# samconfig.toml and the linters
# --------------------------------------------------------------------------------------------


def test_samconfig_builds_cached_in_parallel_lints_and_deploys_with_iam() -> None:
    # GIVEN samconfig.toml
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))

    # THEN it has the agreed build, validate and deploy settings
    assert config["version"] == 0.1
    default = config["default"]
    build = default["build"]["parameters"]
    assert build["cached"] is True and build["parallel"] is True
    assert default["validate"]["parameters"]["lint"] is True
    deploy = default["deploy"]["parameters"]
    assert "CAPABILITY_NAMED_IAM" in deploy["capabilities"].split()
    assert deploy["confirm_changeset"] is True and deploy["resolve_s3"] is True


def test_template_passes_cfn_lint() -> None:
    # GIVEN cfn-lint from the dev environment (moto's CloudFormation support depends on it)
    api = pytest.importorskip("cfnlint.api", reason="cfn-lint is not installed in this environment")

    # WHEN the template is linted with the default rules (the SAM transform included)
    matches = api.lint_file(Path(TEMPLATE))

    # THEN nothing is reported
    report = [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches]
    print(f"cfn-lint: {len(report)} finding(s)")
    assert report == []


SAM = ROOT / ".venv-sam" / "bin" / "sam"


@pytest.mark.slow
@pytest.mark.skipif(
    not SAM.exists(), reason="no .venv-sam: `make validate` creates it (CI runs it); sam validate --lint not run"
)
def test_template_passes_sam_validate_lint() -> None:
    # GIVEN the SAM CLI of .venv-sam, with telemetry off (no traffic leaves this machine)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_PROFILE")}
    env |= {"SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1")}

    # WHEN sam validate --lint runs on the template
    done = subprocess.run(
        [str(SAM), "validate", "--lint", "--template", str(TEMPLATE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # THEN it passes without a finding
    print(done.stdout, done.stderr, file=sys.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a valid SAM Template" in done.stdout


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("LINEAR", {"LinearConfiguration": {"StepPercent": 20, "StepBakeTimeInMinutes": 3}}),
        ("CANARY", {"CanaryConfiguration": {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 15}}),
    ],
)
def test_template_ecs_strategy_linear_and_canary(template: dict[str, Any], strategy: str, expected: dict) -> None:
    # GIVEN the demo in ECS mode with a LINEAR or CANARY strategy and its settings
    ev = evaluate_template(
        template,
        **DEMO_PARAMS,
        DeploymentController="ECS",
        Strategy=strategy,
        LinearStepPercent="20",
        LinearStepBakeTimeInMinutes="3",
        CanaryPercent="10",
        CanaryBakeTimeInMinutes="15",
    )
    # WHEN the service's deployment configuration is resolved
    config = ev.resources["Service"]["Properties"]["DeploymentConfiguration"]
    # THEN it names the strategy and carries exactly that strategy's configuration, with the
    # CloudFormation property names of AWS::ECS::Service DeploymentConfiguration
    assert ev.value(config["Strategy"]) == strategy
    (key,) = expected
    assert {k for k in config if k.endswith("Configuration")} == {key}
    assert {k: float(ev.value(v)) for k, v in config[key].items()} == expected[key]


def test_template_task_execution_role_is_passable_by_codedeploy(template: dict[str, Any]) -> None:
    # GIVEN the demo's task execution role, which CodeDeploy passes at CreateTaskSet under
    # AWSCodeDeployRoleForECSLimited (iam:PassRole only on ecsTaskExecutionRole or ECSTaskExecution*)
    ev = evaluate_template(template, **DEMO_PARAMS)
    role = ev.resources["TaskExecutionRole"]["Properties"]
    # WHEN its name is resolved for the longest stack name the template allows, in the longest region names
    name = ev.value(role["RoleName"])
    longest = role["RoleName"]["Fn::Sub"].replace("${AWS::StackName}", "s" * 27).replace("${AWS::Region}", "x" * 14)
    # THEN the managed policy lets CodeDeploy pass it, it is unique per stack and region, and it fits IAM's 64
    assert name.startswith("ECSTaskExecution") and "greenlight" in name and "eu-south-1" in name
    assert len(longest) <= 64
    execution_role = ev.resources["TaskDefinition"]["Properties"]["ExecutionRoleArn"]
    assert execution_role == {"Fn::GetAtt": ["TaskExecutionRole", "Arn"]}
