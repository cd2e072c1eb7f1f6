"""Load during the test-traffic hooks: requests sent to green open-loop at a fixed rate while its checks run.

Behind the test listener green gets no traffic but the hook's own probes, so metric and alarm checks on it
see no data. A hook's `load` section sends requests through the test listener at `rate` per second while the
hook's checks run, and stops at the verdict (when the checks are decided, or at the run's deadline).

The schedule is open-loop: the i-th request is due at `start + i / rate` whatever the replies do, so a slow
green does not lower the rate it is asked to bear. A request that is due while `concurrency` requests are
already in flight is not sent: it is counted as missed. Every request goes through the bounded HTTP probe
(greenlight.probe.http: wall-clock bound, User-Agent, SSRF vetting, bytes read capped), and its results
(achieved rate, errors by kind, latency quantiles) are what the `load` check kind and the report read.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from greenlight.engine.check import CheckContext
from greenlight.engine.clock import SYSTEM, Clock
from greenlight.engine.deadline import Deadline

if TYPE_CHECKING:
    from greenlight.spec.errors import Problem
    from greenlight.spec.schema import Obj

# Hard bounds, whatever a spec asks: a validation is a check, not a load test.
MAX_RATE = 1000.0  # requests per second
MAX_CONCURRENCY = 256  # requests (and so connections) in flight
MAX_REPLY_BYTES = 64 * 1024  # bytes read of each reply; the rest is left unread
MAX_LATENCIES = 100_000  # latencies kept for the quantiles (1000/s for 100 s)

# The stages where green has a test-traffic route and no production traffic yet (or, under LINEAR/CANARY,
# between traffic steps), so load goes to green alone and nothing of it reaches users.
LOAD_HOOKS: tuple[str, ...] = (
    "AfterAllowTestTraffic",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
)
_WHY_NOT = {
    "BeforeInstall": "green has no tasks yet",
    "AfterInstall": "the test listener does not route to green yet",
    "BeforeAllowTraffic": "CodeDeploy has no traffic steps; send it at AfterAllowTestTraffic",
    "AfterAllowTraffic": "production traffic already goes to green",
    "RECONCILE_SERVICE": "green has no tasks yet",
    "PRE_SCALE_UP": "green has no tasks yet",
    "POST_SCALE_UP": "the test listener does not route to green yet",
    "TEST_TRAFFIC_SHIFT": "test traffic is being moved, not yet on green",
    "POST_PRODUCTION_TRAFFIC_SHIFT": "production traffic already goes to green",
}

# Bounds of one load's requests: what a spec can list, and the weighted cycle built from them before the load starts.
MAX_REQUESTS = 50
MAX_TOTAL_WEIGHT = 1000
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_HEADERS_DOC = 'header -> value, or `{secret: "secretsmanager:NAME[#key]" | "ssm:/name", prefix: "Bearer "}`'


@functools.cache
def load_schema() -> Obj:
    """The schema of one hook's load section (built on first use: the spec's modules import this one)."""
    # The http check's header values (a string or a secret reference), imported late: the kinds import the spec.
    from greenlight.checks.http import HEADER_VALUE, header_problems
    from greenlight.spec.schema import Duration, Field, Int, ListOf, MapOf, Number, Obj, Str, join

    request = Obj(
        {
            "method": Field(Str(choices=METHODS), default="GET"),
            "path": Field(Str(pattern=r"/[^\s]*", pattern_doc="a path starting with /"), default="/"),
            "headers": Field(MapOf(HEADER_VALUE), default=dict, doc=_HEADERS_DOC),
            "body": Field(Str(), doc="the request body"),
            "weight": Field(Int(min=1, max=1000), default=1, doc="how often it is picked, relative to the others"),
        },
        check=lambda body, path, problems: header_problems(body.get("headers"), join(path, "headers"), problems),
    )
    return Obj(
        {
            "rate": Field(Number(min=0.1, max=MAX_RATE), required=True, doc="requests per second"),
            "concurrency": Field(Int(min=1, max=MAX_CONCURRENCY), default=16, doc="most requests in flight"),
            "duration": Field(Duration(min=1, max=3600), doc="longest load; default: until the verdict"),
            "timeout": Field(Duration(min=0.05, max=30), default=5.0, doc="wall-clock bound of one request"),
            "pick": Field(Str(choices=("round_robin", "weighted")), default="round_robin"),
            "requests": Field(
                ListOf(request, min_len=1, max_len=MAX_REQUESTS), default=lambda: [{}], doc="what is sent"
            ),
        },
        check=_weights_problems,
    )


def _weights_problems(body: Mapping[str, Any], path: str, problems: list[Problem]) -> None:
    """The weighted cycle is built before the load starts: its length (the weights' sum) is bounded."""
    from greenlight.spec.errors import Problem
    from greenlight.spec.schema import join

    total = sum(r.get("weight") or 1 for r in body.get("requests") or () if isinstance(r, dict))
    if body.get("pick") == "weighted" and total > MAX_TOTAL_WEIGHT:
        problems.append(
            Problem(
                join(path, "requests"), f"the weights add up to {total}; at most {MAX_TOTAL_WEIGHT} (they are ratios)"
            )
        )


def hook_problems(hook: str, path: str, problems: list[Problem]) -> None:
    """A load section where green has no test traffic of its own is a mistake, named with its reason."""
    from greenlight.spec.errors import Problem

    if hook not in LOAD_HOOKS:
        why = _WHY_NOT.get(hook, "it is not a test-traffic stage")
        problems.append(Problem(path, f"load is sent only at {', '.join(LOAD_HOOKS)}; not at {hook}: {why}"))


@dataclass(frozen=True)
class LoadRequest:
    method: str = "GET"
    path: str = "/"
    headers: Mapping[str, Any] = field(default_factory=dict)
    body: str | None = None
    weight: int = 1


@dataclass(frozen=True)
class LoadSpec:
    """A hook's load section, validated."""

    rate: float
    concurrency: int = 16
    duration: float | None = None
    timeout: float = 5.0
    pick: str = "round_robin"
    requests: tuple[LoadRequest, ...] = (LoadRequest(),)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> LoadSpec:
        reqs = tuple(LoadRequest(**{k: v for k, v in r.items() if v is not None}) for r in body["requests"])
        return cls(body["rate"], body["concurrency"], body.get("duration"), body["timeout"], body["pick"], reqs)

    def order(self) -> list[int]:
        """One cycle of request indexes: each once (round robin) or each `weight` times, spread out (weighted)."""
        if self.pick == "round_robin":
            return list(range(len(self.requests)))
        total = sum(r.weight for r in self.requests)
        # Smooth weighted round robin (as nginx does it): the heaviest is picked most, never in long runs.
        current = [0] * len(self.requests)
        out = []
        for _ in range(total):
            for i, r in enumerate(self.requests):
                current[i] += r.weight
            best = max(range(len(current)), key=lambda i: current[i])
            current[best] -= total
            out.append(best)
        return out


def pace(
    rate: float,
    until: Deadline,
    stop: threading.Event,
    dispatch: Callable[[int], bool],
    clock: Clock = SYSTEM,
    duration: float | None = None,
) -> tuple[int, int]:
    """Call `dispatch(i)` for the i-th request at `start + i / rate`, until `duration`, `until` or `stop`.

    Open-loop: the due time comes from the clock alone. `dispatch` returns False when the request could not
    be sent (no free slot): it is missed, and the schedule goes on. Returns (dispatched, missed).
    """
    start = clock.monotonic()
    end = until.at if duration is None else min(until.at, start + duration)
    sent = missed = 0
    i = 0
    while True:
        due = start + i / rate
        if due >= end:
            break
        wait = due - clock.monotonic()
        if wait > 0 and clock.wait(stop, wait):
            break
        if stop.is_set():
            break
        if dispatch(i):
            sent += 1
        else:
            missed += 1
        i += 1
    return sent, missed


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The q-quantile of sorted values (nearest rank), None when there are none."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class _Tally:
    sent: int = 0
    completed: int = 0
    missed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


class LoadRun:
    """One hook's load while its checks run: `start`, then `snapshot` at any time, then `stop` at the verdict."""

    def __init__(self, spec: LoadSpec, clock: Clock = SYSTEM) -> None:
        self.spec = spec
        self.clock = clock
        self._stop = threading.Event()
        self._lock = threading.Condition()
        self._tally = _Tally()
        self._slots = threading.BoundedSemaphore(spec.concurrency)
        self._pool: ThreadPoolExecutor | None = None
        self._pacer: threading.Thread | None = None
        self._started: float | None = None
        self._ended: float | None = None
        self._secrets: set[str] = set()
        self.error: str | None = None  # why no load was sent (no test listener, a secret that did not resolve)

    def start(self, ctx: CheckContext) -> None:
        """Resolve the requests (secrets included) and start sending; never past `ctx.deadline`."""
        from greenlight.checks.http import allowed_hosts
        from greenlight.probe import redact
        from greenlight.probe.http import Request
        from greenlight.secrets import resolve_headers

        base = ctx.target.test_url
        if not base:
            self.error = "no test listener URL: set target.test_url, or run inside a deployment that has one"
            return
        hosts = allowed_hosts(ctx.target)
        prepared: list[Request] = []
        try:
            for r in self.spec.requests:
                headers, secrets = resolve_headers(r.headers, ctx)
                if ctx.deployment is not None:  # a Service Connect revision's test traffic header
                    headers = {**getattr(ctx.deployment, "test_headers", {}), **headers}
                self._secrets |= secrets
                named = {k.lower() for k, v in r.headers.items() if isinstance(v, Mapping)}
                prepared.append(
                    Request(
                        method=r.method,
                        url=base.rstrip("/") + r.path,
                        headers=headers,
                        body=r.body.encode() if r.body is not None else None,
                        timeout=self.spec.timeout,
                        max_body_bytes=min(ctx.target.max_body_bytes, MAX_REPLY_BYTES),
                        tls=ctx.target.tls,
                        allowed_hosts=hosts,
                        secret_headers=frozenset(named | {k.lower() for k in headers if redact.is_secret_header(k)}),
                    )
                )
        except Exception as exc:
            self.error = redact.text(f"could not prepare the load: {type(exc).__name__}: {exc}", self._secrets)
            return
        order = self.spec.order()
        deadline = ctx.deadline
        self._pool = ThreadPoolExecutor(self.spec.concurrency, thread_name_prefix="greenlight-load")
        self._started = self.clock.monotonic()

        def dispatch(i: int) -> bool:
            if not self._slots.acquire(blocking=False):
                return False
            req = prepared[order[i % len(order)]]
            # Never waits past the run's deadline, so no request outlives the hook's budget.
            bounded = _with_timeout(req, deadline.bound(req.timeout))
            assert self._pool is not None
            with self._lock:
                self._tally.sent += 1
            try:
                self._pool.submit(self._send, bounded)
            except RuntimeError:  # the pool was shut down at the verdict
                self._slots.release()
                return False
            return True

        def pacer() -> None:
            _, missed = pace(self.spec.rate, deadline, self._stop, dispatch, self.clock, self.spec.duration)
            with self._lock:
                self._tally.missed += missed
                self._ended = self.clock.monotonic()

        self._pacer = threading.Thread(target=pacer, name="greenlight-load-pacer", daemon=True)
        self._pacer.start()

    def _send(self, req: Any) -> None:
        from greenlight.probe.http import ProbeError, fetch

        try:
            resp = fetch(req)
        except ProbeError as exc:
            self._record(None, exc.kind)
        except Exception:  # a library's error, not the probe's: still an error of the load
            self._record(None, "internal")
        else:
            # A final 1xx (103 alone) or a status HTTP does not define is no answer: an error like a 5xx.
            kind = None if 200 <= resp.status < 400 else f"http_{resp.status // 100}xx"
            self._record(resp.elapsed_ms, kind, resp.status)
        finally:
            self._slots.release()

    def _record(self, latency_ms: float | None, error: str | None, status: int | None = None) -> None:
        with self._lock:
            t = self._tally
            if status is not None:
                t.statuses[f"{status // 100}xx"] += 1
            if error is None:
                t.completed += 1
            else:
                t.errors[error] += 1
            if latency_ms is not None and len(t.latencies) < MAX_LATENCIES:
                t.latencies.append(latency_ms)
            self._lock.notify_all()

    @property
    def stopped(self) -> bool:
        """Whether the load has stopped sending (its duration or deadline is over, or the verdict is in)."""
        return self._stop.is_set() or self._ended is not None or self.error is not None

    def wait_for_answers(self, answers: int, seconds: float) -> None:
        """Wait up to `seconds` (real time) until at least `answers` requests have been answered."""
        with self._lock:
            t = self._tally
            self._lock.wait_for(lambda: t.completed + sum(t.errors.values()) >= answers, max(seconds, 0.0))

    def stop(self) -> None:
        """Stop sending (at the verdict); requests in flight end by their own bound, which is the deadline's."""
        self._stop.set()
        if self._pacer is not None:
            self._pacer.join(1.0)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            if self._ended is None and self._started is not None:
                self._ended = self.clock.monotonic()

    def snapshot(self) -> dict[str, Any]:
        """The load's results so far: asked and achieved rate, counts, errors by kind, latency quantiles (ms)."""
        with self._lock:
            t = self._tally
            ordered = sorted(t.latencies)
            end = self._ended if self._ended is not None else self.clock.monotonic()
            elapsed = (end - self._started) if self._started is not None else 0.0
            errors = sum(t.errors.values())
            answered = t.completed + errors
            return {
                "rate": self.spec.rate,
                "concurrency": self.spec.concurrency,
                "duration_s": round(elapsed, 3),
                "achieved_rate": round(t.sent / elapsed, 2) if elapsed > 0 else 0.0,
                "sent": t.sent,
                "completed": t.completed,
                "errors": dict(sorted(t.errors.items())),
                "error_count": errors,
                "error_rate": round(errors / answered, 4) if answered else None,
                "missed": t.missed,
                "statuses": dict(sorted(t.statuses.items())),
                "latency_ms": {
                    name: (round(v, 1) if v is not None else None)
                    for name, v in (
                        ("p50", quantile(ordered, 0.5)),
                        ("p90", quantile(ordered, 0.9)),
                        ("p99", quantile(ordered, 0.99)),
                    )
                },
                **({"error": self.error} if self.error else {}),
            }


def _with_timeout(req: Any, timeout: float) -> Any:
    from dataclasses import replace

    return replace(req, timeout=max(timeout, 0.001))
