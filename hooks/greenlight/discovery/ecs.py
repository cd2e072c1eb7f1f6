"""ECS native blue/green discovery: from a service deployment and its target revision to green's whereabouts.

What it reads, in order (each API at most once per invocation; the answers are kept on the object):

- ecs DescribeServiceDeployments (the hook event's `resourceArn`): the source and target revisions with
  their task counts and requested weights (no source revision: the service's first deployment), the
  deployment's status and `rollback`, and `lifecycleHookDetails` (each running hook's `expiresAt` and
  `timeoutAction`);
- ecs DescribeServiceRevisions (target and sources in one call): each revision's task definition,
  `loadBalancers[].advancedConfiguration` (alternate target group, production and test listener
  rules) and `resolvedConfiguration.loadBalancers[].targetGroupArn` (the target group it runs in);
- elasticloadbalancing DescribeRules (both listener rules in one call): their forward weights;
- elasticloadbalancing DescribeListeners, DescribeLoadBalancers: port, protocol, DNS name;
- elasticloadbalancing DescribeTargetGroups (by ARN): names and protocols.

A Service Connect revision (serviceConnectConfiguration) routes test traffic by a header
(clientAliases[].testTrafficRules.header: name, value.exact); probes of the test listener send it. Without a
load balancer's listener, the client alias (http://dnsName:port) is where both listeners' probes go.

Green is the target revision, blue the source revision with the most production traffic. The result
is the same `Deployment` CodeDeploy discovery returns (controller "ECS"), so every check kind works
unchanged.
"""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from greenlight.aws.errors import error_code, explain
from greenlight.discovery.elbv2 import LoadBalancers, is_listener_arn, listener_arn_of, url_for
from greenlight.discovery.model import Deployment, DiscoveryError, ListenerInfo, Side

log = logging.getLogger("greenlight.discovery")

CONTROLLER = "ECS"

# (service, operation) -> the IAM action it needs; also the list the documentation gives.
ACTIONS: dict[tuple[str, str], str] = {
    ("ecs", "describe_service_deployments"): "ecs:DescribeServiceDeployments",
    ("ecs", "describe_service_revisions"): "ecs:DescribeServiceRevisions",
    ("elbv2", "describe_rules"): "elasticloadbalancing:DescribeRules",
    ("elbv2", "describe_listeners"): "elasticloadbalancing:DescribeListeners",
    ("elbv2", "describe_load_balancers"): "elasticloadbalancing:DescribeLoadBalancers",
    ("elbv2", "describe_target_groups"): "elasticloadbalancing:DescribeTargetGroups",
}
IAM_ACTIONS: tuple[str, ...] = tuple(ACTIONS.values())

_ROLLBACK_STATUSES = frozenset({"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"})


@dataclass(frozen=True)
class HookTimeout:
    """A lifecycle hook's own timeout: when it expires (epoch seconds) and what ECS then does."""

    expires_at: float | None
    timeout_action: str | None  # ROLLBACK or CONTINUE
    expires_at_text: str = "an unknown time"

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> HookTimeout:
        when = _epoch(detail.get("expiresAt"))
        action = detail.get("timeoutAction")
        text = (
            datetime.datetime.fromtimestamp(when, datetime.UTC).isoformat(timespec="seconds")
            if when is not None
            else "an unknown time"
        )
        return cls(when, str(action) if action else None, text)


@dataclass(frozen=True)
class DeploymentFacts:
    """What DescribeServiceDeployments tells a hook before it probes anything."""

    first_deployment: bool  # no source revision: nothing to replace
    rollback: bool  # the deployment's `rollback` is set, or its status is ROLLBACK_*
    hook: HookTimeout | None  # this hook's entry of lifecycleHookDetails


