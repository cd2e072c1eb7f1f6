"""The twin tells "a greenlight hook failed" from "green never started, or no hook ran".

`--expect rolled-back` (and `outcome.rollback_cause == "hook-failed"` in the pytest fixture) must pass only when a
hook failed: a spec that could never reject a build must not look as if it had, just because the deployment
failed for another reason. Outcomes travel as JSON from `twin up` to `twin deploy`, so each one is checked after
that round trip, as `greenlight twin deploy` reads it.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenlight_twin.cli import EXPECTATIONS, _verdict
from greenlight_twin.outcome import HOOK_FAILED, OTHER_CAUSE, DeploymentOutcome, HookOutcome


def hook(name: str, status: str, *, rollback: bool = False) -> HookOutcome:
    return HookOutcome(
        hook=name, function="CodeDeployHook_greenlight", status=status, reason="", duration=1.0, rollback=rollback
    )


def outcome(
    status: str,
    *,
    promoted: bool,
    hooks: tuple[HookOutcome, ...] = (),
    step: str | None = None,
    code: str | None = None,
    controller: str = "CODE_DEPLOY",
) -> DeploymentOutcome:
    made = DeploymentOutcome(
        controller=controller,
        deployment_id="d-ABCDEFGHI",
        version="2.0.0",
        from_version="1.0.0",
        status=status,
        promoted=promoted,
        rolled_back=not promoted,
        reason="why",
        failed_step=step,
        error_code=code,
        hooks=hooks,
    )
    return DeploymentOutcome.from_dict(made.to_dict())  # as `twin deploy` reads it


SCENARIOS: dict[str, tuple[DeploymentOutcome, str | None]] = {
    "promoted": (outcome("Succeeded", promoted=True, hooks=(hook("AfterAllowTestTraffic", "Succeeded"),)), None),
    "hook reported Failed": (
        outcome(
            "Failed",
            promoted=False,
            hooks=(hook("AfterInstall", "Succeeded"), hook("AfterAllowTestTraffic", "Failed")),
            step="AfterAllowTestTraffic",
            code="HOOK_EXECUTION_FAILURE",
        ),
        HOOK_FAILED,
    ),
    "hook never reported": (
        outcome(
            "Failed",
            promoted=False,
            hooks=(hook("AfterAllowTestTraffic", "TimedOut"),),
            step="AfterAllowTestTraffic",
            code="HOOK_EXECUTION_FAILURE",
        ),
        HOOK_FAILED,
    ),
    "ECS stage FAILED, then the rollback's stage": (
        outcome(
            "ROLLBACK_SUCCESSFUL",
            promoted=False,
            controller="ECS",
            hooks=(
                hook("POST_TEST_TRAFFIC_SHIFT", "FAILED"),
                hook("PRODUCTION_TRAFFIC_SHIFT", "SUCCEEDED", rollback=True),
            ),
            step="POST_TEST_TRAFFIC_SHIFT",
            code="HOOK_FAILED",
        ),
        HOOK_FAILED,
    ),
    "green never started": (
        outcome("Failed", promoted=False, step="Install", code="ECS_UPDATE_ERROR"),
        OTHER_CAUSE,
    ),
    "no hook ran, the twin failed": (
        outcome("Failed", promoted=False, step="twin", code="INTERNAL_ERROR"),
        OTHER_CAUSE,
    ),
    "stopped while a hook ran": (
        outcome(
            "Stopped",
            promoted=False,
            hooks=(hook("AfterAllowTestTraffic", "Stopped"),),
            step="AfterAllowTestTraffic",
            code="MANUAL_STOP",
        ),
        OTHER_CAUSE,
    ),
    "ECS rolled back with only the rollback's stage": (
        outcome(
            "ROLLBACK_SUCCESSFUL",
            promoted=False,
            controller="ECS",
            hooks=(hook("PRODUCTION_TRAFFIC_SHIFT", "FAILED", rollback=True),),
            step="POST_SCALE_UP",
            code="ECS_UPDATE_ERROR",
        ),
        OTHER_CAUSE,
    ),
}
EXIT_FOR = {
    None: {"promoted": 0, "rolled-back": 1, "rolled-back-other": 1, "any": 0},
    HOOK_FAILED: {"promoted": 1, "rolled-back": 0, "rolled-back-other": 1, "any": 0},
    OTHER_CAUSE: {"promoted": 1, "rolled-back": 1, "rolled-back-other": 0, "any": 0},
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_twin_outcome_cause_tells_a_failed_hook_from_everything_else(name: str) -> None:
    # GIVEN how a deployment ended
    ended, cause = SCENARIOS[name]
    # WHEN the outcome is read and each --expect is asked of it
    exits = {expect: _verdict(ended, expect) for expect in EXPECTATIONS}
    # THEN the cause is said, in the outcome, its JSON and its summary, and only the right expectation exits 0
    assert ended.rollback_cause == cause
    assert ended.to_dict()["rollback_cause"] == cause
    assert exits == EXIT_FOR[cause]
    if cause == HOOK_FAILED:
        assert ended.failed_hook is not None and f"hook {ended.failed_hook.hook} failed" in ended.summary()
    elif cause == OTHER_CAUSE:
        assert ended.failed_hook is None and "no greenlight hook failed" in ended.summary()


STATUSES = ["Succeeded", "Failed", "TimedOut", "Stopped", "SUCCEEDED", "FAILED", "STOPPED"]


@given(
    st.lists(st.tuples(st.sampled_from(STATUSES), st.booleans()), max_size=6),
    st.booleans(),
)
def test_twin_outcome_cause_property_hook_failed_iff_a_forward_hook_did_not_pass(
    hooks: list[tuple[str, bool]], promoted: bool
) -> None:
    # GIVEN any hooks (some run again while rolling back) and either ending
    made = outcome("X", promoted=promoted, hooks=tuple(hook(f"H{i}", s, rollback=r) for i, (s, r) in enumerate(hooks)))
    # WHEN its cause is asked
    cause: Any = made.rollback_cause
    # THEN "hook-failed" exactly when a hook of the forward run ended Failed, FAILED or TimedOut
    failed = any(s in ("Failed", "FAILED", "TimedOut") and not r for s, r in hooks)
    assert cause == (None if promoted else HOOK_FAILED if failed else OTHER_CAUSE)
    assert _verdict(made, "rolled-back") == (0 if cause == HOOK_FAILED else 1)
