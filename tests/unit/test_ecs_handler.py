"""The IN_PROGRESS state machine of the ECS hook: resume, max_duration, budget, size bound, stale and repeated state.

The checks here are a scripted check kind (registered for these tests only) whose n-th measurement is
the n-th letter of a pattern, so a run's outcome depends only on how many measurements it takes. Time is
a manual clock (support.clock): each measurement takes a tenth of a second of it, waits move it on, and
the Lambda context counts down on it, so how many rounds a validation takes never depends on how busy
the machine is. AWS is an endpoint on 127.0.0.1 where nothing listens: the service deployment cannot be
described, and the handler judges rollback from the event alone and treats the deployment as not the
first (so the checks run), as it does when checks need no discovery and the API is out of reach.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from greenlight.aws import AwsClients
from greenlight.checks import KINDS, Check, CheckContext
from greenlight.engine.model import Measurement, errored, failed, passed
from greenlight.handlers.ecs import handle
from greenlight.reporting.ecs import FAILED, IN_PROGRESS, SUCCEEDED, validate_response
from greenlight.reporting.ecs_state import MAX_STATE_BYTES, STATE_KEY, size_of
from greenlight.spec.schema import Field, Obj, Str
from support.clock import LambdaContextOn, ManualClock
from support.lambda_context import FakeLambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events"


class ScriptedCheck(Check):
    """The n-th measurement of `key` is the n-th letter of `pattern` (P pass, F fail, E error), cycling."""

    kind = "scripted"
    schema = Obj({"pattern": Field(Str(pattern=r"[PFE]+", pattern_doc="letters P, F, E"), required=True)})
    calls: ClassVar[dict[str, int]] = {}
    seen_settings: ClassVar[list[dict[str, Any]]] = []
    clock: ClassVar[ManualClock | None] = None
    lock = threading.Lock()

    def measure(self, ctx: CheckContext) -> Measurement:
        with self.lock:
            n = self.calls.get(self.name, 0)
            self.calls[self.name] = n + 1
            self.seen_settings.append(dict(ctx.settings))
        if self.clock is not None:
            self.clock.advance(MEASUREMENT_TAKES)
        letter = self.body["pattern"][n % len(self.body["pattern"])]
        if letter == "P":
            return passed(f"measurement {n + 1} passed")
        if letter == "F":
            return failed(f"measurement {n + 1} failed")
        return errored(f"measurement {n + 1} errored")


MEASUREMENT_TAKES = 0.1  # seconds of the manual clock


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    clock = ManualClock()
    ScriptedCheck.clock = clock
    yield clock
    ScriptedCheck.clock = None


@pytest.fixture(autouse=True)
def scripted_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(KINDS, "scripted", f"{__name__}:ScriptedCheck")
    ScriptedCheck.calls.clear()
    ScriptedCheck.seen_settings.clear()
    yield


@pytest.fixture
def invoke(aws: AwsClients, clock: ManualClock) -> Callable[..., dict[str, Any]]:
    """Invoke the handler as Lambda would, with `remaining_ms` left on the manual clock."""

    def call(event: dict[str, Any], env: dict[str, str], remaining_ms: int) -> dict[str, Any]:
        out = handle(event, LambdaContextOn(remaining_ms, clock=clock), aws=aws, env=env, clock=clock)
        validate_response(out)
        return out

    return call


@pytest.fixture
def aws() -> AwsClients:
    from greenlight_twin.aws import session

    # 127.0.0.1:1 refuses at once; one attempt, so the refusal comes back without retries.
    return AwsClients(session=session("http://127.0.0.1:1"), retries={"mode": "standard", "max_attempts": 1})


@pytest.fixture
def spec_env(tmp_path: Path) -> Callable[..., dict[str, str]]:
    """Factory: a spec whose POST_TEST_TRAFFIC_SHIFT runs the given scripted checks; returns the env."""

    def write(checks: list[dict[str, Any]], *, stage: str = "POST_TEST_TRAFFIC_SHIFT", **settings: Any) -> dict:
        doc = {"version": 1, "settings": settings, "hooks": {stage: checks}}
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(doc))
        return {"GREENLIGHT_SPEC": str(path), "GREENLIGHT_REPORT_RESERVE": "0.2"}

    return write


def _check(name: str, pattern: str, count: int, **policy: Any) -> dict[str, Any]:
    return {"name": name, "scripted": {"pattern": pattern}, "count": count, "interval": 0.1, "timeout": 0.2, **policy}


def _event(stage: str = "POST_TEST_TRAFFIC_SHIFT") -> dict[str, Any]:
    name = stage if stage in ("POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT") else "POST_TEST_TRAFFIC_SHIFT"
    event: dict[str, Any] = json.loads((EVENTS / f"ecs-{name}.json").read_text())
    event["lifecycleStage"] = stage
    return event


def _state(response: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = response["hookDetails"][STATE_KEY]
    return state


def _until_final(
    invoke: Callable[..., dict[str, Any]],
    clock: ManualClock,
    event: dict[str, Any],
    env: dict[str, str],
    remaining_ms: int,
    limit: int = 200,
    *,
    new_execution_ids: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Invoke as ECS does: feed each IN_PROGRESS answer's hookDetails back in after its callBackDelay,
    until a final answer; `new_execution_ids`: each callback under another executionId (AWS does not
    document that it repeats)."""
    answers = []
    event = copy.deepcopy(event)
    for n in range(limit):
        if new_execution_ids:
            event["executionId"] = f"exec-{n:04d}"
        out = invoke(event, env, remaining_ms)
        answers.append(out)
        if out["hookStatus"] != IN_PROGRESS:
            return out, answers
        clock.advance(out["callBackDelay"])
        event["hookDetails"] = {**event.get("hookDetails", {}), **out["hookDetails"]}
    raise AssertionError(f"no final answer after {limit} invocations")


