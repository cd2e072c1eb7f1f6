"""The ECS hook's answers against the documented response: hookStatus, callBackDelay, hookDetails, reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_contract import problems_with_ecs_hook_response

from greenlight.aws import AwsClients
from greenlight.handlers.ecs import handle
from support.lambda_context import FakeLambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def aws() -> AwsClients:
    from greenlight_twin.aws import session

    # Nothing listens on 127.0.0.1:1: discovery is refused at once and the checks below need none.
    return AwsClients(session=session("http://127.0.0.1:1"), retries={"mode": "standard", "max_attempts": 1})


@pytest.fixture
def env(tmp_path: Path) -> Callable[..., dict[str, str]]:
    def write(hooks: dict[str, Any], **settings: Any) -> dict[str, str]:
        path = tmp_path / "spec.yaml"
        doc = {"version": 1, "target": {"test_url": "http://127.0.0.1:1"}, "settings": settings, "hooks": hooks}
        path.write_text(yaml.safe_dump(doc))
        return {"GREENLIGHT_SPEC": str(path), "GREENLIGHT_REPORT_RESERVE": "0.2"}

    return write


def _event(stage: str = "POST_TEST_TRAFFIC_SHIFT") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"ecs-{stage}.json").read_text())
    return loaded


# Nothing listens on 127.0.0.1:1: every measurement is refused.
REFUSED = {"name": "refused", "http": {"path": "/"}, "count": 1}


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("no checks", "SUCCEEDED"),
        ("malformed event", "FAILED"),
        ("unreadable spec", "FAILED"),
        ("failing check", "FAILED"),
        ("in progress", "IN_PROGRESS"),
        ("rollback skipped", "SUCCEEDED"),
    ],
)
def test_contract_ecs_answer_is_what_ecs_reads(
    aws: AwsClients, env: Callable[..., dict[str, str]], tmp_path: Path, case: str, status: str
) -> None:
    # GIVEN an invocation that ends one way or another
    event: Any = _event()
    settings = env({})
    remaining = 60_000
    if case == "malformed event":
        event = {"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"}
    elif case == "unreadable spec":
        settings = {"GREENLIGHT_SPEC": str(tmp_path / "missing.yaml")}
    elif case == "failing check":
        settings = env({"POST_TEST_TRAFFIC_SHIFT": [{**REFUSED, "timeout": 0.5}]})
    elif case == "in progress":
        slow = {**REFUSED, "count": 50, "interval": 30}
        settings = env({"POST_TEST_TRAFFIC_SHIFT": [{**slow, "timeout": 0.5, "failure_limit": 50}]})
        remaining = 3_000
    elif case == "rollback skipped":
        event = json.loads((EVENTS / "ecs-rollback-PRODUCTION_TRAFFIC_SHIFT.json").read_text())
    # WHEN the hook answers
    out = handle(event, FakeLambdaContext(remaining), aws=aws, env=settings)
    # THEN the answer is one ECS documents, with the expected status and a reason for whoever reads it
    assert problems_with_ecs_hook_response(out) == []
    assert out["hookStatus"] == status
    assert isinstance(out.get("reason"), str) and out["reason"]
    assert ("callBackDelay" in out) == (status == "IN_PROGRESS")
