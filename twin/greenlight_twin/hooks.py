"""The hook functions a twin runs: read from a SAM template, one emulator each, keyed by the hook they serve.

CodeDeploy: each function whose GREENLIGHT_HOOK names a lifecycle hook serves that hook. ECS native
blue/green: the function whose handler is greenlight.handlers.ecs.handler serves every stage; with a PAUSE
stage (template parameter PauseStage), the function whose handler is greenlight.durable.pause.handler
receives the PAUSE hook's EventBridge event (key PAUSE_KEY).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from greenlight_twin.config import TwinError
from greenlight_twin.functions import (
    FunctionConfig,
    LambdaProcess,
    LambdaRuntime,
    functions_from_template,
    lambda_environment,
)
from greenlight_twin.functions.sam import SamRuntime, SamSettings

__all__ = ["ECS_KEY", "PAUSE_KEY", "HookFunctions"]

ECS_KEY = "ECS"  # the one function of the ECS controller serves every stage
_ECS_HANDLER_SUFFIX = "handlers.ecs.handler"
PAUSE_KEY = "PAUSE"  # the ECS controller's PAUSE hook function (the EventBridge target), when PauseStage is set
_WORKER_HANDLER = "greenlight.durable.worker.handler"
_PAUSE_HANDLER = "greenlight.durable.pause.handler"
# A template that names no Timeout gets Lambda's maximum before the twin caps it at the hook timeout.
_UNSET_TIMEOUT = 300


class HookFunctions:
    """The template's hook functions for one controller; started (and restarted) with a deployment's spec.

    The functions' Timeout is the template's, capped at `hook_timeout` so that a function always gets to
    report before the twin stops waiting for it (in AWS, 15 minutes is far below CodeDeploy's hour);
    `function_timeout` sets it outright.
    """

    def __init__(
        self,
        template: Path,
        *,
        controller: str,
        code: Path | None = None,
        stack_name: str = "greenlight",
        log_level: str = "INFO",
        region: str = "us-east-1",
        hook_timeout: float = 60.0,
        function_timeout: int | None = None,
        pause_stage: str | None = None,
        rie: Path | None = None,
        log_dir: Path,
        sam: SamSettings | None = None,
    ) -> None:
        self.template = Path(template).resolve()
        self.controller = controller
        self.code = code
        self.region = region
        self.rie = rie
        self.log_dir = log_dir
        self.pause_stage = pause_stage
        self.sam = sam  # None: each function in the Runtime Interface Emulator on the host; else under the SAM CLI
        configs = functions_from_template(
            self.template,
            stack_name=stack_name,
            parameters={"DeploymentController": controller, "LogLevel": log_level, "PauseStage": pause_stage or ""},
            region=region,
            code_dir=code,
        )
        longest = max((function.timeout for function in configs), default=_UNSET_TIMEOUT)
        self.function_timeout = function_timeout or max(1, min(longest, math.ceil(hook_timeout)))
        self.configs = self._by_hook(configs)
        # The durable worker (greenlight.durable.worker), when the template has one: run by the SDK's local
        # runner in the twin's process (greenlight_twin.durable), started by the hooks' durable Invoke.
        self.worker_config = next((f for f in configs if f.handler == _WORKER_HANDLER), None)
        self.worker: Any = None
        self._runtime: LambdaRuntime | SamRuntime | None = None
        self._processes: dict[str, LambdaProcess] = {}
        self._spec: str | None = None
        self._endpoint_url: str | None = None

    def _by_hook(self, configs: list[FunctionConfig]) -> dict[str, FunctionConfig]:
        functions: dict[str, FunctionConfig] = {}
        for function in configs:
            function = replace(function, timeout=self.function_timeout)
            if self.controller == "ECS" and function.handler.endswith(_ECS_HANDLER_SUFFIX):
                functions[ECS_KEY] = function
            elif self.controller == "ECS" and function.handler == _PAUSE_HANDLER:
                functions[PAUSE_KEY] = function
            elif self.controller == "CODE_DEPLOY" and function.environment.get("GREENLIGHT_HOOK"):
                functions[function.environment["GREENLIGHT_HOOK"]] = function
        if not functions:
            raise TwinError(
                f"{self.template} defines no hook function for DeploymentController={self.controller} "
                "(CodeDeploy: functions with GREENLIGHT_HOOK set; ECS: a function with handler "
                "greenlight.handlers.ecs.handler)"
            )
        if self.pause_stage and PAUSE_KEY not in functions:
            raise TwinError(
                f"{self.template} defines no PAUSE hook function (handler {_PAUSE_HANDLER}) for "
                f"PauseStage={self.pause_stage}"
            )
        return functions

    # --- which function serves a hook ------------------------------------------------------------

    def _key(self, hook: str) -> str:
        if self.controller == "ECS":
            return PAUSE_KEY if hook == PAUSE_KEY else ECS_KEY
        for key, config in self.configs.items():
            if hook in (key, config.function_name):
                return key
        raise TwinError(f"{self.template} defines no function for hook {hook}")

    def name_for(self, hook: str) -> str:
        """The function name of the function serving `hook`."""
        return self.configs[self._key(hook)].function_name

    def any_function(self) -> FunctionConfig:
        return next(iter(self.configs.values()))

    def environment(self, spec_path: Path) -> dict[str, str]:
        """The environment a function runs a deployment's spec with (to read the spec as the function will)."""
        return lambda_environment(
            self.any_function(), region=self.region, env_overrides={"GREENLIGHT_SPEC": str(spec_path)}
        )

    # --- running ---------------------------------------------------------------------------------

    def process_for(self, hook: str) -> LambdaProcess:
        """The running function serving `hook` (a hook or stage name, or a function name)."""
        process = self._processes.get(self._key(hook))
        if process is None or not process.running:
            raise TwinError(f"no running hook function for {hook!r}")
        return process

    def ensure(self, spec_path: Path, *, endpoint_url: str) -> None:
        """Every function running with GREENLIGHT_SPEC=spec_path (started, or restarted for another spec)."""
        spec = str(spec_path)
        if self._spec == spec and self._endpoint_url == endpoint_url and self._all_running():
            return
        self._stop_processes()
        if self._runtime is None and self.sam is not None:
            self._runtime = SamRuntime(
                self.sam,
                log_dir=self.log_dir,
                region=self.region,
                controller=self.controller,
                function_timeout=self.function_timeout,
            )
        elif self._runtime is None:
            self._runtime = LambdaRuntime(rie=self.rie, log_dir=self.log_dir, region=self.region)
        self._endpoint_url = endpoint_url
        self._start_worker(spec, endpoint_url)
        for key, config in self.configs.items():
            self._processes[key] = self._start(config, spec)
        self._spec = spec

    def _worker_arn(self) -> str | None:
        if self.worker_config is None:
            return None
        return f"arn:aws:lambda:{self.region}:123456789012:function:{self.worker_config.function_name}:live"

    def _start_worker(self, spec: str, endpoint_url: str) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None
        if self.worker_config is None or not self._hands_over():
            return
        from greenlight_twin.durable import DurableWorker

        env = lambda_environment(self.worker_config, region=self.region, env_overrides={"GREENLIGHT_SPEC": spec})
        self.worker = DurableWorker(self.worker_config.function_name, endpoint_url=endpoint_url, env=env)

    def _hands_over(self) -> bool:
        """Whether the hook functions hand validations to the durable worker: CodeDeploy's, or ECS's PAUSE hook."""
        return self.controller == "CODE_DEPLOY" or PAUSE_KEY in self.configs

    def restart(self, hook: str) -> LambdaProcess:
        """A fresh emulator for `hook`'s function: what an abandoned invocation leaves behind is killed."""
        key = self._key(hook)
        process = self._processes.get(key)
        if process is not None:
            process.stop(grace=1.0)
        fresh = self._start(self.configs[key], self._spec or "")
        self._processes[key] = fresh
        return fresh

    def _start(self, config: FunctionConfig, spec: str) -> LambdaProcess:
        assert self._runtime is not None
        overrides: dict[str, str] = {"GREENLIGHT_SPEC": spec}
        worker = self._worker_arn()
        if worker and (self.controller == "CODE_DEPLOY" or config.handler == _PAUSE_HANDLER):
            # The template's !Sub of the alias ARN resolves in AWS; here the twin names the worker it runs.
            overrides["GREENLIGHT_DURABLE_FUNCTION"] = worker
        started = self._runtime.start(config, env_overrides=overrides, endpoint_url=self._endpoint_url)
        return cast(LambdaProcess, started)  # a SamFunction has the interface of LambdaProcess the players use

    def _all_running(self) -> bool:
        return bool(self._processes) and all(process.running for process in self._processes.values())

    def _stop_processes(self) -> None:
        for process in self._processes.values():
            process.stop()
        self._processes.clear()

    def pids(self) -> list[int]:
        """Every emulator and runtime process of the running functions."""
        return sorted({pid for process in self._processes.values() for pid in process.pids()})

    def close(self) -> None:
        """Stops every function; errors are raised after all were asked to stop."""
        errors: list[Exception] = []
        if self.worker is not None:
            self.worker.close()
            self.worker = None
        for process in list(self._processes.values()):
            try:
                process.stop()
            except Exception as exc:  # the others must still stop
                errors.append(exc)
        self._processes.clear()
        if self._runtime is not None:
            self._runtime.close()
        if errors:
            raise errors[0]
