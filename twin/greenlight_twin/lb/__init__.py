"""An ALB-like load balancer for the local blue/green twin (stdlib HTTP, boto3 only for metrics)."""

from greenlight_twin.lb.balancer import LoadBalancer, cloudwatch_client
from greenlight_twin.lb.config import HealthCheck, ListenerConfig, TargetGroupConfig, arn_resource_id
from greenlight_twin.lb.errors import (
    ConfigError,
    LifecycleError,
    LoadBalancerError,
    PortInUseError,
    UnknownListenerError,
    UnknownTargetGroupError,
    WeightsError,
)
from greenlight_twin.lb.health import (
    DRAINING,
    HEALTHY,
    INITIAL,
    UNHEALTHY,
    UNUSED,
    HealthChange,
    TargetHealth,
)
from greenlight_twin.lb.metrics import NAMESPACE, MetricsSnapshot, ResponseTimes, ScopeMetrics

__all__ = [
    "DRAINING",
    "HEALTHY",
    "INITIAL",
    "NAMESPACE",
    "UNHEALTHY",
    "UNUSED",
    "ConfigError",
    "HealthChange",
    "HealthCheck",
    "LifecycleError",
    "ListenerConfig",
    "LoadBalancer",
    "LoadBalancerError",
    "MetricsSnapshot",
    "PortInUseError",
    "ResponseTimes",
    "ScopeMetrics",
    "TargetGroupConfig",
    "TargetHealth",
    "UnknownListenerError",
    "UnknownTargetGroupError",
    "WeightsError",
    "arn_resource_id",
    "cloudwatch_client",
]
