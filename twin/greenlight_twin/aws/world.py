"""Seeds the twin's AWS with one blue/green deployment in progress (or a world at rest), built through the real APIs.

`seed_bluegreen` creates what the seed article builds by hand (an internet-facing ALB with a production
and a test listener over a blue and a green target group, a Fargate service on port 3000; or a Network
Load Balancer with TCP listeners and target groups, `load_balancer="network"`) and a
deployment stopped where greenlight's hook runs: for CodeDeploy, at AfterAllowTestTraffic with one
open hook execution; for ECS native blue/green, at POST_TEST_TRAFFIC_SHIFT. With `deployment=False`
it stops before any deployment instead: both listeners on blue, an empty green target group (ECS
native: only the deployment that created the service, with blue). ECS native blue/green names listener
rules in the service's advancedConfiguration for an ALB, and the listeners themselves for an NLB (ECS
then moves the listener's default action; see
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/nlb-resources-for-blue-green.html).
Everything goes through boto3 against the twin; the backdoors fill in what only a running deployment would produce.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from greenlight_twin.aws import codedeploy, ecs, elbv2
from greenlight_twin.aws._util import arn_parts, choice

CONTAINER_NAME = "web"
CONTAINER_PORT = 3000
LOAD_BALANCER_TYPES = ("application", "network")
DEFAULT_HOOK_FUNCTION = "CodeDeployHook_greenlight"


@dataclass(frozen=True)
class World:
    """Every name, ARN and id of a seeded blue/green deployment."""

    controller: str  # "CODE_DEPLOY" or "ECS"
    region: str
    account_id: str
    name: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_id: str
    lb_arn: str
    lb_name: str
    lb_dns_name: str
    prod_listener_arn: str
    test_listener_arn: str
    prod_port: int
    test_port: int
    blue_tg_arn: str
    blue_tg_name: str
    green_tg_arn: str
    green_tg_name: str
    blue_targets: tuple[tuple[str, int], ...]
    green_targets: tuple[tuple[str, int], ...]
    cluster_name: str
    cluster_arn: str
    service_name: str
    service_arn: str
    task_family: str
    blue_task_def_arn: str
    green_task_def_arn: str
    blue_version: str
    green_version: str
    hook_function_arn: str
    container_name: str = CONTAINER_NAME
    container_port: int = CONTAINER_PORT
    lb_type: str = "application"  # or "network"
    # controller CODE_DEPLOY
    application_name: str | None = None
    deployment_group_name: str | None = None
    deployment_group_arn: str | None = None
    deployment_id: str | None = None
    hook_execution_id: str | None = None
    blue_task_set_id: str | None = None
    blue_task_set_arn: str | None = None
    green_task_set_id: str | None = None
    green_task_set_arn: str | None = None
    # controller ECS
    prod_rule_arn: str | None = None  # ALB: a listener rule; NLB: the listener itself
    test_rule_arn: str | None = None
    blue_revision_arn: str | None = None
    green_revision_arn: str | None = None
    service_deployment_arn: str | None = None

    @property
    def prod_url(self) -> str:
        return f"http://{self.lb_dns_name}:{self.prod_port}"

    @property
    def test_url(self) -> str:
        return f"http://{self.lb_dns_name}:{self.test_port}"


def _targets(value: Sequence[tuple[str, int]], what: str, *, required: bool = True) -> tuple[tuple[str, int], ...]:
    targets = []
    for index, item in enumerate(value):
        try:
            ip, port = item
        except (TypeError, ValueError):
            raise ValueError(f"{what}[{index}] must be an (ip, port) pair, got {item!r}") from None
        if not isinstance(ip, str) or not ip or isinstance(port, bool) or not isinstance(port, int):
            raise ValueError(f"{what}[{index}] must be an (ip, port) pair, got {item!r}")
        targets.append((ip, port))
    if required and not targets:
        raise ValueError(f"{what} must name at least one (ip, port) target")
    return tuple(targets)


def seed_bluegreen(
    session: Any,
    *,
    name: str = "svc",
    region: str | None = None,
    prod_port: int = 8080,
    test_port: int = 9080,
    blue_targets: Sequence[tuple[str, int]] = (("10.0.1.10", 3000),),
    green_targets: Sequence[tuple[str, int]] | None = None,
    lb_dns_name: str | None = None,
    blue_version: str = "1.0.0",
    green_version: str = "2.0.0",
    controller: str = "CODE_DEPLOY",
    hook_function: str = DEFAULT_HOOK_FUNCTION,
    deployment: bool = True,
    load_balancer: str = "application",
) -> World:
    """Create a blue/green deployment in progress in the twin (see the module docstring); returns its World.

    `session` is a boto3 Session whose clients reach the twin (greenlight_twin.aws.session()).
    `lb_dns_name` replaces the load balancer's DNSName (the twin points it at 127.0.0.1).
    `green_targets` defaults to one made-up target with a deployment, and to none without one.
    `deployment=False` seeds the world at rest, with production and test traffic on blue and no
    deployment in progress: the World's deployment fields (deployment_id, hook_execution_id, the green
    task set, green_revision_arn) are then None.
    """
    controller = choice(controller, ("CODE_DEPLOY", "ECS"), "controller", fold_case=True)
    load_balancer = choice(load_balancer, LOAD_BALANCER_TYPES, "load balancer type", fold_case=True)
    nlb = load_balancer == "network"
    if prod_port == test_port:
        raise ValueError(f"prod_port and test_port must differ, both are {prod_port}")
    blue = _targets(blue_targets, "blue_targets")
    if green_targets is None:
        green_targets = (("10.0.2.10", 3000),) if deployment else ()
    # A deployment needs green tasks to shift test traffic to; a world at rest has none unless asked.
    green = _targets(green_targets, "green_targets", required=deployment)
    region = region or session.region_name or "us-east-1"
    ec2 = session.client("ec2", region_name=region)
    elb = session.client("elbv2", region_name=region)
    ecs_client = session.client("ecs", region_name=region)

    # --- network ---
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet_ids = tuple(
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
        for cidr, zone in (("10.0.1.0/24", "a"), ("10.0.2.0/24", "b"))
    )
    sg_id = ec2.create_security_group(
        GroupName=f"{name}-sg", Description=f"{name} load balancer and tasks", VpcId=vpc_id
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            for port in (prod_port, test_port, CONTAINER_PORT)
        ],
    )

    # --- load balancer ---
    # An NLB works at layer 4 and, in ECS's guide, goes without security groups; its listeners and groups are TCP.
    lb = elb.create_load_balancer(
        Name=f"{name}-{'nlb' if nlb else 'alb'}",
        Subnets=list(subnet_ids),
        **({} if nlb else {"SecurityGroups": [sg_id]}),
        Scheme="internet-facing",
        Type=load_balancer,
    )["LoadBalancers"][0]
    lb_arn = lb["LoadBalancerArn"]
    _, _, account_id, _ = arn_parts(lb_arn, "load balancer ARN")
    groups = {}
    for side, targets in (("blue", blue), ("green", green)):
        health: dict[str, Any] = (
            {"HealthCheckProtocol": "TCP"}
            if nlb
            else {"HealthCheckProtocol": "HTTP", "HealthCheckPath": "/health", "Matcher": {"HttpCode": "200"}}
        )
        group = elb.create_target_group(
            Name=f"{name}-{side}",
            Protocol="TCP" if nlb else "HTTP",
            Port=CONTAINER_PORT,
            VpcId=vpc_id,
            TargetType="ip",
            HealthCheckIntervalSeconds=10,
            HealthyThresholdCount=2,
            **health,
        )["TargetGroups"][0]
        if targets:  # green's group stays empty in a world at rest
            elb.register_targets(
                TargetGroupArn=group["TargetGroupArn"], Targets=[{"Id": ip, "Port": port} for ip, port in targets]
            )
        groups[side] = (group["TargetGroupArn"], group["TargetGroupName"])
    (blue_tg, blue_tg_name), (green_tg, green_tg_name) = groups["blue"], groups["green"]

    # CodeDeploy at AfterAllowTestTraffic: production still on blue, the test listener already on green.
    # ECS native, and any world at rest: both listeners forward to blue by default (ECS: rules below carry the weights).
    test_default = green_tg if controller == "CODE_DEPLOY" and deployment else blue_tg
    protocol = "TCP" if nlb else "HTTP"
    prod_listener = elb.create_listener(
        LoadBalancerArn=lb_arn, Protocol=protocol, Port=prod_port, DefaultActions=[_forward(blue_tg)]
    )["Listeners"][0]["ListenerArn"]
    test_listener = elb.create_listener(
        LoadBalancerArn=lb_arn, Protocol=protocol, Port=test_port, DefaultActions=[_forward(test_default)]
    )["Listeners"][0]["ListenerArn"]
    if lb_dns_name:
        elbv2.set_load_balancer_dns_name(lb_arn, lb_dns_name)
    dns_name = lb_dns_name or lb["DNSName"]

    # --- ECS ---
    cluster_name = f"{name}-cluster"
    cluster_arn = ecs_client.create_cluster(clusterName=cluster_name)["cluster"]["clusterArn"]
    task_defs = {
        side: ecs_client.register_task_definition(
            family=name,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            executionRoleArn=f"arn:aws:iam::{account_id}:role/ecsTaskExecutionRole",
            containerDefinitions=[
                {
                    "name": CONTAINER_NAME,
                    "image": f"example/app:{version}",
                    "essential": True,
                    "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
                    "environment": [{"name": "APP_VERSION", "value": version}],
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        for side, version in (("blue", blue_version), ("green", green_version))
    }
    network = {
        "awsvpcConfiguration": {"subnets": list(subnet_ids), "securityGroups": [sg_id], "assignPublicIp": "DISABLED"}
    }
    hook_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{hook_function}"
    common: dict[str, Any] = {
        "controller": controller,
        "region": region,
        "account_id": account_id,
        "name": name,
        "vpc_id": vpc_id,
        "subnet_ids": subnet_ids,
        "security_group_id": sg_id,
        "lb_arn": lb_arn,
        "lb_name": lb["LoadBalancerName"],
        "lb_dns_name": dns_name,
        "prod_listener_arn": prod_listener,
        "test_listener_arn": test_listener,
        "prod_port": prod_port,
        "test_port": test_port,
        "blue_tg_arn": blue_tg,
        "blue_tg_name": blue_tg_name,
        "green_tg_arn": green_tg,
        "green_tg_name": green_tg_name,
        "blue_targets": blue,
        "green_targets": green,
        "cluster_name": cluster_name,
        "cluster_arn": cluster_arn,
        "service_name": name,
        "task_family": name,
        "blue_task_def_arn": task_defs["blue"],
        "green_task_def_arn": task_defs["green"],
        "blue_version": blue_version,
        "green_version": green_version,
        "hook_function_arn": hook_function_arn,
        "lb_type": load_balancer,
    }
    if controller == "CODE_DEPLOY":
        return _seed_codedeploy(session, region, common, network, deployment=deployment)
    return _seed_ecs_native(session, region, common, network, deployment=deployment)


def _forward(tg_arn: str) -> dict[str, Any]:
    return {"Type": "forward", "TargetGroupArn": tg_arn}


def _weighted(blue_tg: str, blue_weight: int, green_tg: str, green_weight: int) -> dict[str, Any]:
    return {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": blue_tg, "Weight": blue_weight},
                {"TargetGroupArn": green_tg, "Weight": green_weight},
            ]
        },
    }


def _seed_codedeploy(
    session: Any, region: str, w: dict[str, Any], network: dict[str, Any], *, deployment: bool
) -> World:
    ecs_client = session.client("ecs", region_name=region)
    cd = session.client("codedeploy", region_name=region)
    service_arn = ecs_client.create_service(
        cluster=w["cluster_name"],
        serviceName=w["service_name"],
        taskDefinition=w["blue_task_def_arn"],
        desiredCount=len(w["blue_targets"]),
        launchType="FARGATE",
        deploymentController={"type": "CODE_DEPLOY"},
        networkConfiguration=network,
        loadBalancers=[_container_lb(w["blue_tg_arn"])],
        healthCheckGracePeriodSeconds=30,
    )["service"]["serviceArn"]

    ecs.set_service_counts(service_arn, running_count=len(w["blue_targets"]))
    task_sets = {}
    # At rest only blue's task set exists: CodeDeploy creates green's in each deployment.
    for side in ("blue", "green") if deployment else ("blue",):
        task_set = ecs_client.create_task_set(
            cluster=w["cluster_name"],
            service=w["service_name"],
            taskDefinition=w[f"{side}_task_def_arn"],
            launchType="FARGATE",
            networkConfiguration=network,
            loadBalancers=[_container_lb(w[f"{side}_tg_arn"])],
            scale={"unit": "PERCENT", "value": 100.0},
        )["taskSet"]
        count = len(w[f"{side}_targets"])
        if task_set.get("runningCount") != count:
            ecs.set_task_set_state(
                task_set["taskSetArn"], running_count=count, pending_count=0, computed_desired_count=count
            )
        task_sets[side] = (task_set["id"], task_set["taskSetArn"])
        if side == "blue":
            ecs_client.update_service_primary_task_set(
                cluster=w["cluster_name"], service=w["service_name"], primaryTaskSet=task_set["taskSetArn"]
            )

    application = f"AppECS-{w['cluster_name']}-{w['service_name']}"
    group = f"DgpECS-{w['cluster_name']}-{w['service_name']}"
    cd.create_application(applicationName=application, computePlatform="ECS")
    cd.create_deployment_group(
        applicationName=application,
        deploymentGroupName=group,
        serviceRoleArn=f"arn:aws:iam::{w['account_id']}:role/ecsCodeDeployRole",
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        blueGreenDeploymentConfiguration={
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 5},
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0},
        },
        loadBalancerInfo={
            "targetGroupPairInfoList": [
                {
                    "targetGroups": [{"name": w["blue_tg_name"]}, {"name": w["green_tg_name"]}],
                    "prodTrafficRoute": {"listenerArns": [w["prod_listener_arn"]]},
                    "testTrafficRoute": {"listenerArns": [w["test_listener_arn"]]},
                }
            ]
        },
        ecsServices=[{"serviceName": w["service_name"], "clusterName": w["cluster_name"]}],
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
    )
    resting = World(
        **w,
        service_arn=service_arn,
        application_name=application,
        deployment_group_name=group,
        deployment_group_arn=codedeploy.deployment_group_arn(
            region=region, application_name=application, deployment_group_name=group
        ),
        blue_task_set_id=task_sets["blue"][0],
        blue_task_set_arn=task_sets["blue"][1],
    )
    if not deployment:
        return resting
    appspec = json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {
                            "TaskDefinition": w["green_task_def_arn"],
                            "LoadBalancerInfo": {"ContainerName": CONTAINER_NAME, "ContainerPort": CONTAINER_PORT},
                        },
                    }
                }
            ],
            "Hooks": [{"AfterAllowTestTraffic": w["hook_function_arn"].rsplit(":", 1)[-1]}],
        }
    )
    deployment_id = cd.create_deployment(
        applicationName=application,
        deploymentGroupName=group,
        revision={
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": appspec, "sha256": hashlib.sha256(appspec.encode()).hexdigest()},
        },
        description=f"{w['name']} {w['blue_version']} -> {w['green_version']}",
    )["deploymentId"]

    codedeploy.set_deployment_status(deployment_id, "InProgress")
    codedeploy.set_ecs_target(
        deployment_id,
        cluster=w["cluster_name"],
        service=w["service_name"],
        task_sets=[
            codedeploy.EcsTaskSet(
                identifier=task_sets["blue"][0],
                label="Blue",
                target_group=w["blue_tg_name"],
                desired_count=len(w["blue_targets"]),
                status="PRIMARY",
                traffic_weight=100.0,
            ),
            codedeploy.EcsTaskSet(
                identifier=task_sets["green"][0],
                label="Green",
                target_group=w["green_tg_name"],
                desired_count=len(w["green_targets"]),
                status="ACTIVE",
                traffic_weight=0.0,
            ),
        ],
        lifecycle_events=dict.fromkeys(("BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic"), "Succeeded"),
    )
    hook_execution_id = codedeploy.open_hook_execution(deployment_id, "AfterAllowTestTraffic")
    return replace(
        resting,
        deployment_id=deployment_id,
        hook_execution_id=hook_execution_id,
        green_task_set_id=task_sets["green"][0],
        green_task_set_arn=task_sets["green"][1],
    )


def _container_lb(tg_arn: str, advanced: dict[str, Any] | None = None) -> dict[str, Any]:
    lb: dict[str, Any] = {"targetGroupArn": tg_arn, "containerName": CONTAINER_NAME, "containerPort": CONTAINER_PORT}
    if advanced:
        lb["advancedConfiguration"] = advanced
    return lb


def _seed_ecs_native(
    session: Any, region: str, w: dict[str, Any], network: dict[str, Any], *, deployment: bool
) -> World:
    ecs_client = session.client("ecs", region_name=region)
    elb = session.client("elbv2", region_name=region)
    # At POST_TEST_TRAFFIC_SHIFT: production rule all blue, test rule all green; at rest both all blue.
    serving = "green" if deployment else "blue"
    rules = {}
    for route, listener, (blue_weight, green_weight) in (
        ("prod", w["prod_listener_arn"], (100, 0)),
        ("test", w["test_listener_arn"], (0, 100) if deployment else (100, 0)),
    ):
        if w["lb_type"] == "network":  # NLB: no rules; the listener's default action carries the weights
            elb.modify_listener(
                ListenerArn=listener,
                DefaultActions=[_weighted(w["blue_tg_arn"], blue_weight, w["green_tg_arn"], green_weight)],
            )
            rules[route] = listener
            continue
        rules[route] = elb.create_rule(
            ListenerArn=listener,
            Priority=1,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=[_weighted(w["blue_tg_arn"], blue_weight, w["green_tg_arn"], green_weight)],
        )["Rules"][0]["RuleArn"]
    role = f"arn:aws:iam::{w['account_id']}:role/ecsInfrastructureRoleForLoadBalancers"
    balancers = [
        _container_lb(
            w["blue_tg_arn"],
            {
                "alternateTargetGroupArn": w["green_tg_arn"],
                "productionListenerRule": rules["prod"],
                "testListenerRule": rules["test"],
                "roleArn": role,
            },
        )
    ]
    service_arn = ecs_client.create_service(
        cluster=w["cluster_name"],
        serviceName=w["service_name"],
        taskDefinition=w[f"{serving}_task_def_arn"],
        desiredCount=len(w[f"{serving}_targets"]),
        launchType="FARGATE",
        deploymentController={"type": "ECS"},
        deploymentConfiguration={
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 5,
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "lifecycleHooks": [
                {
                    "hookTargetArn": w["hook_function_arn"],
                    "roleArn": f"arn:aws:iam::{w['account_id']}:role/ecsLifecycleHookRole",
                    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT"],
                }
            ],
        },
        networkConfiguration=network,
        loadBalancers=balancers,
        healthCheckGracePeriodSeconds=30,
    )["service"]["serviceArn"]

    ecs.set_service_counts(service_arn, running_count=len(w[f"{serving}_targets"]))
    revisions = {
        side: ecs.register_service_revision(
            service_arn,
            task_definition=w[f"{side}_task_def_arn"],
            load_balancers=balancers,
            resolved_load_balancers=[{"targetGroupArn": w[f"{side}_tg_arn"], "productionListenerRule": rules["prod"]}],
        )
        for side in (("blue", "green") if deployment else ("blue",))
    }

    def summary(side: str, test_weight: float, production_weight: float) -> ecs.RevisionSummary:
        return ecs.RevisionSummary(
            revisions[side],
            requested_task_count=len(w[f"{side}_targets"]),
            requested_test_traffic_weight=test_weight,
            requested_production_traffic_weight=production_weight,
        )

    resting = World(
        **w,
        service_arn=service_arn,
        prod_rule_arn=rules["prod"],
        test_rule_arn=rules["test"],
        blue_revision_arn=revisions["blue"],
    )
    if not deployment:
        # ECS native runs a deployment when it creates a service: at rest, the one that created it with blue.
        created = ecs.start_service_deployment(
            service_arn,
            target_revision=summary("blue", 100.0, 100.0),
            source_revisions=[],
            status="SUCCESSFUL",
            lifecycle_stage="CLEAN_UP",
        )
        return replace(resting, service_deployment_arn=created)
    deployment_arn = ecs.start_service_deployment(
        service_arn,
        target_revision=summary("green", 100.0, 0.0),
        source_revisions=[summary("blue", 0.0, 100.0)],
        status="IN_PROGRESS",
        lifecycle_stage="POST_TEST_TRAFFIC_SHIFT",
    )
    return replace(resting, green_revision_arn=revisions["green"], service_deployment_arn=deployment_arn)
