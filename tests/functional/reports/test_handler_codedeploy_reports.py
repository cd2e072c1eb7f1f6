"""The CodeDeploy hook publishes its validation's report AFTER CodeDeploy has the status: the report in S3, the
verdict event on the default bus; an S3 that never answers delays nothing CodeDeploy waits for."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from greenlight.aws import AwsClients
from greenlight.handlers import codedeploy
from greenlight_twin.aws import open_hook_execution, reported_status
from support.lambda_context import FakeLambdaContext
from support.servers import HttpServer, Reply, SilentServer

HOOK = "AfterAllowTestTraffic"


@pytest.fixture
def hook(seeded: tuple[Any, str], seeded_aws: AwsClients) -> dict[str, Any]:
    """A fresh hook execution of the seeded deployment (this process's boto3 points at the twin meanwhile)."""
    session, deployment_id = seeded
    execution_id = open_hook_execution(deployment_id, HOOK)
    return {
        "event": {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id},
        "session": session,
        "execution_id": execution_id,
        "deployment_id": deployment_id,
    }


def env_for(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    doc = {
        "version": 1,
        "target": {"test_url": url, "prod_url": url},
        "hooks": {HOOK: [{"name": "health", "http": {"path": "/health"}, "count": 2, "interval": 0}]},
    }
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(doc))
    return {"GREENLIGHT_HOOK": HOOK, "GREENLIGHT_SPEC": str(spec), **extra}


class SilentS3:
    """The twin's clients, but S3 is a server that accepts connections and never answers."""

    def __init__(self, session: Any, url: str) -> None:
        self.aws, self.s3 = AwsClients(session=session), session.client("s3", endpoint_url=url)

    def client(self, service: str) -> Any:
        return self.s3 if service == "s3" else self.aws.client(service)


def test_codedeploy_hook_publishes_the_report_after_the_status(
    hook: dict[str, Any], serve: Any, tmp_path: Path
) -> None:
    # GIVEN a green answering 500, a report bucket and the default bus
    session = hook["session"]
    session.client("s3").create_bucket(Bucket="reports")
    server: HttpServer = serve(Reply(status=500))
    env = env_for(tmp_path, server.url, GREENLIGHT_REPORT_BUCKET="reports", GREENLIGHT_EVENT_BUS="default")
    # WHEN the hook runs
    out = codedeploy.handle(hook["event"], FakeLambdaContext(), aws=AwsClients(session=session), env=env)
    # THEN CodeDeploy was told Failed, and the report of that verdict is in S3 under the key the answer names
    assert reported_status(hook["execution_id"]) == "Failed" and out["status"] == "Failed"
    key = out["report_key"]
    assert key.startswith(f"greenlight/CODE_DEPLOY/{hook['deployment_id']}/{HOOK}/")
    report = json.loads(session.client("s3").get_object(Bucket="reports", Key=key)["Body"].read())
    assert report["verdict"] == "FAILED" and report["deployment"]["id"] == hook["deployment_id"]
    assert report["failing"][0]["check"] == "health"


def test_codedeploy_hook_reports_the_status_before_a_silent_s3_is_given_up(
    hook: dict[str, Any], serve: Any, tmp_path: Path
) -> None:
    # GIVEN an S3 that never answers, with publishing allowed 4 s (S3 gets half of it)
    server: HttpServer = serve(Reply(json={"status": "ok"}))
    env = env_for(tmp_path, server.url, GREENLIGHT_REPORT_BUCKET="reports", GREENLIGHT_PUBLISH_TIMEOUT="4")
    with SilentServer() as silent:
        aws = SilentS3(hook["session"], silent.url)
        out: dict[str, Any] = {}
        # WHEN the hook runs
        started = time.monotonic()
        worker = threading.Thread(
            target=lambda: out.update(codedeploy.handle(hook["event"], FakeLambdaContext(), aws=aws, env=env))
        )
        worker.start()
        while reported_status(hook["execution_id"]) is None and worker.is_alive():
            time.sleep(0.02)
        # THEN CodeDeploy had its status while the handler was still waiting on S3
        reported_while_publishing = worker.is_alive()
        reported_after = time.monotonic() - started
        worker.join(30)
        print(f"status reported after {reported_after:.2f}s; handler returned after {time.monotonic() - started:.2f}s")
    assert reported_while_publishing
    assert reported_status(hook["execution_id"]) == "Succeeded"
    assert out["status"] == "Succeeded" and out["verdict"] == "PASSED" and out["report_key"] is None
