"""The report of one validation: every measurement of every check, the verdict and the deployment, as versioned JSON.

One shape for every place a validation runs (a hook function, `greenlight check`, the local twin), described by
docs/report.schema.json (`schema_version` 1). It is built from a run as `RunResult.to_dict()` gives it, so a run
read back from the hooks' structured log records (the twin) makes the same report as the run itself.

Everything in a report that came from a server, a spec or AWS is text that other tools will show: it is bounded
in length and passed through greenlight.probe.redact, so no secret value, token or credential in a URL survives.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

from greenlight import __version__
from greenlight.engine.model import RunResult
from greenlight.probe import redact

SCHEMA_VERSION = 1
SCHEMA_ID = "https://github.com/greenlight/greenlight/docs/report.schema.json"
# A report must stay small enough to upload within the time left after answering the controller and to open
# in a browser: beyond these, the oldest measurements of a check are dropped (and counted as dropped).
MAX_MEASUREMENTS = 500
MAX_TEXT = 2000
MAX_ASSERTIONS = 10
SOURCES = ("lambda", "cli", "twin")
_BAD = ("FAIL", "ERROR", "INCONCLUSIVE")


def iso(epoch: float) -> str:
    """Epoch seconds as an ISO 8601 UTC timestamp with milliseconds."""
    when = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Masker:
    """Masks known secrets, secret-looking query parameters and auth headers in every string of a value."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = [s for s in secrets if s]

    def text(self, value: Any, limit: int = MAX_TEXT) -> str:
        out = redact.mask_text(redact.text(str(value), self.secrets))
        return out if len(out) <= limit else out[: limit - 1] + "…"

    def url(self, value: Any) -> str | None:
        if not value:
            return None
        return self.text(redact.url(str(value)))

    def value(self, value: Any, depth: int = 0) -> Any:
        """A JSON-safe, masked copy of `value` (nested details of a measurement), bounded in depth."""
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        if depth >= 6:
            return self.text(json.dumps(value, default=str), 200)
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in list(value.items())[:50]:
                name = str(key)
                secret = redact.is_secret_header(name) or name.lower() in redact.SECRET_HEADERS
                out[self.text(name, 200)] = redact.MASK if secret else self.value(item, depth + 1)
            return out
        if isinstance(value, list | tuple):
            return [self.value(item, depth + 1) for item in value[:50]]
        return self.text(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _measurement(m: Mapping[str, Any], mask: _Masker) -> dict[str, Any]:
    at = _number(m.get("at"))
    out: dict[str, Any] = {
        "at": iso(at) if at is not None else None,
        "t": round(at, 3) if at is not None else None,
        "latency_ms": round(_number(m.get("duration_ms")) or 0.0, 1),
        "status": str(m.get("status", "ERROR")),
        "reason": mask.text(m.get("reason", "")),
    }
    if m.get("details"):
        out["details"] = mask.value(m["details"])
    return out


def _check(c: Mapping[str, Any], mask: _Masker) -> dict[str, Any]:
    measured = list(c.get("measurements") or ())
    dropped = max(0, len(measured) - MAX_MEASUREMENTS)
    counts = c.get("counts") or {}
    status = "PAUSED" if c.get("paused") else str(c.get("status", "ERROR"))
    return {
        "name": mask.text(c.get("name", "?"), 200),
        "kind": mask.text(c.get("kind", "?"), 200),
        "status": status,
        "reason": mask.text(c.get("reason", "")),
        "dry_run": bool(c.get("dry_run")),
        "counts": {k: int(counts.get(k) or 0) for k in ("PASS", "FAIL", "ERROR")},
        "measurements_dropped": dropped,
        "measurements": [_measurement(m, mask) for m in measured[dropped:]],
    }


def _failing(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The checks that did not pass, worst first, each with the distinct reasons its bad measurements gave."""
    order = {"FAIL": 0, "ERROR": 1, "INCONCLUSIVE": 2}
    out = []
    for c in checks:
        if c["status"] not in _BAD:
            continue
        assertions: list[str] = []
        for m in reversed(c["measurements"]):
            if m["status"] != "PASS" and m["reason"] not in assertions:
                assertions.append(m["reason"])
            if len(assertions) >= MAX_ASSERTIONS:
                break
        out.append(
            {
                "check": c["name"],
                "kind": c["kind"],
                "status": c["status"],
                "dry_run": c["dry_run"],
                "reason": c["reason"],
                "assertions": assertions or [c["reason"]],
            }
        )
    out.sort(key=lambda f: (f["dry_run"], order.get(f["status"], 3)))
    return out


def _side(side: Any) -> dict[str, Any] | None:
    return dict(side) if isinstance(side, Mapping) else None


def _revision(arn: Any) -> str | None:
    """`name:3` from a task definition ARN, or the last part of a service revision ARN."""
    if not isinstance(arn, str) or not arn:
        return None
    return arn.rsplit("/", 1)[-1]


def _deployment(
    context: Mapping[str, Any], given: Mapping[str, Any] | None, controller: str | None, mask: _Masker
) -> dict[str, Any]:
    found = context.get("discovered") or context.get("deployment") or {}
    found = found if isinstance(found, Mapping) else {}
    green, blue = _side(found.get("green")) or {}, _side(found.get("blue")) or {}
    weights = context.get("traffic_weights") if isinstance(context.get("traffic_weights"), Mapping) else None
    out: dict[str, Any] = {
        "controller": controller or found.get("controller") or context.get("controller"),
        "id": found.get("deployment_id")
        or context.get("deployment_id")
        or context.get("service_deployment_arn")
        or None,
        "application": found.get("application"),
        "deployment_group": found.get("deployment_group"),
        "cluster": found.get("cluster"),
        "service": found.get("service") or context.get("service_arn"),
        "stage": context.get("stage"),
        "round": context.get("round"),
        "rollback": context.get("rollback"),
        "versions": {
            "green": _revision(
                green.get("task_definition_arn")
                or green.get("service_revision_arn")
                or context.get("target_revision_arn")
            ),
            "blue": _revision(blue.get("task_definition_arn") or blue.get("service_revision_arn")),
        },
        "weights": {
            "green": green.get("traffic_weight"),
            "blue": blue.get("traffic_weight"),
            **(
                {"test": dict(weights.get("test") or {}), "production": dict(weights.get("production") or {})}
                if weights
                else {}
            ),
        },
    }
    for key, value in (given or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    cleaned = mask.value(out)
    assert isinstance(cleaned, dict)
    return cleaned


def build(
    run: Mapping[str, Any],
    *,
    source: str,
    controller: str | None = None,
    deployment: Mapping[str, Any] | None = None,
    secrets: Iterable[str] = (),
    created_at: float | None = None,
) -> dict[str, Any]:
    """The report of a run given as `RunResult.to_dict()`; `deployment` adds to (or overrides) what the run's
    context says of the deployment; every value in `secrets` is masked wherever it appears."""
    if source not in SOURCES:
        raise ValueError(f"report source {source!r} is not one of {', '.join(SOURCES)}")
    mask = _Masker(secrets)
    context = run.get("context") or {}
    context = context if isinstance(context, Mapping) else {}
    checks = [_check(c, mask) for c in run.get("checks") or ()]
    controller = controller or (deployment or {}).get("controller") or context.get("controller")
    duration = _number(run.get("duration_ms"))
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "generator": f"greenlight {__version__}",
        "created_at": iso(created_at if created_at is not None else time.time()),
        "source": source,
        "controller": controller,
        "hook": mask.text(run.get("hook", "?"), 200),
        "verdict": str(run.get("verdict", "ERROR")),
        "succeeded": bool(run.get("succeeded")),
        "reason": mask.text(run.get("reason", "")),
        "dry_run": bool(run.get("dry_run")),
        "duration_ms": round(duration, 1) if duration is not None else None,
        "deployment": _deployment(context, deployment, controller, mask),
        "target": {"test_url": mask.url(context.get("test_url")), "prod_url": mask.url(context.get("prod_url"))},
        "failing": _failing(checks),
        "checks": checks,
        # What the hook's load section sent and got (greenlight.load); null when the hook had none.
        "load": mask.value(run["load"]) if isinstance(run.get("load"), Mapping) else None,
    }


def from_result(result: RunResult, **kwargs: Any) -> dict[str, Any]:
    """The report of a run the engine just returned (see `build` for the keyword arguments)."""
    return build(result.to_dict(), **kwargs)


def dumps(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


class ReportFileError(ValueError):
    """A file is not a greenlight report this version can read; the message names the file and the problem."""


def loads(text: str, *, where: str = "report") -> dict[str, Any]:
    """A report read back (`greenlight report`): checked for its schema version and, field by field, for the types
    of everything the renderers read (docs/report.schema.json), so a damaged or hand-made file gets an error that
    names the field, never a crash half-way through rendering."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ReportFileError(f"{where}: not a report: JSON nested too deeply") from None
    except ValueError as exc:
        raise ReportFileError(f"{where}: not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ReportFileError(f"{where}: expected a JSON object, got {type(value).__name__}")
    version = value.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ReportFileError(
            f"{where}: schema_version {version!r} is not {SCHEMA_VERSION}, the version this greenlight reads"
        )
    missing = [k for k in ("hook", "verdict", "checks", "failing", "deployment") if k not in value]
    if missing:
        raise ReportFileError(f"{where}: missing field(s) {', '.join(missing)}")
    problems: list[str] = []
    _shape(value, _REPORT, "", problems)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ReportFileError(f"{where}: not a valid report: {shown}")
    return value


# What the renderers read, with the types docs/report.schema.json gives it: field -> (types, required); a dict
# instead of types is a nested object, a list of one dict an array of such objects. None in types allows null.
_Shape = Mapping[str, Any]
_NUMBER = (int, float)
_MEASUREMENT: _Shape = {
    "status": ((str,), True),
    "reason": ((str,), True),
    "latency_ms": ((*_NUMBER, None), True),
    "at": ((str, None), False),
    "t": ((*_NUMBER, None), False),
    "details": ((dict, None), False),
}
_CHECK: _Shape = {
    "name": ((str,), True),
    "kind": ((str,), True),
    "status": ((str,), True),
    "reason": ((str,), True),
    "dry_run": ((bool, None), False),
    "counts": ({"PASS": ((int,), False), "FAIL": ((int,), False), "ERROR": ((int,), False)}, False),
    "measurements_dropped": ((int, None), False),
    "measurements": ([_MEASUREMENT], True),
}
_FAILING: _Shape = {
    "check": ((str,), True),
    "kind": ((str,), True),
    "status": ((str,), True),
    "reason": ((str,), True),
    "dry_run": ((bool, None), False),
    "assertions": ((list, None), False),
}
_REPORT: _Shape = {
    "hook": ((str,), True),
    "verdict": ((str,), True),
    "reason": ((str, None), False),
    "succeeded": ((bool, None), False),
    "dry_run": ((bool, None), False),
    "generator": ((str, None), False),
    "source": ((str, None), False),
    "controller": ((str, None), False),
    "created_at": ((str, None), False),
    "duration_ms": ((*_NUMBER, None), False),
    "target": ({"test_url": ((str, None), False), "prod_url": ((str, None), False)}, False),
    "deployment": (
        {
            "id": ((str, None), False),
            "application": ((str, None), False),
            "deployment_group": ((str, None), False),
            "service": ((str, None), False),
            "versions": ({"green": ((str, None), False), "blue": ((str, None), False)}, False),
            "weights": ({"green": ((*_NUMBER, None), False), "blue": ((*_NUMBER, None), False)}, False),
        },
        True,
    ),
    "failing": ([_FAILING], True),
    "checks": ([_CHECK], True),
}


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else f"the {type(value).__name__} {value!r}"[:60]
    )


def _shape(value: Mapping[str, Any], shape: _Shape, path: str, problems: list[str]) -> None:
    """Append to `problems` each field of `value` whose type is not what `shape` says (path.to.field: why)."""
    for name, (kind, required) in shape.items():
        where = f"{path}{name}"
        if name not in value:
            if required:
                problems.append(f"{where} is missing")
            continue
        item = value[name]
        if isinstance(kind, dict):
            if item is None and not required:
                continue
            if not isinstance(item, dict):
                problems.append(f"{where}: expected an object, got {_type_name(item)}")
            else:
                _shape(item, kind, f"{where}.", problems)
        elif isinstance(kind, list):
            if not isinstance(item, list):
                problems.append(f"{where}: expected an array, got {_type_name(item)}")
                continue
            for i, element in enumerate(item):
                if not isinstance(element, dict):
                    problems.append(f"{where}[{i}]: expected an object, got {_type_name(element)}")
                else:
                    _shape(element, kind[0], f"{where}[{i}].", problems)
                if len(problems) > 5:
                    return
        elif not _is(item, kind):
            problems.append(f"{where}: expected {_expected(kind)}, got {_type_name(item)}")


def _expected(kinds: tuple[Any, ...]) -> str:
    names = {str: "a string", bool: "a boolean", dict: "an object", None: "null"}
    said = ["a finite number" if float in kinds else "an integer"] if int in kinds else []
    return " or ".join(said + [names[k] for k in kinds if k in names])


def _is(value: Any, kinds: tuple[Any, ...]) -> bool:
    if value is None:
        return None in kinds
    if isinstance(value, bool):  # JSON's true/false are not numbers
        return bool in kinds
    if isinstance(value, float) and float in kinds:
        return math.isfinite(value)
    if isinstance(value, int) and int in kinds:
        return abs(value) < 2**63  # counts and times; a 400-digit number overflows every float the renderers make
    return any(k is not None and isinstance(value, k) for k in kinds)
