"""Starts functions the way Lambda would run them, each in its own emulator, and stops them together."""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from greenlight_twin.functions.environment import lambda_environment
from greenlight_twin.functions.invocation import InvocationResult
from greenlight_twin.functions.process import LambdaProcess
from greenlight_twin.functions.rie import find_rie
from greenlight_twin.functions.template import FunctionConfig

__all__ = ["LambdaFleet", "LambdaRuntime"]


def _log_name(function_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", function_name) + ".log"


class LambdaRuntime:
    """Starts functions the way Lambda would run them, each in its own emulator process.

    The bootstrap is `<python> -m awslambdaric <handler>` with `python` defaulting to `sys.executable`
    (the interpreter running the twin, with its virtualenv). How that differs from Lambda:

    - Lambda runs the template's runtime (python3.13) with only the deployment bundle (CodeUri plus
      its requirements) and the runtime's boto3; here the host's interpreter runs it, and everything
      installed in its virtualenv is importable too.
    - No limits: MemorySize is only reported (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), /tmp is the host's (not
      512 MB, not private, not wiped), no CPU share, no IAM (fake credentials;
      moto does not check permissions), no VPC.
    - No freeze/thaw: between invocations the process keeps running (background threads too).
    - One invocation at a time per function (Lambda would start another instance); callers queue.
    - Init happens on the first invocation and counts against its timeout (Lambda gives init its own
      10 s); after a timeout the runtime is killed and the next invocation is a cold start, as in Lambda.
    - The emulator reports `context.invoked_function_arn` as
      `arn:aws:lambda:us-east-1:012345678912:function:<name>` whatever the region.
    - Logs go to one file per function (`LambdaProcess.log_path`), not CloudWatch.

    `log_dir` defaults to a fresh temporary folder; `close()` (or leaving the `with` block) stops every
    process this runtime started. An atexit hook stops any process still running at interpreter exit.
    """

    def __init__(
        self,
        *,
        rie: str | Path | None = None,
        python: str | None = None,
        log_dir: str | Path | None = None,
        region: str = "us-east-1",
        rie_log_level: str = "info",
        start_timeout: float = 10.0,
    ) -> None:
        self._rie = Path(rie) if rie is not None else None
        self.python = python or sys.executable
        self.log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="greenlight-lambda-"))
        self.region = region
        self.rie_log_level = rie_log_level
        self.start_timeout = start_timeout
        self._processes: list[LambdaProcess] = []

    @property
    def rie(self) -> Path:
        """The emulator binary (found, or fetched, on first use)."""
        if self._rie is None:
            self._rie = find_rie()
        return self._rie

    @property
    def processes(self) -> list[LambdaProcess]:
        return list(self._processes)

    def start(
        self,
        config: FunctionConfig,
        *,
        env_overrides: Mapping[str, str] | None = None,
        endpoint_url: str | None = None,
        port: int | None = None,
        check_handler: bool = True,
    ) -> LambdaProcess:
        """Starts `config` in a new emulator on 127.0.0.1 (a free port unless `port` is given).

        `endpoint_url` becomes AWS_ENDPOINT_URL (the twin's moto server); without it the function
        has no AWS endpoint of its own. `check_handler` verifies the handler's module file exists
        under code_dir before starting, since the emulator would only notice at the first invocation.
        """
        process = LambdaProcess(
            config,
            rie=self.rie,
            python=self.python,
            log_path=self.log_dir / _log_name(config.function_name),
            environment=lambda_environment(
                config, region=self.region, endpoint_url=endpoint_url, env_overrides=env_overrides
            ),
            port=port,
            rie_log_level=self.rie_log_level,
            start_timeout=self.start_timeout,
            check_handler=check_handler,
        )
        process.start()
        self._processes.append(process)
        return process

    def close(self) -> None:
        """Stops every process this runtime started."""
        while self._processes:
            self._processes.pop().stop()

    def __enter__(self) -> LambdaRuntime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class LambdaFleet:
    """Several functions started together, each in its own emulator; all stop together.

    If any function fails to start, the ones already started are stopped before the error is raised.
    Look a process up by logical id or function name: `fleet["AfterInstallHook"]`.
    """

    def __init__(
        self,
        configs: Iterable[FunctionConfig],
        *,
        runtime: LambdaRuntime | None = None,
        endpoint_url: str | None = None,
        env_overrides: Mapping[str, str] | None = None,
        env_by_function: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.configs = list(configs)
        self._own_runtime = runtime is None
        self.runtime = runtime or LambdaRuntime()
        self.endpoint_url = endpoint_url
        self.env_overrides = dict(env_overrides or {})
        self.env_by_function = {k: dict(v) for k, v in (env_by_function or {}).items()}
        self._processes: dict[str, LambdaProcess] = {}

    def start(self) -> LambdaFleet:
        try:
            for config in self.configs:
                overrides = dict(self.env_overrides)
                overrides.update(self.env_by_function.get(config.logical_id, {}))
                overrides.update(self.env_by_function.get(config.function_name, {}))
                process = self.runtime.start(config, env_overrides=overrides, endpoint_url=self.endpoint_url)
                self._processes[config.logical_id] = process
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops every started function (the ones that started, even if a later one failed)."""
        errors: list[BaseException] = []
        for process in self._processes.values():
            try:
                process.stop()
            except Exception as exc:  # stop the rest before reporting
                errors.append(exc)
        self._processes.clear()
        if self._own_runtime:
            self.runtime.close()
        if errors:
            raise errors[0]

    def __getitem__(self, key: str) -> LambdaProcess:
        if key in self._processes:
            return self._processes[key]
        for process in self._processes.values():
            if process.config.function_name == key:
                return process
        known = ", ".join(f"{p.config.logical_id} ({p.name})" for p in self._processes.values()) or "none"
        raise KeyError(f"no running function {key!r}; running: {known}")

    def __iter__(self) -> Iterator[LambdaProcess]:
        return iter(list(self._processes.values()))

    def __len__(self) -> int:
        return len(self._processes)

    def invoke(self, key: str, event: Any, timeout: float | None = None) -> InvocationResult:
        return self[key].invoke(event, timeout=timeout)

    def __enter__(self) -> LambdaFleet:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
