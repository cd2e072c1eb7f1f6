"""The hook is never silent and never flips a result: scenarios 1-11 of docs/guarantees.md.

Every test runs the real CodeDeploy hook handler with a Lambda context on the real clock, against
real HTTP servers on 127.0.0.1 (tests/support/servers.py) and the twin's AWS (moto server mode on
127.0.0.1 with CodeDeploy's hook API and fault injection). What CodeDeploy recorded is read back from
the twin; what the target saw is read back from the server.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hook_harness import HOOK, PUT_STATUS, Twin, http_spec, invoke, write_spec

from greenlight.checks import KINDS, Check, CheckContext
from greenlight.engine.model import Measurement, Status
from greenlight.handlers.inputs import InvalidEventError
from greenlight.reporting.codedeploy import ReportError
from greenlight.spec.schema import Field, Obj, Str
from greenlight_twin import aws as twin_aws
from support.lambda_context import context_for
from support.servers import HttpServer, RefusingPort, Reply, SilentServer, sequence

OK = Reply(json={"status": "ok"})


def health(**policy: Any) -> dict[str, Any]:
    """An http check of /health with the given policy (no pause between measurements unless given)."""
    return {"name": "health", "http": {"path": "/health"}, "interval": 0, **policy}


def checks_logged(records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    """The per-check results the handler logged (structured `check` field)."""
    return [r.check for r in records if hasattr(r, "check")]


# --- 1 ------------------------------------------------------------------------------------------------


def test_hook_all_checks_pass_reports_succeeded_exactly_once(twin: Twin, tmp_path: Any) -> None:
    # GIVEN a healthy green and a spec with two checks
    with HttpServer(OK) as green:
        spec = write_spec(
            tmp_path,
            http_spec(green.url, checks=[health(count=3), {"name": "root", "http": {"path": "/"}, "count": 2}]),
        )
        # WHEN the hook runs
        result = invoke(twin, spec)
    # THEN Succeeded is recorded once, after every measurement was taken
    assert result.error is None
    assert result.outcome is not None and result.outcome["status"] == "Succeeded"
    assert result.outcome["recorded"] is True
    execution = twin.execution()
    assert execution.status == "Succeeded"
    assert execution.reports == ("Succeeded",)
    assert len(result.report_sends) == 1
    assert len(green.requests_to("/health")) == 3 and len(green.requests_to("/")) == 2


# --- 2 ------------------------------------------------------------------------------------------------


def test_hook_persistent_5xx_fails_as_soon_as_failure_limit_is_reached(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a green that always answers 500, and a check of 20 measurements tolerating 2 failures
    caplog.set_level(logging.INFO)
    with HttpServer(Reply(500, body="upstream error")) as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[health(count=20, failure_limit=2)]))
        # WHEN the hook runs
        result = invoke(twin, spec)
    # THEN it stops at the third failure (failure_limit + 1), not after 20, and reports Failed
    assert len(green.requests) == 3
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)
    (check,) = checks_logged(caplog.records)
    assert check["counts"] == {"PASS": 0, "FAIL": 3, "ERROR": 0}
    assert "more than failure_limit 2" in check["reason"]


# --- 3 ------------------------------------------------------------------------------------------------

STALLING = {
    "silent": None,  # accepts the connection, never sends a byte
    "slow-answer": Reply(delay=30.0),
    "dripped-headers": Reply(body="ok", drip_headers=0.2),
    "dripped-body": Reply(body="x" * 500, drip_body=0.1),
}


@pytest.mark.parametrize("kind", list(STALLING))
def test_hook_stalling_target_is_bounded_by_wall_clock_and_fails_in_time(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    # GIVEN a target that never completes an answer, a check that would keep measuring for a long
    #       time (1000 measurements, errors tolerated), 12 s left in the Lambda and a 6 s reserve
    caplog.set_level(logging.INFO)
    reply = STALLING[kind]
    server = SilentServer() if reply is None else HttpServer(reply)
    with server:
        policy = health(count=1000, timeout="1s", consecutive_error_limit=1000)
        spec = write_spec(tmp_path, http_spec(server.url, checks=[policy]))
        # WHEN the hook runs
        result = invoke(twin, spec, seconds=12, env={"GREENLIGHT_REPORT_RESERVE": "6"})
    # THEN every measurement ended at its own 1 s wall-clock bound, the deadline cut the check short
    #      with nothing passed (an ERROR, never INCONCLUSIVE), and Failed went out while most of the
    #      reserve was still left
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert result.outcome["verdict"] == "ERROR"
    assert twin.execution().reports == ("Failed",)
    (check,) = checks_logged(caplog.records)
    assert check["status"] == "ERROR"
    assert "none of which passed" in check["reason"]
    measured = check["measurements"]
    assert measured, "at least one measurement was taken"
    assert all(m["status"] == "ERROR" for m in measured)
    assert all(m["details"]["error"] == "timeout" for m in measured[:-1])  # the last may be cut by the deadline
    assert "within 1s (wall clock)" in measured[0]["reason"]
    (left_at_report,) = result.report_sends
    assert left_at_report >= 3.0, f"the report went out with only {left_at_report:.1f}s of the 6s reserve left"


@pytest.mark.usefixtures("hanging_kind")
@pytest.mark.parametrize("where", ["prepare", "measure"])
def test_hook_check_that_hangs_cannot_eat_the_reserve(twin: Twin, tmp_path: Any, where: str) -> None:
    # GIVEN a check that blocks in `where`, with a 60 s measurement timeout (longer than the whole
    #       Lambda), 14 s left in the Lambda and a 7 s reserve
    spec = write_spec(
        tmp_path,
        http_spec("http://127.0.0.1:9", checks=[{"name": "stuck", "hang": {"where": where}, "timeout": "60s"}]),
    )
    # WHEN the hook runs
    result = invoke(twin, spec, seconds=14, env={"GREENLIGHT_REPORT_RESERVE": "7"})
    # THEN the engine stops waiting at the deadline and Failed goes out with most of the reserve left
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)
    (left_at_report,) = result.report_sends
    assert left_at_report >= 3.5, f"the report went out with only {left_at_report:.1f}s of the 7s reserve left"


# --- 4 ------------------------------------------------------------------------------------------------


def test_hook_connection_refused_fails_past_error_limit_with_network_hint(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a listener port where nothing listens, and 2 errors in a row tolerated
    caplog.set_level(logging.INFO)
    with RefusingPort() as port:
        spec = write_spec(tmp_path, http_spec(port.url, checks=[health(count=10, consecutive_error_limit=2)]))
        # WHEN the hook runs
        result = invoke(twin, spec)
    # THEN three ERROR measurements (one past the limit), then Failed with a hint on what to look at
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert result.outcome["verdict"] == "ERROR"
    assert twin.execution().reports == ("Failed",)
    (check,) = checks_logged(caplog.records)
    assert check["counts"] == {"PASS": 0, "FAIL": 0, "ERROR": 3}
    assert {m["details"]["error"] for m in check["measurements"]} == {"refused"}
    assert "listener port and the security group" in result.outcome["reason"]
    assert any("security group" in r.getMessage() for r in caplog.records if r.name == "greenlight.handler")


def test_hook_dns_failure_fails_past_error_limit_with_dns_hint(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a load balancer name that cannot resolve (RFC 6761: names under .invalid are answered
    #       locally, so no resolver is asked)
    caplog.set_level(logging.INFO)
    spec = write_spec(tmp_path, http_spec("http://green-alb.invalid:9080", checks=[health(count=5)]))
    # WHEN the hook runs (the default consecutive_error_limit is 4)
    result = invoke(twin, spec)
    # THEN every measurement is a DNS ERROR and Failed names DNS in the VPC as the place to look
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)
    (check,) = checks_logged(caplog.records)
    assert check["counts"] == {"PASS": 0, "FAIL": 0, "ERROR": 5}
    assert {m["details"]["error"] for m in check["measurements"]} == {"dns"}
    assert "cannot resolve green-alb.invalid" in result.outcome["reason"]
    assert "DNS in the VPC" in result.outcome["reason"]


# --- 5 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("throttled", [2, 4], ids=["twice", "beyond-sdk-retries"])
def test_report_throttled_then_accepted_is_retried_and_recorded_once(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture, throttled: int
) -> None:
    # GIVEN CodeDeploy throttles the report call `throttled` times before accepting it
    #       (the SDK retries 3 attempts itself; past that the reporter backs off and tries again)
    caplog.set_level(logging.INFO)
    twin_aws.throttle(f"codedeploy:{PUT_STATUS}", times=throttled)
    with HttpServer(OK) as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[health(count=1)]))
        # WHEN the hook runs
        result = invoke(twin, spec)
    # THEN every throttled attempt was retried, and exactly one status was recorded
    assert result.error is None
    assert result.outcome is not None and result.outcome["status"] == "Succeeded"
    assert len(result.report_sends) == throttled + 1
    assert twin.execution().reports == ("Succeeded",)
    assert twin_aws.active_faults() == []
    reported = [r for r in caplog.records if r.getMessage() == "reported Succeeded to CodeDeploy"]
    assert len(reported) == 1
    if throttled > 3:
        assert any("report throttled, retrying in" in r.getMessage() for r in caplog.records)
        assert reported[0].attempts == 2  # type: ignore[attr-defined]


# --- 6 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "recorded"),
    [(OK, Reply(500), "Succeeded"), (Reply(500), OK, "Failed")],
    ids=["succeeded-stays", "failed-stays"],
)
def test_hook_repeated_invocation_never_flips_the_first_result(
    twin: Twin, tmp_path: Any, first: Reply, second: Reply, recorded: str
) -> None:
    # GIVEN one invocation already reported for this hook execution
    with HttpServer(first) as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[health(count=1)]))
        earlier = invoke(twin, spec)
        assert earlier.outcome is not None and earlier.outcome["status"] == recorded
        # WHEN Lambda delivers the same event again (at-least-once) and green now answers the other way
        green.set(None, second)
        repeat = invoke(twin, spec)
    # THEN the repeat finds the execution completed, changes nothing, and says so
    assert repeat.error is None
    assert repeat.outcome is not None and repeat.outcome["recorded"] is False
    execution = twin.execution()
    assert execution.status == recorded
    assert execution.reports[0] == recorded
    assert all(status != recorded for status in execution.reports[1:]) or len(execution.reports) == 1


# --- 7 ------------------------------------------------------------------------------------------------


def test_report_denied_is_logged_with_group_and_action_then_raised(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN the hook's role may not call PutLifecycleEventHookExecutionStatus
    caplog.set_level(logging.INFO)
    twin_aws.deny(f"codedeploy:{PUT_STATUS}")
    with HttpServer(OK) as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[health(count=1)]))
        # WHEN the hook runs
        result = invoke(twin, spec)
    # THEN the invocation fails visibly, and an ERROR log line names the deployment group and the action
    assert isinstance(result.error, ReportError)
    assert twin.execution().status is None
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and r.name == "greenlight.reporting"]
    assert errors, "the denied report was not logged at error level"
    assert twin.world.deployment_group_name and twin.world.deployment_group_name in errors[-1]
    assert f"codedeploy:{PUT_STATUS}" in errors[-1]
    assert twin.world.deployment_group_name in str(result.error)


# --- 8 ------------------------------------------------------------------------------------------------

MALFORMED = {
    "empty": ({}, ["DeploymentId is missing", "LifecycleEventHookExecutionId is missing"]),
    "no-execution-id": ({"DeploymentId": "d-ABCDEFGHI"}, ["LifecycleEventHookExecutionId is missing"]),
    "no-deployment-id": ({"LifecycleEventHookExecutionId": "abc"}, ["DeploymentId is missing"]),
    "console-test-event": ({"key1": "value1", "key2": "value2", "key3": "value3"}, ["DeploymentId is missing"]),
    "bad-deployment-id": ({"DeploymentId": "12345", "LifecycleEventHookExecutionId": "abc"}, ["not a deployment"]),
    "not-an-object": ("hello", ["got str"]),
    "a-list": ([1, 2], ["got list"]),
    "null": (None, ["got NoneType"]),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_hook_malformed_event_probes_nothing_and_raises_a_clear_error(twin: Twin, tmp_path: Any, name: str) -> None:
    # GIVEN an event that is not a CodeDeploy lifecycle hook event
    event, expected = MALFORMED[name]
    with HttpServer(OK) as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[health(count=1)]))
        # WHEN the hook is invoked with it
        result = invoke(twin, spec, event=event)
    # THEN nothing is probed or reported, and the error says what is missing
    assert isinstance(result.error, InvalidEventError)
    for words in expected:
        assert words in str(result.error)
    assert green.requests == []
    assert result.report_sends == []
    assert twin.execution().reports == ()


def test_hook_lambda_entry_point_rejects_a_console_test_event(
    twin: Twin, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the Lambda entry point (with its decorators) and the console's default test event
    from greenlight.handlers.codedeploy import handler

    with HttpServer(OK) as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[health(count=1)]))
        for key, value in {**twin.server.client_env(), "GREENLIGHT_HOOK": HOOK, "GREENLIGHT_SPEC": str(spec)}.items():
            monkeypatch.setenv(key, value)
        # WHEN it is invoked
        with pytest.raises(InvalidEventError, match="DeploymentId is missing"):
            handler({"key1": "value1", "key2": "value2"}, context_for(60))
    # THEN nothing was probed or reported
    assert green.requests == []
    assert twin.execution().reports == ()


# --- 9 ------------------------------------------------------------------------------------------------


def test_hook_less_time_left_than_the_reserve_reports_failed_at_once(twin: Twin, tmp_path: Any) -> None:
    # GIVEN 10 s left in the Lambda and the default 15 s reserve for reporting
    with HttpServer(OK) as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[health(count=3)]))
        # WHEN the hook runs
        result = invoke(twin, spec, seconds=10)
    # THEN Failed is reported without probing, and the reason says why
    assert green.requests == []
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert "reserve" in result.outcome["reason"]
    assert twin.execution().reports == ("Failed",)


# --- 10 -----------------------------------------------------------------------------------------------


class ExplodingCheck(Check):
    """A check kind whose author got it wrong: it raises from `prepare` or `measure`."""

    kind = "explode"
    schema = Obj({"where": Field(Str(choices=("prepare", "measure")), default="measure")})

    def prepare(self, ctx: CheckContext) -> None:
        if self.body["where"] == "prepare":
            raise RuntimeError("kaboom while preparing")

    def measure(self, ctx: CheckContext) -> Measurement:
        raise ZeroDivisionError("kaboom while measuring")


@pytest.mark.parametrize("where", ["prepare", "measure"])
def test_hook_check_that_raises_reports_failed_with_reason_in_logs(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # GIVEN a check kind that raises
    caplog.set_level(logging.INFO)
    monkeypatch.setitem(KINDS, "explode", f"{__name__}:ExplodingCheck")
    spec = write_spec(
        tmp_path,
        http_spec("http://127.0.0.1:9", checks=[{"name": "bad", "explode": {"where": where}, "count": 2}]),
    )
    # WHEN the hook runs
    result = invoke(twin, spec)
    # THEN Failed is reported, and the logs carry the exception
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)
    words = {"prepare": "kaboom while preparing", "measure": "kaboom while measuring"}[where]
    assert words in result.outcome["reason"]
    assert any(words in r.getMessage() for r in caplog.records)


def test_hook_invalid_spec_reports_failed_naming_the_problem(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a spec with a misspelt field and a bad duration
    caplog.set_level(logging.INFO)
    spec = write_spec(
        tmp_path,
        {"version": 1, "hooks": {HOOK: [{"name": "h", "http": {"pathh": "/health"}, "timeout": "soon"}]}},
    )
    # WHEN the hook runs
    result = invoke(twin, spec)
    # THEN Failed is reported and the log names each problem by its path
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert f"hooks.{HOOK}[0].http.pathh: unknown field (did you mean 'path'?)" in logged
    assert f"hooks.{HOOK}[0].timeout" in logged


@pytest.mark.parametrize("problem", ["missing", "directory", "not-utf8", "not-yaml"])
def test_hook_unreadable_spec_source_reports_failed(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture, problem: str
) -> None:
    # GIVEN GREENLIGHT_SPEC names something that is not a readable spec
    caplog.set_level(logging.INFO)
    path = tmp_path / "spec.yaml"
    if problem == "directory":
        path.mkdir()
    elif problem == "not-utf8":
        path.write_bytes(b"version: 1\nhooks: \xff\xfe\n")
    elif problem == "not-yaml":
        path.write_text("version: [1\nhooks: {", encoding="utf-8")
    # WHEN the hook runs
    result = invoke(twin, path)
    # THEN Failed is reported and the log says what was wrong with the source
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert str(path) in logged
    assert {"missing": "not found", "directory": "cannot read", "not-utf8": "UTF-8", "not-yaml": "YAML"}[
        problem
    ] in logged


def test_hook_spec_from_a_missing_ssm_parameter_reports_failed_through_the_bounded_client(
    twin: Twin, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN GREENLIGHT_SPEC names an SSM parameter that does not exist (any stray client would also
    #       reach the twin, never AWS), and the SSM calls of the handler's own clients counted
    caplog.set_level(logging.INFO)
    for key, value in twin.server.client_env().items():
        monkeypatch.setenv(key, value)
    aws, _ = twin.clients(context_for(120))
    counted: list[str] = []
    aws.client("ssm").meta.events.register("before-send.ssm.GetParameter", lambda **_: counted.append("GetParameter"))
    # WHEN the hook runs
    outcome = handle_with(twin, aws, {"GREENLIGHT_HOOK": HOOK, "GREENLIGHT_SPEC": "ssm:/greenlight/missing-spec"})
    # THEN the parameter was asked for with the invocation's clients (bounded timeouts), and Failed reported
    assert counted, "the spec was read with a client other than the invocation's"
    assert outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert "cannot read spec from SSM parameter /greenlight/missing-spec" in logged
    assert "ParameterNotFound" in logged


def handle_with(twin: Twin, aws: Any, env: dict[str, str]) -> dict[str, Any]:
    from greenlight.handlers.codedeploy import handle

    return handle(twin.event(), context_for(120), aws=aws, env=env)


# --- 11 -----------------------------------------------------------------------------------------------

FLAKY = [Reply(200)] * 3 + [Reply(503)] + [Reply(200)] * 6  # one bad answer in ten: the fourth


@pytest.mark.parametrize(
    ("policy", "status", "requests"),
    [
        ({"failure_limit": 0}, "Failed", 4),
        ({"failure_limit": 1}, "Succeeded", 10),
        ({"failure_limit": 1, "consecutive_successes": 5}, "Succeeded", 9),
        ({"failure_limit": 1, "consecutive_successes": 7}, "Failed", 4),
    ],
    ids=["no-failure-tolerated", "one-tolerated", "five-in-a-row", "seven-in-a-row"],
)
def test_hook_flaky_green_follows_the_configured_limits_on_every_run(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture, policy: dict[str, Any], status: str, requests: int
) -> None:
    # GIVEN a green that gives one bad answer in ten, always the fourth
    caplog.set_level(logging.INFO)
    seen = []
    for _ in range(3):
        caplog.clear()
        execution_id = twin_aws.open_hook_execution(twin.deployment_id, HOOK)
        event = {"DeploymentId": twin.deployment_id, "LifecycleEventHookExecutionId": execution_id}
        with HttpServer(sequence(*FLAKY)) as green:
            spec = write_spec(tmp_path, http_spec(green.url, checks=[health(count=10, **policy)]))
            # WHEN the hook runs (three times, each a new hook execution)
            result = invoke(twin, spec, event=event)
        (check,) = checks_logged(caplog.records)
        assert result.outcome is not None
        seen.append(
            (
                result.outcome["status"],
                twin_aws.reported_status(execution_id),
                len(green.requests),
                tuple(m["status"] for m in check["measurements"]),
            )
        )
    # THEN the outcome and the number of requests follow the limits exactly, the same every time
    assert seen[0][:3] == (status, status, requests)
    assert seen[1:] == [seen[0], seen[0]]
    assert seen[0][3].count(Status.FAIL.value) == 1
