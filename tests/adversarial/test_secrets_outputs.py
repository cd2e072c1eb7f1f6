"""Class 4 (secrets): no credential shows in any output, whatever path it took to get there.

Credentials here reach the probe every way a spec allows: expanded from the environment (`${VAR}`) into
`Authorization` and into a header that is sensitive only by its name (`X-Session-Token`), a plain
`String` SSM parameter referenced as a secret, and tokens in query strings of URLs that then appear in
TLS and connection errors and in followed redirects. Green (a real server on 127.0.0.1) echoes every
header back in its body and in a response header, so mismatch reasons would quote them.

Each output path runs for real and is searched for every value: log records of every logger at DEBUG
(botocore's included), stdout and stderr, the CodeDeploy hook's answer, `greenlight check --json` as a
separate process, and the ECS hook's answer with its hookDetails.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hook_harness import HOOK, Twin, all_output, invoke, write_spec

from greenlight.handlers.ecs import handle as ecs_handle
from greenlight_twin import aws as twin_aws
from support.lambda_context import FakeLambdaContext
from support.servers import HttpServer, Recorded, RefusingPort, Reply

ENV_TOKEN = "envT0ken-9b7c1d-Qz"  # ${PROBE_TOKEN} -> Authorization: Bearer ...
ENV_SESSION = "sessN-4471-Kx8w"  # ${SESSION} -> X-Session-Token (sensitive by name only)
PLAIN_PARAM = "plainStr1ng-42-Lm"  # a String (not SecureString) SSM parameter referenced as a secret
QUERY_TLS = "tlsQ-66-S3cr3t"
QUERY_CONN = "connQ-77-S3cr3t"
QUERY_REDIRECT = "redirQ-88-S3cr3t"
ALL = (ENV_TOKEN, ENV_SESSION, PLAIN_PARAM, QUERY_TLS, QUERY_CONN, QUERY_REDIRECT)
PARAMETER = "/greenlight/plain-key"
ENV = {"PROBE_TOKEN": ENV_TOKEN, "SESSION": ENV_SESSION}


def echo_green(request: Recorded) -> Reply:
    """Echoes what it got, like a careless debug endpoint; redirects /r to a URL carrying a token."""
    if request.path.startswith("/r"):
        return Reply(302, headers={"Location": f"/landing?access_token={QUERY_REDIRECT}"})
    seen = dict(request.headers)
    return Reply(200, json={"seen": seen, "path": request.path}, headers={"X-Echo": str(seen)})


def leaky_checks(green: HttpServer, refused: RefusingPort) -> list[dict[str, Any]]:
    headers = {
        "Authorization": "Bearer ${PROBE_TOKEN}",
        "X-Session-Token": "${SESSION}",
        "X-Api-Key": {"secret": f"ssm:{PARAMETER}"},
    }
    # Every check fails on purpose, as a dry run so that all of them run and report.
    return [
        {
            "name": "echo",
            "count": 1,
            "dry_run": True,
            "http": {
                "path": "/echo",
                "headers": headers,
                "expect": {
                    "json": {"seen.authorization": "x", 'seen."x-session-token"': "y", 'seen."x-api-key"': "z"},
                    "headers": {"X-Echo": "nothing"},
                },
            },
        },
        {
            "name": "tls",
            "count": 1,
            "dry_run": True,
            "http": {"url": f"https://127.0.0.1:{green.port}/x?token={QUERY_TLS}", "headers": headers},
        },
        {
            "name": "refused",
            "count": 1,
            "dry_run": True,
            "http": {"url": f"http://127.0.0.1:{refused.port}/x?api_key={QUERY_CONN}", "headers": headers},
        },
        {
            "name": "redirect",
            "count": 1,
            "dry_run": True,
            "http": {"path": "/r", "follow_redirects": True, "headers": headers, "expect": {"status": 418}},
        },
    ]


def leaky_spec(green: HttpServer, refused: RefusingPort, hook: str = HOOK) -> dict[str, Any]:
    return {
        "version": 1,
        "target": {"test_url": green.url, "prod_url": green.url},
        "hooks": {hook: leaky_checks(green, refused)},
    }


def store_parameter(server: Any) -> None:
    server.session().client("ssm").put_parameter(Name=PARAMETER, Type="String", Value=PLAIN_PARAM)


def assert_nowhere(output: str) -> None:
    for value in ALL:
        assert value not in output, f"{value!r} leaked"
    for piece in ("9b7c1d", "4471-Kx8w", "42-Lm", "66-S3cr3t", "77-S3cr3t", "88-S3cr3t"):
        assert piece not in output, f"a piece of a secret, {piece!r}, leaked"


def test_secrets_codedeploy_hook_answer_and_every_log_record(
    twin: Twin, tmp_path: Path, debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # GIVEN green echoing every credential, and checks that fail on purpose in every way that quotes one
    store_parameter(twin.server)
    debug_logs.clear()
    capfd.readouterr()
    with HttpServer(echo_green) as green, RefusingPort() as refused:
        spec_path = write_spec(tmp_path, leaky_spec(green, refused))
        # WHEN the CodeDeploy hook runs, with the credentials in its environment
        run = invoke(twin, spec_path, seconds=120, env=ENV)
        sent = [r.header("authorization") for r in green.requests]
    # THEN the credentials were really sent (and echoed), the hook answered and reported
    assert run.error is None, run.error
    assert f"Bearer {ENV_TOKEN}" in sent
    assert run.outcome is not None and run.outcome["status"] in ("Succeeded", "Failed")
    assert twin.execution().reports
    # ... and no output of the process shows any of them
    captured = capfd.readouterr()
    output = all_output(debug_logs.records, captured.out, captured.err, json.dumps(run.outcome))
    assert "GetParameter" in output  # botocore's DEBUG lines were captured
    assert "***" in output  # the mismatches were reported, masked
    assert_nowhere(output)


def test_secrets_cli_json_report_and_stderr(twin_server: Any, tmp_path: Path) -> None:
    # GIVEN the same spec, and the CLI in its own process with the credentials in its environment
    twin_server.reset()
    store_parameter(twin_server)
    with HttpServer(echo_green) as green, RefusingPort() as refused:
        spec_path = write_spec(tmp_path, leaky_spec(green, refused))
        env = {**os.environ, **twin_server.client_env(), **ENV, "GREENLIGHT_LOG_LEVEL": "DEBUG"}
        # WHEN `greenlight check --json` runs
        proc = subprocess.run(
            [sys.executable, "-m", "greenlight_cli", "check", "--spec", str(spec_path), "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )
        sent = [r.header("x-api-key") for r in green.requests]
    # THEN the report is complete (every check ran and was judged) and shows no credential
    assert PLAIN_PARAM in sent
    report = json.loads(proc.stdout)
    assert {c["name"] for c in report["checks"]} == {"echo", "tls", "refused", "redirect"}
    assert "***" in proc.stdout
    assert_nowhere(proc.stdout + proc.stderr)


def ecs_event(world: Any) -> dict[str, Any]:
    """An invocation as ECS sends it at POST_TEST_TRAFFIC_SHIFT (see tests/functional/ecs/conftest.py)."""
    return {
        "executionId": "exec-0001",
        "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "resourceArn": world.service_deployment_arn,
        "executionDetails": {
            "serviceArn": world.service_arn,
            "targetServiceRevisionArn": world.green_revision_arn,
            "testTrafficWeights": {world.blue_revision_arn: 0.0, world.green_revision_arn: 100.0},
            "productionTrafficWeights": {world.blue_revision_arn: 100.0, world.green_revision_arn: 0.0},
        },
        "hookDetails": {},
    }


def test_secrets_ecs_hook_details(
    twin_server: Any, tmp_path: Path, debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an ECS blue/green deployment whose listeners are green (echoing) and blue, on 127.0.0.1
    from greenlight.aws import AwsClients

    twin_server.reset()
    store_parameter(twin_server)
    with HttpServer(echo_green) as green, HttpServer(Reply(body="blue")) as blue, RefusingPort() as refused:
        world = twin_aws.seed_bluegreen(
            twin_server.session(), controller="ECS", lb_dns_name="127.0.0.1", test_port=green.port, prod_port=blue.port
        )
        doc = leaky_spec(green, refused, hook="POST_TEST_TRAFFIC_SHIFT")
        # The echo check alone, not a dry run: its reason (quoting every echoed credential) must reach hookDetails.
        echo = doc["hooks"]["POST_TEST_TRAFFIC_SHIFT"][0]
        echo.pop("dry_run")
        doc["hooks"]["POST_TEST_TRAFFIC_SHIFT"] = [echo]
        doc["settings"] = {"on_first_deployment": "run"}
        spec_path = write_spec(tmp_path, doc)
        env = {"GREENLIGHT_SPEC": str(spec_path), "GREENLIGHT_REPORT_RESERVE": "0.2", **ENV}
        debug_logs.clear()
        capfd.readouterr()
        # WHEN ECS invokes the hook until it answers a final status
        event = ecs_event(world)
        answers = []
        for _ in range(20):
            aws = AwsClients(session=twin_server.session())
            out = ecs_handle(copy.deepcopy(event), FakeLambdaContext(), aws=aws, env=env)
            answers.append(out)
            if out["hookStatus"] != "IN_PROGRESS":
                break
            event["hookDetails"] = {**event["hookDetails"], **out["hookDetails"]}
    # THEN it failed, with reasons in hookDetails, none of which shows a credential
    assert answers[-1]["hookStatus"] == "FAILED", answers[-1]
    captured = capfd.readouterr()
    output = all_output(debug_logs.records, captured.out, captured.err, *(json.dumps(a) for a in answers))
    assert "JSON seen.authorization is '***'" in json.dumps(answers[-1]["hookDetails"])
    assert_nowhere(output)
