"""The local blue/green twin: a whole ECS blue/green world on 127.0.0.1, ready to play deployments.

    with Twin(TwinConfig(controller="CODE_DEPLOY")) as twin:
        outcome = twin.deploy("greenlight.yaml", version="2.0.0", env={"FAULT_UNHEALTHY": "true"})
        assert outcome.rolled_back

What runs, all on 127.0.0.1:

- AWS: moto in server mode in this process, with greenlight's extensions (greenlight_twin.aws), seeded
  with `seed_bluegreen`: a load balancer whose DNS name is 127.0.0.1 and whose listeners have the
  twin load balancer's real ports, blue and green target groups whose registered targets are the
  service's real processes, an ECS cluster and service, and for CodeDeploy an application and
  deployment group. DescribeTargetHealth answers from the twin load balancer's own health checks
  (greenlight_twin.traffic).
- The load balancer (greenlight_twin.lb): a production and a test listener over the two target
  groups, ALB-like health checks, and CloudWatch metrics published to moto (so `metric` checks work).
- The service: blue's tasks as processes (the sample service unless another command is given);
  green's are started by each deployment.
- The hook functions (greenlight_twin.hooks), each in the Lambda Runtime Interface Emulator, with
  AWS_ENDPOINT_URL pointing at moto: the very handlers and spec that run in AWS. By default the
  twin's own template and the installed greenlight package; `template`/`code` take a user's own.

Each deployment is played by a player (greenlight_twin.players) that sees the twin only through a
`Stage` built for it. One twin per process: moto's backends, fault injection and the health provider
are process-wide.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from greenlight_twin import shipped
from greenlight_twin.config import CONTROLLERS, TwinConfig, TwinError
from greenlight_twin.functions import LambdaProcess
from greenlight_twin.functions.bridge import BridgeRelay, bridge_address
from greenlight_twin.functions.sam import SamSettings
from greenlight_twin.hooks import HookFunctions
from greenlight_twin.outcome import DeploymentOutcome
from greenlight_twin.progress import HEALTH, LOG, STEP, TASK, Event, ProgressFn
from greenlight_twin.services import HOST, ServiceError, ServiceSide, parse_command, sample_service_command
from greenlight_twin.stage import GreenRelease, Live, Rollout, Stage

if TYPE_CHECKING:
    from greenlight_twin.aws import MotoServer, World
    from greenlight_twin.lb import HealthChange, LoadBalancer
    from greenlight_twin.players import Player

__all__ = ["CONTROLLERS", "Twin", "TwinConfig", "TwinError"]

logger = logging.getLogger(__name__)

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class Twin:
    """A running blue/green world; `deploy()` plays one deployment through it. Start with `with` or start()."""

    def __init__(self, config: TwinConfig | None = None, *, progress: ProgressFn | None = None) -> None:
        self.config = (config or TwinConfig()).checked()
        self.progress = progress
        self.controller = self.config.controller
        self.command = parse_command(self.config.service_command or sample_service_command())
        self.workdir = Path(self.config.workdir or tempfile.mkdtemp(prefix="greenlight-twin-"))
        code: Path | None = self.config.code
        if self.config.template is None:
            template, code = shipped.hook_template(), code or shipped.hook_code_dir()
        else:
            template = Path(self.config.template)
        self.template = template.resolve()
        # Containers (the sam backend) reach the twin at the Docker bridge's address, relayed to 127.0.0.1.
        self.bind_address: str | None = self.config.bind_address
        if self.bind_address is None and self.config.lambda_backend == "sam":
            self.bind_address = bridge_address()
        self.bridge: BridgeRelay | None = None
        sam = None
        if self.config.lambda_backend == "sam":
            assert self.bind_address is not None
            sam = SamSettings(
                template=template, bridge=self.bind_address, image=self.config.sam_image, mode=self.config.sam_mode
            )
        # Read before anything starts: a template without hook functions fails here, not after moto is up.
        self.functions = HookFunctions(
            self.template,
            controller=self.controller,
            code=code,
            stack_name=self.config.stack_name,
            log_level=self.config.log_level,
            region=self.config.region,
            hook_timeout=self.config.hook_timeout,
            function_timeout=self.config.function_timeout,
            pause_stage=self.config.pause_stage,
            rie=self.config.rie,
            log_dir=self.workdir / "lambda",
            sam=sam,
        )
        self.moto: MotoServer | None = None
        self.session: Any = None
        self.world: World | None = None
        self.lb: LoadBalancer | None = None
        self.live: Live | None = None
        self.deployments: list[DeploymentOutcome] = []
        # Each deployment's validation reports (HTML pages, the JSON beside each), by deployment id.
        self.report_pages: dict[str, tuple[Path, ...]] = {}
        self._sides: list[ServiceSide] = []  # every side started, for close()
        self._lock = threading.Lock()  # one deployment at a time
        self._current: Player | None = None  # the deployment being played
        self._started = False
        self._closed = False
        self.started_at = 0.0

    # --- identity --------------------------------------------------------------------------------

    def _require(self) -> tuple[World, LoadBalancer, Live]:
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

    @property
    def function_timeout(self) -> int:
        """The hook functions' Timeout, in seconds."""
        return self.functions.function_timeout

    @property
    def current(self) -> Player | None:
        """The player of the deployment being played, or None."""
        return self._current

    def client(self, service: str) -> Any:
        """A boto3 client of the twin's AWS (fake credentials, the moto endpoint)."""
        from greenlight.aws import client_config

        return self.session.client(service, config=client_config(retries={"mode": "standard", "max_attempts": 2}))

    def status(self) -> dict[str, Any]:
        """What the twin serves now, as plain data (for the command line and the control API)."""
        world, lb, live = self._require()
        return {
            "controller": self.controller,
            "load_balancer": self.config.load_balancer,
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
            "template": str(self.template),
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
        from greenlight_twin.traffic import TargetHealthAnswer, start_load_balancer, wait_healthy

        config = self.config
        (self.workdir / "tasks").mkdir(parents=True, exist_ok=True)
        self.moto = twin_aws.start()
        self.session = self.moto.session(config.region)
        self._emit(STEP, f"AWS (moto) on {self.moto.endpoint_url}")
        if self.bind_address is not None:
            self.bridge = BridgeRelay(self.bind_address)
            self.bridge.add([self.moto.port])
            self._emit(STEP, f"containers reach the twin at {self.bind_address} (relayed to 127.0.0.1)")

        blue = self._new_side("blue", config.blue_version, config.tasks, config.blue_env, ())
        try:
            blue.start()
        except ServiceError as exc:
            raise TwinError(f"blue's tasks did not start: {exc}") from exc
        self._emit(TASK, f"blue {blue.describe()}: {', '.join(f'{h}:{p}' for h, p in blue.targets)}")

        world = twin_aws.seed_bluegreen(
            self.session,
            name=self._free_name(),
            region=config.region,
            controller=self.controller,
            blue_targets=blue.targets,
            lb_dns_name=self.bind_address or HOST,
            blue_version=config.blue_version,
            green_version=config.blue_version,
            hook_function=self.functions.any_function().function_name,
            deployment=False,  # each deploy() plays its own deployment
            load_balancer=config.load_balancer,
        )
        self.live = Live(
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
        self.lb, self.world = start_load_balancer(
            world,
            blue,
            config,
            elb=self.client("elbv2"),
            cloudwatch_endpoint_url=self.endpoint_url,
            on_health_change=self._on_health_change,
        )
        if self.bridge is not None:
            self.bridge.add([self.lb.port("prod"), self.lb.port("test")])
        names = {world.blue_tg_arn: world.blue_tg_name, world.green_tg_arn: world.green_tg_name}
        twin_aws.set_target_health_provider(TargetHealthAnswer(self.lb, names))
        wait_healthy(self.lb, self.live.target_group, blue, health_path=config.health_path)
        self._emit(
            STEP,
            f"load balancer {world.lb_name}: production {self.lb.url('prod')}, test {self.lb.url('test')} "
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
        while f"{name}-alb" in taken or f"{name}-nlb" in taken:
            number += 1
            name = f"{self.config.name}{number}"
        return name

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

    def _green_side(self, release: GreenRelease) -> ServiceSide:
        _, _, live = self._require()
        return self._new_side(
            "green", release.version, release.tasks or len(live.side.tasks), release.env, release.task_env
        )

    def _promote(self, live: Live) -> None:
        self.live = live

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

        def attempt(what: str, action: Any) -> None:
            try:
                action()
            except Exception as exc:  # the rest must still stop
                logger.warning("twin: stopping %s failed: %s", what, exc)

        attempt("the hook functions", self.functions.close)
        if self.bridge is not None:
            attempt("the bridge relay", self.bridge.stop)
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
        return sorted(set(pids) | set(self.functions.pids()))

    # --- hook functions ----------------------------------------------------------------------------

    def hook_function_name(self, hook: str) -> str:
        return self.functions.name_for(hook)

    def function_for(self, hook: str) -> LambdaProcess:
        """The running function serving `hook` (its function name, or the ECS hook)."""
        return self.functions.process_for(hook)

    def ensure_functions(self, spec_path: str | Path) -> None:
        """Hook functions running with GREENLIGHT_SPEC=spec_path (started, or restarted for another spec)."""
        self.functions.ensure(Path(spec_path).resolve(), endpoint_url=self.endpoint_url)

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
        strategy: str = "BLUE_GREEN",
        percent: float | None = None,
        bake: float | None = None,
    ) -> DeploymentOutcome:
        """Plays one deployment of a green release, validated by `spec`'s checks; returns its outcome.

        `env` goes to every green task (fault switches such as FAULT_UNHEALTHY=true), `task_env[i]`
        to task i only. `hooks` names the CodeDeploy hooks (or ECS stages) that invoke the hook
        function; by default those the spec has checks for. `strategy` (ECS native: BLUE_GREEN, LINEAR,
        CANARY), `percent` (LINEAR's stepPercent, CANARY's canaryPercent) and `bake` (seconds between
        steps; default: AWS's default minutes played as seconds) say how production traffic moves.
        """
        world, lb, live = self._require()
        try:
            rollout = Rollout(strategy, percent, bake).checked()
        except ValueError as exc:
            raise TwinError(str(exc)) from exc
        if rollout.strategy != "BLUE_GREEN" and self.controller != "ECS":
            raise TwinError(
                f"strategy {rollout.strategy} is played by the ECS controller only (--controller ECS); the twin's "
                "CodeDeploy shifts production all at once (CodeDeployDefault.ECSAllAtOnce)"
            )
        release = GreenRelease(
            version=version or self.next_version(),
            env=dict(env or {}),
            task_env=tuple(dict(e) for e in task_env),
            tasks=tasks,
            rollout=rollout,
        )
        if not self._lock.acquire(blocking=False):
            raise TwinError("a deployment is already being played on this twin; wait for it to end")
        try:
            spec_path = Path(spec).resolve()
            chosen = self._hooks_to_run(spec_path, hooks)
            self.ensure_functions(spec_path)
            stage = Stage(
                controller=self.controller,
                world=world,
                live=live,
                client=self.client,
                lb=lb,
                functions=self.functions,
                new_side=self._green_side,
                promote=self._promote,
                service_connect=self._service_connect(),
            )
            from greenlight_twin.players import player_for

            player = player_for(self.controller)(
                stage,
                spec_path,
                release,
                hook_timeout=hook_timeout or self.config.hook_timeout,
                hooks=chosen,
                description=description,
                progress=progress or self.progress,
            )
            self._current = player
            if not chosen:
                player.emit(
                    LOG, f"warning: {spec_path} has no checks for any hook: nothing validates green", level="WARNING"
                )
            outcome = player.run()
            self.deployments.append(outcome)
            self._write_reports(outcome)
            return outcome
        finally:
            self._current = None
            self._lock.release()

    def _write_reports(self, outcome: DeploymentOutcome) -> None:
        """The reports of the deployment's validations, under <workdir>/reports (greenlight_twin.reports)."""
        from greenlight_twin.reports import write_reports

        try:
            self.report_pages[outcome.deployment_id] = write_reports(outcome, self.workdir / "reports")
        except Exception as exc:  # a report is for people; the deployment's outcome stands without it
            logger.warning("could not write the reports of %s: %s", outcome.deployment_id, exc)

    def _service_connect(self) -> dict[str, Any] | None:
        """The revisions' Service Connect configuration: the client alias is the production listener.

        Shapes from the botocore ecs model (ServiceConnectConfiguration, ServiceConnectClientAlias,
        ServiceConnectTestTrafficRules); the alias's dnsName is the load balancer's 127.0.0.1.
        """
        if not self.config.service_connect:
            return None
        from greenlight_twin.config import SERVICE_CONNECT_TEST_HEADER

        world, lb, _ = self._require()
        name, value = SERVICE_CONNECT_TEST_HEADER
        return {
            "enabled": True,
            "namespace": f"{world.name}.local",
            "services": [
                {
                    "portName": "web",
                    "discoveryName": world.service_name,
                    "clientAliases": [
                        {
                            "port": lb.port("prod"),
                            "dnsName": world.lb_dns_name,
                            "testTrafficRules": {"header": {"name": name, "value": {"exact": value}}},
                        }
                    ],
                }
            ],
        }

    def _hooks_to_run(self, spec_path: Path, hooks: Sequence[str] | None) -> list[str]:
        """The hooks the deployment invokes the function for; TwinError when the spec cannot be used."""
        from greenlight import spec as specs
        from greenlight_twin.players import hooks_to_run

        try:
            spec = specs.load(str(spec_path), env=self.functions.environment(spec_path))
        except (specs.SpecError, specs.SpecSourceError) as exc:
            raise TwinError(f"the spec cannot be used: {exc}") from exc
        try:
            return hooks_to_run(spec, self.controller, hooks)
        except ValueError as exc:
            raise TwinError(str(exc)) from exc

    def stop_deployment(self) -> bool:
        """Asks the deployment being played to stop (it rolls back); False when none is being played."""
        current = self._current
        if current is None:
            return False
        current.request_stop()
        return True

    # --- progress ----------------------------------------------------------------------------------

    def _emit(self, kind: str, message: str, **data: Any) -> None:
        """An event of the twin itself: into the deployment being played, else to the twin's progress."""
        current = self._current
        if current is not None:
            current.emit(kind, message, **data)
            return
        if self.progress is None:
            return
        try:
            self.progress(Event(kind, message, time.monotonic() - self.started_at, data))
        except Exception:  # a broken progress view must not break the twin
            logger.exception("twin: progress function failed")
