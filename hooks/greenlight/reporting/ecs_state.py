"""The progress of an ECS native hook validation, carried between invocations in `hookDetails`.

ECS calls a hook that answered IN_PROGRESS again after `callBackDelay`, with the `hookDetails` it
returned merged into the event. greenlight keeps everything it needs to resume under one key,
`hookDetails["greenlight"]`, so the keys a service definition sets for its own use pass untouched:

    {"v": 1,                                  # the format's version
     "stage": "POST_TEST_TRAFFIC_SHIFT",      # whose progress this is ...
     "resourceArn": "arn:aws:ecs:...:service-deployment/...",
     "targetServiceRevisionArn": "arn:aws:ecs:...:service-revision/...",
     "w": [100.0, null],                      # ... at which weights of the target (test, production; null:
                                              #     the stage's map is empty)
     "executionId": "...",                    # for the logs only: never compared
     "round": 3,                              # invocations so far, this one included
     "started_at": 1767225600.0,              # epoch seconds of the first invocation
     "checks": {"home": {"t": [9, 7, 2, 0, 1, 0],   # taken, passes, fails, errors, pass run, error run
                         "n": 1767225642.5,          # epoch seconds of the next measurement
                         "b": "status 503, ..."}}}   # the last bad reason (truncated)

A final answer (SUCCEEDED or FAILED) carries `verdict`, `status` (the hookStatus returned) and
`reason`, and `results` ({check: {"s": status, "t": tally}}) instead of `checks`. The encoded value is bounded by
MAX_STATE_BYTES (see `encode`).

Whose progress it is rests on what AWS guarantees: runtime hookDetails persist only between invocations of
the same hook within one deployment. So a state is keyed on the service deployment (the event's
`resourceArn`), the stage, the target revision and the target's weights (which tell the traffic steps of the
recurring PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT apart under LINEAR and CANARY), never on
`executionId`: AWS does not document whether it repeats between callbacks. Progress written for another
deployment, stage, target revision or traffic step is not resumed: the validation starts afresh.

The service's own hookDetails may be any JSON value (the API types it as a document; CloudFormation takes a
string). Only an object has room for this key beside the service's own keys; greenlight never rewrites the
service's value (see greenlight.handlers.ecs for what it does when the value is not an object).

A value under the key that this code did not write (wrong types, unknown
version, inconsistent counts) is an error, never silently ignored: it names the field that is wrong.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from greenlight.engine.model import CheckState, Tally

STATE_KEY = "greenlight"
STATE_VERSION = 1
# Bound of the encoded value (compact JSON, UTF-8). ECS documents no limit of its own for hookDetails;
# this keeps the answer small whatever the spec: about 100 checks with 20-character names fit.
MAX_STATE_BYTES = 8 * 1024
# Reasons are shortened step by step until the value fits; 0 drops them.
REASON_LIMITS: tuple[int, ...] = (200, 80, 20, 0)
FINAL_REASON_LIMIT = 1000
# A started_at this far in the future is not a clock difference between two Lambda hosts.
CLOCK_SKEW = 300.0

FINAL_STATUSES = ("SUCCEEDED", "FAILED")

_PATH = f"hookDetails.{STATE_KEY}"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 3, 60, 60, 8, 8


def _shown(value: Any) -> str:
    """A value as an error quotes it: short, and never recursing through nesting (a forged state may be deep)."""
    return _REPR.repr(value)


class StateError(ValueError):
    """hookDetails carries a greenlight value this function cannot read; the message names the field."""


class StateTooLargeError(ValueError):
    """The progress does not fit in MAX_STATE_BYTES even without reasons."""


@dataclass(frozen=True)
class Identity:
    """Whose progress a state is: one stage of one service deployment, for one target revision and traffic step."""

    stage: str
    deployment_arn: str  # the event's resourceArn: the service deployment
    target_revision_arn: str
    weights: tuple[float | None, float | None] = (None, None)  # the target's (test, production) weight
    execution_id: str = ""  # written for the logs, never compared: AWS does not document that it repeats

    def differs(self, other: Identity) -> str | None:
        """Why `other` is not the same validation (None: it is)."""
        for label, mine, theirs in (
            ("stage", self.stage, other.stage),
            ("resourceArn", self.deployment_arn, other.deployment_arn),
            ("targetServiceRevisionArn", self.target_revision_arn, other.target_revision_arn),
            ("traffic weights", self.weights, other.weights),
        ):
            if mine != theirs:
                return f"{label} {theirs!r} is not {mine!r}"
        return None


@dataclass(frozen=True)
class HookState:
    """What one invocation hands the next: each check's tally, when it measures next, its last bad reason."""

    identity: Identity
    round: int
    started_at: float
    checks: Mapping[str, CheckState] = field(default_factory=dict)
    verdict: str | None = None  # set in a final answer: the run's verdict, or SKIPPED
    status: str | None = None  # the hookStatus that final answer returned: SUCCEEDED or FAILED
    reason: str | None = None
    # In a final answer: check -> {"s": status, "t": tally list}, what each check came to.
    results: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.verdict is not None


