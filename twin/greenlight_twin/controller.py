"""The local blue/green twin: a whole ECS blue/green world on 127.0.0.1, ready to play deployments.

    with Twin(TwinConfig(controller="CODE_DEPLOY")) as twin:
        outcome = twin.deploy("examples/twin/demo.yaml", version="2.0.0", env={"FAULT_UNHEALTHY": "true"})
        assert outcome.rolled_back

What runs, all on 127.0.0.1:

- AWS: moto in server mode in this process, with greenlight's extensions (greenlight_twin.aws), seeded
  with `seed_bluegreen`: a load balancer whose DNS name is 127.0.0.1 and whose listeners have the
  twin load balancer's real ports, blue and green target groups whose registered targets are the
  service's real processes, an ECS cluster and service, and for CodeDeploy an application and
  deployment group. DescribeTargetHealth answers from the twin load balancer's own health checks.
- The load balancer (greenlight_twin.lb): a production and a test listener over the two target
  groups, ALB-like health checks, and CloudWatch metrics published to moto (so `metric` checks work).
- The service: blue's tasks as processes (the sample service unless another command is given);
  green's are started by each deployment.
- The hook functions of template.yaml, each in the Lambda Runtime Interface Emulator, with
  AWS_ENDPOINT_URL pointing at moto: the very handlers and spec that run in AWS.

One twin per process: moto's backends, fault injection and the health provider are process-wide.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from greenlight_twin.lambdas import FunctionConfig, LambdaProcess, LambdaRuntime, functions_from_template, repo_root
from greenlight_twin.progress import HEALTH, Event, ProgressFn
from greenlight_twin.services import HOST, ServiceError, ServiceSide, parse_command, sample_service_command

if TYPE_CHECKING:
    from greenlight_twin.aws import MotoServer, World
    from greenlight_twin.deployments import DeploymentOutcome, GreenRelease
    from greenlight_twin.lb import HealthChange, LoadBalancer

__all__ = ["CONTROLLERS", "Twin", "TwinConfig", "TwinError"]

logger = logging.getLogger(__name__)

CONTROLLERS = ("CODE_DEPLOY", "ECS")
DEFAULT_HOOK_TIMEOUT = 60.0
DEFAULT_REGION = "us-east-1"
# How long blue gets to pass the load balancer's health checks when the twin starts.
BLUE_HEALTHY_TIMEOUT = 30.0
BLUE_UNHEALTHY_GRACE = 10.0
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class TwinError(Exception):
    """The twin cannot start or cannot play what was asked; the message says what to change."""


@dataclass(frozen=True)
class TwinConfig:
    """How the twin is built. Every duration is in seconds."""

    controller: str = "CODE_DEPLOY"  # or "ECS" (ECS native blue/green)
    # The service: a command with {port} where its port goes; None: the sample service (app/server.py).
    service_command: Sequence[str] | None = None
    blue_version: str = "1.0.0"
    blue_env: Mapping[str, str] = field(default_factory=dict)
    tasks: int = 1  # blue's tasks (green's default to as many)
    name: str = "svc"  # prefix of every AWS resource name
    template: Path | None = None  # None: template.yaml of this checkout
    stack_name: str = "greenlight"
    # How long a hook may take: CodeDeploy waits this long for PutLifecycleEventHookExecutionStatus (AWS:
    # one hour); an ECS stage may take this long, IN_PROGRESS rounds included.
    hook_timeout: float = DEFAULT_HOOK_TIMEOUT
    # The hook functions' Timeout; None: the template's, capped at hook_timeout, so a function always
    # gets to report before the twin gives up on it (in AWS, 15 minutes is far below one hour).
    function_timeout: int | None = None
    # The load balancer: ALB's health check semantics with a faster cadence, so a minute is enough.
    health_path: str = "/health"
    health_interval: float = 1.0
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2
    metrics_interval: float = 2.0
    deregistration_delay: float = 2.0
    prod_port: int = 0  # 0: a free port
    test_port: int = 0
    region: str = DEFAULT_REGION
    log_level: str = "INFO"  # POWERTOOLS_LOG_LEVEL of the hook functions
    workdir: Path | None = None  # logs of the tasks and functions; None: a fresh temporary folder
    rie: Path | None = None  # the Runtime Interface Emulator; None: find_rie()

    def checked(self) -> TwinConfig:
        problems = []
        controller = str(self.controller).upper().replace("-", "_")
        if controller == "CODEDEPLOY":
            controller = "CODE_DEPLOY"
        if controller not in CONTROLLERS:
            problems.append(f"controller {self.controller!r} is not one of {', '.join(CONTROLLERS)}")
        for name in ("hook_timeout", "health_interval", "metrics_interval"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                problems.append(f"{name} {value!r} must be a number of seconds > 0")
        if self.function_timeout is not None and (
            isinstance(self.function_timeout, bool) or not isinstance(self.function_timeout, int)
        ):
            problems.append(f"function_timeout {self.function_timeout!r} must be whole seconds")
        if isinstance(self.tasks, bool) or not isinstance(self.tasks, int) or not 1 <= self.tasks <= 20:
            problems.append(f"tasks {self.tasks!r} must be a whole number from 1 to 20")
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,19}", self.name or ""):
            problems.append(f"name {self.name!r} must be 1-20 lowercase letters, digits or '-', starting with a letter")
        if problems:
            raise TwinError("twin configuration: " + "; ".join(problems))
        return replace(self, controller=controller)


@dataclass
class _Live:
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
    ) -> _Live:
        """What serves production once `side`, started in the idle group, has taken over: the groups swap."""
        return _Live(
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


class Twin:
    """A running blue/green world; `deploy()` plays one deployment through it. Start with `with` or start()."""

    def __init__(self, config: TwinConfig | None = None, *, progress: ProgressFn | None = None) -> None:
        self.config = (config or TwinConfig()).checked()
        self.progress = progress
        self.controller = self.config.controller
        self.command = parse_command(self.config.service_command or sample_service_command())
        template = self.config.template or repo_root() / "template.yaml"
        if not Path(template).is_file():
            raise TwinError(f"template {template} not found: pass the SAM template that defines the hook functions")
        self.template = Path(template).resolve()
        self.workdir = Path(self.config.workdir or tempfile.mkdtemp(prefix="greenlight-twin-"))
        self.moto: MotoServer | None = None
        self.session: Any = None
        self.world: World | None = None
        self.lb: LoadBalancer | None = None
        self.runtime: LambdaRuntime | None = None
        self.live: _Live | None = None
        self.function_timeout = 0
        self.deployments: list[DeploymentOutcome] = []
        self._functions: dict[str, FunctionConfig] = {}  # hook name (or "ECS") -> config
        self._processes: dict[str, LambdaProcess] = {}
        self._spec_in_functions: str | None = None
        self._sides: list[ServiceSide] = []  # every side started, for close()
        self._tg_names: dict[str, str] = {}  # target group ARN -> name
        self._lock = threading.Lock()  # one deployment at a time
        self._sink: ProgressFn | None = None
        self._current: Any = None  # the deployment being played
        self._started = False
        self._closed = False
        self.started_at = 0.0

    # --- identity --------------------------------------------------------------------------------

    def _require(self) -> tuple[World, LoadBalancer, _Live]:
        if self.world is None or self.lb is None or self.live is None:
            raise TwinError("the twin is not running: call start() first")
        return self.world, self.lb, self.live

    @property
    def prod_url(self) -> str:
        return self._require()[1].url("prod")

    @property
    def test_url(self) -> str:
        return self._require()[1].url("test")

    @property
    def endpoint_url(self) -> str:
        if self.moto is None:
            raise TwinError("the twin is not running: call start() first")
        return self.moto.endpoint_url

    @property
    def live_version(self) -> str:
        return self._require()[2].version

    def client(self, service: str) -> Any:
        """A boto3 client of the twin's AWS (fake credentials, the moto endpoint)."""
        from greenlight.aws import client_config

        return self.session.client(service, config=client_config(retries={"mode": "standard", "max_attempts": 2}))

    def status(self) -> dict[str, Any]:
        """What the twin serves now, as plain data (for the command line and the control API)."""
        world, lb, live = self._require()
        return {
            "controller": self.controller,
            "prod_url": lb.url("prod"),
            "test_url": lb.url("test"),
            "aws_endpoint_url": self.endpoint_url,
            "region": self.config.region,
            "live": {
                "version": live.version,
                "target_group": live.target_group,
                "targets": [f"{h}:{p}" for h, p in live.side.targets],
            },
            "weights": {"prod": lb.weights("prod"), "test": lb.weights("test")},
            "resources": {
                "load_balancer": world.lb_arn,
                "cluster": world.cluster_name,
                "service": world.service_name,
                "application": world.application_name,
                "deployment_group": world.deployment_group_name,
            },
            "deployments": [
                {"id": d.deployment_id, "status": d.status, "version": d.version} for d in self.deployments
            ],
            "workdir": str(self.workdir),
            "deploying": self._current is not None,
        }

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Twin:
        """Starts moto, blue's tasks and the load balancer, and seeds the world; stops everything on failure."""
        if self._started:
            raise TwinError("the twin is already started")
        self._started = True
        self.started_at = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        from greenlight_twin import aws as twin_aws

        config = self.config
        (self.workdir / "tasks").mkdir(parents=True, exist_ok=True)
        self.moto = twin_aws.start()
        self.session = self.moto.session(config.region)
        self._emit("step", f"AWS (moto) on {self.moto.endpoint_url}")

        blue = self._new_side("blue", config.blue_version, config.tasks, config.blue_env, ())
        try:
            blue.start()
        except ServiceError as exc:
            raise TwinError(f"blue's tasks did not start: {exc}") from exc
        self._emit("task", f"blue {blue.describe()}: {', '.join(f'{h}:{p}' for h, p in blue.targets)}")

        functions = self._load_functions()
        world = twin_aws.seed_bluegreen(
            self.session,
            name=self._free_name(),
            region=config.region,
            controller=self.controller,
            blue_targets=blue.targets,
            lb_dns_name=HOST,
            blue_version=config.blue_version,
            green_version=config.blue_version,
            hook_function=next(iter(functions.values())).function_name,
            deployment=False,  # each deploy() plays its own deployment
        )
        self._settle(world, blue)
        self._start_load_balancer(blue)
        self._wait_blue_healthy()
        self._emit(
            "step",
            f"load balancer {world.lb_name}: production {self.lb_url('prod')}, test {self.lb_url('test')} "
            f"-> {world.blue_tg_name} (blue {config.blue_version})",
        )

    def _free_name(self) -> str:
        """The configured name, or it with a number when moto already holds a world of that name.

        moto's backends belong to the process: a second twin in the same process (one per test module)
        finds the first one's resources there.
        """
        elb = self.client("elbv2")
        taken = {lb["LoadBalancerName"] for lb in elb.describe_load_balancers().get("LoadBalancers", [])}
        name, number = self.config.name, 1
        while f"{name}-alb" in taken:
            number += 1
            name = f"{self.config.name}{number}"
        return name

    def lb_url(self, listener: str) -> str:
        return self._require()[1].url(listener)

    def _new_side(
        self, label: str, version: str, tasks: int, env: Mapping[str, str], task_env: Sequence[Mapping[str, str]]
    ) -> ServiceSide:
        side = ServiceSide(
            label,
            command=self.command,
            version=version,
            tasks=tasks,
            env=env,
            task_env=task_env,
            log_dir=self.workdir / "tasks",
        )
        self._sides.append(side)
        return side

    def _load_functions(self) -> dict[str, FunctionConfig]:
        config = self.config
        template_timeout = 300
        configs = functions_from_template(
            self.template,
            stack_name=config.stack_name,
            parameters={"DeploymentController": self.controller, "LogLevel": config.log_level},
            region=config.region,
        )
        if configs:
            template_timeout = max(function.timeout for function in configs)
        self.function_timeout = config.function_timeout or max(1, min(template_timeout, math.ceil(config.hook_timeout)))
        functions: dict[str, FunctionConfig] = {}
        for function in configs:
            function = replace(function, timeout=self.function_timeout)
            if self.controller == "ECS" and function.handler.endswith("handlers.ecs.handler"):
                functions["ECS"] = function
            elif self.controller == "CODE_DEPLOY" and function.environment.get("GREENLIGHT_HOOK"):
                functions[function.environment["GREENLIGHT_HOOK"]] = function
        if not functions:
            raise TwinError(
                f"{self.template} defines no hook function for DeploymentController={self.controller} "
                "(CodeDeploy: functions with GREENLIGHT_HOOK set; ECS: a function with handler "
                "greenlight.handlers.ecs.handler)"
            )
        self._functions = functions
        return functions

    def _settle(self, world: World, blue: ServiceSide) -> None:
        """Blue serves production in the world at rest that seeding built: no deployment yet."""
        self.world = world
        self.live = _Live(
            side=blue,
            target_group=world.blue_tg_name,
            target_group_arn=world.blue_tg_arn,
            idle_group=world.green_tg_name,
            idle_group_arn=world.green_tg_arn,
            task_definition_arn=world.blue_task_def_arn,
            task_set_id=world.blue_task_set_id,  # CodeDeploy
            task_set_arn=world.blue_task_set_arn,
            revision_arn=world.blue_revision_arn,  # ECS native
        )
        self._tg_names = {world.blue_tg_arn: world.blue_tg_name, world.green_tg_arn: world.green_tg_name}

    def _start_load_balancer(self, blue: ServiceSide) -> None:
        from greenlight_twin import aws as twin_aws
        from greenlight_twin.lb import HealthCheck, ListenerConfig, LoadBalancer, TargetGroupConfig, arn_resource_id

        config = self.config
        world = self.world
        assert world is not None
        health = HealthCheck(
            path=config.health_path,
            interval=config.health_interval,
            timeout=min(config.health_interval, 2.0),
            healthy_threshold=config.healthy_threshold,
            unhealthy_threshold=config.unhealthy_threshold,
        )
        groups = [
            TargetGroupConfig(
                world.blue_tg_name,
                blue.targets,
                health,
                group_id=arn_resource_id(world.blue_tg_arn),
                deregistration_delay=config.deregistration_delay,
            ),
            TargetGroupConfig(
                world.green_tg_name,
                (),
                health,
                group_id=arn_resource_id(world.green_tg_arn),
                deregistration_delay=config.deregistration_delay,
            ),
        ]
        # CodeDeploy: each listener's default action forwards to one group; ECS native: weighted rules.
        if self.controller == "CODE_DEPLOY":
            weights = {world.blue_tg_name: 1}
        else:
            weights = {world.blue_tg_name: 100, world.green_tg_name: 0}
        self.lb = LoadBalancer(
            world.lb_name,
            lb_id=arn_resource_id(world.lb_arn),
            target_groups=groups,
            listeners=[
                ListenerConfig("prod", weights, port=config.prod_port),
                ListenerConfig("test", weights, port=config.test_port),
            ],
            metrics_interval=config.metrics_interval,
            cloudwatch_endpoint_url=self.endpoint_url,
            region=config.region,
            on_health_change=self._on_health_change,
        )
        self.lb.start()
        elb = self.client("elbv2")
        ports = {"prod": self.lb.port("prod"), "test": self.lb.port("test")}
        elb.modify_listener(ListenerArn=world.prod_listener_arn, Port=ports["prod"])
        elb.modify_listener(ListenerArn=world.test_listener_arn, Port=ports["test"])
        self.world = replace(world, prod_port=ports["prod"], test_port=ports["test"])
        twin_aws.set_target_health_provider(self._health_for)

    def _health_for(self, tg_arn: str, target_id: str, port: int) -> tuple[str, str | None, str | None] | None:
        """DescribeTargetHealth's answer for one target: the twin load balancer's own view."""
        name = self._tg_names.get(tg_arn)
        lb = self.lb
        if name is None or lb is None:
            return None
        view = lb.health_snapshot(name, [(target_id, port)])[0]
        return view.state, view.reason, view.description

    def _wait_blue_healthy(self) -> None:
        _, lb, live = self._require()
        deadline = time.monotonic() + BLUE_HEALTHY_TIMEOUT
        unhealthy_since: float | None = None
        while time.monotonic() < deadline:
            states = lb.health_snapshot(live.target_group)
            if states and all(s.state == "healthy" for s in states):
                return
            if any(not task.running for task in live.side):
                break
            # Judged unhealthy and still so after a while: a service that is slow to warm up recovers
            # within that, one whose health path is wrong never does.
            if states and all(s.state == "unhealthy" for s in states):
                unhealthy_since = unhealthy_since or time.monotonic()
                if time.monotonic() - unhealthy_since > BLUE_UNHEALTHY_GRACE:
                    break
            else:
                unhealthy_since = None
            time.sleep(0.1)
        described = ", ".join(
            f"{s.host}:{s.port} {s.state} ({s.reason})" for s in lb.health_snapshot(live.target_group)
        )
        raise TwinError(
            f"blue ({live.version}) did not become healthy in the load balancer: {described}; the health check "
            f"asks GET {self.config.health_path} for a 200 (another path: --health-path, TwinConfig.health_path)\n"
            + "\n".join(task.log_tail(6) for task in live.side)
        )

    def _on_health_change(self, change: HealthChange) -> None:
        previous = change.previous.state if change.previous else "registered"
        current = change.current
        reason = f" ({current.reason}: {current.description})" if current.reason and current.state != "healthy" else ""
        live = self.live
        green = live is not None and change.group == live.idle_group
        self._emit(
            HEALTH,
            f"target {current.host}:{current.port} in {change.group}: {previous} -> {current.state}{reason}",
            group=change.group,
            target=f"{current.host}:{current.port}",
            state=current.state,
            reason=current.reason,
            green=green,
        )

    def close(self) -> None:
        """Stops every function, the load balancer, every task and moto; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        from greenlight_twin import aws as twin_aws

        errors: list[BaseException] = []

        def attempt(what: str, action: Any) -> None:
            try:
                action()
            except Exception as exc:  # the rest must still stop
                logger.warning("twin: stopping %s failed: %s", what, exc)
                errors.append(exc)

        for process in list(self._processes.values()):
            attempt(f"function {process.name}", process.stop)
        if self.runtime is not None:
            attempt("the Lambda runtime", self.runtime.close)
        if self.lb is not None:
            attempt("the load balancer", self.lb.stop)
        for side in self._sides:
            attempt(f"{side.label} tasks", side.stop)
        attempt("the health provider", lambda: twin_aws.set_target_health_provider(None))
        attempt("faults", twin_aws.clear_faults)
        if self.moto is not None:
            attempt("moto", self.moto.stop)

    def __enter__(self) -> Twin:
        if not self._started:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def pids(self) -> list[int]:
        """Every process the twin runs now (tasks, emulators and their runtimes)."""
        pids = [pid for side in self._sides for pid in side.pids()]
        pids += [pid for process in self._processes.values() for pid in process.pids()]
        return sorted(set(pids))

    # --- hook functions ----------------------------------------------------------------------------

    def hook_function_name(self, hook: str) -> str:
        key = "ECS" if self.controller == "ECS" else hook
        if key not in self._functions:
            raise TwinError(f"{self.template} defines no function for hook {hook}")
        return self._functions[key].function_name

    def function_for(self, hook: str) -> LambdaProcess:
        """The running function serving `hook` (its function name, or the ECS hook)."""
        key = "ECS" if self.controller == "ECS" else hook
        for name, config in self._functions.items():
            if hook in (config.function_name, name):
                key = name
        process = self._processes.get(key)
        if process is None or not process.running:
            raise TwinError(f"no running hook function for {hook!r}")
        return process

    def ensure_functions(self, spec_path: Path) -> None:
        """Hook functions running with GREENLIGHT_SPEC=spec_path (started, or restarted for another spec)."""
        spec = str(spec_path)
        if self._spec_in_functions == spec and all(p.running for p in self._processes.values()):
            return
        for process in self._processes.values():
            process.stop()
        self._processes.clear()
        if self.runtime is None:
            self.runtime = LambdaRuntime(
                rie=self.config.rie, log_dir=self.workdir / "lambda", region=self.config.region
            )
        for key, config in self._functions.items():
            self._processes[key] = self.runtime.start(
                config, env_overrides={"GREENLIGHT_SPEC": spec}, endpoint_url=self.endpoint_url
            )
        self._spec_in_functions = spec

    def restart_function(self, hook: str) -> LambdaProcess:
        """A fresh emulator for `hook`'s function: what an abandoned invocation leaves behind is killed."""
        process = self.function_for(hook)
        key = next(k for k, p in self._processes.items() if p is process)
        process.stop(grace=1.0)
        assert self.runtime is not None
        fresh = self.runtime.start(
            process.config,
            env_overrides={"GREENLIGHT_SPEC": self._spec_in_functions or ""},
            endpoint_url=self.endpoint_url,
        )
        self._processes[key] = fresh
        return fresh

    # --- deployments -------------------------------------------------------------------------------

    def next_version(self) -> str:
        """The live version with its major number raised (1.0.0 -> 2.0.0), or `<live>-green`."""
        live = self.live_version
        found = _VERSION.match(live)
        return f"{int(found.group(1)) + 1}.0.0" if found else f"{live}-green"

    def deploy(
        self,
        spec: str | Path,
        *,
        version: str | None = None,
        env: Mapping[str, str] | None = None,
        task_env: Sequence[Mapping[str, str]] = (),
        tasks: int | None = None,
        hook_timeout: float | None = None,
        hooks: Sequence[str] | None = None,
        description: str | None = None,
        progress: ProgressFn | None = None,
    ) -> DeploymentOutcome:
        """Plays one deployment of a green release, validated by `spec`'s checks; returns its outcome.

        `env` goes to every green task (fault switches such as FAULT_UNHEALTHY=true), `task_env[i]`
        to task i only. `hooks` names the CodeDeploy hooks (or ECS stages) that invoke the hook
        function; by default those the spec has checks for.
        """
        from greenlight_twin.deployments import GreenRelease, play

        self._require()
        release = GreenRelease(
            version=version or self.next_version(),
            env=dict(env or {}),
            task_env=tuple(dict(e) for e in task_env),
            tasks=tasks,
        )
        if not self._lock.acquire(blocking=False):
            raise TwinError("a deployment is already being played on this twin; wait for it to end")
        try:
            self._sink = progress
            return play(
                self,
                Path(spec),
                release,
                hook_timeout=hook_timeout or self.config.hook_timeout,
                hooks=hooks,
                description=description,
            )
        finally:
            self._sink = None
            self._current = None
            self._lock.release()

    def stop_deployment(self) -> bool:
        """Asks the deployment being played to stop (it rolls back); False when none is being played."""
        current = self._current
        if current is None:
            return False
        current.request_stop()
        return True

    def green_side(self, release: GreenRelease) -> ServiceSide:
        _, _, live = self._require()
        return self._new_side(
            "green", release.version, release.tasks or len(live.side.tasks), release.env, release.task_env
        )

    def promote(self, live: _Live) -> None:
        """What serves production after a successful deployment."""
        self.live = live

    # --- progress ----------------------------------------------------------------------------------

    def _emit(self, kind: str, message: str, **data: Any) -> None:
        sink = self._sink or self.progress
        if sink is None:
            return
        current = self._current
        at = current.elapsed() if current is not None else time.monotonic() - self.started_at
        try:
            sink(Event(kind, message, at, data))
        except Exception:  # a broken progress view must not break a deployment
            logger.exception("twin: progress function failed")


def weighted(first_tg: str, first: int, second_tg: str, second: int) -> dict[str, Any]:
    """An ELBv2 forward action with two weighted target groups."""
    return {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": first_tg, "Weight": first},
                {"TargetGroupArn": second_tg, "Weight": second},
            ]
        },
    }
