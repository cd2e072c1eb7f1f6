"""CodeDeploy discovery: from a deployment id to green's target group and task set and the listener URLs.

What it reads, in order (each API at most once per invocation; the answers are kept on the object):

- codedeploy GetDeployment: application, group, status, compute platform (must be ECS);
- codedeploy GetDeploymentGroup: `loadBalancerInfo.targetGroupPairInfoList` (the two target groups,
  the production and test listener ARNs) and `ecsServices` (cluster, service);
- elasticloadbalancing DescribeListeners, DescribeLoadBalancers: port, protocol, DNS name, scheme;
- codedeploy ListDeploymentTargets, GetDeploymentTarget: `ecsTarget.taskSetsInfo` (GREEN/BLUE, target
  group names, counts, traffic weights) and `lifecycleEvents` (for `hook_already_completed`);
- elasticloadbalancing DescribeTargetGroups (by name): the target group ARNs and protocols;
- ecs DescribeTaskSets: each task set's task definition and the container behind the load balancer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from greenlight.aws.errors import error_code, explain
from greenlight.discovery.elbv2 import LoadBalancers
from greenlight.discovery.model import Deployment, DiscoveryError, ListenerInfo, Side

log = logging.getLogger("greenlight.discovery")

CONTROLLER = "CODE_DEPLOY"

# (service, operation) -> the IAM action it needs; also the list the documentation gives.
ACTIONS: dict[tuple[str, str], str] = {
    ("codedeploy", "get_deployment"): "codedeploy:GetDeployment",
    ("codedeploy", "get_deployment_group"): "codedeploy:GetDeploymentGroup",
    ("codedeploy", "list_deployment_targets"): "codedeploy:ListDeploymentTargets",
    ("codedeploy", "get_deployment_target"): "codedeploy:GetDeploymentTarget",
    ("elbv2", "describe_listeners"): "elasticloadbalancing:DescribeListeners",
    ("elbv2", "describe_load_balancers"): "elasticloadbalancing:DescribeLoadBalancers",
    ("elbv2", "describe_target_groups"): "elasticloadbalancing:DescribeTargetGroups",
    ("ecs", "describe_task_sets"): "ecs:DescribeTaskSets",
}
IAM_ACTIONS: tuple[str, ...] = tuple(ACTIONS.values())

_NO_DEPLOYMENT = frozenset({"DeploymentDoesNotExistException", "InvalidDeploymentIdException"})
_COMPLETED = ("Succeeded", "Failed")


class CodeDeployDiscovery:
    """Discovery for one CodeDeploy deployment; keeps every answer, so each API is called at most once."""

    def __init__(self, deployment_id: str, aws: Any = None) -> None:
        if aws is None:
            from greenlight.aws import AwsClients

            aws = AwsClients()
        self.deployment_id = deployment_id
        self.aws = aws
        self._answers: dict[tuple[str, str], dict[str, Any]] = {}
        self._failures: dict[tuple[str, str], DiscoveryError] = {}
        self._deployment: Deployment | None = None

    # --- calls ----------------------------------------------------------------------------------------

    def _where(self) -> str:
        info = self._answers.get(("codedeploy", "get_deployment"), {}).get("deploymentInfo") or {}
        group = f" ({info['applicationName']}/{info['deploymentGroupName']})" if info.get("applicationName") else ""
        return f"deployment {self.deployment_id}{group}"

    def _call(self, service: str, operation: str, /, **params: Any) -> dict[str, Any]:
        key = (service, operation)
        if key in self._answers:
            return self._answers[key]
        if key in self._failures:
            raise self._failures[key]  # a failed call is not repeated within the invocation either
        action = ACTIONS[key]
        try:
            answer: dict[str, Any] = getattr(self.aws.client(service), operation)(**params)
        except Exception as exc:
            error = self._error(exc, action)
            error.__cause__ = exc
            self._failures[key] = error
            raise error from exc
        self._answers[key] = answer
        return answer

    def _error(self, exc: Exception, action: str) -> DiscoveryError:
        code = error_code(exc)
        if code in _NO_DEPLOYMENT:
            region = getattr(getattr(self.aws.client("codedeploy"), "meta", None), "region_name", None)
            where = f" in region {region}" if region else ""
            return DiscoveryError(
                f"deployment {self.deployment_id} does not exist{where} ({code}): check the deployment id, and that "
                "greenlight runs in the deployment's account and region"
            )
        return DiscoveryError(f"cannot discover green for {self._where()}: {explain(exc, action)}")

    # --- what CodeDeploy knows ------------------------------------------------------------------------

    def deployment_info(self) -> dict[str, Any]:
        info: dict[str, Any] = self._call("codedeploy", "get_deployment", deploymentId=self.deployment_id)[
            "deploymentInfo"
        ]
        return info

    def deployment_target(self) -> dict[str, Any] | None:
        """The deployment's `ecsTarget` (None when CodeDeploy has none yet)."""
        listed = self._call("codedeploy", "list_deployment_targets", deploymentId=self.deployment_id)
        target_ids = listed.get("targetIds") or []
        if not target_ids:
            return None
        # An ECS deployment has one target, `<cluster>:<service>`.
        got = self._call("codedeploy", "get_deployment_target", deploymentId=self.deployment_id, targetId=target_ids[0])
        ecs: dict[str, Any] | None = (got.get("deploymentTarget") or {}).get("ecsTarget")
        return ecs

    def lifecycle_event_status(self, event_name: str) -> str | None:
        """The status of one lifecycle event of the deployment target (None when it is not listed)."""
        target = self.deployment_target() or {}
        for event in target.get("lifecycleEvents") or []:
            if event.get("lifecycleEventName") == event_name:
                status = event.get("status")
                return str(status) if status else None
        return None

    # --- the whole picture ----------------------------------------------------------------------------

    def discover(self, *, require: Iterable[str] = ("test",)) -> Deployment:
        """The deployment's sides and listeners; `require` names the listeners ('test', 'prod') that must exist."""
        if self._deployment is not None:
            self._require(self._deployment, set(require))
            return self._deployment
        info = self.deployment_info()
        platform = info.get("computePlatform")
        if platform != "ECS":
            raise DiscoveryError(
                f"{self._where()} is a {platform or 'non-ECS'} deployment: greenlight validates Amazon ECS "
                "blue/green deployments (compute platform ECS); for anything else set target.test_url and use "
                "checks that need no deployment"
            )
        application, group_name = info["applicationName"], info["deploymentGroupName"]
        group = self._call(
            "codedeploy", "get_deployment_group", applicationName=application, deploymentGroupName=group_name
        )["deploymentGroupInfo"]
        pairs = (group.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
        if not pairs:
            raise DiscoveryError(
                f"{self._where()}: the deployment group has no target group pair "
                "(loadBalancerInfo.targetGroupPairInfoList); an ECS blue/green deployment group needs one"
            )
        pair = pairs[0]
        pair_names = [tg["name"] for tg in pair.get("targetGroups") or [] if tg.get("name")]
        prod_arns = list((pair.get("prodTrafficRoute") or {}).get("listenerArns") or [])
        test_arns = list((pair.get("testTrafficRoute") or {}).get("listenerArns") or [])
        services = group.get("ecsServices") or []
        cluster = services[0].get("clusterName") if services else None
        service = services[0].get("serviceName") if services else None

        if "test" in require and not test_arns:
            raise DiscoveryError(self._no_listener("test"))
        test, prod, lb_arn, lb = self._listeners(test_arns, prod_arns)

        target = self.deployment_target() or {}
        task_sets = {str(ts.get("taskSetLabel", "")).upper(): ts for ts in target.get("taskSetsInfo") or []}
        green_info, blue_info = task_sets.get("GREEN"), task_sets.get("BLUE")
        groups = self._target_groups(pair_names)
        ecs_sets = self._task_sets(cluster, service, [green_info, blue_info])

        blue = self._side("BLUE", blue_info, groups, ecs_sets) if blue_info else None
        green = self._side("GREEN", green_info, groups, ecs_sets) if green_info else None
        extra: dict[str, Any] = {
            "target_groups": pair_names,
            "test_listener_arns": test_arns,
            "prod_listener_arns": prod_arns,
        }
        if lb.get("Scheme"):
            extra["load_balancer_scheme"] = lb["Scheme"]
        if green is None and len(pair_names) == 2:
            # Before the replacement task set exists (BeforeInstall), green's target group is the pair's other one.
            blue_tg = blue.target_group_name if blue else None
            others = [n for n in pair_names if n != blue_tg]
            if blue_tg and len(others) == 1:
                tg = groups.get(others[0], {})
                green = Side(
                    "GREEN",
                    target_group_arn=tg.get("TargetGroupArn"),
                    target_group_name=others[0],
                    target_group_protocol=tg.get("Protocol"),
                )
                extra["green_inferred"] = "no GREEN task set yet; green's target group is the pair's other one"

        deployment = Deployment(
            controller=CONTROLLER,
            deployment_id=self.deployment_id,
            application=application,
            deployment_group=group_name,
            cluster=cluster,
            service=service,
            green=green,
            blue=blue,
            load_balancer_arn=lb_arn,
            load_balancer_dns=lb.get("DNSName"),
            test_listener=test,
            prod_listener=prod,
            status=info.get("status"),
            extra=extra,
        )
        self._deployment = deployment
        self._require(deployment, set(require))
        log.info(
            "discovered %s: test %s, prod %s, green %s",
            deployment.describe(),
            deployment.test_url or "-",
            deployment.prod_url or "-",
            green.target_group_name if green else "-",
            extra={"deployment": deployment.summary()},
        )
        return deployment

    def _no_listener(self, which: str) -> str:
        route = "testTrafficRoute" if which == "test" else "prodTrafficRoute"
        return (
            f"{self._where()} has no {which} listener: set {route} in the deployment group "
            f"(loadBalancerInfo.targetGroupPairInfoList), or target.{which}_url in the spec"
        )

    def _require(self, deployment: Deployment, require: set[str]) -> None:
        for which, listener in (("test", deployment.test_listener), ("prod", deployment.prod_listener)):
            if which in require and listener is None:
                raise DiscoveryError(self._no_listener(which))

    def _listeners(
        self, test_arns: list[str], prod_arns: list[str]
    ) -> tuple[ListenerInfo | None, ListenerInfo | None, str | None, dict[str, Any]]:
        """(test listener, production listener, load balancer ARN, load balancer); one call per API."""
        arns = list(dict.fromkeys(test_arns[:1] + prod_arns[:1]))
        if not arns:
            return None, None, None, {}
        balancers = LoadBalancers(self.aws.client("elbv2"), f"cannot discover green for {self._where()}")
        found = balancers.listeners(arns)  # both listeners in one DescribeListeners call
        balancers.load_balancers(list(dict.fromkeys(str(item["LoadBalancerArn"]) for item in found.values())))
        infos = {arn: balancers.listener_info(arn) for arn in arns}
        test = infos[test_arns[0]][0] if test_arns else None
        prod = infos[prod_arns[0]][0] if prod_arns else None
        _, lb = infos[arns[0]]
        return test, prod, str(lb["LoadBalancerArn"]), lb

    def _target_groups(self, names: list[str]) -> dict[str, dict[str, Any]]:
        if not names:
            return {}
        found = self._call("elbv2", "describe_target_groups", Names=names)
        return {str(tg["TargetGroupName"]): tg for tg in found.get("TargetGroups") or []}

    def _task_sets(
        self, cluster: str | None, service: str | None, infos: list[dict[str, Any] | None]
    ) -> dict[str, dict[str, Any]]:
        ids = [_task_set_id(info) for info in infos if info]
        ids = [i for i in ids if i]
        if not ids or not cluster or not service:
            return {}
        found = self._call("ecs", "describe_task_sets", cluster=cluster, service=service, taskSets=ids)
        out: dict[str, dict[str, Any]] = {}
        for ts in found.get("taskSets") or []:
            out[str(ts.get("id"))] = ts
            out[str(ts.get("taskSetArn"))] = ts
        return out

    def _side(
        self,
        label: str,
        info: dict[str, Any],
        groups: dict[str, dict[str, Any]],
        ecs_sets: dict[str, dict[str, Any]],
    ) -> Side:
        task_set_id = _task_set_id(info)
        tg_name = (info.get("targetGroup") or {}).get("name")
        tg = groups.get(tg_name or "", {})
        ecs = ecs_sets.get(task_set_id or "", {})
        balancers = ecs.get("loadBalancers") or []
        behind = next((b for b in balancers if b.get("targetGroupArn") == tg.get("TargetGroupArn")), None)
        behind = behind or (balancers[0] if balancers else {})

        def count(ecs_key: str, cd_key: str) -> int | None:
            value = ecs.get(ecs_key, info.get(cd_key))
            return int(value) if value is not None else None

        weight = info.get("trafficWeight")
        return Side(
            label=label,
            target_group_arn=tg.get("TargetGroupArn"),
            target_group_name=tg_name,
            task_set_id=task_set_id,
            task_definition_arn=ecs.get("taskDefinition"),
            desired_count=count("computedDesiredCount", "desiredCount"),
            running_count=count("runningCount", "runningCount"),
            pending_count=count("pendingCount", "pendingCount"),
            status=ecs.get("status") or info.get("status"),
            traffic_weight=float(weight) if weight is not None else None,
            target_group_protocol=tg.get("Protocol"),
            container_name=behind.get("containerName"),
            container_port=behind.get("containerPort"),
        )


def _task_set_id(info: dict[str, Any] | None) -> str | None:
    if not info:
        return None
    # The API spells the field `identifer`; accept the correct spelling too in case it is ever fixed.
    value = info.get("identifer") or info.get("identifier")
    return str(value) if value else None


def discover(deployment_id: str, aws: Any = None, *, require: Iterable[str] = ("test",)) -> Deployment:
    """Green, blue and the listener URLs of a CodeDeploy ECS deployment, or DiscoveryError saying what to set."""
    return CodeDeployDiscovery(deployment_id, aws).discover(require=require)


def hook_already_completed(
    deployment_id: str, hook_name: str, *, aws: Any = None, discovery: CodeDeployDiscovery | None = None
) -> bool:
    """Whether the deployment's `hook_name` lifecycle event already ended (Succeeded or Failed).

    A repeated invocation (Lambda's at-least-once delivery) of a completed hook execution must not probe
    again nor report again. Pass `discovery` to share its answers (GetDeploymentTarget is then called once).
    """
    discovery = discovery or CodeDeployDiscovery(deployment_id, aws)
    return discovery.lifecycle_event_status(hook_name) in _COMPLETED