# --- encoding ------------------------------------------------------------------------------------


def _truncate(text: str | None, limit: int) -> str | None:
    if text is None or limit <= 0:
        return None
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _tally_list(t: Tally) -> list[int]:
    return [t.taken, t.passes, t.fails, t.errors, t.pass_run, t.error_run]


def _weights(identity: Identity) -> list[float | None]:
    return [None if w is None else float(w) for w in identity.weights]


def _head(state: HookState) -> dict[str, Any]:
    i = state.identity
    doc: dict[str, Any] = {"v": STATE_VERSION}
    # An answer to an event that could not be read has no identity: its fields are left out.
    for key, value in (
        ("stage", i.stage),
        ("resourceArn", i.deployment_arn),
        ("targetServiceRevisionArn", i.target_revision_arn),
        ("executionId", i.execution_id),
    ):
        if value:
            doc[key] = value
    doc["w"] = _weights(i)
    doc["round"] = state.round
    doc["started_at"] = round(state.started_at, 3)
    return doc


def _progress_document(state: HookState, reason_limit: int) -> dict[str, Any]:
    doc = _head(state)
    checks: dict[str, Any] = {}
    for name, cs in state.checks.items():
        entry: dict[str, Any] = {"t": _tally_list(cs.tally), "n": round(float(cs.next_at), 3)}
        bad = _truncate(cs.last_bad, reason_limit)
        if bad:
            entry["b"] = bad
        checks[name] = entry
    doc["checks"] = checks
    return doc


def _final_document(state: HookState, reason_limit: int, with_results: bool) -> dict[str, Any]:
    doc = _head(state)
    doc["verdict"] = state.verdict
    doc["status"] = state.status
    doc["reason"] = _truncate(state.reason or "", reason_limit) or ""
    if with_results and state.results:
        doc["results"] = {name: dict(entry) for name, entry in state.results.items()}
    return doc


