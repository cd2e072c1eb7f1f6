"""Fixtures for the ECS native hook: a blue/green deployment on the twin whose listeners are real servers.

`seed_bluegreen(controller="ECS")` builds the load balancer, the target groups, listener rules, the
service with its blue and green revisions and a service deployment at POST_TEST_TRAFFIC_SHIFT. The
load balancer's DNS name is 127.0.0.1 and its listener ports are those of two HTTP servers on
127.0.0.1, so the URLs discovery finds lead to servers the test controls: `test` stands for green
behind the test listener, `prod` for what the production listener serves.
"""

from __future__ import annotations

import collections
import copy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenlight.aws import AwsClients
from greenlight_twin import aws as twin
from support.lambda_context import FakeLambdaContext
from support.servers import HttpServer, Recorded, Reply, Responder


@dataclass
class EcsWorld:
    """A seeded ECS blue/green deployment, the servers behind its listeners, and clients that count calls."""

    world: twin.World
    test: HttpServer
    prod: HttpServer
    aws: AwsClients
    calls: collections.Counter[str]
    session: Any

    def event(
        self,
        stage: str = "POST_TEST_TRAFFIC_SHIFT",
        *,
        test: tuple[float, float] | None | str = "stage",
        production: tuple[float, float] | None | str = "stage",
        execution_id: str = "exec-0001",
        resource_arn: str | None = None,
        hook_details: Any = None,
    ) -> dict[str, Any]:
        """An invocation as ECS sends it; weights are (blue, green) percentages, None for an empty map, and
        "stage" (the default) for the maps ECS sends at `stage` (STAGE_WEIGHTS). No hookDetails unless given."""
        w = self.world
        assert w.blue_revision_arn and w.green_revision_arn
        if test == "stage":
            test = STAGE_WEIGHTS[stage][0]
        if production == "stage":
            production = STAGE_WEIGHTS[stage][1]
        assert not isinstance(test, str) and not isinstance(production, str)

        def weights(pair: tuple[float, float] | None) -> dict[str, float]:
            if pair is None:
                return {}
            return {w.blue_revision_arn or "": pair[0], w.green_revision_arn or "": pair[1]}

        event: dict[str, Any] = {
            "executionId": execution_id,
            "lifecycleStage": stage,
            "resourceArn": resource_arn or w.service_deployment_arn,
            "executionDetails": {
                "serviceArn": w.service_arn,
                "targetServiceRevisionArn": w.green_revision_arn,
                "testTrafficWeights": weights(test),
                "productionTrafficWeights": weights(production),
            },
        }
        if hook_details is not None:
            event["hookDetails"] = copy.deepcopy(hook_details)
        return event


# (blue, green) weights of the maps ECS fills at each stage, None where it sends {} (ECS Developer Guide,
# "Lifecycle payloads"; a rollback's PRODUCTION_TRAFFIC_SHIFT is asked for explicitly).
STAGE_WEIGHTS: dict[str, tuple[tuple[float, float] | None, tuple[float, float] | None]] = {
    "RECONCILE_SERVICE": (None, None),
    "PRE_SCALE_UP": (None, None),
    "POST_SCALE_UP": (None, None),
    "TEST_TRAFFIC_SHIFT": ((0.0, 100.0), None),
    "POST_TEST_TRAFFIC_SHIFT": (None, None),
    "PRE_PRODUCTION_TRAFFIC_SHIFT": (None, (100.0, 0.0)),
    "PRODUCTION_TRAFFIC_SHIFT": (None, (0.0, 100.0)),
    "POST_PRODUCTION_TRAFFIC_SHIFT": (None, None),
}


@pytest.fixture
def lambda_context() -> Callable[..., FakeLambdaContext]:
    """Factory: lambda_context(remaining_ms) is a Lambda context with that much time left."""
    return FakeLambdaContext


@pytest.fixture
def ecs_world(aws_env: Any, serve: Callable[..., HttpServer]) -> Iterator[EcsWorld]:
    twin.clear_faults()
    test = serve(Reply(body="green 2.0.0"))
    prod = serve(Reply(body="blue 1.0.0"))
    world = twin.seed_bluegreen(
        aws_env.session(), controller="ECS", lb_dns_name="127.0.0.1", test_port=test.port, prod_port=prod.port
    )
    calls: collections.Counter[str] = collections.Counter()
    session = aws_env.session()

    def count(event_name: str, **kwargs: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        calls[f"{service}.{operation}"] += 1

    # Clients copy the session's event hooks when they are created: register before any client exists.
    session.events.register("before-call", count)
    yield EcsWorld(world, test, prod, AwsClients(session=session), calls, session)
    twin.clear_faults()


@pytest.fixture
def spec_env(tmp_path: Path) -> Callable[..., dict[str, str]]:
    """Factory: write a spec (hooks given as {stage or hook: [checks]}) and return the function's environment."""

    def write(hooks: dict[str, list[dict[str, Any]]], *, target: dict[str, Any] | None = None, **settings: Any) -> dict:
        doc: dict[str, Any] = {"version": 1, "hooks": hooks, "settings": settings}
        if target:
            doc["target"] = target
        path = tmp_path / "greenlight.yaml"
        path.write_text(yaml.safe_dump(doc))
        return {"GREENLIGHT_SPEC": str(path), "GREENLIGHT_REPORT_RESERVE": "0.2"}

    return write


OVERLOADED = Reply(500, body="overloaded")


@pytest.fixture
def every_nth_fails() -> Callable[..., Responder]:
    """Factory: a responder whose every n-th request (n, 2n, ...) gets `bad`, the others 200 (a countable pattern)."""

    def make(n: int, bad: Reply = OVERLOADED) -> Responder:
        seen = [0]
        lock = threading.Lock()

        def respond(_request: Recorded) -> Reply:
            with lock:
                seen[0] += 1
                nth = seen[0]
            return bad if nth % n == 0 else Reply(body="green 2.0.0")

        return respond

    return make
