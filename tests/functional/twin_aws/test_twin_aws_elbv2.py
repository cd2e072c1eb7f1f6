"""ELBv2 on the twin: target health other than healthy, a health provider, a settable DNS name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenlight_twin import aws as twin_aws


@pytest.fixture
def group(aws_session: Any, unique_name: Callable[[str], str]) -> dict[str, Any]:
    """An IP target group with two registered targets, on its own VPC."""
    ec2 = aws_session.client("ec2")
    elb = aws_session.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    arn = elb.create_target_group(
        Name=unique_name("tg"), Protocol="HTTP", Port=3000, VpcId=vpc, TargetType="ip", HealthCheckPath="/health"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(
        TargetGroupArn=arn, Targets=[{"Id": "10.9.0.10", "Port": 3000}, {"Id": "10.9.0.11", "Port": 3000}]
    )
    return {"arn": arn, "elb": elb}


def _health(elb: Any, tg_arn: str) -> dict[str, dict[str, Any]]:
    answer = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    return {d["Target"]["Id"]: d for d in answer}


def test_target_health_set_unhealthy_is_reported_with_reason(group: dict[str, Any]) -> None:
    # GIVEN two registered targets, one of which fails its health checks
    twin_aws.set_target_health(group["arn"], "10.9.0.11", 3000, "unhealthy", "Target.ResponseCodeMismatch")

    # WHEN the target group's health is described
    health = _health(group["elb"], group["arn"])

    # THEN the failing one is unhealthy with AWS's reason and text, in the real response shape
    assert health["10.9.0.11"] == {
        "Target": {"Id": "10.9.0.11", "Port": 3000},
        "HealthCheckPort": "traffic-port",
        "TargetHealth": {
            "State": "unhealthy",
            "Reason": "Target.ResponseCodeMismatch",
            "Description": "Health checks failed with these codes: [502]",
        },
    }
    assert health["10.9.0.10"]["TargetHealth"] == {"State": "healthy"}


def test_target_health_without_port_applies_to_any_port_and_clears(group: dict[str, Any]) -> None:
    # GIVEN a target set to initial on any port, with an own description
    twin_aws.set_target_health(group["arn"], "10.9.0.10", None, "initial", "Elb.RegistrationInProgress", "warming up")

    # WHEN health is described, then the states are cleared
    before = _health(group["elb"], group["arn"])["10.9.0.10"]["TargetHealth"]
    twin_aws.clear_target_health(group["arn"])
    after = _health(group["elb"], group["arn"])["10.9.0.10"]["TargetHealth"]

    # THEN the set state showed, and moto's healthy came back
    assert before == {"State": "initial", "Reason": "Elb.RegistrationInProgress", "Description": "warming up"}
    assert after == {"State": "healthy"}


def test_target_health_provider_feeds_states_and_set_states_win(group: dict[str, Any]) -> None:
    # GIVEN a provider that says every target times out, and one target explicitly healthy
    asked: list[tuple[str, str, int]] = []

    def provider(tg_arn: str, target_id: str, port: int) -> tuple[str, str | None, str | None]:
        asked.append((tg_arn, target_id, port))
        return ("unhealthy", "Target.Timeout", None)

    twin_aws.set_target_health_provider(provider)
    twin_aws.set_target_health(group["arn"], "10.9.0.10", 3000, "healthy")

    # WHEN health is described
    health = _health(group["elb"], group["arn"])

    # THEN the provider answered for the other target only
    assert asked == [(group["arn"], "10.9.0.11", 3000)]
    assert health["10.9.0.11"]["TargetHealth"] == {
        "State": "unhealthy",
        "Reason": "Target.Timeout",
        "Description": "Request timed out",
    }
    assert health["10.9.0.10"]["TargetHealth"] == {"State": "healthy"}


def test_target_health_provider_failure_reports_unavailable(group: dict[str, Any]) -> None:
    # GIVEN a provider that raises
    def provider(tg_arn: str, target_id: str, port: int) -> None:
        raise OSError("probe socket closed")

    twin_aws.set_target_health_provider(provider)

    # WHEN health is described
    health = _health(group["elb"], group["arn"])

    # THEN the API still answers, as AWS does on its own internal errors
    state = health["10.9.0.10"]["TargetHealth"]
    assert state["State"] == "unavailable"
    assert state["Reason"] == "Elb.InternalError"
    assert "probe socket closed" in state["Description"]


def test_unregistered_target_keeps_the_not_registered_answer(group: dict[str, Any]) -> None:
    # GIVEN a health state set for an address that is not registered
    twin_aws.set_target_health(group["arn"], "10.9.0.99", 3000, "healthy")

    # WHEN that target is asked about
    answer = group["elb"].describe_target_health(
        TargetGroupArn=group["arn"], Targets=[{"Id": "10.9.0.99", "Port": 3000}]
    )["TargetHealthDescriptions"][0]

    # THEN it is reported as not registered, as AWS would
    assert answer["TargetHealth"]["Reason"] == "Target.NotRegistered"


def test_set_target_health_rejects_unknown_states_and_groups(group: dict[str, Any]) -> None:
    # GIVEN a target group
    # WHEN a state or reason outside AWS's vocabulary is set, or the group does not exist
    # THEN the error names it
    with pytest.raises(ValueError, match="did you mean 'unhealthy'"):
        twin_aws.set_target_health(group["arn"], "10.9.0.10", 3000, "unhealthyy")
    with pytest.raises(ValueError, match="target health reason 'Timeout'"):
        twin_aws.set_target_health(group["arn"], "10.9.0.10", 3000, "unhealthy", "Timeout")
    with pytest.raises(twin_aws.UnknownResourceError):
        twin_aws.set_target_health(group["arn"] + "0", "10.9.0.10", 3000, "healthy")


def test_load_balancer_dns_name_can_point_at_loopback(aws_session: Any, unique_name: Callable[[str], str]) -> None:
    # GIVEN a load balancer
    ec2 = aws_session.client("ec2")
    elb = aws_session.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    lb_arn = elb.create_load_balancer(Name=unique_name("lb"), Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]

    # WHEN the twin sets its DNS name
    twin_aws.set_load_balancer_dns_name(lb_arn, "127.0.0.1")

    # THEN DescribeLoadBalancers reports it
    balancer = elb.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]
    assert balancer["DNSName"] == "127.0.0.1"
