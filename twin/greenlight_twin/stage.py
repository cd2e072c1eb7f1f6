"""What a deployment player may use of the twin (`Stage`), what serves production (`Live`), what a release brings.

A player (greenlight_twin.players) plays one deployment as CodeDeploy or ECS would. It sees the twin
only through a `Stage`: the world's names and its AWS (boto3 clients of the twin's moto), the load
balancer's weights and targets, green's tasks to start and the promotion to make, the hook
functions to invoke. Nothing else of the twin is within its reach.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenlight_twin.aws import World
    from greenlight_twin.functions import LambdaProcess
    from greenlight_twin.hooks import HookFunctions
    from greenlight_twin.lb import LoadBalancer
    from greenlight_twin.services import ServiceSide

__all__ = ["GreenRelease", "Live", "Stage"]


@dataclass(frozen=True)
class GreenRelease:
    """What a deployment brings: green's version, its tasks, and their settings (fault switches)."""

    version: str
    env: Mapping[str, str] = field(default_factory=dict)
    task_env: tuple[Mapping[str, str], ...] = ()
    tasks: int | None = None  # None: as many as blue


@dataclass
class Live:
    """What serves production now: changes with each deployment that succeeds."""

    side: ServiceSide
    target_group: str  # name
    target_group_arn: str
    idle_group: str
    idle_group_arn: str
    task_definition_arn: str
    task_set_id: str | None = None  # CodeDeploy
    task_set_arn: str | None = None
    revision_arn: str | None = None  # ECS native

    @property
    def version(self) -> str:
        return self.side.version

    def promoted(
        self,
        side: ServiceSide,
        task_definition_arn: str,
        *,
        task_set_id: str | None = None,
        task_set_arn: str | None = None,
        revision_arn: str | None = None,
    ) -> Live:
        """What serves production once `side`, started in the idle group, has taken over: the groups swap."""
        return Live(
            side=side,
            target_group=self.idle_group,
            target_group_arn=self.idle_group_arn,
            idle_group=self.target_group,
            idle_group_arn=self.target_group_arn,
            task_definition_arn=task_definition_arn,
            task_set_id=task_set_id,
            task_set_arn=task_set_arn,
            revision_arn=revision_arn,
        )


class Stage:
    """The twin as one deployment's player sees it; the twin builds one per deployment."""

    def __init__(
        self,
        *,
        controller: str,
        world: World,
        live: Live,
        client: Callable[[str], Any],
        lb: LoadBalancer,
        functions: HookFunctions,
        new_side: Callable[[GreenRelease], ServiceSide],
        promote: Callable[[Live], None],
    ) -> None:
        self.controller = controller
        self.world = world
        self.live = live
        self._client = client
        self._lb = lb
        self._functions = functions
        self._new_side = new_side
        self._promote = promote

    # --- the world's AWS -------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client of the twin's AWS (moto, fake credentials)."""
        return self._client(service)

    # --- the load balancer -----------------------------------------------------------------------

    def weights(self, listener: str) -> dict[str, int]:
        """The forward weights of `listener` ("prod" or "test") by target group name."""
        return self._lb.weights(listener)

    def set_weights(self, listener: str, weights: Mapping[str, int]) -> None:
        self._lb.set_weights(listener, dict(weights))

    def listener_port(self, listener: str) -> int:
        return self._lb.port(listener)

    def register_targets(self, group: str, targets: Sequence[tuple[str, int]]) -> None:
        self._lb.register_targets(group, list(targets))

    def deregister_targets(self, group: str, targets: Sequence[tuple[str, int]]) -> None:
        self._lb.deregister_targets(group, list(targets))

    # --- the service's tasks ---------------------------------------------------------------------

    def green_side(self, release: GreenRelease) -> ServiceSide:
        """Green's tasks for `release`, not started yet (the player starts and stops them)."""
        return self._new_side(release)

    def promote(self, live: Live) -> None:
        """Records what serves production after a successful deployment."""
        self.live = live
        self._promote(live)

    # --- the hook functions ----------------------------------------------------------------------

    @property
    def function_timeout(self) -> int:
        """The hook functions' Timeout, in seconds."""
        return self._functions.function_timeout

    def hook_function_name(self, hook: str) -> str:
        return self._functions.name_for(hook)

    def hook_function(self, hook: str) -> LambdaProcess:
        """The running function serving `hook` (a CodeDeploy hook or an ECS stage)."""
        return self._functions.process_for(hook)

    def restart_hook_function(self, hook: str) -> LambdaProcess:
        """A fresh emulator for `hook`'s function, when an invocation is abandoned."""
        return self._functions.restart(hook)
