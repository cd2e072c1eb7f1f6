"""Check kinds. Each kind is a module here; it is imported only when a spec uses it."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from greenlight.engine.check import Check, CheckContext, Needs, Target, TlsSettings

# kind name in the spec -> "module:Class"; the import happens only when a spec uses the kind.
KINDS: dict[str, str] = {
    "http": "greenlight.checks.http:HttpCheck",
    "target_health": "greenlight.checks.target_health:TargetHealthCheck",
    "task_set": "greenlight.checks.task_set:TaskSetCheck",
    "alarms": "greenlight.checks.alarms:AlarmsCheck",
    "metric": "greenlight.checks.metric:MetricCheck",
    "per_target": "greenlight.checks.per_target:PerTargetCheck",
    "identity": "greenlight.checks.identity:IdentityCheck",
}


def check_class(kind: str) -> type[Check]:
    """The class implementing a check kind (imported on first use)."""
    module, _, attr = KINDS[kind].partition(":")
    cls: type[Check] = getattr(importlib.import_module(module), attr)
    return cls


def requirements(check_specs: Iterable[Any]) -> Needs:
    """What a hook's checks (spec CheckSpecs) need from discovery, from each kind's `needs(body)` classmethod."""
    total = Needs()
    for cs in check_specs:
        needs = getattr(check_class(cs.kind), "needs", None)
        if callable(needs):
            total = total | needs(cs.body)
    return total


__all__ = ["KINDS", "Check", "CheckContext", "Needs", "Target", "TlsSettings", "check_class", "requirements"]
