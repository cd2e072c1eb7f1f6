"""`per_target` and `identity` against real HTTP servers on 127.0.0.1/127.0.0.2 registered as green's targets
(and as the test listener) in the twin's moto server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenlight import secrets
from greenlight.checks import check_class
from greenlight.discovery.codedeploy import discover
from greenlight.engine.model import RunResult, Status, Verdict
from greenlight_twin import aws as twin
from support.servers import OTHER_HOST, HttpServer, Reply

HEALTHY = Reply(json={"status": "ok"}, headers={"X-App-Version": "2.0.0"})


# --- per_target -------------------------------------------------------------------------------------------


def test_per_target_fails_naming_the_one_bad_target(
    seed: Callable[..., twin.World],
    serve: Callable[..., HttpServer],
    counted: Any,
    run_checks: Callable[..., RunResult],
) -> None:
    # GIVEN green's two targets: one healthy task, one answering 500 on another address
    good = serve(routes={"/health": HEALTHY})
    bad = serve(routes={"/health": Reply(500, json={"status": "broken"})}, host=OTHER_HOST)
    world = seed(green_targets=[("127.0.0.1", good.port), (OTHER_HOST, bad.port)])
    deployment = discover(world.deployment_id or "", counted.aws)

    # WHEN per_target probes /health on each target directly
    result = run_checks(
        "- name: each-task\n  per_target: {path: /health, expect: {json: {status: ok}}}\n",
        deployment=deployment,
        aws=counted.aws,
    )

    # THEN it fails, naming the bad target and what it answered; the good one was probed too
    assert result.verdict is Verdict.FAILED
    reason = result.checks[0].measurements[0].reason
    assert f"1 of 2 target(s) of green target group {world.green_tg_name} failed" in reason
    assert f"{OTHER_HOST}:{bad.port}: status 500, expected 200" in reason
    assert f"127.0.0.1:{good.port}" not in reason
    assert len(good.requests_to("/health")) == 1
    assert len(bad.requests_to("/health")) == 1
    assert (good.requests_to("/health")[0].header("user-agent") or "").startswith("greenlight/")


def test_per_target_passes_when_every_target_answers(
    seed: Callable[..., twin.World],
    serve: Callable[..., HttpServer],
    counted: Any,
    run_checks: Callable[..., RunResult],
) -> None:
    # GIVEN two healthy green targets
    first = serve(routes={"/health": HEALTHY})
    second = serve(routes={"/health": HEALTHY}, host=OTHER_HOST)
    world = seed(green_targets=[("127.0.0.1", first.port), (OTHER_HOST, second.port)])
    deployment = discover(world.deployment_id or "", counted.aws)

    # WHEN per_target runs
    result = run_checks("- name: each-task\n  per_target: {path: /health}\n", deployment=deployment, aws=counted.aws)

    # THEN it passes and each target was asked once
    assert result.verdict is Verdict.PASSED, result.reason
    assert "all 2 target(s)" in result.checks[0].measurements[0].reason
    assert len(first.requests) == len(second.requests) == 1


def test_per_target_with_no_target_reachable_is_an_error(
    seed: Callable[..., twin.World], refused_port: Any, counted: Any, run_checks: Callable[..., RunResult]
) -> None:
    # GIVEN green's only target refusing connections (as when the function has no route to the tasks)
    world = seed(green_targets=[("127.0.0.1", refused_port.port)])
    deployment = discover(world.deployment_id or "", counted.aws)

    # WHEN per_target runs
    result = run_checks(
        "- name: each-task\n  per_target: {path: /health}\n  consecutive_error_limit: 0\n",
        deployment=deployment,
        aws=counted.aws,
    )

    # THEN it is an ERROR pointing at the network path, not a FAIL of green
    assert result.checks[0].status is Status.ERROR
    assert "could be reached" in result.checks[0].reason
    assert "security group" in result.checks[0].reason


# --- identity ---------------------------------------------------------------------------------------------


def test_identity_fails_when_blue_answers(
    seed: Callable[..., twin.World],
    serve: Callable[..., HttpServer],
    counted: Any,
    run_checks: Callable[..., RunResult],
) -> None:
    # GIVEN the test listener still answering with blue's version (1.0.0; green's image is 2.0.0)
    listener = serve(routes={"/": Reply(headers={"X-App-Version": "1.0.0"})})
    world = seed(lb_dns_name="127.0.0.1", test_port=listener.port)
    deployment = discover(world.deployment_id or "", counted.aws)

    # WHEN identity compares the header with green's image tag
    result = run_checks(
        "- name: is-green\n  identity: {path: /, header: X-App-Version, expected: {image_tag: true}}\n",
        deployment=deployment,
        aws=counted.aws,
    )

    # THEN it fails saying blue answered and where the expected value came from
    assert result.verdict is Verdict.FAILED
    reason = result.checks[0].measurements[0].reason
    assert "answered header X-App-Version '1.0.0' (blue's), expected '2.0.0'" in reason
    assert f"from green task definition {world.green_task_def_arn.split('/')[-1]} (image tag)" in reason
    assert len(listener.requests_to("/")) == 1


def test_identity_passes_when_green_answers_its_env_version_in_json(
    seed: Callable[..., twin.World],
    serve: Callable[..., HttpServer],
    counted: Any,
    run_checks: Callable[..., RunResult],
) -> None:
    # GIVEN the test listener answering green's APP_VERSION in a JSON body
    listener = serve(routes={"/version": Reply(json={"app": {"version": "2.0.0"}})})
    world = seed(lb_dns_name="127.0.0.1", test_port=listener.port)
    deployment = discover(world.deployment_id or "", counted.aws)

    # WHEN identity compares the JSON field with the container's APP_VERSION
    result = run_checks(
        "- name: is-green\n  identity: {path: /version, json: app.version, expected: {env: APP_VERSION}}\n",
        deployment=deployment,
        aws=counted.aws,
    )

    # THEN it passes, saying what answered
    assert result.verdict is Verdict.PASSED, result.reason
    assert "answered '2.0.0' as expected" in result.checks[0].measurements[0].reason


def test_identity_with_a_literal_value_needs_no_deployment(
    serve: Callable[..., HttpServer], run_checks: Callable[..., RunResult]
) -> None:
    # GIVEN a service without the version header, and a literal expected value
    listener = serve(routes={"/": Reply()})

    # WHEN identity runs against an explicit URL, without any deployment
    result = run_checks(
        "- name: is-green\n  identity: {path: /, header: X-App-Version, expected: {value: 2.0.0}}\n",
        test_url=listener.url,
    )

    # THEN it fails saying the header is missing
    assert result.verdict is Verdict.FAILED
    assert "no X-App-Version header in the answer; expected '2.0.0' from the spec" in result.checks[0].reason


# --- every kind calls only the AWS actions it declares ------------------------------------------------------

# botocore's service ids in the counted event names, where they differ from the IAM prefix.
IAM_PREFIX = {"elastic-load-balancing-v2": "elasticloadbalancing", "secrets-manager": "secretsmanager"}

SECRET_HEADER = "headers: {Authorization: {secret: 'secretsmanager:svc-token', prefix: 'Bearer '}}"
EVERY_KIND = {
    "http": "http: {path: /health, " + SECRET_HEADER + "}",
    "target_health": "target_health: {}",
    "task_set": "task_set: {steady_state: false}",
    "alarms": "alarms: {names: [svc-5xx]}",
    "metric": "metric: {metric_name: HTTPCode_Target_5XX_Count, statistic: Sum, max: 0, on_no_data: pass}",
    "per_target": "per_target: {path: /health, " + SECRET_HEADER + "}",
    "identity": "identity: {path: /, header: X-App-Version, expected: {image_tag: true}, " + SECRET_HEADER + "}",
    "compare": "compare: {path: /health, samples: 10, " + SECRET_HEADER + "}",
    "metric_compare": "metric_compare: {on_no_data: pass}",
    "load": "load: {min_requests: 5}",
}
# Top-level sections a kind's case needs: the load it judges, with a secret header of its own.
HEAD = {"load": "load:\n  AfterAllowTestTraffic: {rate: 20, requests: [{path: /health, " + SECRET_HEADER + "}]}\n"}


def test_every_kind_is_covered_by_the_calls_test() -> None:
    # GIVEN / WHEN / THEN a kind registered without a case here would go unchecked
    from greenlight.checks import KINDS

    assert set(EVERY_KIND) == set(KINDS)


@pytest.mark.parametrize("kind", list(EVERY_KIND))
def test_every_aws_call_a_kind_makes_is_one_of_its_iam_actions(
    kind: str,
    seed: Callable[..., twin.World],
    serve: Callable[..., HttpServer],
    session: Any,
    counted: Any,
    run_checks: Callable[..., RunResult],
) -> None:
    # GIVEN green's one task on 127.0.0.1, also behind the test listener, blue behind the production listener,
    # an alarm and a secret to read
    task = serve(routes={"/health": HEALTHY, "/": HEALTHY})
    blue = serve(routes={"/health": HEALTHY, "/": HEALTHY})
    world = seed(
        green_targets=[("127.0.0.1", task.port)], lb_dns_name="127.0.0.1", test_port=task.port, prod_port=blue.port
    )
    session.client("cloudwatch").put_metric_alarm(
        AlarmName="svc-5xx",
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    session.client("secretsmanager").create_secret(Name="svc-token", SecretString="s3cr3t-token")
    deployment = discover(world.deployment_id or "", counted.aws)
    secrets.clear_cache()  # an earlier case's cached secret would hide this kind's own read
    before = counted.calls.copy()

    # WHEN the kind runs once
    result = run_checks(
        f"- name: one\n  {EVERY_KIND[kind]}\n", deployment=deployment, aws=counted.aws, head=HEAD.get(kind, "")
    )

    # THEN it measured, and every AWS call it made is declared in its class's iam_actions
    assert result.checks[0].status is Status.PASS, result.reason
    made = counted.calls - before
    called = {f"{IAM_PREFIX.get(s, s)}:{op}" for s, _, op in (name.partition(".") for name in made)}
    declared = set(check_class(kind).iam_actions)
    assert called - declared == set(), f"{kind} calls {sorted(called)} but declares {sorted(declared)}"
    assert called, f"{kind} made no AWS call; is the case still exercising it?"
