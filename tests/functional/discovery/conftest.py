"""Fixtures for discovery and the AWS-side checks: a seeded blue/green world on the twin's moto server,
AwsClients that count every API call, and a way to run a spec's checks against a discovered deployment.
"""

from __future__ import annotations

import collections
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from greenlight.aws import AwsClients
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import RunResult
from greenlight_twin import aws as twin

HOOK = "AfterAllowTestTraffic"


@dataclass
class Counted:
    """AwsClients on the twin, and how many times each API was called through them."""

    aws: AwsClients
    calls: collections.Counter[str]


@pytest.fixture
def session(aws_env: Any) -> Iterator[Any]:
    """A boto3 session on an emptied twin (faults and health overrides cleared before and after)."""
    twin.clear_faults()
    yield aws_env.session()
    twin.clear_faults()
    twin.set_target_health_provider(None)


@pytest.fixture
def seed(session: Any) -> Callable[..., twin.World]:
    """seed(**kwargs): a CodeDeploy blue/green deployment at AfterAllowTestTraffic (twin.seed_bluegreen)."""
    return lambda **kwargs: twin.seed_bluegreen(session, **kwargs)


@pytest.fixture
def counted(session: Any, aws_env: Any) -> Counted:
    """AwsClients (on their own session, so seeding is not counted) whose calls are counted per
    'service.Operation' with a botocore before-call hook."""
    calls: collections.Counter[str] = collections.Counter()
    session = aws_env.session()

    def count(event_name: str, **kwargs: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        calls[f"{service}.{operation}"] += 1

    # Clients copy the session's event hooks when they are created, so register before AwsClients makes any.
    session.events.register("before-call", count)
    return Counted(AwsClients(session=session), calls)


@pytest.fixture
def run_checks() -> Callable[..., RunResult]:
    """run_checks(checks_yaml, deployment=..., aws=..., test_url=...): one hook's checks, as the handler runs them."""
    from greenlight import spec as specs
    from greenlight.plan import discovered_target, run_hook

    def run(
        checks_yaml: str, *, deployment: Any = None, aws: Any = None, test_url: str | None = None, head: str = ""
    ) -> RunResult:
        # `head`: top-level sections before `hooks` (a `load` section, for instance)
        text = f"version: 1\n{head}hooks:\n  {HOOK}:\n" + textwrap.indent(textwrap.dedent(checks_yaml), "    ")
        spec = specs.load_text(text, env={})
        target = discovered_target(spec, deployment, test_url)
        return run_hook(spec, HOOK, deadline=Deadline.after(60), target=target, deployment=deployment, aws=aws)

    return run
