"""The durable worker in the twin: the SDK's local runner plays Lambda's durable execution service.

SAM's local durable emulator needs a container image from a registry this twin cannot reach, so the
worker runs in the twin's process under aws-durable-execution-sdk-python-testing's DurableFunctionTestRunner
with real time (waits are real waits): every round a step whose result is checkpointed, the invocation
ended at each wait and the handler invoked again, replaying the checkpoints, as Lambda does. The hook
functions start it as in AWS, with an asynchronous Invoke carrying a DurableExecutionName, which the
twin's moto routes here (greenlight_twin.aws.durable).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any


class DurableWorker:
    """One durable worker function, registered with the twin's moto under its function name."""

    def __init__(self, function_name: str, *, endpoint_url: str, env: Mapping[str, str]) -> None:
        from greenlight_twin.aws import durable as twin_durable

        self.function_name = function_name
        self.endpoint_url = endpoint_url
        self.env = dict(env)
        self._lock = threading.Lock()
        self._runner: Any = None
        self.executions: list[str] = []
        twin_durable.register_worker(function_name, self.start)

    def _runner_for(self) -> Any:
        from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner

        from greenlight.aws import AwsClients
        from greenlight.durable.worker import Worker, make_handler
        from greenlight_twin.aws import session

        if self._runner is None:
            worker = Worker(aws=AwsClients(session=session(self.endpoint_url)), env=self.env)
            self._runner = DurableFunctionTestRunner(handler=make_handler(worker), skip_time=False)
        return self._runner

    def start(self, name: str, payload: bytes) -> str:
        """Start a durable execution of the worker with `payload` under `name`; returns its ARN."""
        with self._lock:
            arn: str = self._runner_for().run_async(
                input=payload.decode(),
                execution_timeout=3 * 3600,
                function_name=self.function_name,
                execution_name=name,
            )
            self.executions.append(arn)
        return arn

    def wait(self, arn: str, timeout: int = 60) -> Any:
        """The execution's result once it ends (for tests)."""
        return self._runner_for().wait_for_result(arn, timeout=timeout)

    def close(self) -> None:
        from greenlight_twin.aws import durable as twin_durable

        twin_durable.unregister_worker(self.function_name)
        with self._lock:
            if self._runner is not None:
                self._runner.close()
                self._runner = None
