"""How a twin is built (`TwinConfig`), checked before anything starts, and the error it raises (`TwinError`)."""

from __future__ import annotations

import errno
import math
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["CONTROLLERS", "DEFAULT_HOOK_TIMEOUT", "DEFAULT_REGION", "TwinConfig", "TwinError", "version_problem"]

CONTROLLERS = ("CODE_DEPLOY", "ECS")
LOAD_BALANCERS = ("application", "network")
SERVICE_CONNECT_TEST_HEADER = ("x-test-traffic", "true")  # (name, exact value) of the twin's testTrafficRules
DEFAULT_HOOK_TIMEOUT = 60.0
DEFAULT_REGION = "us-east-1"


class TwinError(Exception):
    """The twin cannot start or cannot play what was asked; the message says what to change."""


# A version goes into an image tag (`example/app:VERSION`) and the service's APP_VERSION: Docker's tag rule.
_VERSION_RULE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def version_problem(value: object, what: str) -> str | None:
    """Why `value` cannot be a release's version (None when it can)."""
    if isinstance(value, str) and _VERSION_RULE.fullmatch(value):
        return None
    return (
        f"{what} {value!r} is not a version: 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-' "
        "(e.g. 2.0.0)"
    )


def _port_problem(name: str, port: object) -> str | None:
    """Why the listener port `port` cannot be used (0: a free one is picked), checked before anything starts."""
    if port == 0:
        return None
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        return f"{name} {port!r} must be a port number from 1 to 65535 (or 0 for a free one)"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the listener binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            why = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            return f"{name} {port}: cannot listen on 127.0.0.1:{port} ({why}); pick another port or 0 for a free one"
    return None


