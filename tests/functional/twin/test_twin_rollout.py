"""How the twin moves production traffic (`Rollout`): ECS's LINEAR and CANARY steps and their limits.

Ranges and defaults from the botocore ecs model: LinearConfiguration.stepPercent (3.0-100.0, multiples of
0.1, default 10), stepBakeTimeInMinutes (0-1440, default 6); CanaryConfiguration.canaryPercent (0.1-100.0,
default 5), canaryBakeTimeInMinutes (0-1440, default 10).
"""

from __future__ import annotations

import pytest

from greenlight_twin.stage import Rollout


@pytest.mark.parametrize(
    ("rollout", "steps", "bake"),
    [
        (Rollout(), [100.0], 0.0),
        (Rollout("LINEAR"), [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0], 6.0),
        (Rollout("linear", 34.0, 0.5), [34.0, 68.0, 100.0], 0.5),
        (Rollout("LINEAR", 33.3), [33.3, 66.6, 99.9, 100.0], 6.0),
        (Rollout("CANARY"), [5.0, 100.0], 10.0),
        (Rollout("CANARY", 100.0, 0), [100.0], 0.0),
    ],
)
def test_rollout_steps_and_bake(rollout: Rollout, steps: list[float], bake: float) -> None:
    checked = rollout.checked()
    assert checked.steps() == steps
    assert checked.bake == bake


def test_rollout_configuration_is_ecs_deployment_configuration() -> None:
    assert Rollout("LINEAR", 20.0, 3).checked().configuration() == {
        "strategy": "LINEAR",
        "linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": 3},
    }
    assert Rollout("CANARY", 2.5, 0).checked().configuration() == {
        "strategy": "CANARY",
        "canaryConfiguration": {"canaryPercent": 2.5, "canaryBakeTimeInMinutes": 0},
    }


@pytest.mark.parametrize(
    ("rollout", "message"),
    [
        (Rollout("ROLLING"), "strategy 'ROLLING' is not one of BLUE_GREEN, LINEAR, CANARY"),
        (Rollout("LINEAR", 2.0), "LINEAR stepPercent 2.0 must be from 3 to 100"),
        (Rollout("CANARY", 0.05), "CANARY canaryPercent 0.05 must be from 0.1 to 100"),
        (Rollout("LINEAR", 10.25), "must be a multiple of 0.1"),
        (Rollout("CANARY", 5.0, -1), "bake time -1 must be from 0 to 1440"),
        (Rollout("BLUE_GREEN", 50.0), "needs LINEAR or CANARY"),
    ],
)
def test_rollout_bad_settings_are_named(rollout: Rollout, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        rollout.checked()
