"""Time under attack: every path of the CodeDeploy hook reports before the Lambda's deadline.

The contract (docs/guarantees.md, "Under attack"): whatever hangs — the target, a secret fetch in a check's
prepare(), the spec's SSM parameter, discovery, the look-up of an earlier outcome — and whatever the reserve
(1 s from the function's setting, a spec report_reserve below the default, a NaN or infinite value), the hook
sends exactly one report before the Lambda context's deadline and returns before it. Each test prints its
figures (run with -s): the Lambda time, when the handler returned, and the time left when the report went out.
Nothing asserts on wall time beyond "before the Lambda context's deadline".
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("runtime_support")  # its assertions explain themselves too
from runtime_support import HOOK, Twin, http_spec, invoke_timed, write_spec  # noqa: E402

from greenlight_twin.aws import faults  # noqa: E402
from support.servers import SilentServer  # noqa: E402

# A check that would outlive any Lambda: a 30 s measurement timeout, a thousand measurements, errors tolerated.
UNBOUNDED = {
    "name": "health",
    "http": {"path": "/health"},
    "count": 1000,
    "interval": 0,
    "timeout": "30s",
    "consecutive_error_limit": 1000,
}


@pytest.mark.parametrize(("lambda_seconds", "reserve"), [(3.0, "1"), (5.0, "1"), (5.0, "1.5"), (8.0, "1")])
def test_time_hanging_target_with_a_one_second_reserve_reports_in_time(
    twin: Twin, tmp_path: Path, lambda_seconds: float, reserve: str
) -> None:
    # GIVEN green accepts connections and never answers, a check whose measurement timeout (30 s) is longer
    #       than the whole Lambda, and only GREENLIGHT_REPORT_RESERVE of the Lambda kept for the report
    with SilentServer() as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[UNBOUNDED]))
        # WHEN the hook runs
        timed = invoke_timed(twin, spec, seconds=lambda_seconds, env={"GREENLIGHT_REPORT_RESERVE": reserve})
    timed.figures(f"hanging target, reserve {reserve}s")
    # THEN the runner's backstop never ran past the run's deadline: Failed went out before the Lambda's end
    timed.assert_reported_in_time()
    assert timed.outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)


@pytest.mark.usefixtures("hanging_kind")
def test_time_spec_report_reserve_below_the_default_reports_in_time(twin: Twin, tmp_path: Path) -> None:
    # GIVEN a spec that keeps only 1 s for the report (the default is 15 s), a 17 s Lambda (the default reserve
    #       applies until the spec is read), and a check that ignores its timeout and the deadline
    check = {"name": "stuck", "hang": {"where": "measure"}, "timeout": "30s", "count": 3}
    doc = {**http_spec("http://127.0.0.1:9", checks=[check]), "settings": {"report_reserve": "1s"}}
    spec = write_spec(tmp_path, doc)
    # WHEN the hook runs (the function sets no reserve of its own)
    timed = invoke_timed(twin, spec, seconds=17.0)
    timed.figures("spec report_reserve 1s, check stuck in measure")
    # THEN the run used the time down to the spec's reserve, and the report still went out in time
    timed.assert_reported_in_time()
    assert timed.outcome["status"] == "Failed"
    assert timed.outcome["verdict"] == "ERROR"  # measured (and timed out), not refused at start


def test_time_short_lambda_before_the_spec_is_read_says_which_reserve_applies(twin: Twin, tmp_path: Path) -> None:
    # GIVEN a 4 s Lambda, a spec that keeps 1 s for the report, and no GREENLIGHT_REPORT_RESERVE
    with SilentServer() as green:
        doc = {**http_spec(green.url, checks=[UNBOUNDED]), "settings": {"report_reserve": "1s"}}
        # WHEN the hook runs
        timed = invoke_timed(twin, write_spec(tmp_path, doc), seconds=4.0)
    timed.figures("4s Lambda, default reserve before the spec")
    # THEN Failed goes out at once, and the reason names the setting that would let it run
    timed.assert_reported_in_time()
    assert green.accepted == 0
    assert "GREENLIGHT_REPORT_RESERVE" in timed.outcome["reason"]


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "1e400", "-1", "abc", " "])
def test_time_non_finite_or_bad_reserve_from_the_environment_is_refused_and_reported(
    twin: Twin, tmp_path: Path, caplog: pytest.LogCaptureFixture, raw: str
) -> None:
    # GIVEN a GREENLIGHT_REPORT_RESERVE that is not a finite number of seconds >= 0 (NaN compares false with
    #       everything, so it used to pass every check and leave the run unbounded)
    caplog.set_level(logging.ERROR)
    with SilentServer() as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[UNBOUNDED]))
        # WHEN the hook runs in a 5 s Lambda
        timed = invoke_timed(twin, spec, seconds=5.0, env={"GREENLIGHT_REPORT_RESERVE": raw})
    timed.figures(f"GREENLIGHT_REPORT_RESERVE={raw!r}")
    # THEN nothing is probed, Failed is reported at once, and the reason names the variable and its value
    timed.assert_reported_in_time()
    assert green.accepted == 0
    assert timed.outcome["status"] == "Failed"
    reason = timed.outcome["reason"]
    assert "GREENLIGHT_REPORT_RESERVE" in reason and repr(raw) in reason
    assert "finite number of seconds" in reason


def test_time_huge_finite_reserve_reports_failed_at_once(twin: Twin, tmp_path: Path) -> None:
    # GIVEN a reserve of 1e308 s: finite, valid, and far longer than any Lambda
    with SilentServer() as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[UNBOUNDED]))
        # WHEN the hook runs
        timed = invoke_timed(twin, spec, seconds=5.0, env={"GREENLIGHT_REPORT_RESERVE": "1e308"})
    timed.figures("GREENLIGHT_REPORT_RESERVE=1e308")
    # THEN there is no time beyond the reserve: nothing is probed and Failed goes out at once, saying why
    timed.assert_reported_in_time()
    assert green.accepted == 0
    assert timed.outcome["status"] == "Failed"
    assert "reserve for reporting" in timed.outcome["reason"]


@pytest.mark.parametrize(
    ("action", "setup", "said"),
    [
        # a secret fetched by the check's prepare() (Secrets Manager holds the call)
        ("secretsmanager:GetSecretValue", "secret", "cannot read secret"),
        # the spec kept in SSM
        ("ssm:GetParameter", "ssm-spec", "loading the spec did not answer"),
        # the look-up of an earlier outcome of this hook (at-least-once delivery)
        ("codedeploy:GetDeploymentTarget", "plain", "earlier outcome did not answer"),
        # discovery of green's listeners (the spec says test_url: auto)
        ("codedeploy:GetDeploymentGroup", "auto", "discovery did not answer"),
    ],
)
def test_time_aws_call_that_hangs_before_measuring_is_bounded_by_the_reserve(
    twin: Twin, tmp_path: Path, action: str, setup: str, said: str
) -> None:
    # GIVEN an AWS call the hook makes before it can measure, held by the service for 30 s (botocore would
    #       wait 10 s per attempt, 3 attempts), a 6 s Lambda and a 1 s reserve
    env = {"GREENLIGHT_REPORT_RESERVE": "1"}
    with SilentServer() as green:
        doc: dict[str, Any] = http_spec(green.url, checks=[{**UNBOUNDED, "count": 1, "timeout": "1s"}])
        if setup == "secret":
            doc["hooks"][HOOK][0]["http"]["headers"] = {"Authorization": {"secret": "secretsmanager:green/token"}}
        if setup == "auto":
            doc["target"] = {"test_url": "auto"}
        spec: Path | str = write_spec(tmp_path, doc)
        if setup == "ssm-spec":
            import yaml

            ssm = twin.server.session().client("ssm")
            ssm.put_parameter(Name="/greenlight/spec", Type="String", Value=yaml.safe_dump(doc))
            spec = "ssm:/greenlight/spec"
        faults.delay(action, 30.0)
        # WHEN the hook runs
        timed = invoke_timed(twin, spec, seconds=6.0, env=env)
    timed.figures(f"{action} held 30s")
    # THEN the call is abandoned at the run's deadline, and Failed goes out before the Lambda's end, saying what hung
    timed.assert_reported_in_time()
    assert timed.outcome["status"] == "Failed"
    assert said in timed.outcome["reason"]


@pytest.mark.usefixtures("hanging_kind")
@pytest.mark.parametrize("where", ["prepare", "measure"])
@pytest.mark.parametrize("lambda_seconds", [3.0, 5.0])
def test_time_check_that_ignores_every_bound_with_a_one_second_reserve_reports_in_time(
    twin: Twin, tmp_path: Path, where: str, lambda_seconds: float
) -> None:
    # GIVEN a check that blocks in `where` past its 30 s timeout, and a 1 s reserve: the runner's backstop
    #       (GRACE past a measurement's bound) and its wait for the check's thread must both end by the run's
    #       deadline, or the report lands after the Lambda's
    check = {"name": "stuck", "hang": {"where": where}, "timeout": "30s", "count": 3}
    spec = write_spec(tmp_path, http_spec("http://127.0.0.1:9", checks=[check]))
    # WHEN the hook runs
    timed = invoke_timed(twin, spec, seconds=lambda_seconds, env={"GREENLIGHT_REPORT_RESERVE": "1"})
    timed.figures(f"check stuck in {where}, reserve 1s")
    # THEN Failed goes out before the Lambda's deadline
    timed.assert_reported_in_time()
    assert timed.outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)


def test_time_report_call_that_hangs_is_given_up_and_raised_before_the_lambdas_deadline(
    twin: Twin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN CodeDeploy holds PutLifecycleEventHookExecutionStatus for 30 s (botocore: 10 s per attempt, 3 attempts),
    #       a 4 s Lambda and a 1 s reserve
    caplog.set_level(logging.ERROR)
    faults.delay("codedeploy:PutLifecycleEventHookExecutionStatus", 30.0)
    with SilentServer() as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[UNBOUNDED]))
        # WHEN the hook runs and reports
        timed = invoke_timed(twin, spec, seconds=4.0, env={"GREENLIGHT_REPORT_RESERVE": "1"})
    print(
        f"[time-to-report] report call held 30s: Lambda 4s, gave up after {timed.returned_after:.2f}s, "
        f"{timed.report_left:.2f}s left when it was sent"
    )
    # THEN the handler stops waiting before the Lambda's deadline, logs the failure and raises it (a visible
    #      Lambda error), instead of being stopped by Lambda with nothing said
    assert timed.invocation.report_sends and timed.report_left is not None and timed.report_left > 0
    assert timed.returned_after < timed.lambda_seconds
    assert type(timed.invocation.error).__name__ == "ReportError"
    assert "CodeDeploy did not answer" in str(timed.invocation.error)
    assert any("CodeDeploy did not answer" in r.getMessage() for r in caplog.records)


class GarbledContext:
    """A Lambda context whose remaining time is not a finite number of milliseconds (never Lambda's own)."""

    function_name = "CodeDeployHook_greenlight"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_greenlight"
    memory_limit_in_mb = 256
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/CodeDeployHook_greenlight"
    log_stream_name = "stream"

    def __init__(self, answer: object) -> None:
        self.answer = answer

    def get_remaining_time_in_millis(self) -> object:
        return self.answer


@pytest.mark.parametrize("answer", [float("nan"), float("inf"), -5, None, "soon"])
def test_time_context_with_a_garbled_remaining_time_reports_failed_at_once(
    twin: Twin, tmp_path: Path, answer: object
) -> None:
    from greenlight.handlers.codedeploy import handle

    # GIVEN a context whose remaining time is NaN, infinite, negative or not a number
    with SilentServer() as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[UNBOUNDED]))
        aws, _ = twin.clients()  # (the harness's call log reads the context's time, which is the garbled part)
        # WHEN the hook runs with it
        outcome = handle(
            twin.event(),
            GarbledContext(answer),
            aws=aws,
            env={"GREENLIGHT_HOOK": HOOK, "GREENLIGHT_SPEC": str(spec)},
        )
    # THEN no time is assumed: nothing is probed, and Failed is reported
    assert outcome["status"] == "Failed"
    assert "left at start" in outcome["reason"]
    assert green.accepted == 0
    assert twin.execution().reports == ("Failed",)