@dataclass(frozen=True)
class TwinConfig:
    """How the twin is built. Every duration is in seconds."""

    controller: str = "CODE_DEPLOY"  # or "ECS" (ECS native blue/green)
    # "application" (ALB: HTTP listeners, HTTP health checks) or "network" (NLB: TCP listeners and health checks)
    load_balancer: str = "application"
    # ECS Service Connect: the production listener is the service's client alias, and requests that carry
    # SERVICE_CONNECT_TEST_HEADER (the revision's testTrafficRules) go to the test revision. ECS controller only.
    service_connect: bool = False
    # The service: a command with {port} where its port goes; None: the sample service (greenlight_sample_app).
    service_command: Sequence[str] | None = None
    blue_version: str = "1.0.0"
    blue_env: Mapping[str, str] = field(default_factory=dict)
    tasks: int = 1  # blue's tasks (green's default to as many)
    name: str = "svc"  # prefix of every AWS resource name
    # The SAM template of the hook functions; None: the twin's own (greenlight_twin/data/template.yaml).
    template: Path | None = None
    # The folder the functions' code comes from; None: the template's CodeUri (relative to the template),
    # or, for the twin's own template, the folder that holds the installed greenlight package.
    code: Path | None = None
    stack_name: str = "greenlight"
    # How long a hook may take: CodeDeploy waits this long for PutLifecycleEventHookExecutionStatus (AWS:
    # one hour); an ECS stage may take this long, IN_PROGRESS rounds included.
    hook_timeout: float = DEFAULT_HOOK_TIMEOUT
    # The hook functions' Timeout; None: the template's, capped at hook_timeout, so a function always
    # gets to report before the twin gives up on it (in AWS, 15 minutes is far below one hour).
    function_timeout: int | None = None
    # ECS controller: the stage of a PAUSE lifecycle hook (template parameter PauseStage); None: no PAUSE hook.
    # At that stage the deployment pauses and the template's PauseHook hands it to the durable worker.
    pause_stage: str | None = None
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
    # How the hook functions run: "rie" (the Runtime Interface Emulator on the host, no Docker) or "sam" (the SAM
    # CLI's `sam local start-lambda`, containers on the runtime's Python; needs Docker and `template`).
    lambda_backend: str = "rie"
    sam_mode: str = "start-lambda"  # or "invoke": one `sam local invoke` per invocation
    sam_image: str | None = None  # --invoke-image for SAM; None: SAM's own base image
    # Where containers reach the twin (its AWS endpoint and listeners, relayed to 127.0.0.1): None for the rie
    # backend; for sam, the Docker bridge's address (found when not given). Never an external interface.
    bind_address: str | None = None

    def checked(self) -> TwinConfig:
        """This configuration with the controller's name normalised; TwinError naming every problem."""
        problems = []
        controller = str(self.controller).upper().replace("-", "_")
        if controller == "CODEDEPLOY":
            controller = "CODE_DEPLOY"
        if controller not in CONTROLLERS:
            problems.append(f"controller {self.controller!r} is not one of {', '.join(CONTROLLERS)}")
        for name in ("hook_timeout", "health_interval", "metrics_interval"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                problems.append(f"{name} {value!r} must be a finite number of seconds > 0")
        problem = version_problem(self.blue_version, "blue_version")
        if problem:
            problems.append(problem)
        for name in ("prod_port", "test_port"):
            problem = _port_problem(name, getattr(self, name))
            if problem:
                problems.append(problem)
        if self.prod_port and self.prod_port == self.test_port:
            problems.append(f"prod_port and test_port are both {self.prod_port}: the two listeners need two ports")
        if self.function_timeout is not None and (
            isinstance(self.function_timeout, bool) or not isinstance(self.function_timeout, int)
        ):
            problems.append(f"function_timeout {self.function_timeout!r} must be whole seconds")
        elif self.function_timeout is not None and not 1 <= self.function_timeout <= 900:
            problems.append(
                f"function_timeout {self.function_timeout!r} must be from 1 to 900 seconds (Lambda's range)"
            )
        if not isinstance(self.health_path, str) or not re.fullmatch(r"/[^\s]*", self.health_path):
            problems.append(f"health_path {self.health_path!r} must be a path starting with /")
        if self.service_command is not None and not list(self.service_command):
            problems.append("service_command is empty: give the command that starts one task, or leave it out")
        if self.pause_stage is not None:
            from greenlight import lifecycle

            if controller != "ECS":
                problems.append(f"pause_stage {self.pause_stage!r}: PAUSE hooks are played by the ECS controller only")
            elif self.pause_stage not in lifecycle.ECS_STAGES:
                problems.append(
                    f"pause_stage {self.pause_stage!r} is not a stage ECS allows a hook at: "
                    + ", ".join(lifecycle.ECS_STAGES)
                )
        if isinstance(self.tasks, bool) or not isinstance(self.tasks, int) or not 1 <= self.tasks <= 20:
            problems.append(f"tasks {self.tasks!r} must be a whole number from 1 to 20")
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,19}", self.name or ""):
            problems.append(f"name {self.name!r} must be 1-20 lowercase letters, digits or '-', starting with a letter")
        if self.template is not None and not Path(self.template).is_file():
            problems.append(f"template {self.template} does not exist")
        if self.code is not None and not Path(self.code).is_dir():
            problems.append(f"code folder {self.code} does not exist")
        if self.load_balancer not in LOAD_BALANCERS:
            problems.append(f"load_balancer {self.load_balancer!r} is not one of {', '.join(LOAD_BALANCERS)}")
        if self.service_connect and controller != "ECS":
            problems.append("service_connect needs the ECS controller (Service Connect test traffic rules are ECS's)")
        if self.lambda_backend not in ("rie", "sam"):
            problems.append(f"lambda_backend {self.lambda_backend!r} is not one of rie, sam")
        if self.lambda_backend == "sam" and self.template is None:
            problems.append("the sam backend builds the functions with sam build: give the SAM template (--template)")
        if problems:
            raise TwinError("twin configuration: " + "; ".join(problems))
        return replace(self, controller=controller)
