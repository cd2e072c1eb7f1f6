"""How a deployment on the twin ended: each hook's (or stage's) outcome with its checks, and the deployment's own.

Plain data: a deployment's outcome travels as JSON from `greenlight twin up` to `greenlight twin deploy`
(`to_dict` / `from_dict`) and reads the same on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from greenlight import lifecycle
from greenlight_twin.progress import Event

__all__ = [
    "FAILED",
    "HOOK_FAILED",
    "OTHER_CAUSE",
    "STOPPED",
    "SUCCEEDED",
    "TIMED_OUT",
    "CheckOutcome",
    "DeploymentOutcome",
    "HookOutcome",
    "short_id",
]

# A CodeDeploy hook's statuses, and the twin's own for a hook that never reported or was stopped.
SUCCEEDED, FAILED, TIMED_OUT, STOPPED = "Succeeded", "Failed", "TimedOut", "Stopped"
# Why a deployment was not promoted (DeploymentOutcome.rollback_cause): a greenlight hook failed (it reported
# or answered failure, or never answered in time), or something else did (green never started, no hook ran,
# the deployment was stopped, the twin failed).
HOOK_FAILED, OTHER_CAUSE = "hook-failed", "other"


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result as the hook function logged it."""

    name: str
    kind: str
    status: str
    reason: str
    counts: Mapping[str, int] = field(default_factory=dict)
    measurements: tuple[Mapping[str, Any], ...] = ()
    dry_run: bool = False

    @classmethod
    def from_log(cls, check: Mapping[str, Any]) -> CheckOutcome:
        return cls(
            name=str(check.get("name", "?")),
            kind=str(check.get("kind", "?")),
            status="PAUSED" if check.get("paused") else str(check.get("status", "?")),
            reason=str(check.get("reason", "")),
            counts=dict(check.get("counts") or {}),
            measurements=tuple(dict(m) for m in check.get("measurements") or ()),
            dry_run=bool(check.get("dry_run")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "counts": dict(self.counts),
            "measurements": [dict(m) for m in self.measurements],
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class HookOutcome:
    """One hook (CodeDeploy) or stage (ECS): what the function answered or reported, and its checks.

    `status`: CodeDeploy Succeeded / Failed / TimedOut (no report within the hook timeout) / Stopped;
    ECS SUCCEEDED / FAILED / TimedOut / Stopped.
    """

    hook: str
    function: str
    status: str
    reason: str
    duration: float
    invocations: int = 1
    checks: tuple[CheckOutcome, ...] = ()
    verdict: str | None = None
    errors: tuple[str, ...] = ()
    log_path: str | None = None
    rollback: bool = False  # an ECS traffic-shift stage run again while rolling back

    @property
    def passed(self) -> bool:
        return self.status in (SUCCEEDED, "SUCCEEDED")

    def check(self, name: str) -> CheckOutcome:
        for check in self.checks:
            if check.name == name:
                return check
        known = ", ".join(c.name for c in self.checks) or "none"
        raise KeyError(f"hook {self.hook} ran no check {name!r}; it ran: {known}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "function": self.function,
            "status": self.status,
            "reason": self.reason,
            "duration": round(self.duration, 3),
            "invocations": self.invocations,
            "verdict": self.verdict,
            "checks": [c.to_dict() for c in self.checks],
            "errors": list(self.errors),
            "log_path": self.log_path,
            "rollback": self.rollback,
        }


@dataclass(frozen=True)
class DeploymentOutcome:
    """How a deployment ended. `promoted`: green serves production now; `rolled_back`: blue still does."""

    controller: str
    deployment_id: str
    version: str
    from_version: str
    status: str  # CodeDeploy: Succeeded/Failed/Stopped; ECS: SUCCESSFUL/ROLLBACK_SUCCESSFUL/ROLLBACK_FAILED/...
    promoted: bool
    rolled_back: bool
    reason: str
    failed_step: str | None = None
    error_code: str | None = None
    hooks: tuple[HookOutcome, ...] = ()
    duration: float = 0.0
    green_targets: tuple[str, ...] = ()  # "ip:port" of each green task, in task order
    events: tuple[Event, ...] = ()

    def hook(self, name: str) -> HookOutcome:
        """The hook (or stage) outcome of `name`; for an ECS stage run twice, the first run."""
        for hook in self.hooks:
            if hook.hook == name:
                return hook
        other = lifecycle.equivalent(name)
        for hook in self.hooks:
            if hook.hook == other:
                return hook
        raise KeyError(f"deployment {self.deployment_id} ran no hook {name!r}; it ran: {self._hook_names()}")

    def _hook_names(self) -> str:
        return ", ".join(h.hook for h in self.hooks) or "none"

    def check(self, name: str) -> CheckOutcome:
        """A check's outcome (from the last hook that ran it)."""
        for hook in reversed(self.hooks):
            for check in hook.checks:
                if check.name == name:
                    return check
        ran = sorted({c.name for h in self.hooks for c in h.checks})
        raise KeyError(f"deployment {self.deployment_id} ran no check {name!r}; it ran: {', '.join(ran) or 'none'}")

    @property
    def failed_hook(self) -> HookOutcome | None:
        """The hook whose failure stopped the deployment: the first that ran and did not pass (not one run again
        while rolling back, nor one stopped with the deployment); None when promoted or when no hook failed."""
        if self.promoted:
            return None
        for hook in self.hooks:
            if not hook.passed and not hook.rollback and hook.status not in (STOPPED, "STOPPED"):
                return hook
        return None

    @property
    def rollback_cause(self) -> str | None:
        """None when promoted; HOOK_FAILED when a greenlight hook failed; OTHER_CAUSE when green was not promoted
        for another reason (it never started, no hook ran, the deployment was stopped)."""
        if self.promoted:
            return None
        return HOOK_FAILED if self.failed_hook is not None else OTHER_CAUSE

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for h in self.hooks for c in h.checks if c.status not in ("PASS", "PAUSED") and not c.dry_run]

    def to_dict(self) -> dict[str, Any]:
        return {
            "controller": self.controller,
            "deployment_id": self.deployment_id,
            "version": self.version,
            "from_version": self.from_version,
            "status": self.status,
            "promoted": self.promoted,
            "rolled_back": self.rolled_back,
            "rollback_cause": self.rollback_cause,
            "reason": self.reason,
            "failed_step": self.failed_step,
            "error_code": self.error_code,
            "duration": round(self.duration, 3),
            "green_targets": list(self.green_targets),
            "hooks": [h.to_dict() for h in self.hooks],
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> DeploymentOutcome:
        hooks = []
        for hook in value.get("hooks") or ():
            checks = tuple(
                CheckOutcome(**{**c, "measurements": tuple(c.get("measurements") or ())}) for c in hook["checks"]
            )
            hooks.append(HookOutcome(**{**hook, "checks": checks, "errors": tuple(hook.get("errors") or ())}))
        skip = ("hooks", "events", "green_targets")
        fields = {k: value[k] for k in cls.__dataclass_fields__ if k in value and k not in skip}
        return cls(**fields, hooks=tuple(hooks), green_targets=tuple(value.get("green_targets") or ()))

    def summary(self) -> str:
        """A few lines: the outcome, each hook, and the failing checks with their reasons."""
        head = "promoted" if self.promoted else ("rolled back" if self.rolled_back else "not promoted")
        lines = [
            f"deployment {short_id(self.deployment_id)} ({self.controller}) {self.from_version} -> {self.version}: "
            f"{self.status}, {head} in {self.duration:.1f} s"
        ]
        if not self.promoted:
            failed = self.failed_hook
            cause = f"hook {failed.hook} failed" if failed is not None else "no greenlight hook failed"
            lines.append(f"  why: {self.reason} ({cause})")
        for hook in self.hooks:
            again = " (rollback)" if hook.rollback else ""
            lines.append(f"  {hook.hook}{again}: {hook.status} in {hook.duration:.1f} s")
            for check in hook.checks:
                lines.append(f"    {check.status:<5} {check.name} ({check.kind}): {check.reason}")
        return "\n".join(lines)


def short_id(deployment_id: str) -> str:
    """A CodeDeploy id as it is; an ECS service deployment ARN by its last part."""
    return deployment_id.rsplit("/", 1)[-1]
