"""The AWS-side check kinds without AWS: their spec schemas, what they need from discovery, and their pure helpers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from greenlight import spec as specs
from greenlight.checks import KINDS, requirements
from greenlight.checks.identity import expected_value, image_tag, pick_container
from greenlight.checks.metric import valid_period
from greenlight.checks.target_health import describe_state
from greenlight.engine.check import Needs

NEW_KINDS = ("target_health", "task_set", "alarms", "metric", "per_target", "identity")


def _load(checks_yaml: str) -> specs.Spec:
    head = "version: 1\ntarget: {allow_hosts: [127.0.0.1]}\nhooks:\n  AfterAllowTestTraffic:\n"
    text = head + textwrap.indent(textwrap.dedent(checks_yaml), "    ")
    return specs.load_text(text, env={})


def _problems(checks_yaml: str) -> list[str]:
    with pytest.raises(specs.SpecError) as caught:
        _load(checks_yaml)
    return [str(p) for p in caught.value.problems]


def _body(checks_yaml: str) -> Any:
    return _load(checks_yaml).checks_for("AfterAllowTestTraffic")[0].body


# --- registry -------------------------------------------------------------------------------------------


def test_every_new_kind_is_registered_and_loads() -> None:
    # GIVEN / WHEN / THEN each new kind names a module:Class that imports and declares its kind
    from greenlight.checks import check_class

    for kind in NEW_KINDS:
        assert kind in KINDS
        assert check_class(kind).kind == kind


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_declares_its_iam_actions_as_iam_spells_them(kind: str) -> None:
    # GIVEN a registered kind
    from greenlight.checks import check_class

    actions = check_class(kind).iam_actions

    # WHEN / THEN its actions are `service:Action` strings, each once
    assert all(re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", a) for a in actions), actions
    assert len(set(actions)) == len(actions)


def test_importing_the_handler_imports_no_check_module() -> None:
    # GIVEN a fresh interpreter
    code = (
        "import sys, json, greenlight.handlers.codedeploy\n"
        "names = ('greenlight.checks', 'greenlight.discovery')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(names))))"
    )

    # WHEN the CodeDeploy handler module is imported
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)

    # THEN no check kind or discovery module came with it (they load when a spec uses them)
    assert json.loads(out.stdout) == []


def test_validating_a_spec_imports_only_the_kinds_it_uses_and_no_aws_sdk() -> None:
    # GIVEN a fresh interpreter and a spec using http and alarms, with an absolute URL for the SSRF rules to vet
    code = textwrap.dedent(
        """
        import sys, json
        from greenlight import spec
        spec.load_text(
            "version: 1\\ntarget: {allow_hosts: [api.example.com]}\\nhooks:\\n  AfterAllowTestTraffic:\\n"
            "    - {name: h, http: {url: 'https://api.example.com/health'}}\\n"
            "    - {name: a, alarms: {names: [x]}}\\n",
            env={},
        )
        kinds = sorted(m for m in sys.modules if m.startswith("greenlight.checks."))
        sdk = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))
        print(json.dumps([kinds, sdk]))
        """
    )

    # WHEN the spec is validated
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)

    # THEN only those kinds' modules (and what they share) were imported, and neither boto3 nor botocore
    kinds, sdk = json.loads(out.stdout)
    assert kinds == ["greenlight.checks.alarms", "greenlight.checks.http", "greenlight.checks.support"]
    assert sdk == []


# --- schemas: defaults and mistakes ---------------------------------------------------------------------


def test_defaults_are_filled() -> None:
    # GIVEN minimal bodies of each kind
    # WHEN loaded
    # THEN the documented defaults are there
    assert _body("- name: t\n  target_health: {}\n") == {"target_group": "green"}
    assert _body("- name: t\n  task_set: {}\n") == {"side": "green", "steady_state": True}
    assert _body("- name: a\n  alarms: {names: x}\n") == {"names": ["x"], "on_insufficient_data": "error"}
    metric = _body("- name: m\n  metric: {metric_name: X, statistic: p99, max: 0.5}\n")
    assert metric["namespace"] == "AWS/ApplicationELB"
    assert metric["window"] == 300.0
    assert metric["on_no_data"] == "error"
    per_target = _body("- name: p\n  per_target: {path: /health}\n")
    assert per_target["target_group"] == "green"
    assert per_target["expect"]["status"] == [200]


@pytest.mark.parametrize(
    ("checks_yaml", "expected"),
    [
        (
            "- name: t\n  target_health: {target_group: gren}\n",
            "target_health.target_group: expected 'green', 'blue' or a target group ARN, got 'gren'",
        ),
        (
            "- name: t\n  target_health: {min_heathy: 2}\n",
            "target_health.min_heathy: unknown field (did you mean 'min_healthy'?)",
        ),
        ("- name: t\n  task_set: {side: purple}\n", "task_set.side: expected one of 'green', 'blue', got 'purple'"),
        (
            "- name: a\n  alarms: {names: [x], prefix: y}\n",
            "alarms.names: give either 'names' or 'prefix' (exactly one of them)",
        ),
        ("- name: a\n  alarms: {}\n", "alarms.names: give either 'names' or 'prefix' (exactly one of them)"),
        (
            "- name: a\n  alarms: {names: [x], on_insufficient_data: ignore}\n",
            "alarms.on_insufficient_data: expected one of 'error', 'pass', 'fail', got 'ignore'",
        ),
        ("- name: m\n  metric: {metric_name: X, statistic: Sum}\n", "metric.max: give a bound: 'max' and/or 'min'"),
        (
            "- name: m\n  metric: {metric_name: X, statistic: p999, max: 1}\n",
            "metric.statistic: expected one of Sum, Average, Maximum, Minimum, SampleCount or pNN, got 'p999'",
        ),
        (
            "- name: m\n  metric: {metric_name: X, statistic: Sum, max: 1, min: 2}\n",
            "metric.min: min 2 is above max 1",
        ),
        (
            "- name: m\n  metric: {metric_name: X, statistic: Sum, max: 1, window: 90s}\n",
            "metric.period: the window 90s is not a CloudWatch period",
        ),
        (
            "- name: m\n  metric: {metric_name: X, statistic: Sum, max: 1, period: 2m, window: 1m}\n",
            "metric.period: period 120s is longer than the window 60s",
        ),
        (
            "- name: m\n  metric: {metric_name: X, statistic: Sum, max: 1, dimensions: {TargetGroup: '{gren}'}}\n",
            "metric.dimensions.TargetGroup: unknown placeholder {gren}",
        ),
        ("- name: m\n  metric: {statistic: Sum, max: 1}\n", "metric.metric_name: required field is missing"),
        (
            "- name: p\n  per_target: {url: 'http://x/'}\n",
            "per_target.url: unknown field (expected one of: path, method, headers",
        ),
        (
            "- name: i\n  identity: {path: /, expected: {value: '1'}}\n",
            "identity.header: give either 'header' or 'json' (exactly one of them)",
        ),
        (
            "- name: i\n  identity: {path: /, header: X-V, expected: {image_tag: true, env: V}}\n",
            "identity.expected: give exactly one of 'image_tag: true', 'env: VARIABLE' or 'value: TEXT'",
        ),
        (
            "- name: i\n  identity: {path: /, json: 'a..b', expected: {value: '1'}}\n",
            "identity.json: invalid JMESPath",
        ),
        (
            "- name: i\n  identity: {path: /, header: X-V, expected: {value: '1', container: web}}\n",
            "identity.expected.container: 'container' goes with image_tag or env, not value",
        ),
        ("- name: i\n  identity: {path: /, header: X-V}\n", "identity.expected: required field is missing"),
    ],
)
def test_schema_mistakes_name_the_field_and_the_fix(checks_yaml: str, expected: str) -> None:
    # GIVEN a spec with one mistake in a new kind's body
    # WHEN loaded
    problems = _problems(checks_yaml)

    # THEN the problem has the field's path and says what was expected
    assert any(expected in p for p in problems), problems


# --- what a hook's checks need from discovery ------------------------------------------------------------


@pytest.mark.parametrize(
    ("checks_yaml", "needs"),
    [
        ("- name: h\n  http: {path: /}\n", Needs(frozenset({"test"}))),
        ("- name: h\n  http: {path: /, listener: prod}\n", Needs(frozenset({"prod"}))),
        ("- name: h\n  http: {url: 'http://127.0.0.1:1/'}\n", Needs()),
        ("- name: t\n  target_health: {}\n", Needs(deployment=True)),
        ("- name: t\n  task_set: {}\n", Needs(deployment=True)),
        ("- name: a\n  alarms: {prefix: svc-}\n", Needs()),
        ("- name: m\n  metric: {metric_name: X, statistic: Sum, max: 1}\n", Needs(deployment=True)),
        (
            "- name: m\n  metric: {namespace: App, metric_name: X, statistic: Sum, max: 1, dimensions: {Env: prod}}\n",
            Needs(),
        ),
        ("- name: m\n  metric: {namespace: App, metric_name: X, statistic: Sum, max: 1}\n", Needs()),
        ("- name: p\n  per_target: {path: /}\n", Needs(deployment=True)),
        (
            "- name: i\n  identity: {path: /, header: V, expected: {value: '2'}}\n",
            Needs(frozenset({"test"})),
        ),
        (
            "- name: i\n  identity: {path: /, header: V, expected: {image_tag: true}}\n",
            Needs(frozenset({"test"}), deployment=True),
        ),
    ],
)
def test_requirements_of_each_kind(checks_yaml: str, needs: Needs) -> None:
    # GIVEN a hook with one check
    checks = _load(checks_yaml).checks_for("AfterAllowTestTraffic")

    # WHEN asked what it needs
    # THEN listeners and the deployment are asked for only when used
    assert requirements(checks) == needs


def test_requirements_add_up_over_a_hook() -> None:
    # GIVEN an http check on the production listener and a target_health check
    checks = _load("- name: h\n  http: {path: /, listener: prod}\n- name: t\n  target_health: {}\n").checks_for(
        "AfterAllowTestTraffic"
    )

    # WHEN / THEN the hook needs both
    assert requirements(checks) == Needs(frozenset({"prod"}), deployment=True)


# --- helpers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("example/app:2.0.0", "2.0.0"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v7", "v7"),
        ("registry.local:5000/team/app:1.2", "1.2"),
        ("registry.local:5000/team/app", "latest"),
        ("app@sha256:abcd", "sha256:abcd"),
    ],
)
def test_image_tag(image: str, tag: str) -> None:
    # GIVEN / WHEN / THEN the tag is taken after the last path segment's colon (a registry port is not a tag)
    assert image_tag(image) == tag


TASK_DEF = {
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/svc:5",
    "containerDefinitions": [
        {"name": "web", "image": "example/app:2.0.0", "environment": [{"name": "APP_VERSION", "value": "2.0.0"}]},
        {"name": "envoy", "image": "envoy:v1.30", "environment": []},
    ],
}


def test_pick_container_prefers_the_load_balancer_container() -> None:
    # GIVEN a task definition with a sidecar, and the container behind the load balancer known
    # WHEN / THEN that container is used; an explicit name wins over it
    assert pick_container(TASK_DEF, None, "web", None)["name"] == "web"
    assert pick_container(TASK_DEF, "envoy", "web", None)["name"] == "envoy"


def test_pick_container_ambiguous_names_the_choices() -> None:
    # GIVEN two containers and nothing saying which
    # WHEN / THEN the error names them and what to set
    with pytest.raises(LookupError, match=r"svc:5 has 2 containers \(web, envoy\): set expected.container"):
        pick_container(TASK_DEF, None, None, None)


def test_pick_container_unknown_name_lists_the_containers() -> None:
    with pytest.raises(LookupError, match=r"task definition svc:5 has no container 'api' \(it has: web, envoy\)"):
        pick_container(TASK_DEF, "api", None, None)


def test_expected_value_from_env_or_image_tag() -> None:
    # GIVEN the task definition, WHEN / THEN env and image tag come from the chosen container
    assert expected_value(TASK_DEF, {"env": "APP_VERSION"}, None) == "2.0.0"  # the only container that has it
    assert expected_value(TASK_DEF, {"image_tag": True, "container": "envoy"}, None) == "v1.30"
    with pytest.raises(LookupError, match="container web of task definition svc:5 has no environment variable X"):
        expected_value(TASK_DEF, {"env": "X", "container": "web"}, None)


@pytest.mark.parametrize(
    ("seconds", "valid"), [(1, True), (10, True), (60, True), (300, True), (90, False), (7, False)]
)
def test_valid_period(seconds: float, valid: bool) -> None:
    assert valid_period(seconds) is valid


def test_describe_state_names_target_state_reason_and_description() -> None:
    # GIVEN a DescribeTargetHealth entry for an IPv6 target
    desc = {
        "Target": {"Id": "2001:db8::7", "Port": 3000},
        "TargetHealth": {"State": "unhealthy", "Reason": "Target.Timeout", "Description": "Request timed out"},
    }

    # WHEN / THEN it reads like the console
    assert describe_state(desc) == "[2001:db8::7]:3000 unhealthy (Target.Timeout: Request timed out)"
