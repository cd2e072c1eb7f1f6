"""The twin's Application Load Balancer: listeners, weighted target groups, health checks, metrics.

    lb = LoadBalancer(
        "web",
        target_groups=[TargetGroupConfig("blue", [("127.0.0.1", 8001)]), TargetGroupConfig("green")],
        listeners=[ListenerConfig("prod", {"blue": 100, "green": 0}), ListenerConfig("test", {"green": 1})],
    )
    with lb:
        lb.register_targets("green", [("127.0.0.1", 8002)])
        lb.set_weights("prod", {"blue": 90, "green": 10})
        requests.get(lb.url("prod"))

Only 127.0.0.1 is ever bound or sent to. Every thread is a daemon, tracked, and joined by stop().
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from greenlight_twin.lb.config import (
    ListenerConfig,
    Target,
    TargetGroupConfig,
    check_aws_name,
    check_resource_id,
    check_weights,
    default_resource_id,
)
from greenlight_twin.lb.errors import (
    ConfigError,
    LifecycleError,
    LoadBalancerError,
    PortInUseError,
    UnknownListenerError,
    UnknownTargetGroupError,
)
from greenlight_twin.lb.health import HealthChange, HealthListener, TargetGroup, TargetHealth
from greenlight_twin.lb.metrics import MetricsPublisher, MetricsSnapshot, RequestMetrics
from greenlight_twin.lb.proxy import HOST, ListenerServer, TcpListenerServer
from greenlight_twin.lb.tracker import Tracker

logger = logging.getLogger(__name__)

_POLL = 0.05  # how often an accept loop looks for stop(); bounds how long stop() waits for it


class _Listener:
    """A listener's forward action, with smooth weighted round-robin (nginx's) over its groups.

    Deterministic: over any run of sum(weights) requests each group gets exactly its weight.
    """

    def __init__(self, config: ListenerConfig, weights: dict[str, int]) -> None:
        self.name = config.name
        self.protocol = config.protocol
        self.header_route = config.header_route
        self.requested_port = config.port
        self.server: ListenerServer | None = None
        self.serving = False  # serve_forever runs: shutdown() would wait forever otherwise
        self._lock = threading.Lock()
        self._weights = weights
        self._current = dict.fromkeys(weights, 0)

    @property
    def weights(self) -> dict[str, int]:
        with self._lock:
            return dict(self._weights)

    def set_weights(self, weights: dict[str, int]) -> None:
        with self._lock:
            self._weights = weights
            self._current = dict.fromkeys(weights, 0)

    def pick(self) -> str:
        with self._lock:
            total = 0
            best: str | None = None
            for name, weight in self._weights.items():
                if weight <= 0:
                    continue
                self._current[name] += weight
                total += weight
                if best is None or self._current[name] > self._current[best]:
                    best = name
            assert best is not None  # check_weights guarantees one weight above zero
            self._current[best] -= total
            return best


class LoadBalancer:
    """An ALB-like load balancer on 127.0.0.1; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        name: str,
        *,
        target_groups: Iterable[TargetGroupConfig],
        listeners: Iterable[ListenerConfig],
        lb_id: str | None = None,
        idle_timeout: float = 60.0,
        metrics_interval: float = 10.0,
        cloudwatch: Any = None,
        cloudwatch_endpoint_url: str | None = None,
        region: str | None = None,
        on_health_change: HealthListener | None = None,
    ) -> None:
        self.name = check_aws_name("load balancer", name)
        self.lb_id = check_resource_id(f"load balancer {name!r}", lb_id) if lb_id else default_resource_id("app", name)
        if not _positive(idle_timeout):
            raise ConfigError(f"load balancer {name!r}: idle_timeout {idle_timeout!r} must be seconds > 0")
        if not _positive(metrics_interval):
            raise ConfigError(f"load balancer {name!r}: metrics_interval {metrics_interval!r} must be seconds > 0")
        if cloudwatch is not None and cloudwatch_endpoint_url is not None:
            raise ConfigError(f"load balancer {name!r}: pass cloudwatch or cloudwatch_endpoint_url, not both")
        self.idle_timeout = float(idle_timeout)
        self.metrics_interval = float(metrics_interval)
        self._on_health_change = on_health_change
        self._tracker = Tracker(name)
        # Reentrant: a health-change callback may call set_weights while set_weights notifies it.
        self._lock = threading.RLock()
        self._started = False
        self._served = False  # start() completed: only then is there anything to publish at stop
        self._stopped = False
        self._stop_event = threading.Event()

        self._groups: dict[str, TargetGroup] = {}
        for config in target_groups:
            if not isinstance(config, TargetGroupConfig):
                raise ConfigError(f"load balancer {name!r}: target groups must be TargetGroupConfig, got {config!r}")
            if config.name in self._groups:
                raise ConfigError(f"load balancer {name!r}: target group {config.name!r} is given twice")
            self._groups[config.name] = TargetGroup(config, self._tracker, self._notify)
        if not self._groups:
            raise ConfigError(f"load balancer {name!r}: needs at least one target group")

        self._listeners: dict[str, _Listener] = {}
        ports: dict[int, str] = {}
        for listener in listeners:
            if not isinstance(listener, ListenerConfig):
                raise ConfigError(f"load balancer {name!r}: listeners must be ListenerConfig, got {listener!r}")
            if listener.name in self._listeners:
                raise ConfigError(f"load balancer {name!r}: listener {listener.name!r} is given twice")
            if listener.port and listener.port in ports:
                raise ConfigError(
                    f"load balancer {name!r}: listeners {ports[listener.port]!r} and {listener.name!r} "
                    f"both ask for port {listener.port}"
                )
            ports[listener.port] = listener.name
            weights = check_weights(listener.name, listener.weights, list(self._groups))
            self._listeners[listener.name] = _Listener(listener, weights)
        if not self._listeners:
            raise ConfigError(f"load balancer {name!r}: needs at least one listener")
        for routed in self._listeners.values():
            if routed.header_route is not None and routed.header_route[2] not in self._listeners:
                raise ConfigError(
                    f"load balancer {name!r}: listener {routed.name!r} routes by header to an unknown listener "
                    f"{routed.header_route[2]!r}"
                )
        self._update_in_use()
        # Registered only now, so targets start `initial` (or `unused`) without a change in between.
        for group in self._groups.values():
            group.register(group.config.targets)

        self._metrics = RequestMetrics(self._groups)
        if cloudwatch is None and cloudwatch_endpoint_url is not None:
            cloudwatch = cloudwatch_client(cloudwatch_endpoint_url, region)
        self._publisher = (
            MetricsPublisher(
                cloudwatch,
                self._metrics,
                self.dimension,
                {g: self.target_group_dimension(g) for g in self._groups},
                self._host_counts,
            )
            if cloudwatch is not None
            else None
        )

    # --- identity --------------------------------------------------------------------------------

    @property
    def dimension(self) -> str:
        """The CloudWatch `LoadBalancer` dimension: app/<name>/<id>."""
        return f"app/{self.name}/{self.lb_id}"

    def target_group_dimension(self, group: str) -> str:
        """The CloudWatch `TargetGroup` dimension: targetgroup/<name>/<id>."""
        return f"targetgroup/{group}/{self._group(group).config.resource_id}"

    @property
    def target_group_names(self) -> list[str]:
        return list(self._groups)

    @property
    def listener_names(self) -> list[str]:
        return list(self._listeners)

    @property
    def running(self) -> bool:
        return self._started and not self._stopped

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LoadBalancer:
        """Binds every listener on 127.0.0.1 and starts health checks and metric publishing."""
        with self._lock:
            if self._stopped:
                raise LifecycleError(f"load balancer {self.name!r} was stopped; create a new one")
            if self._started:
                raise LifecycleError(f"load balancer {self.name!r} is already started")
            self._started = True
        try:
            for listener in self._listeners.values():
                listener.server = self._bind(listener)
            for listener in self._listeners.values():
                assert listener.server is not None
                accept = self._tracker.start_thread(f"{listener.name}:accept", listener.server.serve_forever, _POLL)
                listener.serving = accept is not None
            for group in self._groups.values():
                self._tracker.start_thread(f"{group.name}:health", group.run_checker)
            if self._publisher is not None:
                self._tracker.start_thread("metrics", self._publish_loop)
        except BaseException:
            self.stop()
            raise
        self._served = True
        logger.info("load balancer %s listening: %s", self.name, {n: self.port(n) for n in self._listeners})
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stops listeners, health checks and publishing, cuts open connections and joins every thread.

        Idempotent. The metrics counted since the last publish are published once more at the end.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop_event.set()
        logger.info("load balancer %s stopping", self.name)
        for group in self._groups.values():
            group.stop()
        for listener in self._listeners.values():
            server = listener.server
            if server is not None:
                if listener.serving:
                    server.shutdown()
                server.server_close()
        self._tracker.close()
        alive = self._tracker.join(timeout)
        if alive:
            logger.warning("load balancer %s: threads still running after stop: %s", self.name, alive)
        if self._served and self._publisher is not None:
            self._publisher.publish()

    def __enter__(self) -> LoadBalancer:
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- listeners -------------------------------------------------------------------------------

    def port(self, listener: str) -> int:
        """The port a listener is bound to (known once started)."""
        server = self._listener(listener).server
        if server is None or not self.running:
            raise LifecycleError(f"load balancer {self.name!r} is not running: listener {listener!r} has no port")
        return server.port

    def url(self, listener: str) -> str:
        """Where a client reaches `listener`; a TCP listener too, as the service behind it speaks HTTP."""
        return f"http://{HOST}:{self.port(listener)}"

    def weights(self, listener: str) -> dict[str, int]:
        return self._listener(listener).weights

    def set_weights(self, listener: str, weights: Mapping[str, int]) -> None:
        """Replaces a listener's forward weights, e.g. {"blue": 90, "green": 10} (ALB's ModifyListener).

        Groups left out get no traffic from this listener; a group no listener names becomes unused.
        """
        target = self._listener(listener)
        checked = check_weights(listener, weights, list(self._groups))
        with self._lock:
            target.set_weights(checked)
            self._update_in_use()
        logger.info("load balancer %s: listener %s forwards %s", self.name, listener, checked)

    # --- targets ---------------------------------------------------------------------------------

    def register_targets(self, group: str, targets: Iterable[Target]) -> None:
        """Registers (host, port) targets; they start `initial` (or `unused` if no listener uses the group)."""
        self._group(group).register(list(targets))

    def deregister_targets(self, group: str, targets: Iterable[Target]) -> None:
        """Deregisters targets: `draining` while requests are in flight, then gone."""
        self._group(group).deregister(list(targets))

    def health_snapshot(self, group: str, targets: Iterable[Target] | None = None) -> list[TargetHealth]:
        """Registered targets' health (or the given targets', `unused` when not registered)."""
        return self._group(group).snapshot(None if targets is None else list(targets))

    def health_of(self, group: str, target: Target) -> TargetHealth:
        """One target's health; `unused` (Target.NotRegistered) when it is not registered in the group.

        Feeds the moto twin's DescribeTargetHealth, e.g. a provider
        `lambda arn, host, port: lb.health_of(group_by_arn[arn], (host, port)).answer`.
        """
        return self._group(group).snapshot([target])[0]

    # --- metrics ---------------------------------------------------------------------------------

    def metrics_snapshot(self) -> MetricsSnapshot:
        return self._metrics.snapshot({name: g.request_counts() for name, g in self._groups.items()})

    def publish_metrics(self) -> int:
        """Publishes what was counted since the last publish now; returns the number of data sent."""
        return self._publisher.publish() if self._publisher is not None else 0

    # --- internals -------------------------------------------------------------------------------

    def _bind(self, listener: _Listener) -> ListenerServer:
        server = TcpListenerServer if listener.protocol == "TCP" else ListenerServer
        try:
            return server(
                lb_name=self.name,
                listener=listener.name,
                port=listener.requested_port,
                pick_group=lambda headers: self._groups[self._route(listener, headers).pick()],
                metrics=self._metrics,
                tracker=self._tracker,
                idle_timeout=self.idle_timeout,
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    errno.EADDRINUSE,
                    f"load balancer {self.name!r}: listener {listener.name!r} cannot bind "
                    f"{HOST}:{listener.requested_port}: the port is already in use",
                ) from exc
            raise LoadBalancerError(
                f"load balancer {self.name!r}: listener {listener.name!r} cannot bind "
                f"{HOST}:{listener.requested_port}: {exc}"
            ) from exc

    def _route(self, listener: _Listener, headers: Any) -> _Listener:
        """The listener whose weights serve a request: another one when the request carries its header."""
        route = listener.header_route
        if route is not None and headers is not None and headers.get(route[0]) == route[1]:
            return self._listener(route[2])
        return listener

    def _publish_loop(self) -> None:
        assert self._publisher is not None
        while not self._stop_event.wait(self.metrics_interval):
            self._publisher.publish()

    def _update_in_use(self) -> None:
        used = {g for listener in self._listeners.values() for g in listener.weights}
        for name, group in self._groups.items():
            group.set_in_use(name in used)

    def _host_counts(self) -> dict[str, tuple[int, int]]:
        return {name: group.counts() for name, group in self._groups.items() if group.in_use}

    def _notify(self, changes: list[HealthChange]) -> None:
        for change in changes:
            previous = change.previous.state if change.previous else None
            logger.debug(
                "load balancer %s: %s %s:%s %s -> %s (%s)",
                self.name,
                change.group,
                change.current.host,
                change.current.port,
                previous,
                change.current.state,
                change.current.reason,
            )
            if self._on_health_change is not None:
                try:
                    self._on_health_change(change)
                except Exception:
                    logger.exception("load balancer %s: on_health_change callback failed", self.name)

    def _group(self, name: str) -> TargetGroup:
        try:
            return self._groups[name]
        except KeyError:
            raise UnknownTargetGroupError(
                f"load balancer {self.name!r} has no target group {name!r}; known: {', '.join(self._groups)}"
            ) from None

    def _listener(self, name: str) -> _Listener:
        try:
            return self._listeners[name]
        except KeyError:
            raise UnknownListenerError(
                f"load balancer {self.name!r} has no listener {name!r}; known: {', '.join(self._listeners)}"
            ) from None


def cloudwatch_client(endpoint_url: str, region: str | None = None) -> Any:
    """A CloudWatch client for the twin's moto server; the endpoint must be on the loopback interface.

    Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when set, else dummy ones, so no
    credential lookup ever reaches for an instance metadata service.
    """
    host = urlsplit(endpoint_url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(f"cloudwatch_endpoint_url {endpoint_url!r} is not on 127.0.0.1/localhost")
    import boto3

    from greenlight.aws import client_config

    return boto3.session.Session().client(
        "cloudwatch",
        endpoint_url=endpoint_url,
        region_name=region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
        config=client_config(retries={"mode": "standard", "max_attempts": 2}),
    )


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
