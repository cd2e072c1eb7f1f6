"""The discovery model: CloudWatch dimensions from ARNs, sides by label, what goes into reports."""

from __future__ import annotations

import pytest

from greenlight.discovery.model import Deployment, ListenerInfo, Side

ALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/svc-alb/33d31dc84a973dc7"
NLB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/svc-nlb/0123456789abcdef"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/svc-green/75a13b68f4fe9d95"


@pytest.mark.parametrize(
    ("arn", "dimension"),
    [(ALB, "app/svc-alb/33d31dc84a973dc7"), (NLB, "net/svc-nlb/0123456789abcdef"), ("svc-alb", None), (None, None)],
)
def test_load_balancer_dimension_from_the_arn(arn: str | None, dimension: str | None) -> None:
    # GIVEN a deployment on a load balancer ARN
    deployment = Deployment(controller="CODE_DEPLOY", load_balancer_arn=arn)

    # WHEN / THEN the LoadBalancer dimension is the part after ':loadbalancer/'
    assert deployment.load_balancer_dimension == dimension


@pytest.mark.parametrize(
    ("arn", "dimension"), [(TG, "targetgroup/svc-green/75a13b68f4fe9d95"), ("x", None), (None, None)]
)
def test_target_group_dimension_from_the_arn(arn: str | None, dimension: str | None) -> None:
    # GIVEN / WHEN / THEN the TargetGroup dimension keeps the 'targetgroup/' prefix
    assert Deployment.target_group_dimension(arn) == dimension


def test_side_by_label_in_any_case() -> None:
    # GIVEN a deployment with only a green side found
    green = Side("GREEN", target_group_arn=TG)
    deployment = Deployment(controller="CODE_DEPLOY", green=green)

    # WHEN sides are asked for by label
    # THEN green is found whatever the case, blue is None, a nonsense label is None
    assert deployment.side("green") is green
    assert deployment.side("GREEN") is green
    assert deployment.side("blue") is None
    assert deployment.side("purple") is None


@pytest.mark.parametrize(
    ("deployment", "text"),
    [
        (
            Deployment("CODE_DEPLOY", deployment_id="d-ABCDEFGHI", application="app", deployment_group="grp"),
            "deployment d-ABCDEFGHI (app/grp)",
        ),
        (Deployment("CODE_DEPLOY", deployment_id="d-ABCDEFGHI"), "deployment d-ABCDEFGHI"),
        (Deployment("ECS", cluster="c", service="svc"), "service svc in cluster c"),
        (Deployment("ECS"), "the deployment"),
    ],
)
def test_describe_names_the_deployment(deployment: Deployment, text: str) -> None:
    # GIVEN / WHEN / THEN messages name the deployment by what is known of it
    assert deployment.describe() == text


def test_summary_leaves_out_what_was_not_found_and_keeps_urls() -> None:
    # GIVEN a deployment with a test listener and no production one
    listener = ListenerInfo(arn="arn:listener", port=9080, protocol="HTTP", url="http://alb:9080")
    deployment = Deployment("CODE_DEPLOY", deployment_id="d-ABCDEFGHI", test_listener=listener)

    # WHEN summarised for the report
    summary = deployment.summary()

    # THEN only what was found is there, nested values as plain data
    assert summary == {
        "controller": "CODE_DEPLOY",
        "deployment_id": "d-ABCDEFGHI",
        "test_listener": {"arn": "arn:listener", "port": 9080, "protocol": "HTTP", "url": "http://alb:9080"},
    }
    assert deployment.test_url == "http://alb:9080"
    assert deployment.prod_url is None