def size_of(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON (how the bound is measured)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def encode(state: HookState, *, limit: int = MAX_STATE_BYTES) -> dict[str, Any]:
    """The JSON value to put under hookDetails["greenlight"], at most `limit` bytes.

    Progress: reasons are shortened (200, 80, 20 characters, then dropped) until the value fits; if it
    still does not fit, StateTooLargeError. A final answer always fits, because a verdict must always be
    returned: it drops its per-check results, then shortens its reason, then keeps only verdict and reason.
    """
    if state.final:
        for reason_limit, with_results in ((FINAL_REASON_LIMIT, True), (FINAL_REASON_LIMIT, False), (200, False)):
            doc = _final_document(state, reason_limit, with_results)
            if size_of(doc) <= limit:
                return doc
        reason = _truncate(state.reason or "", 200) or ""
        return {"v": STATE_VERSION, "verdict": state.verdict, "status": state.status, "reason": reason}
    doc = {}
    for reason_limit in REASON_LIMITS:
        doc = _progress_document(state, reason_limit)
        if size_of(doc) <= limit:
            return doc
    raise StateTooLargeError(
        f"the progress of {len(state.checks)} check(s) needs {size_of(doc)} bytes of hookDetails even without "
        f"reasons, more than the {limit}-byte bound; give this stage fewer checks or shorter check names"
    )


def ensure_room(
    identity: Identity, round_number: int, started_at: float, checks: Iterable[tuple[str, int]], *, now: float
) -> None:
    """Refuse up front checks ((name, count) pairs) whose progress could never be carried to the next invocation.

    Raises StateTooLargeError when the largest progress they could need does not fit MAX_STATE_BYTES.
    """
    largest = {name: CheckState(Tally(*([count] * 6)), now + 3600.0) for name, count in checks}
    encode(HookState(identity, round_number, started_at, largest))


# --- decoding ------------------------------------------------------------------------------------


def _expect(cond: bool, path: str, message: str) -> None:
    if not cond:
        raise StateError(f"{path}: {message}")


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _string(doc: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = doc.get(key)
    if value is None and not required:
        return None
    _expect(
        isinstance(value, str) and bool(value), f"{_PATH}.{key}", f"expected a non-empty string, got {_shown(value)}"
    )
    return str(value)


def _number(value: Any, path: str) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    _expect(ok, path, f"expected a number, got {_type_name(value)} {_shown(value)}")
    return float(value)


def _count(value: Any, path: str) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    _expect(ok, path, f"expected an integer >= 0, got {_shown(value)}")
    return int(value)


def _tally(value: Any, path: str) -> Tally:
    _expect(
        isinstance(value, list) and len(value) == 6,
        path,
        "expected [taken, passes, fails, errors, pass_run, error_run] (6 integers), got " + _shown(value),
    )
    taken, passes, fails, errors, pass_run, error_run = (_count(v, f"{path}[{i}]") for i, v in enumerate(value))
    _expect(passes + fails + errors == taken, path, f"passes+fails+errors ({passes + fails + errors}) != taken {taken}")
    _expect(pass_run <= passes and error_run <= errors, path, "a run in a row is longer than its total")
    _expect(not (pass_run and error_run), path, "passes and errors cannot both be the last measurements")
    return Tally(taken, passes, fails, errors, pass_run, error_run)


def _checks(value: Any) -> dict[str, CheckState]:
    path = f"{_PATH}.checks"
    _expect(isinstance(value, dict), path, f"expected an object of check name -> progress, got {_type_name(value)}")
    out: dict[str, CheckState] = {}
    for name, entry in value.items():
        where = f"{path}.{name}"
        _expect(isinstance(entry, dict), where, f"expected an object with 't' and 'n', got {_type_name(entry)}")
        unknown = sorted(set(entry) - {"t", "n", "b"})
        _expect(not unknown, where, f"unknown field(s) {', '.join(unknown)}")
        _expect("t" in entry and "n" in entry, where, "missing 't' (tally) or 'n' (next measurement)")
        bad = entry.get("b")
        _expect(bad is None or isinstance(bad, str), f"{where}.b", f"expected a string, got {_type_name(bad)}")
        out[name] = CheckState(_tally(entry["t"], f"{where}.t"), _number(entry["n"], f"{where}.n"), bad)
    return out


def result_entry(status: str, tally: Tally | None) -> dict[str, Any]:
    """What a final answer says of one check: its status and, when it measured, its tally."""
    entry: dict[str, Any] = {"s": status}
    if tally is not None:
        entry["t"] = _tally_list(tally)
    return entry


def _results(value: Any) -> dict[str, dict[str, Any]]:
    path = f"{_PATH}.results"
    _expect(isinstance(value, dict), path, f"expected an object of check name -> result, got {_type_name(value)}")
    out: dict[str, dict[str, Any]] = {}
    for name, entry in value.items():
        where = f"{path}.{name}"
        _expect(isinstance(entry, dict), where, f"expected an object with 's' and 't', got {_type_name(entry)}")
        status = entry.get("s")
        _expect(isinstance(status, str), f"{where}.s", f"expected a status string, got {_type_name(status)}")
        tally = _tally(entry["t"], f"{where}.t") if "t" in entry else None
        out[name] = result_entry(str(status), tally)
    return out


def _weight_pair(value: Any) -> tuple[float | None, float | None]:
    path = f"{_PATH}.w"
    _expect(
        isinstance(value, list) and len(value) == 2, path, f"expected [test, production] weights, got {_shown(value)}"
    )
    pair = [None if v is None else _number(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return pair[0], pair[1]


def decode(hook_details: Mapping[str, Any] | None, *, now: float) -> HookState | None:
    """The state under hookDetails["greenlight"]; None when there is none; StateError when it is unreadable."""
    if not hook_details or STATE_KEY not in hook_details:
        return None
    doc = hook_details[STATE_KEY]
    _expect(isinstance(doc, dict), _PATH, f"expected an object written by greenlight, got {_type_name(doc)}")
    version = doc.get("v")
    _expect(
        version == STATE_VERSION and not isinstance(version, bool),
        f"{_PATH}.v",
        f"unknown state version {_shown(version)} (this function reads version {STATE_VERSION})",
    )
    verdict = doc.get("verdict")
    final = verdict is not None
    if final:
        _expect(isinstance(verdict, str), f"{_PATH}.verdict", f"expected a string, got {_type_name(verdict)}")
        status = doc.get("status")
        _expect(status in FINAL_STATUSES, f"{_PATH}.status", f"expected SUCCEEDED or FAILED, got {_shown(status)}")
        # A final answer may come from an invocation that could not read its event: no identity then.
        stage = _string(doc, "stage", required=False) or ""
        deployment = _string(doc, "resourceArn", required=False) or ""
        target = _string(doc, "targetServiceRevisionArn", required=False) or ""
    else:
        stage = _string(doc, "stage") or ""
        deployment = _string(doc, "resourceArn") or ""
        target = _string(doc, "targetServiceRevisionArn") or ""
    execution = _string(doc, "executionId", required=False) or ""
    _expect(final or "w" in doc, f"{_PATH}.w", "missing")
    weights = _weight_pair(doc["w"]) if "w" in doc else (None, None)
    rounds = doc.get("round", 0 if final else None)
    _expect(
        isinstance(rounds, int) and not isinstance(rounds, bool) and rounds >= (0 if final else 1),
        f"{_PATH}.round",
        f"expected an integer >= 1, got {_shown(rounds)}",
    )
    started_at = _number(doc.get("started_at", now if final else None), f"{_PATH}.started_at")
    _expect(
        started_at <= now + CLOCK_SKEW,
        f"{_PATH}.started_at",
        f"{started_at:.0f} is {started_at - now:.0f}s in the future",
    )
    identity = Identity(stage, deployment, target, weights, execution)
    if final:
        reason = doc.get("reason", "")
        _expect(isinstance(reason, str), f"{_PATH}.reason", f"expected a string, got {_type_name(reason)}")
        results = _results(doc["results"]) if "results" in doc else {}
        return HookState(identity, int(rounds), started_at, {}, str(verdict), str(status), str(reason), results)
    _expect("checks" in doc, f"{_PATH}.checks", "missing")
    return HookState(identity, int(rounds), started_at, _checks(doc["checks"]))
