"""Secrets stay secret: scenarios 14 and 15 of docs/guarantees.md.

Secret header values live in the twin's Secrets Manager and SSM Parameter Store (moto server mode on
127.0.0.1). Each test captures everything the process could show: every log record of every logger at
DEBUG (message, extra fields, traceback), stdout and stderr at the file-descriptor level (the
Powertools logger and metrics write JSON there), the handler's return value and the RunResult JSON,
and searches all of it for the values.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from hook_harness import HOOK, Twin, all_output, http_spec, invoke, write_spec

from greenlight import secrets
from greenlight import spec as specs
from greenlight.aws import AwsClients
from greenlight.engine.check import CheckContext, Target
from greenlight.engine.deadline import Deadline
from greenlight.handlers.codedeploy import handle
from greenlight.plan import run_hook
from greenlight_twin import aws as twin_aws
from support.lambda_context import context_for
from support.servers import HttpServer, Recorded, RefusingPort, Reply

SECRET = "gl-S3cr3t-7Q9zXk-2f4a"  # in Secrets Manager, as the JSON key "token"
API_KEY = "ak-Vq81Lm-5503"  # in SSM Parameter Store, as a SecureString
SECRET_NAME = "greenlight/probe-token"
PARAMETER = "/greenlight/api-key"
SECRET_HEADERS = {
    "Authorization": {"secret": f"secretsmanager:{SECRET_NAME}#token", "prefix": "Bearer "},
    "X-Api-Key": {"secret": f"ssm:{PARAMETER}"},
}


def store_secrets(twin: Twin) -> None:
    session = twin.server.session()
    session.client("secretsmanager").create_secret(
        Name=SECRET_NAME, SecretString=json.dumps({"token": SECRET, "user": "probe"})
    )
    session.client("ssm").put_parameter(Name=PARAMETER, Type="SecureString", Value=API_KEY)


def leaky_green(request: Recorded) -> Reply:
    """Accepts only the right credentials, and (like a careless debug endpoint) echoes what it got."""
    good = request.header("authorization") == f"Bearer {SECRET}" and request.header("x-api-key") == API_KEY
    seen = {"authorization": request.header("authorization"), "key": request.header("x-api-key")}
    return Reply(200 if good else 401, json={"seen": seen}, headers={"X-Echo-Key": request.header("x-api-key") or ""})


def assert_nowhere(output: str, *values: str) -> None:
    for value in values:
        assert value not in output, f"{value!r} leaked into the output"


# --- 14 -----------------------------------------------------------------------------------------------


def test_secret_headers_are_fetched_at_run_time_and_appear_in_no_output(
    twin: Twin, tmp_path: Any, debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # GIVEN secrets in Secrets Manager and SSM, and a green that requires them and echoes them back
    store_secrets(twin)
    debug_logs.clear()  # storing them was the operator's doing, logged by the test's own client
    capfd.readouterr()
    with HttpServer(leaky_green) as green:
        checks = [
            {"name": "auth", "http": {"path": "/private", "headers": SECRET_HEADERS}, "count": 2, "interval": 0},
            {
                # Fails on purpose: its mismatch messages would quote the echoed secrets.
                "name": "echo",
                "http": {
                    "path": "/private",
                    "headers": SECRET_HEADERS,
                    "expect": {"json": {"seen.authorization": "x", "seen.key": "y"}, "headers": {"X-Echo-Key": "z"}},
                },
                "count": 1,
                "dry_run": True,
            },
        ]
        spec_path = write_spec(tmp_path, http_spec(green.url, checks=checks))
        # WHEN the hook runs (with metrics), and the same checks run again for a RunResult
        metrics = Metrics(namespace="greenlight-test")
        aws, _ = twin.clients()
        outcome = handle(
            twin.event(),
            context_for(120),
            aws=aws,
            env={"GREENLIGHT_HOOK": HOOK, "GREENLIGHT_SPEC": str(spec_path)},
            metrics_sink=metrics,
        )
        metrics.flush_metrics()
        result = run_hook(
            specs.load(str(spec_path), env={}),
            HOOK,
            deadline=Deadline.after(60),
            aws=AwsClients(session=twin.server.session()),
        )
        sent = [r.header("authorization") for r in green.requests]
    # THEN the secrets were fetched and sent: green accepted the probe
    assert outcome["status"] == "Succeeded", outcome
    assert twin.execution().reports == ("Succeeded",)
    assert sent and all(value == f"Bearer {SECRET}" for value in sent)
    auth, echo = result.checks
    assert auth.status.value == "PASS"
    assert echo.status.value == "FAIL" and "***" in echo.reason
    # ... and neither value, nor a recognisable piece of one, is anywhere in what the process showed
    captured = capfd.readouterr()
    output = all_output(
        debug_logs.records, captured.out, captured.err, json.dumps(outcome), json.dumps(result.to_dict())
    )
    assert "GetSecretValue" in output and "GetParameter" in output  # botocore's DEBUG lines were captured
    assert_nowhere(output, SECRET, API_KEY, "7Q9zXk", "Vq81Lm")


@pytest.mark.parametrize("fault", ["deny", "throttle", "timeout"])
def test_secret_that_cannot_be_read_reports_failed_without_probing(
    twin: Twin, tmp_path: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    # GIVEN the secret exists, but reading it is denied, throttled past every retry, or too slow
    caplog.set_level(logging.INFO)
    store_secrets(twin)
    action = "secretsmanager:GetSecretValue"
    expected = {
        "deny": "AccessDeniedException; the hook's role needs secretsmanager:GetSecretValue",
        "throttle": "ThrottlingException",
        "timeout": "no answer within 2.0s",
    }[fault]
    if fault == "deny":
        twin_aws.deny(action)
    elif fault == "throttle":
        twin_aws.throttle(action, times=20)
    else:
        monkeypatch.setattr(secrets, "FETCH_TIMEOUT", 2.0)
        twin_aws.delay(action, 8)
    with HttpServer(leaky_green) as green:
        spec = write_spec(
            tmp_path, http_spec(green.url, checks=[{"name": "auth", "http": {"headers": SECRET_HEADERS}}])
        )
        # WHEN the hook runs
        result = invoke(twin, spec)
    # THEN Failed is reported, the logs say which secret and why, and green was never probed without it
    assert result.outcome is not None and result.outcome["status"] == "Failed"
    assert twin.execution().reports == ("Failed",)
    assert green.requests == []
    reason = f"cannot read secret secretsmanager:{SECRET_NAME}#token: {expected}"
    assert reason in result.outcome["reason"]
    assert any(reason in r.getMessage() for r in caplog.records)


def test_secret_cache_is_bounded_in_time_and_size(twin: Twin, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN three secrets, and the Secrets Manager calls counted
    session = twin.server.session()
    manager = session.client("secretsmanager")
    for name in ("a", "b", "c"):
        manager.create_secret(Name=f"cache/{name}", SecretString=f"value-{name}-1")
    aws = AwsClients(session=session)
    calls: list[str] = []
    aws.client("secretsmanager").meta.events.register(
        "before-send.secrets-manager.GetSecretValue", lambda **_: calls.append("GetSecretValue")
    )
    ctx = CheckContext(target=Target(), deadline=Deadline.after(60), aws=aws)
    # WHEN a secret is read twice, then rotated
    first = secrets.resolve("secretsmanager:cache/a", ctx)
    again = secrets.resolve("secretsmanager:cache/a", ctx)
    manager.put_secret_value(SecretId="cache/a", SecretString="value-a-2")
    cached = secrets.resolve("secretsmanager:cache/a", ctx)
    # THEN warm reads come from the cache...
    assert (first, again, cached, len(calls)) == ("value-a-1", "value-a-1", "value-a-1", 1)
    # ... until the entry is older than CACHE_SECONDS, when the rotated value is fetched
    monkeypatch.setattr(secrets, "CACHE_SECONDS", 0.0)
    assert secrets.resolve("secretsmanager:cache/a", ctx) == "value-a-2"
    assert len(calls) == 2
    # ... and the cache holds at most CACHE_ENTRIES values: the least recently used goes first
    monkeypatch.setattr(secrets, "CACHE_SECONDS", 300.0)
    monkeypatch.setattr(secrets, "CACHE_ENTRIES", 2)
    secrets.resolve("secretsmanager:cache/b", ctx)
    secrets.resolve("secretsmanager:cache/c", ctx)
    secrets.resolve("secretsmanager:cache/c", ctx)
    assert len(calls) == 4
    assert secrets.resolve("secretsmanager:cache/a", ctx) == "value-a-2"
    assert len(calls) == 5


def test_secret_with_a_trailing_newline_is_trimmed_and_one_with_a_line_break_is_refused(
    twin: Twin, debug_logs: pytest.LogCaptureFixture
) -> None:
    # GIVEN one secret stored with a trailing newline, and one with a line break inside
    manager = twin.server.session().client("secretsmanager")
    manager.create_secret(Name="nl/trailing", SecretString="tok-Trail-4411\n")
    manager.create_secret(Name="nl/inside", SecretString="tok-In\nside-5522")
    debug_logs.clear()
    ctx = CheckContext(target=Target(), deadline=Deadline.after(60), aws=AwsClients(session=twin.server.session()))
    # WHEN they are resolved
    trimmed = secrets.resolve("secretsmanager:nl/trailing", ctx)
    with pytest.raises(secrets.SecretError) as caught:
        secrets.resolve("secretsmanager:nl/inside", ctx)
    # THEN the first can be a header value; the second is refused without quoting it
    assert trimmed == "tok-Trail-4411"
    assert "control character" in str(caught.value)
    assert_nowhere(all_output(debug_logs.records, str(caught.value)), "tok-In", "side-5522")


# --- 15 -----------------------------------------------------------------------------------------------


def test_tokens_cookies_and_keys_are_masked_in_every_log_line_and_report(
    twin: Twin, tmp_path: Any, debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # GIVEN checks whose URLs carry tokens and whose plain headers carry credentials, against a green
    #       that fails them (so every detail is logged) and a port that refuses them (so errors are too)
    headers = {"Authorization": "Basic dXNlcjpwYXNzd29yZA==", "Cookie": "sid=ck-998877", "X-Api-Key": "ak-445566"}
    with HttpServer(Reply(500, headers={"Set-Cookie": "sid=sc-112233"})) as green, RefusingPort() as closed:
        checks = [
            {
                "name": "tokened",
                "http": {
                    "path": "/health?access_token=tok-abc123&page=2&api_key=key-778899",
                    "headers": headers,
                    "expect": {"headers": {"Set-Cookie": "expected-cookie-value"}},
                },
                "count": 1,
                "dry_run": True,
            },
            {
                "name": "refused",
                "http": {"url": f"{closed.url}/x?token=tok-def456&sig=sig-665544", "headers": headers},
                "count": 1,
                "dry_run": True,
            },
        ]
        spec_path = write_spec(tmp_path, http_spec(green.url, checks=checks))
        # WHEN the hook runs, with every logger at DEBUG
        result = invoke(twin, spec_path)
        run_result = run_hook(specs.load(str(spec_path), env={}), HOOK, deadline=Deadline.after(60))
        query_seen = green.requests[0].path
    # THEN the probes did carry the values...
    assert "access_token=tok-abc123" in query_seen
    assert result.outcome is not None and result.outcome["status"] == "Succeeded"  # dry run
    # ... but no log line, report or result shows any of them
    captured = capfd.readouterr()
    output = all_output(
        debug_logs.records,
        captured.out,
        captured.err,
        json.dumps(result.outcome),
        json.dumps(run_result.to_dict()),
    )
    assert "access_token=***" in output
    assert_nowhere(
        output,
        "tok-abc123",
        "key-778899",
        "tok-def456",
        "sig-665544",
        "dXNlcjpw",
        "ck-998877",
        "ak-445566",
        "sc-112233",
    )


def test_incoming_event_is_not_logged_by_default(
    twin: Twin,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the Lambda entry point and an event carrying an extra marker value
    from greenlight.handlers.codedeploy import handler

    caplog.set_level(logging.DEBUG)
    marker = "event-marker-31337"
    with HttpServer(Reply(200)) as green:
        spec = write_spec(tmp_path, http_spec(green.url, checks=[{"name": "h", "http": {"path": "/"}}]))
        for key, value in {**twin.server.client_env(), "GREENLIGHT_HOOK": HOOK, "GREENLIGHT_SPEC": str(spec)}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("GREENLIGHT_LOG_EVENT", raising=False)
        monkeypatch.delenv("POWERTOOLS_LOGGER_LOG_EVENT", raising=False)
        # WHEN it handles the event with the default settings
        outcome = handler({**twin.event(), "Marker": marker}, context_for(120))
        quiet = capfd.readouterr()
        quiet_logs = all_output(caplog.records, quiet.out, quiet.err)
        # ... and once more (a repeat of the same execution) with GREENLIGHT_LOG_EVENT=true, the opt-in
        caplog.clear()
        monkeypatch.setenv("GREENLIGHT_LOG_EVENT", "true")
        handler({**twin.event(), "Marker": marker}, context_for(120))
        loud = capfd.readouterr()
    # THEN by default the event appears nowhere; only the opt-in logs it
    assert outcome["status"] == "Succeeded"
    assert marker not in quiet_logs
    assert marker in all_output(caplog.records, loud.out, loud.err)
