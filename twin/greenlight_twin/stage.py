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

__all__ = ["STRATEGIES", "GreenRelease", "Live", "Rollout", "Stage"]

STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")
# AWS's defaults (botocore ecs model, LinearConfiguration / CanaryConfiguration): a 10% step with 6 minutes
# of bake time, a 5% canary with 10; the twin plays those minutes as seconds unless told otherwise.
_DEFAULT_STEP_PERCENT, _DEFAULT_STEP_BAKE = 10.0, 6.0
_DEFAULT_CANARY_PERCENT, _DEFAULT_CANARY_BAKE = 5.0, 10.0


@dataclass(frozen=True)
class Rollout:
    """How production traffic moves to green: all at once (BLUE_GREEN), in equal steps (LINEAR), or a canary first.

    ECS's deploymentConfiguration (botocore ecs model): LINEAR shifts `stepPercent` (3.0-100.0, in 0.1
    steps, default 10) and waits `stepBakeTimeInMinutes` (0-1440, default 6) between steps; CANARY shifts
    `canaryPercent` (0.1-100.0, default 5), waits `canaryBakeTimeInMinutes` (0-1440, default 10), then
    the rest. `bake` is the twin's wait between steps in seconds (None: AWS's default minutes, played as
    seconds); no bake follows the last step.
    """

    strategy: str = "BLUE_GREEN"
    percent: float | None = None  # LINEAR: stepPercent; CANARY: canaryPercent
    bake: float | None = None

    def checked(self) -> Rollout:
        """This rollout with its strategy's defaults filled in; ValueError naming what is wrong."""
        strategy = str(self.strategy).upper().replace("-", "_")
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy {self.strategy!r} is not one of {', '.join(STRATEGIES)}")
        if strategy == "BLUE_GREEN":
            if self.percent is not None:
                raise ValueError(
                    "BLUE_GREEN shifts all traffic at once: a step or canary percent needs LINEAR or CANARY"
                )
            return Rollout(strategy, None, 0.0)
        linear = strategy == "LINEAR"
        name, low = ("stepPercent", 3.0) if linear else ("canaryPercent", 0.1)
        percent = (
            self.percent if self.percent is not None else (_DEFAULT_STEP_PERCENT if linear else _DEFAULT_CANARY_PERCENT)
        )
        if isinstance(percent, bool) or not isinstance(percent, int | float) or not low <= percent <= 100.0:
            raise ValueError(f"{strategy} {name} {percent!r} must be from {low:g} to 100")
        if abs(round(percent * 10) - percent * 10) > 1e-6:
            raise ValueError(f"{strategy} {name} {percent!r} must be a multiple of 0.1")
        bake = self.bake if self.bake is not None else (_DEFAULT_STEP_BAKE if linear else _DEFAULT_CANARY_BAKE)
        if isinstance(bake, bool) or not isinstance(bake, int | float) or not 0 <= bake <= 1440:
            raise ValueError(f"{strategy} bake time {bake!r} must be from 0 to 1440 seconds (AWS: minutes)")
        return Rollout(strategy, round(float(percent), 1), float(bake))

    def steps(self) -> list[float]:
        """Green's production weight after each traffic step, in percent; the last is 100."""
        if self.strategy == "BLUE_GREEN" or self.percent is None:
            return [100.0]
        if self.strategy == "CANARY":
            return [self.percent, 100.0] if self.percent < 100.0 else [100.0]
        steps, k = [], 1
        while round(k * self.percent, 1) < 100.0:
            steps.append(round(k * self.percent, 1))
            k += 1
        return [*steps, 100.0]

    def configuration(self) -> dict[str, object]:
        """The strategy's part of the service's deploymentConfiguration, as DescribeServiceDeployments shows it."""
        minutes = round(self.bake or 0.0)  # the twin plays the minutes as seconds
        if self.strategy == "LINEAR":
            return {
                "strategy": "LINEAR",
                "linearConfiguration": {"stepPercent": self.percent, "stepBakeTimeInMinutes": minutes},
            }
        if self.strategy == "CANARY":
            return {
                "strategy": "CANARY",
                "canaryConfiguration": {"canaryPercent": self.percent, "canaryBakeTimeInMinutes": minutes},
            }
        return {"strategy": "BLUE_GREEN"}


@dataclass(frozen=True)
class GreenRelease:
    """What a deployment brings: green's version, its tasks, and their settings (fault switches)."""

    version: str
    env: Mapping[str, str] = field(default_factory=dict)
    task_env: tuple[Mapping[str, str], ...] = ()
    tasks: int | None = None  # None: as many as blue
    rollout: Rollout = field(default_factory=Rollout)


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
        service_connect: Mapping[str, Any] | None = None,
    ) -> None:
        self.controller = controller
        self.world = world
        self.live = live
        self._client = client
        self._lb = lb
        self._functions = functions
        self._new_side = new_side
        self._promote = promote
        # ECS Service Connect: the revisions' serviceConnectConfiguration (with testTrafficRules), or None.
        self.service_connect = dict(service_connect) if service_connect is not None else None

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

    @property
    def pause_stage(self) -> str | None:
        """ECS: the stage of the PAUSE lifecycle hook (template parameter PauseStage); None when there is none."""
        return self._functions.pause_stage

    def pause_function_name(self) -> str:
        """The function the PAUSE hook's EventBridge event goes to (the template's PauseHook)."""
        from greenlight_twin.hooks import PAUSE_KEY

        return self._functions.name_for(PAUSE_KEY)

    def pause_function(self) -> LambdaProcess:
        """The running PauseHook."""
        from greenlight_twin.hooks import PAUSE_KEY

        return self._functions.process_for(PAUSE_KEY)

    def hook_function_name(self, hook: str) -> str:
        return self._functions.name_for(hook)

    def hook_function(self, hook: str) -> LambdaProcess:
        """The running function serving `hook` (a CodeDeploy hook or an ECS stage)."""
        return self._functions.process_for(hook)

    def restart_hook_function(self, hook: str) -> LambdaProcess:
        """A fresh emulator for `hook`'s function, when an invocation is abandoned."""
        return self._functions.restart(hook)
