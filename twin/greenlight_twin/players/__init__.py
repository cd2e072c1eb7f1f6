"""Deployment players: one deployment played as CodeDeploy (`codedeploy`) or ECS native blue/green (`ecs`) would.

A player gets a `Stage` (greenlight_twin.stage), never the twin itself; `base` holds what both share.
"""

from __future__ import annotations

from greenlight_twin.players.base import Halt, Player, hooks_to_run
from greenlight_twin.players.codedeploy import CodeDeployPlayer
from greenlight_twin.players.ecs import EcsPlayer

__all__ = ["CodeDeployPlayer", "EcsPlayer", "Halt", "Player", "hooks_to_run", "player_for"]


def player_for(controller: str) -> type[Player]:
    """The player of a deployment controller ("CODE_DEPLOY" or "ECS")."""
    return CodeDeployPlayer if controller == "CODE_DEPLOY" else EcsPlayer
