"""The lifecycle vocabulary of both deployment controllers, and how their names map onto each other."""

from __future__ import annotations

# CodeDeploy ECS hooks, in the order CodeDeploy runs them.
CODEDEPLOY_HOOKS: tuple[str, ...] = (
    "BeforeInstall",
    "AfterInstall",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)