@pytest.mark.parametrize(
    ("pattern", "count", "failure_limit", "status", "verdict"),
    [("PPPF", 80, 20, SUCCEEDED, "PASSED"), ("PPPF", 80, 19, FAILED, "FAILED"), ("PEEP", 80, 0, SUCCEEDED, "PASSED")],
)
def test_ecs_handler_split_run_equals_uninterrupted_run(
    spec_env: Callable[..., dict[str, str]],
    invoke: Callable[..., dict[str, Any]],
    clock: ManualClock,
    pattern: str,
    count: int,
    failure_limit: int,
    status: str,
    verdict: str,
) -> None:
    # GIVEN a check whose measurements follow a fixed pattern
    policy = {"failure_limit": failure_limit, "consecutive_error_limit": 2, "interval": 0.05}
    env = spec_env([_check("home", pattern, count, **policy)])
    # WHEN it runs once with a big budget, then again split over invocations with a budget of a few measurements
    whole = invoke(_event(), env, 60_000)
    ScriptedCheck.calls.clear()
    split, answers = _until_final(invoke, clock, _event(), env, remaining_ms=4_000)
    # THEN both reach the same verdict with the same tally, the split one over several IN_PROGRESS rounds
    assert whole["hookStatus"] == split["hookStatus"] == status
    assert _state(whole)["verdict"] == _state(split)["verdict"] == verdict
    assert _state(whole)["results"] == _state(split)["results"]
    assert len(answers) >= 2
    assert all(a["hookStatus"] == IN_PROGRESS and 1 <= a["callBackDelay"] <= 900 for a in answers[:-1])
    assert [_state(a)["round"] for a in answers] == list(range(1, len(answers) + 1))
    print(f"{pattern} x{count}: {len(answers)} invocations, tally {_state(split)['results']['home']['t']}")


