"""The twin's moto server: lifecycle, sessions, the command line entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from greenlight_twin import aws as twin_aws

HOOKS = Path(__file__).resolve().parents[3] / "hooks"


def test_server_serves_on_loopback_and_stops() -> None:
    # GIVEN a second server on its own free port
    with twin_aws.start() as server:
        # WHEN a client made by its session calls it
        url = server.endpoint_url
        clusters = server.session().client("ecs").list_clusters()

        # THEN it answered on 127.0.0.1
        assert url.startswith("http://127.0.0.1:")
        assert server.port > 0
        assert "clusterArns" in clusters

    # ... and after the with-block it is gone
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.endpoint_url


def test_server_refuses_non_loopback_addresses() -> None:
    # GIVEN / WHEN a server is asked to bind to all interfaces
    # THEN it refuses: the twin never listens beyond this machine
    with pytest.raises(ValueError, match="loopback"):
        twin_aws.MotoServer(0, host="0.0.0.0")


def test_install_is_idempotent(aws_server: twin_aws.MotoServer) -> None:
    # GIVEN the extensions are installed (the server did it)
    from moto.codedeploy.responses import CodeDeployResponse

    method = CodeDeployResponse.put_lifecycle_event_hook_execution_status  # type: ignore[attr-defined]

    # WHEN install() runs again
    twin_aws.install()

    # THEN nothing was wrapped twice
    assert CodeDeployResponse.put_lifecycle_event_hook_execution_status is method  # type: ignore[attr-defined]


def test_client_env_points_a_plain_boto3_client_at_the_twin(
    aws_server: twin_aws.MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the environment a Lambda or the CLI would get
    for key, value in twin_aws.client_env(aws_server.endpoint_url, "eu-west-1").items():
        monkeypatch.setenv(key, value)

    # WHEN a plain boto3 client creates and lists a secret
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="greenlight/env-test", SecretString="s3cret")
    names = [s["Name"] for s in secrets.list_secrets()["SecretList"]]

    # THEN it reached the twin, in the region given
    assert "greenlight/env-test" in names
    assert secrets.meta.region_name == "eu-west-1"
    assert (
        twin_aws.session(aws_server.endpoint_url, "eu-west-1")
        .client("secretsmanager")
        .get_secret_value(SecretId="greenlight/env-test")["SecretString"]
        == "s3cret"
    )


def test_command_line_prints_the_endpoint_and_a_seeded_world() -> None:
    # GIVEN `python -m greenlight_twin.aws --port 0 --seed CODE_DEPLOY` in its own process
    env = {**os.environ, "PYTHONPATH": str(HOOKS)}
    process = subprocess.Popen(
        [sys.executable, "-m", "greenlight_twin.aws", "--port", "0", "--seed", "CODE_DEPLOY"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        # WHEN its two lines are read and a client in this process calls that endpoint
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip()
        world = json.loads(process.stdout.readline())
        codedeploy = twin_aws.session(endpoint).client("codedeploy")
        targets = codedeploy.list_deployment_targets(deploymentId=world["deployment_id"])

        # THEN the endpoint is on loopback and serves the world it printed
        assert endpoint.startswith("http://127.0.0.1:")
        assert targets["targetIds"] == [f"{world['cluster_name']}:{world['service_name']}"]
    finally:
        process.terminate()
        process.wait(timeout=10)


RESET_SCRIPT = """
from greenlight_twin import aws
with aws.start() as server:
    session = server.session()
    world = aws.seed_bluegreen(session)
    aws.deny("codedeploy:ListApplications")
    aws.reset()
    try:
        aws.hook_execution(world.hook_execution_id)
        hook = "kept"
    except aws.UnknownResourceError:
        hook = "gone"
    print(session.client("codedeploy").list_applications()["applications"], aws.active_faults(), hook)
"""


def test_reset_empties_moto_and_drops_faults() -> None:
    # GIVEN a seeded twin with a fault, in its own process (reset empties every moto backend in a process)
    env = {**os.environ, "PYTHONPATH": str(HOOKS)}

    # WHEN it is reset and asked for its applications
    done = subprocess.run(
        [sys.executable, "-c", RESET_SCRIPT], capture_output=True, text=True, env=env, timeout=60, check=False
    )

    # THEN there are none, no fault is left, and the hook executions went with moto's state
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] [] gone"
