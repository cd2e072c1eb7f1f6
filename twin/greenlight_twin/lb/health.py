"""Target groups at run time: registered targets, their ALB health states, the health checker, routing.

States and reason codes are ALB's (DescribeTargetHealth):
  initial   Elb.InitialHealthChecking        until `healthy_threshold` checks in a row pass
  healthy   -
  unhealthy Target.ResponseCodeMismatch      the check answered a code the matcher does not accept
            Target.Timeout                   no answer within the health check timeout
            Target.FailedHealthChecks        connection refused or reset, or a malformed answer
  draining  Target.DeregistrationInProgress  deregistered, waiting for requests in flight
  unused    Target.NotInUse                  the group is not forwarded to by any listener
            Target.NotRegistered             (only when asked about a target that is not registered)
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from greenlight_twin.lb.config import HealthCheck, Target, TargetGroupConfig, check_target
from greenlight_twin.lb.tracker import Tracker

logger = logging.getLogger(__name__)

INITIAL = "initial"
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
DRAINING = "draining"
UNUSED = "unused"

_INITIAL = ("Elb.InitialHealthChecking", "Initial health checks in progress")
_DRAINING = ("Target.DeregistrationInProgress", "Target deregistration is in progress")
_NOT_IN_USE = ("Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
_NOT_REGISTERED = ("Target.NotRegistered", "Target is not registered to the target group")
_TIMEOUT = ("Target.Timeout", "Request timed out")
_FAILED = ("Target.FailedHealthChecks", "Health checks failed")
_HEALTH_CHECK_AGENT = "ELB-HealthChecker/2.0"
_MAX_HEALTH_BODY = 64 * 1024


@dataclass(frozen=True)
class TargetHealth:
    """One target's health as DescribeTargetHealth reports it."""

    host: str
    port: int
    state: str
    reason: str | None = None
    description: str | None = None
    health_check_port: int | None = None

    @property
    def answer(self) -> tuple[str, str | None, str | None]:
        """(state, reason, description): what a DescribeTargetHealth provider in the moto twin returns."""
        return (self.state, self.reason, self.description)

    def as_aws(self) -> dict[str, Any]:
        """The `TargetHealthDescriptions[]` entry of an elbv2 DescribeTargetHealth response."""
        health: dict[str, str] = {"State": self.state}
        if self.reason:
            health["Reason"] = self.reason
        if self.description:
            health["Description"] = self.description
        return {
            "Target": {"Id": self.host, "Port": self.port},
            "HealthCheckPort": str(self.health_check_port or self.port),
            "TargetHealth": health,
        }


@dataclass(frozen=True)
class HealthChange:
    """A target changed state (or reason); `previous` is None for a newly registered target."""

    group: str
    previous: TargetHealth | None
    current: TargetHealth


HealthListener = Callable[[HealthChange], None]


class _Target:
    """Mutable state of one registered target; guarded by its group's lock."""

    def __init__(self, host: str, port: int, state: str, reason: tuple[str, str] | None) -> None:
        self.host = host
        self.port = port
        self.state = state
        self.reason: str | None = reason[0] if reason else None
        self.description: str | None = reason[1] if reason else None
        self.successes = 0  # consecutive
        self.failures = 0  # consecutive
        self.in_flight = 0
        self.next_check = 0.0
        self.checking = False
        self.drain_deadline: float | None = None

    @property
    def key(self) -> Target:
        return (self.host, self.port)


