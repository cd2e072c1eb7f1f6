"""Fixtures for the twin's AWS tests: one extended moto server on 127.0.0.1, sessions and seeded worlds."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config

from greenlight_twin import aws as twin_aws

_names = itertools.count(1)


@pytest.fixture(scope="session")
def aws_server() -> Iterator[twin_aws.MotoServer]:
    with twin_aws.start() as server:
        yield server


@pytest.fixture(scope="session")
def aws_session(aws_server: twin_aws.MotoServer) -> Any:
    return twin_aws.session(aws_server.endpoint_url, "us-east-1")


@pytest.fixture
def client(aws_session: Any) -> Callable[..., Any]:
    """client("ecs") or client("elbv2", attempts=1): boto3 clients on the twin, no retries if asked."""

    def make(service: str, *, attempts: int | None = None, read_timeout: float | None = None) -> Any:
        settings: dict[str, Any] = {}
        if attempts is not None:
            settings["retries"] = {"mode": "standard", "total_max_attempts": attempts}
        if read_timeout is not None:
            settings["read_timeout"] = read_timeout
        return aws_session.client(service, config=Config(**settings))

    return make


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Names for resources that must be unique on the shared server (load balancers, target groups...)."""
    return lambda prefix: f"{prefix}{next(_names)}"


@pytest.fixture(autouse=True)
def _no_faults_left() -> Iterator[None]:
    twin_aws.clear_faults()
    yield
    twin_aws.clear_faults()
    twin_aws.set_target_health_provider(None)


@pytest.fixture(scope="module")
def codedeploy_world(aws_session: Any) -> twin_aws.World:
    return twin_aws.seed_bluegreen(aws_session, name=f"cd{next(_names)}", region="us-east-1")


@pytest.fixture(scope="module")
def ecs_world(aws_session: Any) -> twin_aws.World:
    return twin_aws.seed_bluegreen(aws_session, name=f"ecs{next(_names)}", region="us-east-1", controller="ECS")