def test_ecs_handler_resume_keeps_started_at_and_counts_rounds(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN a validation that needs several invocations
    env = spec_env([_check("home", "P", 60)])
    first = invoke(_event(), env, 4_000)
    # WHEN the next invocation resumes it
    event = _event()
    event["hookDetails"] = first["hookDetails"]
    second = invoke(event, env, 4_000)
    # THEN it continues the same tally from where it stopped, with the first invocation's start time
    one, two = _state(first), _state(second)
    assert first["hookStatus"] == IN_PROGRESS
    assert two["started_at"] == one["started_at"] and two["round"] == 2
    taken_one = one["checks"]["home"]["t"][0]
    taken_two = (two.get("checks") or {}).get("home", {}).get("t", [None])[0] or two["results"]["home"]["t"][0]
    assert 0 < taken_one < taken_two == ScriptedCheck.calls["home"]


def test_ecs_handler_max_duration_ends_inconclusive(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]], clock: ManualClock
) -> None:
    # GIVEN a validation in progress, with max_duration 60s
    env = spec_env([_check("home", "P", 50)], max_duration=60)
    first = invoke(_event(), env, 4_000)
    assert first["hookStatus"] == IN_PROGRESS
    measured = ScriptedCheck.calls["home"]
    # WHEN ECS calls again 61 seconds after the validation started
    event = _event()
    event["hookDetails"] = first["hookDetails"]
    clock.advance(61 - (clock.time() - _state(first)["started_at"]))
    out = invoke(event, env, 60_000)
    # THEN it ends INCONCLUSIVE (FAILED: on_inconclusive defaults to fail), without measuring again
    assert out["hookStatus"] == FAILED
    state = _state(out)
    assert state["verdict"] == "INCONCLUSIVE"
    assert "max_duration 60s" in state["reason"] and f"after {measured} of 50 measurements" in state["reason"]
    assert ScriptedCheck.calls["home"] == measured


def test_ecs_handler_max_duration_with_on_inconclusive_pass(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]], clock: ManualClock
) -> None:
    # GIVEN the same, with on_inconclusive: pass
    env = spec_env([_check("home", "P", 50)], max_duration=60, on_inconclusive="pass")
    first = invoke(_event(), env, 4_000)
    event = _event()
    event["hookDetails"] = first["hookDetails"]
    # WHEN max_duration has passed
    clock.advance(61)
    out = invoke(event, env, 60_000)
    # THEN the deployment may go on, and the reason says so
    assert out["hookStatus"] == SUCCEEDED
    assert _state(out)["verdict"] == "INCONCLUSIVE" and "on_inconclusive: pass" in _state(out)["reason"]


def test_ecs_handler_max_duration_reached_within_an_invocation(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]], clock: ManualClock
) -> None:
    # GIVEN a validation in progress (max_duration 60s)
    env = spec_env([_check("home", "P", 1000)], max_duration=60)
    first = invoke(_event(), env, 4_000)
    event = _event()
    event["hookDetails"] = first["hookDetails"]
    # WHEN it resumes 59s after it started, with a big budget
    clock.advance(59 - (clock.time() - _state(first)["started_at"]))
    out = invoke(event, env, 60_000)
    # THEN the deadline cuts it short in this invocation: INCONCLUSIVE, naming max_duration
    assert out["hookStatus"] == FAILED
    assert 0 < ScriptedCheck.calls["home"] < 1000
    assert _state(out)["verdict"] == "INCONCLUSIVE" and "max_duration 60s reached" in _state(out)["reason"]


def test_ecs_handler_failure_ends_the_run_at_once(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]], clock: ManualClock
) -> None:
    # GIVEN two checks, one failing on its 3rd measurement, one still far from done
    env = spec_env([_check("bad", "PPF", 30), _check("slow", "P", 500)])
    # WHEN the validation runs over invocations
    out, answers = _until_final(invoke, clock, _event(), env, remaining_ms=4_000)
    # THEN it ends FAILED as soon as the failure is measured, naming the check and its last bad reason
    assert out["hookStatus"] == FAILED
    assert "bad: 1 failed measurement(s)" in _state(out)["reason"]
    assert "measurement 3 failed" in _state(out)["reason"]
    # (the failure may even stop "slow" before its first measurement starts)
    assert ScriptedCheck.calls.get("slow", 0) < 500


