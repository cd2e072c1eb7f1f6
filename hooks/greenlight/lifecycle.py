"""The lifecycle vocabulary of both deployment controllers, and how their names map onto each other.

One spec serves both controllers: its hooks may be keyed by CodeDeploy hook names or by ECS stage
names, and a hook of one controller runs the checks given under its own name, or else those given
under the other controller's equivalent name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

# CodeDeploy ECS hooks, in the order CodeDeploy runs them.
CODEDEPLOY_HOOKS: tuple[str, ...] = (
    "BeforeInstall",
    "AfterInstall",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)

# ECS native blue/green lifecycle stages, in the order ECS runs them.
ECS_STAGES: tuple[str, ...] = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)

# CodeDeploy hook -> the ECS stage where the same thing is true of green. BeforeAllowTraffic runs "before
# traffic is shifted" (CodeDeploy AppSpec hooks); ECS's PRE_PRODUCTION_TRAFFIC_SHIFT "occurs before the
# production traffic shift", while during PRODUCTION_TRAFFIC_SHIFT production "is shifting" to green already
# (ECS Developer Guide, "Lifecycle hooks for Amazon ECS service deployments").
CODEDEPLOY_TO_ECS: Mapping[str, str] = {
    "BeforeInstall": "PRE_SCALE_UP",
    "AfterInstall": "POST_SCALE_UP",
    "AfterAllowTestTraffic": "POST_TEST_TRAFFIC_SHIFT",
    "BeforeAllowTraffic": "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "AfterAllowTraffic": "POST_PRODUCTION_TRAFFIC_SHIFT",
}
ECS_TO_CODEDEPLOY: Mapping[str, str] = {v: k for k, v in CODEDEPLOY_TO_ECS.items()}

# Stages ECS runs again, with the target revision at weight 0, while rolling back.
TRAFFIC_SHIFT_STAGES: frozenset[str] = frozenset({"TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"})

# Stages that recur at every traffic step under the LINEAR and CANARY strategies: one validation per step.
RECURRING_STAGES: frozenset[str] = frozenset({"PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"})

ALL_HOOK_NAMES: tuple[str, ...] = CODEDEPLOY_HOOKS + ECS_STAGES

T = TypeVar("T")


def equivalent(name: str) -> str | None:
    """The other controller's name for the same moment, if there is one."""
    return CODEDEPLOY_TO_ECS.get(name) or ECS_TO_CODEDEPLOY.get(name)


def checks_for(hooks: Mapping[str, Sequence[T]], name: str) -> tuple[str | None, tuple[T, ...]]:
    """(the spec key used, its checks) for hook or stage `name`: its own key first, then the equivalent."""
    if hooks.get(name):
        return name, tuple(hooks[name])
    other = equivalent(name)
    if other and hooks.get(other):
        return other, tuple(hooks[other])
    return None, ()