class TargetGroup:
    """A target group's targets, health checker and round-robin; owned by one LoadBalancer."""

    def __init__(
        self,
        config: TargetGroupConfig,
        tracker: Tracker,
        notify: Callable[[list[HealthChange]], None],
    ) -> None:
        self.config = config
        self.name = config.name
        self.health_check: HealthCheck = config.health_check
        self._tracker = tracker
        self._notify = notify
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._targets: dict[Target, _Target] = {}
        self._rr = 0
        self._in_use = False
        self._stopping = False
        self._requests: dict[Target, int] = {}  # requests sent to each target, ever (for snapshots)

    # --- registration ----------------------------------------------------------------------------

    def register(self, targets: Iterable[Target]) -> None:
        """Adds targets (ALB RegisterTargets); a registered one is left alone, a draining one restarts."""
        keys = [check_target(f"target group {self.name!r}", t) for t in targets]
        changes: list[HealthChange] = []
        with self._lock:
            for key in keys:
                current = self._targets.get(key)
                if current is not None and current.state != DRAINING:
                    continue
                previous = self._view(current) if current is not None else None
                state, reason = (INITIAL, _INITIAL) if self._in_use else (UNUSED, _NOT_IN_USE)
                target = _Target(key[0], key[1], state, reason)
                if current is not None:
                    target.in_flight = current.in_flight
                self._targets[key] = target
                changes.append(HealthChange(self.name, previous, self._view(target)))
        self._wake.set()
        self._notify(changes)

    def deregister(self, targets: Iterable[Target]) -> None:
        """Starts draining targets (ALB DeregisterTargets); unknown ones are ignored, as ALB does.

        A target with no request in flight leaves at once; one with requests in flight drains until
        they end or the deregistration delay passes, whichever comes first.
        """
        keys = [check_target(f"target group {self.name!r}", t) for t in targets]
        changes: list[HealthChange] = []
        now = time.monotonic()
        with self._lock:
            for key in keys:
                target = self._targets.get(key)
                if target is None or target.state == DRAINING:
                    continue
                changes.append(self._set(target, DRAINING, _DRAINING))
                target.drain_deadline = now + self.config.deregistration_delay
                if target.in_flight == 0:
                    changes.append(self._remove(target))
        self._wake.set()
        self._notify(changes)

    def set_in_use(self, in_use: bool) -> None:
        """A group no listener forwards to is `unused` and not checked, as on ALB."""
        changes: list[HealthChange] = []
        with self._lock:
            if in_use == self._in_use:
                return
            self._in_use = in_use
            for target in self._targets.values():
                if target.state == DRAINING:
                    continue
                target.successes = target.failures = 0
                target.next_check = 0.0
                if in_use:
                    changes.append(self._set(target, INITIAL, _INITIAL))
                else:
                    changes.append(self._set(target, UNUSED, _NOT_IN_USE))
        self._wake.set()
        self._notify(changes)

    # --- views -----------------------------------------------------------------------------------

    def snapshot(self, targets: Iterable[Target] | None = None) -> list[TargetHealth]:
        with self._lock:
            if targets is None:
                return [self._view(t) for t in self._targets.values()]
            views = []
            for key in (check_target(f"target group {self.name!r}", t) for t in targets):
                target = self._targets.get(key)
                if target is None:
                    reason, description = _NOT_REGISTERED
                    views.append(TargetHealth(key[0], key[1], UNUSED, reason, description, self._hc_port(key)))
                else:
                    views.append(self._view(target))
            return views

    def counts(self) -> tuple[int, int]:
        """(healthy, unhealthy) targets, for HealthyHostCount / UnHealthyHostCount."""
        with self._lock:
            states = [t.state for t in self._targets.values()]
        return states.count(HEALTHY), states.count(UNHEALTHY)

    def request_counts(self) -> dict[Target, int]:
        with self._lock:
            return dict(self._requests)

    @property
    def in_use(self) -> bool:
        return self._in_use

    # --- routing ---------------------------------------------------------------------------------

    def acquire(self) -> Target | None:
        """The next target for a request, round-robin over the healthy ones; None if none is registered.

        With no healthy target the group fails open to all its registered targets (initial and
        unhealthy alike), as ALB does. Draining targets get no new requests. Pair with release().
        """
        with self._lock:
            live = [t for t in self._targets.values() if t.state != DRAINING]
            if not live:
                return None
            pool = [t for t in live if t.state == HEALTHY] or live
            target = pool[self._rr % len(pool)]
            self._rr += 1
            target.in_flight += 1
            self._requests[target.key] = self._requests.get(target.key, 0) + 1
            return target.key

    def release(self, key: Target) -> None:
        changes: list[HealthChange] = []
        with self._lock:
            target = self._targets.get(key)
            if target is None:
                return
            target.in_flight = max(0, target.in_flight - 1)
            if target.state == DRAINING and target.in_flight == 0:
                changes.append(self._remove(target))
        self._notify(changes)

    # --- health checking -------------------------------------------------------------------------

    def run_checker(self) -> None:
        """The group's health checker thread: starts each due check in its own short-lived thread.

        Each target keeps its own cadence, so one that hangs until the timeout does not delay the
        checks of the others.
        """
        interval = self.health_check.interval
        while not self._stopping:
            self._wake.clear()
            now = time.monotonic()
            due: list[_Target] = []
            changes: list[HealthChange] = []
            wait = interval
            with self._lock:
                for target in list(self._targets.values()):
                    if target.state == DRAINING:
                        assert target.drain_deadline is not None
                        if target.drain_deadline <= now:
                            changes.append(self._remove(target))
                        else:
                            wait = min(wait, target.drain_deadline - now)
                    elif self._in_use and not target.checking:
                        if target.next_check <= now:
                            target.checking = True
                            due.append(target)
                        else:
                            wait = min(wait, target.next_check - now)
            self._notify(changes)
            for target in due:
                started = self._tracker.start_thread(f"{self.name}:check", self._check, target)
                if started is None:
                    return
            self._wake.wait(max(wait, 0.005))

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _check(self, target: _Target) -> None:
        started = time.monotonic()
        passed, reason = self._probe(target.host, target.port)
        changes: list[HealthChange] = []
        with self._lock:
            target.checking = False
            target.next_check = started + self.health_check.interval
            if self._targets.get(target.key) is target and target.state not in (DRAINING, UNUSED):
                change = self._apply(target, passed, reason)
                if change is not None:
                    changes.append(change)
        self._wake.set()
        self._notify(changes)

    def _apply(self, target: _Target, passed: bool, reason: tuple[str, str] | None) -> HealthChange | None:
        hc = self.health_check
        if passed:
            target.failures = 0
            target.successes += 1
            if target.state != HEALTHY and target.successes >= hc.healthy_threshold:
                return self._set(target, HEALTHY, None)
            return None
        target.successes = 0
        target.failures += 1
        if target.state == UNHEALTHY:
            # Keep the reason current (e.g. a 500 that became a timeout), as DescribeTargetHealth does.
            return self._set(target, UNHEALTHY, reason) if (target.reason, target.description) != reason else None
        if target.failures >= hc.unhealthy_threshold:
            return self._set(target, UNHEALTHY, reason)
        return None

    def _probe(self, host: str, port: int) -> tuple[bool, tuple[str, str] | None]:
        hc = self.health_check
        check_port = hc.port or port
        if hc.protocol == "TCP":
            return self._probe_tcp(host, check_port)
        conn = http.client.HTTPConnection(host, check_port, timeout=hc.effective_timeout)
        sock = None
        try:
            conn.connect()
            sock = conn.sock
            if sock is None or not self._tracker.add_socket(sock):
                return False, _FAILED
            conn.request(
                "GET",
                hc.path,
                headers={"Host": f"{host}:{check_port}", "User-Agent": _HEALTH_CHECK_AGENT, "Connection": "close"},
            )
            response = conn.getresponse()
            response.read(_MAX_HEALTH_BODY)
        except TimeoutError:
            return False, _TIMEOUT
        except (OSError, http.client.HTTPException):
            return False, _FAILED
        finally:
            self._tracker.discard_socket(sock)
            conn.close()
        if hc.matches(response.status):
            return True, None
        return False, ("Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{response.status}]")

    def _probe_tcp(self, host: str, port: int) -> tuple[bool, tuple[str, str] | None]:
        """An NLB's TCP check: healthy when the connection opens within the timeout."""
        try:
            sock = socket.create_connection((host, port), timeout=self.health_check.effective_timeout)
        except TimeoutError:
            return False, _TIMEOUT
        except OSError:
            return False, _FAILED
        sock.close()
        return True, None

    # --- helpers (lock held) ---------------------------------------------------------------------

    def _set(self, target: _Target, state: str, reason: tuple[str, str] | None) -> HealthChange:
        previous = self._view(target)
        target.state = state
        target.reason, target.description = reason or (None, None)
        return HealthChange(self.name, previous, self._view(target))

    def _remove(self, target: _Target) -> HealthChange:
        previous = self._view(target)
        del self._targets[target.key]
        reason, description = _NOT_REGISTERED
        current = TargetHealth(target.host, target.port, UNUSED, reason, description, self._hc_port(target.key))
        return HealthChange(self.name, previous, current)

    def _view(self, target: _Target) -> TargetHealth:
        return TargetHealth(
            target.host, target.port, target.state, target.reason, target.description, self._hc_port(target.key)
        )

    def _hc_port(self, key: Target) -> int:
        return self.health_check.port or key[1]
