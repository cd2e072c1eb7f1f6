"""Errors of the twin's load balancer: one base class, so callers can catch one type."""

from __future__ import annotations


class LoadBalancerError(Exception):
    """Base of every error the twin's load balancer raises."""


class ConfigError(LoadBalancerError, ValueError):
    """A load balancer, listener, target group, target or health check setting that is not valid."""


class WeightsError(ConfigError):
    """Forward weights that are not valid: negative, all zero, not integers, or naming unknown groups."""


class UnknownTargetGroupError(LoadBalancerError, LookupError):
    """A target group name that this load balancer does not have."""


class UnknownListenerError(LoadBalancerError, LookupError):
    """A listener name that this load balancer does not have."""


class PortInUseError(LoadBalancerError, OSError):
    """A listener's port is already taken on 127.0.0.1."""


class LifecycleError(LoadBalancerError, RuntimeError):
    """A call that needs the load balancer running (or not yet started) came at the wrong time."""