def _epoch(value: Any) -> float | None:
    """Epoch seconds of a timestamp as botocore gives it (datetime), or as a number or ISO 8601 text."""
    if isinstance(value, datetime.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return when.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            return _epoch(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _unqualified(arn: Any) -> str | None:
    """A Lambda function ARN without its version or alias (arn:aws:lambda:REGION:ACCOUNT:function:NAME)."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    return ":".join(arn.split(":")[:7])


def arn_resource(arn: str) -> list[str]:
    """The '/'-separated parts of an ARN's resource ('service-revision/CLUSTER/SERVICE/ID' -> 4 parts)."""
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    return parts[5].split("/") if len(parts) == 6 and parts[0] == "arn" else []


def cluster_and_service(service_arn: str) -> tuple[str | None, str | None]:
    """(cluster, service) names from a service ARN (the old short format has no cluster)."""
    parts = arn_resource(service_arn)
    if len(parts) == 3 and parts[0] == "service":
        return parts[1], parts[2]
    if len(parts) == 2 and parts[0] == "service":
        return None, parts[1]
    return None, None


def target_group_name(arn: str | None) -> str | None:
    """The name in a target group ARN (…:targetgroup/NAME/ID)."""
    if not arn or ":targetgroup/" not in arn:
        return None
    return arn.split(":targetgroup/", 1)[1].split("/")[0]


def _weight(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class EcsDiscovery:
    """Discovery for one ECS service deployment; keeps every answer, so each API is called at most once."""

    def __init__(
        self,
        *,
        service_deployment_arn: str | None,
        service_arn: str,
        target_revision_arn: str,
        test_weights: Mapping[str, float] | None = None,
        production_weights: Mapping[str, float] | None = None,
        aws: Any = None,
    ) -> None:
        if aws is None:
            from greenlight.aws import AwsClients

            aws = AwsClients()
        self.aws = aws
        self.service_deployment_arn = service_deployment_arn
        self.service_arn = service_arn
        self.target_revision_arn = target_revision_arn
        self.test_weights = dict(test_weights or {})
        self.production_weights = dict(production_weights or {})
        self.cluster, self.service = cluster_and_service(service_arn)
        self._answers: dict[tuple[str, str], dict[str, Any]] = {}
        self._deployment: Deployment | None = None

    # --- calls ----------------------------------------------------------------------------------------

    def _where(self) -> str:
        if self.service:
            where = f"service {self.service}" + (f" in cluster {self.cluster}" if self.cluster else "")
        else:
            where = f"service {self.service_arn}"
        return where

    def _call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        key = (service, operation)
        if key in self._answers:
            return self._answers[key]
        action = ACTIONS[key]
        try:
            answer: dict[str, Any] = getattr(self.aws.client(service), operation)(**params)
        except Exception as exc:
            raise DiscoveryError(f"cannot discover green for {self._where()}: {explain(exc, action)}") from exc
        self._answers[key] = answer
        return answer

    # --- what ECS knows -------------------------------------------------------------------------------

    def service_deployment(self) -> dict[str, Any]:
        """DescribeServiceDeployments of the hook's resourceArn."""
        arn = self.service_deployment_arn
        parts = arn_resource(arn or "")
        if not parts or parts[0] != "service-deployment":
            raise DiscoveryError(
                f"cannot discover green for {self._where()}: the event's resourceArn {arn!r} is not a service "
                "deployment ARN (arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID)"
            )
        answer = self._call("ecs", "describe_service_deployments", serviceDeploymentArns=[arn])
        found = answer.get("serviceDeployments") or []
        if not found:
            failures = answer.get("failures") or []
            why = failures[0].get("reason") if failures else None
            raise DiscoveryError(
                f"service deployment {arn} of {self._where()} was not found{f' ({why})' if why else ''}: check that "
                "greenlight runs in the service's account and region"
            )
        deployment: dict[str, Any] = found[0]
        return deployment

    def source_revision_arns(self) -> list[str]:
        sources = self.service_deployment().get("sourceServiceRevisions") or []
        return [str(s["arn"]) for s in sources if s.get("arn") and s.get("arn") != self.target_revision_arn]

    def is_first_deployment(self) -> bool:
        """No source revision: the service's first deployment (nothing to compare with, no blue)."""
        return not self.source_revision_arns()

    def is_rollback(self) -> bool:
        deployment = self.service_deployment()
        return bool(deployment.get("rollback")) or str(deployment.get("status", "")) in _ROLLBACK_STATUSES

    def hook_timeout(self, function_arn: str | None) -> HookTimeout | None:
        """This hook's own timeout, from the service deployment's `lifecycleHookDetails` (None: not given).

        The entry is the one whose `targetArn` is this function (qualifiers aside); failing that, the only
        Lambda hook IN_PROGRESS, which is the one invoking us.
        """
        details = [d for d in self.service_deployment().get("lifecycleHookDetails") or [] if isinstance(d, Mapping)]
        mine = _unqualified(function_arn)
        found = [d for d in details if mine and _unqualified(d.get("targetArn")) == mine]
        if not found:
            running = [
                d
                for d in details
                if d.get("status") == "IN_PROGRESS" and d.get("targetType", "AWS_LAMBDA") == "AWS_LAMBDA"
            ]
            found = running if len(running) == 1 else []
        if not found:
            return None
        timeouts = [HookTimeout.of(d) for d in found]
        return min(timeouts, key=lambda t: t.expires_at if t.expires_at is not None else math.inf)

    def deployment_facts(self, function_arn: str | None = None) -> DeploymentFacts:
        """What the service deployment says before anything is probed (one DescribeServiceDeployments)."""
        return DeploymentFacts(self.is_first_deployment(), self.is_rollback(), self.hook_timeout(function_arn))

    def revisions(self) -> dict[str, dict[str, Any]]:
        """DescribeServiceRevisions of the target and every source revision, by ARN (one call)."""
        arns = [self.target_revision_arn, *self.source_revision_arns()]
        answer = self._call("ecs", "describe_service_revisions", serviceRevisionArns=arns)
        found = {str(r["serviceRevisionArn"]): r for r in answer.get("serviceRevisions") or []}
        if self.target_revision_arn not in found:
            failures = {f.get("arn"): f.get("reason") for f in answer.get("failures") or []}
            why = failures.get(self.target_revision_arn)
            raise DiscoveryError(
                f"cannot discover green for {self._where()}: service revision {self.target_revision_arn} "
                f"(the event's targetServiceRevisionArn) was not found{f' ({why})' if why else ''}"
            )
        return found

    # --- the whole picture ----------------------------------------------------------------------------

    def discover(self, *, require: Iterable[str] = ("test",)) -> Deployment:
        """Green, blue and the listener URLs; `require` names the listeners ('test', 'prod') that must exist."""
        if self._deployment is not None:
            self._require(self._deployment, set(require))
            return self._deployment
        deployment = self.service_deployment()
        revisions = self.revisions()
        target = revisions[self.target_revision_arn]
        summaries = {
            str(s.get("arn")): s
            for s in [deployment.get("targetServiceRevision") or {}, *(deployment.get("sourceServiceRevisions") or [])]
            if s.get("arn")
        }
        blue_arn = self._blue_arn(summaries)
        blue_rev = revisions.get(blue_arn) if blue_arn else None

        balancer = _blue_green_balancer(target)
        advanced = (balancer or {}).get("advancedConfiguration") or {}
        pair = [a for a in ((balancer or {}).get("targetGroupArn"), advanced.get("alternateTargetGroupArn")) if a]
        green_tg, blue_tg, inferred = _target_groups(target, blue_rev, pair)

        # An ALB's are listener-rule ARNs; an NLB's are listener ARNs (ECS moves the listener's default action).
        prod_rule, test_rule = advanced.get("productionListenerRule"), advanced.get("testListenerRule")
        rules = self._rules([r for r in (prod_rule, test_rule) if r and not is_listener_arn(r)])
        lbs = LoadBalancers(self.aws.client("elbv2"), f"cannot discover green for {self._where()}")
        listener_arns = {
            which: listener_arn_of(rule) for which, rule in (("prod", prod_rule), ("test", test_rule)) if rule
        }
        infos, lb = self._listeners(lbs, listener_arns)
        test_headers, alias = _service_connect_test_traffic(target)
        for which in ("test", "prod"):
            if which not in infos and alias is not None:
                infos[which] = alias
        for arn in listener_arns.values():
            if is_listener_arn(arn) and arn in (prod_rule, test_rule):
                listener = lbs.listeners([arn]).get(arn) or {}
                rules[arn] = {"Actions": listener.get("DefaultActions") or []}
        groups = self._target_group_info([a for a in (green_tg, blue_tg) if a])

        extra: dict[str, Any] = {
            "service_deployment_arn": self.service_deployment_arn,
            "target_revision_arn": self.target_revision_arn,
        }
        for key, value in (
            ("lifecycle_stage", deployment.get("lifecycleStage")),
            ("strategy", (deployment.get("deploymentConfiguration") or {}).get("strategy")),
            ("rollback", deployment.get("rollback")),
            ("production_listener_rule", prod_rule),
            ("test_listener_rule", test_rule),
            ("green_inferred", inferred),
        ):
            if value:
                extra[key] = value
        sources = self.source_revision_arns()
        if sources:
            extra["source_revision_arns"] = sources
        for which, rule in (("production", prod_rule), ("test", test_rule)):
            weights = _forward_weights(rules.get(rule or ""))
            if weights:
                extra[f"{which}_rule_weights"] = {target_group_name(k) or k: v for k, v in weights.items()}
        if lb.get("Scheme"):
            extra["load_balancer_scheme"] = lb["Scheme"]

        green = self._side("GREEN", self.target_revision_arn, target, summaries, green_tg, groups)
        blue = self._side("BLUE", blue_arn, blue_rev, summaries, blue_tg, groups) if blue_arn else None
        result = Deployment(
            controller=CONTROLLER,
            cluster=self.cluster or _cluster_name(deployment.get("clusterArn")),
            service=self.service,
            green=green,
            blue=blue,
            load_balancer_arn=lb.get("LoadBalancerArn"),
            load_balancer_dns=lb.get("DNSName"),
            test_listener=infos.get("test"),
            prod_listener=infos.get("prod"),
            status=deployment.get("status"),
            extra=extra,
            test_headers=test_headers,
        )
        self._deployment = result
        self._require(result, set(require))
        log.info(
            "discovered %s: test %s, prod %s, green %s",
            result.describe(),
            result.test_url or "-",
            result.prod_url or "-",
            green.target_group_name or "-",
            extra={"deployment": result.summary()},
        )
        return result

    def _blue_arn(self, summaries: Mapping[str, Mapping[str, Any]]) -> str | None:
        """The source revision with the most production traffic (the event's weights, else the deployment's)."""
        sources = self.source_revision_arns()
        if not sources:
            return None

        def weight(arn: str) -> float:
            event = self.production_weights.get(arn)
            if event is not None:
                return float(event)
            return _weight((summaries.get(arn) or {}).get("requestedProductionTrafficWeight")) or 0.0

        return max(sources, key=weight)

    def _rules(self, arns: list[str]) -> dict[str, dict[str, Any]]:
        if not arns:
            return {}
        try:
            answer = self._call("elbv2", "describe_rules", RuleArns=list(dict.fromkeys(arns)))
        except DiscoveryError as exc:
            if error_code(exc.__cause__ or exc) == "RuleNotFound":
                raise DiscoveryError(
                    f"cannot discover green for {self._where()}: a listener rule named in the service's "
                    f"advancedConfiguration does not exist ({', '.join(arns)})"
                ) from exc
            raise
        return {str(r["RuleArn"]): r for r in answer.get("Rules") or []}

    def _listeners(self, lbs: LoadBalancers, arns: Mapping[str, str]) -> tuple[dict[str, ListenerInfo], dict[str, Any]]:
        if not arns:
            return {}, {}
        found = lbs.listeners(arns.values())
        lbs.load_balancers(str(item["LoadBalancerArn"]) for item in found.values())  # one call for all
        infos: dict[str, ListenerInfo] = {}
        lb: dict[str, Any] = {}
        for which in ("test", "prod"):
            if which in arns:
                infos[which], lb = lbs.listener_info(arns[which])
        return infos, lb

    def _target_group_info(self, arns: list[str]) -> dict[str, dict[str, Any]]:
        if not arns:
            return {}
        answer = self._call("elbv2", "describe_target_groups", TargetGroupArns=list(dict.fromkeys(arns)))
        return {str(tg["TargetGroupArn"]): tg for tg in answer.get("TargetGroups") or []}

    def _side(
        self,
        label: str,
        arn: str,
        revision: Mapping[str, Any] | None,
        summaries: Mapping[str, Mapping[str, Any]],
        tg_arn: str | None,
        groups: Mapping[str, Mapping[str, Any]],
    ) -> Side:
        summary = summaries.get(arn) or {}
        tg = groups.get(tg_arn or "") or {}
        balancers = (revision or {}).get("loadBalancers") or []
        behind = _blue_green_balancer(revision or {}) or (balancers[0] if balancers else {})
        production = self.production_weights.get(arn)
        weight = (
            float(production) if production is not None else _weight(summary.get("requestedProductionTrafficWeight"))
        )

        def count(key: str) -> int | None:
            value = summary.get(key)
            return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

        return Side(
            label=label,
            target_group_arn=tg_arn,
            target_group_name=tg.get("TargetGroupName") or target_group_name(tg_arn),
            service_revision_arn=arn,
            task_definition_arn=(revision or {}).get("taskDefinition"),
            desired_count=count("requestedTaskCount"),
            running_count=count("runningTaskCount"),
            pending_count=count("pendingTaskCount"),
            traffic_weight=weight,
            target_group_protocol=tg.get("Protocol"),
            container_name=behind.get("containerName"),
            container_port=behind.get("containerPort"),
        )

    def _require(self, deployment: Deployment, require: set[str]) -> None:
        for which, listener in (("test", deployment.test_listener), ("prod", deployment.prod_listener)):
            if which in require and listener is None:
                field = "testListenerRule" if which == "test" else "productionListenerRule"
                raise DiscoveryError(
                    f"{deployment.describe()} has no {which} listener: revision {self.target_revision_arn} has no "
                    f"loadBalancers[].advancedConfiguration.{field}; add one to the service, or set "
                    f"target.{which}_url in the spec"
                )


def _blue_green_balancer(revision: Mapping[str, Any]) -> dict[str, Any] | None:
    """The load balancer entry that carries the blue/green configuration (advancedConfiguration)."""
    balancers = revision.get("loadBalancers") or []
    for lb in balancers:
        if lb.get("advancedConfiguration"):
            return dict(lb)
    return dict(balancers[0]) if balancers else None


def _service_connect_test_traffic(revision: Mapping[str, Any]) -> tuple[dict[str, str], ListenerInfo | None]:
    """(test traffic headers, the client alias as a listener) of a revision's Service Connect configuration.

    botocore ecs model: ServiceConnectConfiguration.services[].clientAliases[] (port, dnsName, testTrafficRules
    .header.name / .value.exact). The alias without a dnsName is reached as discoveryName.namespace.
    """
    config = revision.get("serviceConnectConfiguration") or {}
    if not config.get("enabled"):
        return {}, None
    headers: dict[str, str] = {}
    alias_info: ListenerInfo | None = None
    for service in config.get("services") or []:
        for alias in service.get("clientAliases") or []:
            header = ((alias.get("testTrafficRules") or {}).get("header")) or {}
            value = (header.get("value") or {}).get("exact")
            if header.get("name") and value is not None:
                headers[str(header["name"])] = str(value)
            port = alias.get("port")
            host = alias.get("dnsName") or ".".join(
                str(p) for p in (service.get("discoveryName") or service.get("portName"), config.get("namespace")) if p
            )
            if alias_info is None and isinstance(port, int) and host:
                alias_info = ListenerInfo(arn="", port=port, protocol="HTTP", url=url_for(host, "HTTP", port))
    return headers, alias_info


def _resolved_target_groups(revision: Mapping[str, Any] | None) -> list[str]:
    resolved = ((revision or {}).get("resolvedConfiguration") or {}).get("loadBalancers") or []
    return [str(lb["targetGroupArn"]) for lb in resolved if lb.get("targetGroupArn")]


def _target_groups(
    target: Mapping[str, Any], blue: Mapping[str, Any] | None, pair: list[str]
) -> tuple[str | None, str | None, str | None]:
    """(green, blue, how green was inferred) target group ARNs.

    A revision's resolvedConfiguration names the target group it runs in. Without it, green is the
    pair's group that blue does not use, else the alternate target group (where ECS starts green).
    """

    def pick(resolved: list[str]) -> str | None:
        in_pair = [a for a in resolved if a in pair]
        chosen = in_pair or resolved
        return chosen[0] if chosen else None

    green, blue_tg = pick(_resolved_target_groups(target)), pick(_resolved_target_groups(blue))
    inferred = None
    if green is None and len(pair) == 2:
        if blue_tg in pair:
            green = next(a for a in pair if a != blue_tg)
            inferred = "the target revision has no resolvedConfiguration; green is the pair's group blue does not use"
        else:
            green = pair[1]
            inferred = "the target revision has no resolvedConfiguration; green is the alternate target group"
    if blue_tg is None and blue is not None and green in pair and len(pair) == 2:
        blue_tg = next(a for a in pair if a != green)
    return green, blue_tg, inferred


def _forward_weights(rule: Mapping[str, Any] | None) -> dict[str, float]:
    """Target group ARN -> weight of a rule's forward action."""
    out: dict[str, float] = {}
    for action in (rule or {}).get("Actions") or []:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            for g in groups:
                out[str(g["TargetGroupArn"])] = float(g.get("Weight", 1))
        elif action.get("TargetGroupArn"):
            out[str(action["TargetGroupArn"])] = 100.0
    return out


def _cluster_name(cluster_arn: Any) -> str | None:
    parts = arn_resource(cluster_arn) if isinstance(cluster_arn, str) else []
    return parts[1] if len(parts) == 2 and parts[0] == "cluster" else None


def discover(
    *,
    service_deployment_arn: str | None,
    service_arn: str,
    target_revision_arn: str,
    aws: Any = None,
    require: Iterable[str] = ("test",),
) -> Deployment:
    """Green, blue and the listener URLs of an ECS native blue/green deployment, or DiscoveryError."""
    return EcsDiscovery(
        service_deployment_arn=service_deployment_arn,
        service_arn=service_arn,
        target_revision_arn=target_revision_arn,
        aws=aws,
    ).discover(require=require)
