"""A validation split into the durable worker's rounds reaches the verdict one uninterrupted run reaches.

The durable worker runs under the SDK's local test runner (aws-durable-execution-sdk-python-testing), which
checkpoints each round, ends the invocation at each wait and replays the execution from its checkpoints.
The checks are a scripted kind whose n-th measurement is the n-th letter of a pattern (P pass, F fail,
E error), and time is a manual clock (support.clock), so the outcome depends only on the measurements
taken, never on how busy the machine is. Nothing is reported: the report step returns the verdict.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from greenlight import plan
from greenlight.checks import KINDS, Check, CheckContext
from greenlight.durable.job import CODE_DEPLOY, Job
from greenlight.durable.worker import Worker, make_handler
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import Measurement, errored, failed, passed
from greenlight.reporting.ecs import results_of
from greenlight.spec.loader import load
from greenlight.spec.schema import Field, Obj, Str
from support.clock import ManualClock

HOOK = "AfterAllowTestTraffic"


class ScriptedCheck(Check):
    """The n-th measurement is the n-th letter of `pattern`, cycling; each takes 0.1 s of the manual clock."""

    kind = "scripted"
    schema = Obj({"pattern": Field(Str(pattern=r"[PFE]+", pattern_doc="letters P, F, E"), required=True)})
    calls: ClassVar[dict[str, int]] = {}
    clock: ClassVar[ManualClock | None] = None
    lock = threading.Lock()

    def measure(self, ctx: CheckContext) -> Measurement:
        with self.lock:
            n = self.calls.get(self.name, 0)
            self.calls[self.name] = n + 1
        if self.clock is not None:
            self.clock.advance(0.1)
        letter = self.body["pattern"][n % len(self.body["pattern"])]
        return {"P": passed, "F": failed, "E": errored}[letter](f"measurement {n + 1}")


class _Unreported(Worker):
    """Reports nothing; and lets the manual clock pass the durable wait the previous round asked for (the
    runner skips waits, and a round runs once: replays take its checkpointed result)."""

    waited = 0.0

    def round(self, job: Job, progress: Mapping[str, Any] | None, lambda_context: Any) -> dict[str, Any]:
        assert isinstance(self.clock, ManualClock)
        self.clock.advance(self.waited)
        out = super().round(job, progress, lambda_context)
        self.waited = max(1, math.ceil(out.get("wait", 0.0)))  # as the worker asks context.wait
        return out

    def report(self, job: Job, outcome: Mapping[str, Any]) -> dict[str, Any]:
        return dict(outcome)


@pytest.fixture(autouse=True)
def scripted_kind() -> Iterator[None]:
    KINDS["scripted"] = f"{__name__}:ScriptedCheck"
    yield
    KINDS.pop("scripted", None)


checks = st.lists(
    st.fixed_dictionaries(
        {
            "pattern": st.text(alphabet="PFE", min_size=1, max_size=5),
            "count": st.integers(min_value=1, max_value=8),
            "failure_limit": st.integers(min_value=0, max_value=3),
            "consecutive_error_limit": st.integers(min_value=0, max_value=3),
            "interval": st.sampled_from([1.0, 2.5]),
        }
    ),
    min_size=1,
    max_size=1,
)


@settings(max_examples=30)
@given(checks=checks)
def test_durable_split_run_equals_uninterrupted_run(checks: list[dict[str, Any]], tmp_path_factory: Any) -> None:
    # GIVEN a spec of scripted checks
    entries = [
        {"name": f"c{i}", "scripted": {"pattern": c.pop("pattern")}, "timeout": 0.5, **c} for i, c in enumerate(checks)
    ]
    path = Path(tmp_path_factory.mktemp("spec")) / "spec.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "target": {"test_url": "http://127.0.0.1:9"}, "hooks": {HOOK: entries}})
    )
    env = {"GREENLIGHT_SPEC": str(path), "GREENLIGHT_ROUND_HOLD": "0", "GREENLIGHT_REPORT_RESERVE": "1"}

    # WHEN it runs once, uninterrupted
    clock = ManualClock()
    ScriptedCheck.clock, ScriptedCheck.calls = clock, {}
    whole = plan.run_hook(load(str(path)), HOOK, deadline=Deadline.after(100_000, clock))
    # ... and again in the durable worker's rounds
    clock = ManualClock()
    ScriptedCheck.clock, ScriptedCheck.calls = clock, {}
    job = Job(
        CODE_DEPLOY,
        HOOK,
        clock.time(),
        clock.time() + 3600,
        {"deploymentId": "d-ABCDEFGHI", "lifecycleEventHookExecutionId": "x"},
    )
    with DurableFunctionTestRunner(handler=make_handler(_Unreported(aws=object(), env=env, clock=clock))) as runner:
        result = runner.run(input=json.dumps(job.to_payload()), execution_timeout=60, execution_name=job.name())
    split = json.loads(result.result)

    # THEN both reach the same verdict with the same tallies
    assert split["verdict"] == whole.verdict.value
    assert split["results"] == results_of(whole)
    rounds = [op.name for op in result.operations if op.name and op.name.startswith("round-")]
    assert len(rounds) == split["round"] >= 1