def test_ecs_handler_stale_state_of_another_stage_is_ignored(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN progress written by PRODUCTION_TRAFFIC_SHIFT's validation
    env = spec_env([_check("home", "P", 60)], stage="AfterAllowTestTraffic")
    spec_path = env["GREENLIGHT_SPEC"]
    doc = yaml.safe_load(Path(spec_path).read_text())
    doc["hooks"]["PRODUCTION_TRAFFIC_SHIFT"] = [_check("home", "P", 60)]
    Path(spec_path).write_text(yaml.safe_dump(doc))
    other = invoke(_event("PRODUCTION_TRAFFIC_SHIFT"), env, 4_000)
    assert other["hookStatus"] == IN_PROGRESS
    before = ScriptedCheck.calls["home"]
    # WHEN POST_TEST_TRAFFIC_SHIFT is invoked with that progress in its hookDetails
    event = _event("POST_TEST_TRAFFIC_SHIFT")
    event["hookDetails"] = other["hookDetails"]
    out = invoke(event, env, 4_000)
    # THEN it starts afresh: round 1, a tally of only its own measurements
    state = _state(out)
    assert state["stage"] == "POST_TEST_TRAFFIC_SHIFT" and state["round"] == 1
    taken = state["checks"]["home"]["t"][0] if "checks" in state else state["results"]["home"]["t"][0]
    assert taken == ScriptedCheck.calls["home"] - before


def test_ecs_handler_new_traffic_step_starts_afresh(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN progress of PRODUCTION_TRAFFIC_SHIFT at one LINEAR step (target at 100% before the change below)
    env = spec_env([_check("home", "P", 60)], stage="PRODUCTION_TRAFFIC_SHIFT")
    step1 = _event("PRODUCTION_TRAFFIC_SHIFT")
    out1 = invoke(step1, env, 4_000)
    assert out1["hookStatus"] == IN_PROGRESS
    # WHEN the next step's invocation (same execution, other weights) carries it
    step2 = copy.deepcopy(step1)
    weights = step2["executionDetails"]["productionTrafficWeights"]
    target = step2["executionDetails"]["targetServiceRevisionArn"]
    for arn in weights:
        weights[arn] = 60 if arn == target else 40
    step2["hookDetails"] = out1["hookDetails"]
    out2 = invoke(step2, env, 4_000)
    # THEN that step is validated from scratch, and the checks saw its weights
    assert _state(out2)["round"] == 1 and _state(out2)["w"] == [None, 60.0]
    assert ScriptedCheck.seen_settings[-1]["traffic_weights"]["target_weight"] == 60.0
    assert ScriptedCheck.seen_settings[-1]["traffic_weights"]["production"][target] == 60.0


def test_ecs_handler_repeated_final_answer_is_not_flipped(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN a validation that ended FAILED
    env = spec_env([_check("home", "F", 3)])
    first = invoke(_event(), env, 60_000)
    assert first["hookStatus"] == FAILED
    # WHEN the same invocation arrives again with that answer merged in (and green would now pass)
    env = spec_env([_check("home", "P", 3)])
    event = _event()
    event["hookDetails"] = first["hookDetails"]
    again = invoke(event, env, 60_000)
    # THEN the same answer comes back and nothing is measured again
    assert again["hookStatus"] == FAILED and _state(again)["reason"] == _state(first)["reason"]
    assert ScriptedCheck.calls["home"] == 1


def test_ecs_handler_too_many_checks_fail_before_probing(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN a stage with more checks than hookDetails can carry
    env = spec_env([_check(f"check-with-a-long-descriptive-name-{i:04d}", "P", 100) for i in range(250)])
    # WHEN it is invoked
    out = invoke(_event(), env, 60_000)
    # THEN it fails at once with a reason naming the bound, before any measurement
    assert out["hookStatus"] == FAILED
    assert "StateTooLargeError" in _state(out)["reason"] and str(MAX_STATE_BYTES) in _state(out)["reason"]
    assert ScriptedCheck.calls == {}


def test_ecs_handler_many_checks_progress_stays_within_bound(
    spec_env: Callable[..., dict[str, str]], aws: AwsClients
) -> None:
    # GIVEN 60 checks that fail often (long last-bad reasons) and need many measurements
    env = spec_env([_check(f"check-{i:03d}", "PF", 40, failure_limit=40) for i in range(60)])
    # WHEN one short invocation runs them
    out = handle(_event(), FakeLambdaContext(4_000), aws=aws, env=env)
    # THEN the progress of all 60 fits the bound
    assert out["hookStatus"] == IN_PROGRESS
    assert len(_state(out)["checks"]) == 60
    assert size_of(_state(out)) <= MAX_STATE_BYTES
    print(f"60 checks in progress: {size_of(_state(out))} bytes")


def test_ecs_handler_corrupted_state_fails_with_reason(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN an invocation whose hookDetails.greenlight was tampered with
    env = spec_env([_check("home", "P", 60)])
    first = invoke(_event(), env, 4_000)
    event = _event()
    event["hookDetails"] = copy.deepcopy(first["hookDetails"])
    event["hookDetails"][STATE_KEY]["checks"]["home"]["t"] = [3, 3, 0, 0, 3]
    # WHEN it is invoked
    out = invoke(event, env, 4_000)
    # THEN FAILED, naming the field; nothing more is measured
    assert out["hookStatus"] == FAILED
    assert "hookDetails.greenlight.checks.home.t" in _state(out)["reason"]


def test_ecs_handler_budget_too_small_for_one_measurement(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN a check whose measurement may take 5s, and a function with 3s left
    env = spec_env([{**_check("home", "P", 3), "timeout": 5}])
    # WHEN it is invoked
    out = invoke(_event(), env, 3_000)
    # THEN FAILED at once, saying which timeout to raise, instead of IN_PROGRESS forever
    assert out["hookStatus"] == FAILED
    assert "raise the function's timeout to at least" in _state(out)["reason"]
    assert ScriptedCheck.calls == {}


def test_ecs_handler_callback_delay_is_time_to_next_measurement(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN a check measured every 20s, and a function with a few seconds per invocation
    env = spec_env([{**_check("home", "P", 3), "interval": 20}])
    # WHEN it is invoked
    out = invoke(_event(), env, 2_000)
    # THEN one measurement is taken and ECS is asked to call back when the next one is due
    assert out["hookStatus"] == IN_PROGRESS
    assert ScriptedCheck.calls["home"] == 1
    assert 15 <= out["callBackDelay"] <= 20


def test_ecs_handler_rollback_passes_without_measuring(
    spec_env: Callable[..., dict[str, str]], aws: AwsClients
) -> None:
    # GIVEN the rollback re-run of PRODUCTION_TRAFFIC_SHIFT (target at weight 0), default on_rollback
    env = spec_env([_check("home", "F", 3)], stage="PRODUCTION_TRAFFIC_SHIFT")
    event = json.loads((EVENTS / "ecs-rollback-PRODUCTION_TRAFFIC_SHIFT.json").read_text())
    # WHEN it is invoked
    out = handle(event, FakeLambdaContext(60_000), aws=aws, env=env)
    # THEN the rollback goes on: SUCCEEDED, SKIPPED, nothing measured
    assert out["hookStatus"] == SUCCEEDED
    assert _state(out)["verdict"] == "SKIPPED" and "on_rollback is pass" in _state(out)["reason"]
    assert ScriptedCheck.calls == {}


def test_ecs_handler_rollback_runs_when_asked(spec_env: Callable[..., dict[str, str]], aws: AwsClients) -> None:
    # GIVEN the same with on_rollback: run
    env = spec_env([_check("home", "P", 2)], stage="PRODUCTION_TRAFFIC_SHIFT", on_rollback="run")
    event = json.loads((EVENTS / "ecs-rollback-PRODUCTION_TRAFFIC_SHIFT.json").read_text())
    # WHEN it is invoked
    out = handle(event, FakeLambdaContext(60_000), aws=aws, env=env)
    # THEN the checks run and see that it is a rollback
    assert out["hookStatus"] == SUCCEEDED and _state(out)["verdict"] == "PASSED"
    assert ScriptedCheck.calls["home"] == 2
    assert ScriptedCheck.seen_settings[-1]["rollback"] is True


def test_ecs_handler_first_deployment_unknown_without_the_api_runs_the_checks(
    spec_env: Callable[..., dict[str, str]], aws: AwsClients
) -> None:
    # GIVEN the first deployment of a service, which only DescribeServiceDeployments tells (no source
    # revisions), and that API out of reach
    event = json.loads((EVENTS / "ecs-first-deployment-POST_SCALE_UP.json").read_text())
    env = spec_env([_check("home", "F", 1)], stage="POST_SCALE_UP")
    # WHEN it is invoked with the default on_first_deployment (pass)
    out = handle(event, FakeLambdaContext(60_000), aws=aws, env=env)
    # THEN nothing is skipped on a guess: the checks run (the safe side), and their failure fails the hook
    assert out["hookStatus"] == FAILED and _state(out)["verdict"] == "FAILED"
    assert ScriptedCheck.calls.get("home", 0) == 1


def test_ecs_handler_rollback_not_blocked_by_unreadable_spec(tmp_path: Path, aws: AwsClients) -> None:
    # GIVEN a function whose spec cannot be read
    env = {"GREENLIGHT_SPEC": str(tmp_path / "missing.yaml")}
    rollback = json.loads((EVENTS / "ecs-rollback-PRODUCTION_TRAFFIC_SHIFT.json").read_text())
    # WHEN it is invoked for a rollback re-run, and for a forward stage
    during_rollback = handle(rollback, FakeLambdaContext(60_000), aws=aws, env=env)
    forward = handle(_event(), FakeLambdaContext(60_000), aws=aws, env=env)
    # THEN the rollback goes on (on_rollback defaults to pass), the forward stage fails naming the file
    assert during_rollback["hookStatus"] == SUCCEEDED and _state(during_rollback)["verdict"] == "SKIPPED"
    assert forward["hookStatus"] == FAILED
    assert "SpecSourceError" in _state(forward)["reason"] and "missing.yaml" in _state(forward)["reason"]


@pytest.mark.parametrize("changing", [False, True], ids=["stable-executionId", "changing-executionId"])
def test_ecs_handler_resumes_whatever_the_execution_id(
    spec_env: Callable[..., dict[str, str]],
    invoke: Callable[..., dict[str, Any]],
    clock: ManualClock,
    changing: bool,
) -> None:
    # GIVEN a validation that needs several invocations
    env = spec_env([_check("home", "P", 60)])
    # WHEN ECS calls back with the returned hookDetails, under the same or under a new executionId each time
    _, answers = _until_final(invoke, clock, _event(), env, 4_000, 100, new_execution_ids=changing)
    # THEN the rounds follow on from each other and the tally adds up to one uninterrupted run
    assert answers[-1]["hookStatus"] == SUCCEEDED and len(answers) >= 2
    assert [_state(a)["round"] for a in answers] == list(range(1, len(answers) + 1))
    assert _state(answers[-1])["results"]["home"]["t"][0] == 60 == ScriptedCheck.calls["home"]


@pytest.mark.parametrize("changing", [False, True], ids=["stable-executionId", "changing-executionId"])
def test_ecs_handler_max_duration_ends_the_loop_whatever_the_execution_id(
    spec_env: Callable[..., dict[str, str]],
    invoke: Callable[..., dict[str, Any]],
    clock: ManualClock,
    changing: bool,
) -> None:
    # GIVEN a check that would take far longer than max_duration (30s)
    env = spec_env([{**_check("home", "P", 10_000), "interval": 1}], max_duration=30)
    # WHEN ECS keeps calling back, under the same or a new executionId each time (at most 200 times)
    _, answers = _until_final(invoke, clock, _event(), env, 3_000, 200, new_execution_ids=changing)
    # THEN max_duration ends it, INCONCLUSIVE (FAILED by default), after a bounded number of invocations
    assert answers[-1]["hookStatus"] == FAILED
    assert _state(answers[-1])["verdict"] == "INCONCLUSIVE"
    assert "max_duration 30s" in _state(answers[-1])["reason"]
    print(f"max_duration 30s, executionId {'changing' if changing else 'stable'}: {len(answers)} invocations")


def test_ecs_handler_failed_is_repeated_under_another_execution_and_weights(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN a PRODUCTION_TRAFFIC_SHIFT validation that ended FAILED
    env = spec_env([_check("home", "F", 3)], stage="PRODUCTION_TRAFFIC_SHIFT")
    first = invoke(_event("PRODUCTION_TRAFFIC_SHIFT"), env, 60_000)
    assert first["hookStatus"] == FAILED
    # WHEN an invocation of the same stage and deployment carries that answer, under another executionId and
    # other weights (a next step), while green would now pass
    env = spec_env([_check("home", "P", 3)], stage="PRODUCTION_TRAFFIC_SHIFT")
    again = {**_event("PRODUCTION_TRAFFIC_SHIFT"), "executionId": "exec-0007"}
    details = again["executionDetails"]
    for arn in details["productionTrafficWeights"]:
        details["productionTrafficWeights"][arn] = 50
    again["hookDetails"] = first["hookDetails"]
    out = invoke(again, env, 60_000)
    # THEN it answers FAILED again, with the first reason, and measures nothing
    assert out["hookStatus"] == FAILED and _state(out)["reason"] == _state(first)["reason"]
    assert ScriptedCheck.calls["home"] == 1


def test_ecs_handler_failure_answer_is_repeated(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN the FAILED answer of an invocation that went wrong before validating (a spec it could not read)
    bad = {"GREENLIGHT_SPEC": "/nonexistent/greenlight.yaml", "GREENLIGHT_REPORT_RESERVE": "0.2"}
    first = invoke(_event(), bad, 60_000)
    assert first["hookStatus"] == FAILED and first["reason"]
    # WHEN ECS invokes the hook again with that answer merged in, and the spec can now be read
    event = _event()
    event["hookDetails"] = first["hookDetails"]
    out = invoke(event, spec_env([_check("home", "P", 1)]), 60_000)
    # THEN FAILED again: a repeat never flips a FAILED into SUCCEEDED
    assert out["hookStatus"] == FAILED and "nonexistent" in out["reason"]
    assert ScriptedCheck.calls == {}


def test_ecs_handler_failed_state_does_not_block_a_rollback(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN PRODUCTION_TRAFFIC_SHIFT failed, and ECS runs it again for the rollback with that answer merged in
    env = spec_env([_check("home", "F", 3)], stage="PRODUCTION_TRAFFIC_SHIFT")
    first = invoke(_event("PRODUCTION_TRAFFIC_SHIFT"), env, 60_000)
    rollback = json.loads((EVENTS / "ecs-rollback-PRODUCTION_TRAFFIC_SHIFT.json").read_text())
    rollback["hookDetails"] = first["hookDetails"]
    # WHEN the rollback re-run is invoked (on_rollback: pass by default)
    out = invoke(rollback, env, 60_000)
    # THEN the rollback goes on
    assert first["hookStatus"] == FAILED and out["hookStatus"] == SUCCEEDED
    assert _state(out)["verdict"] == "SKIPPED"


@pytest.mark.parametrize("value", ["s3://bucket/config", ["a", 1], 7, None, True])
def test_ecs_handler_non_object_hook_details_never_fails(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]], value: Any
) -> None:
    # GIVEN a service whose configured hookDetails is not an object, and a validation longer than one
    # invocation's budget would allow to pause
    env = spec_env([_check("home", "P", 30)])
    event = _event()
    event["hookDetails"] = value
    original = copy.deepcopy(value)
    # WHEN it is invoked
    out = invoke(event, env, 60_000)
    # THEN it is validated in that one invocation (no IN_PROGRESS whose progress could be lost), it passes,
    # and the service's value is left as it was
    assert out["hookStatus"] == SUCCEEDED and _state(out)["verdict"] == "PASSED"
    assert ScriptedCheck.calls["home"] == 30
    assert event["hookDetails"] == original


def test_ecs_handler_object_hook_details_keeps_the_service_keys(
    spec_env: Callable[..., dict[str, str]], invoke: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN a service hookDetails object with keys of its own
    env = spec_env([_check("home", "P", 60)])
    event = _event()
    event["hookDetails"] = {"S3_BUCKET_NAME": "my-approval-bucket"}
    # WHEN the hook answers IN_PROGRESS
    out = invoke(event, env, 4_000)
    # THEN its answer carries only greenlight's key: ECS merges it, so the service's keys come back untouched
    assert out["hookStatus"] == IN_PROGRESS and set(out["hookDetails"]) == {STATE_KEY}
    merged = {**event["hookDetails"], **out["hookDetails"]}
    resumed = invoke({**event, "hookDetails": merged}, env, 4_000)
    assert _state(resumed)["round"] == 2


def test_ecs_handler_answers_in_time_when_describe_service_deployments_hangs(
    spec_env: Callable[..., dict[str, str]],
) -> None:
    # GIVEN an ECS endpoint that accepts connections and never answers (botocore would wait 10s per read,
    # with retries), and a function with 3s left and a 1s reserve
    from greenlight_twin.aws import session
    from support.servers import SilentServer

    env = {**spec_env([_check("home", "P", 1)]), "GREENLIGHT_REPORT_RESERVE": "1"}
    with SilentServer() as silent:
        aws = AwsClients(session=session(silent.url))
        context = FakeLambdaContext(3_000)
        # WHEN the hook is invoked
        out = handle(_event(), context, aws=aws, env=env)
        left_ms = context.get_remaining_time_in_millis()
    # THEN it answers FAILED (fail closed) before the function's time is up, saying time ran out
    validate_response(out)
    assert out["hookStatus"] == FAILED
    assert "TimeoutError" in out["reason"]
    assert left_ms > 0
    print(f"DescribeServiceDeployments hanging: answered with {left_ms} ms of 3000 left (reserve 1000 ms)")


def test_ecs_handler_no_time_at_start_fails_closed_but_never_blocks_a_rollback(
    spec_env: Callable[..., dict[str, str]], aws: AwsClients
) -> None:
    # GIVEN a function invoked with less time left than the default reserve (15s), and a spec with checks
    env = {k: v for k, v in spec_env([_check("home", "P", 1)]).items() if k != "GREENLIGHT_REPORT_RESERVE"}
    rollback = json.loads((EVENTS / "ecs-rollback-PRODUCTION_TRAFFIC_SHIFT.json").read_text())
    # WHEN a forward stage and a rollback re-run are invoked
    forward = handle(_event(), FakeLambdaContext(5_000), aws=aws, env=env)
    during_rollback = handle(rollback, FakeLambdaContext(5_000), aws=aws, env=env)
    # THEN the forward stage fails at once, saying time ran out, before any AWS call or measurement; the
    # rollback goes on
    assert forward["hookStatus"] == FAILED and "TimeoutError" in forward["reason"] and "at start" in forward["reason"]
    assert during_rollback["hookStatus"] == SUCCEEDED
    assert ScriptedCheck.calls == {}
