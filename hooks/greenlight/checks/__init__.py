"""Check kinds. Each kind is a module here; it is imported only when a spec uses it.

A new kind is one module whose Check subclass declares its kind, schema, needs, destinations and IAM
actions (see greenlight.engine.check), plus its line in KINDS; then regenerate docs/checks.md with
`python -m greenlight_cli.checks_doc`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from greenlight.engine.check import Check, CheckContext, Destination, Needs, Target, TlsSettings

# kind name in the spec -> "module:Class"; the import happens only when a spec uses the kind.
KINDS: dict[str, str] = {
    "http": "greenlight.checks.http:HttpCheck",
    "target_health": "greenlight.checks.target_health:TargetHealthCheck",
    "task_set": "greenlight.checks.task_set:TaskSetCheck",
    "alarms": "greenlight.checks.alarms:AlarmsCheck",
    "metric": "greenlight.checks.metric:MetricCheck",
    "per_target": "greenlight.checks.per_target:PerTargetCheck",
    "identity": "greenlight.checks.identity:IdentityCheck",
    "compare": "greenlight.checks.compare:CompareCheck",
    "metric_compare": "greenlight.checks.metric_compare:MetricCompareCheck",
    "load": "greenlight.checks.load:LoadCheck",
}


def check_class(kind: str) -> type[Check]:
    """The class implementing a check kind (imported on first use)."""
    module, _, attr = KINDS[kind].partition(":")
    cls: type[Check] = getattr(importlib.import_module(module), attr)
    return cls


def requirements(check_specs: Iterable[Any]) -> Needs:
    """What a hook's checks (spec CheckSpecs) need from discovery, from each kind's `needs(body)`."""
    total = Needs()
    for cs in check_specs:
        total = total | check_class(cs.kind).needs(cs.body)
    return total


def iam_actions(kinds: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Each kind's `iam_actions` (every registered kind when none are named; this imports them all)."""
    return {kind: check_class(kind).iam_actions for kind in (KINDS if kinds is None else kinds)}


__all__ = [
    "KINDS",
    "Check",
    "CheckContext",
    "Destination",
    "Needs",
    "Target",
    "TlsSettings",
    "check_class",
    "iam_actions",
    "requirements",
]
