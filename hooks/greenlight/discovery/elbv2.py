"""Load balancer look-ups shared by both controllers' discovery: listener and rule ARNs to URLs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from greenlight.aws.errors import DENIED, error_code
from greenlight.discovery.model import DiscoveryError, ListenerInfo

T = TypeVar("T")

_DEFAULT_PORTS = {"HTTP": 80, "HTTPS": 443}


def aws_call(what: str, action: str, fn: Callable[..., T], **kwargs: Any) -> T:
    """Call `fn`, turning AWS errors into a DiscoveryError that names the IAM action when it was denied."""
    try:
        return fn(**kwargs)
    except Exception as exc:
        code = error_code(exc)
        if code in DENIED:
            raise DiscoveryError(
                f"{what}: access denied to {action}; allow {action} in the hook function's role"
            ) from exc
        raise DiscoveryError(f"{what}: {action} failed: {code or type(exc).__name__}: {exc}") from exc


def url_for(dns_name: str, protocol: str, port: int) -> str:
    scheme = "https" if protocol.upper() in ("HTTPS", "TLS") else "http"
    default = _DEFAULT_PORTS.get(protocol.upper())
    return f"{scheme}://{dns_name}" + ("" if port == default else f":{port}")


def listener_arn_of_rule(rule_arn: str) -> str:
    """The listener ARN a listener-rule ARN belongs to (the rule ARN embeds it); DiscoveryError for anything else."""
    # arn:aws:elasticloadbalancing:R:A:listener-rule/app/NAME/LBID/LISTENERID/RULEID
    head, sep, tail = rule_arn.partition(":listener-rule/")
    parts = tail.split("/")
    if not sep or len(parts) < 5:
        raise DiscoveryError(f"not a listener rule ARN: {rule_arn}")
    return f"{head}:listener/{'/'.join(parts[:4])}"


def is_listener_arn(arn: str) -> bool:
    """Whether `arn` names a listener (…:listener/app|net/NAME/LBID/LISTENERID), not a listener rule."""
    head, sep, tail = arn.partition(":listener/")
    return bool(sep) and head.startswith("arn:") and len(tail.split("/")) == 4


def listener_arn_of(arn: str) -> str:
    """The listener of an ECS `productionListenerRule` / `testListenerRule`: a rule ARN (Application Load
    Balancer) names the rule's listener; a listener ARN (Network Load Balancer, where ECS moves the listener's
    own default action) is the listener itself."""
    return arn if is_listener_arn(arn) else listener_arn_of_rule(arn)


class LoadBalancers:
    """Listeners and load balancers, each API called at most once per invocation for the same ARNs."""

    def __init__(self, elbv2: Any, what: str) -> None:
        self.elbv2 = elbv2
        self.what = what
        self._listeners: dict[str, dict[str, Any]] = {}
        self._lbs: dict[str, dict[str, Any]] = {}

    def listeners(self, arns: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = [a for a in dict.fromkeys(arns) if a not in self._listeners]
        if wanted:
            out = aws_call(
                self.what,
                "elasticloadbalancing:DescribeListeners",
                self.elbv2.describe_listeners,
                ListenerArns=wanted,
            )
            for listener in out.get("Listeners", []):
                self._listeners[listener["ListenerArn"]] = listener
        return {a: self._listeners[a] for a in arns if a in self._listeners}

    def load_balancers(self, arns: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = [a for a in dict.fromkeys(arns) if a not in self._lbs]
        if wanted:
            out = aws_call(
                self.what,
                "elasticloadbalancing:DescribeLoadBalancers",
                self.elbv2.describe_load_balancers,
                LoadBalancerArns=wanted,
            )
            for lb in out.get("LoadBalancers", []):
                self._lbs[lb["LoadBalancerArn"]] = lb
        return {a: self._lbs[a] for a in arns if a in self._lbs}

    def listener_info(self, arn: str) -> tuple[ListenerInfo, dict[str, Any]]:
        """The listener's URL (through its load balancer's DNS name), and the load balancer."""
        listener = self.listeners([arn]).get(arn)
        if listener is None:
            raise DiscoveryError(f"{self.what}: listener {arn} does not exist")
        lb_arn = listener["LoadBalancerArn"]
        lb = self.load_balancers([lb_arn]).get(lb_arn)
        if lb is None:
            raise DiscoveryError(f"{self.what}: load balancer {lb_arn} of listener {arn} does not exist")
        protocol = listener.get("Protocol", "HTTP")
        port = int(listener["Port"])
        return ListenerInfo(arn=arn, port=port, protocol=protocol, url=url_for(lb["DNSName"], protocol, port)), lb
