"""Fixtures of the end-to-end tests: one local twin per controller, shared by a module's tests.

A twin runs, on 127.0.0.1: moto (in this process), the twin load balancer (in this process), blue's
and each deployment's green tasks of the sample service (app/server.py processes), and the hook
functions of this project's template.yaml (CodeUri hooks/: exactly what is deployed) in the Lambda
Runtime Interface Emulator (one emulator process per function, plus its Python runtime). Every
deployment's story is printed, so a failing test shows it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import E2E_TWIN, ROOT, SPECS, TEMPLATE, start_twin  # noqa: F401  (re-exported to tests)

from greenlight_twin import aws as twin_aws
from greenlight_twin.controller import Twin, TwinConfig

_versions = itertools.count(1)


@pytest.fixture(scope="module", params=["CODE_DEPLOY", "ECS"])
def twin(request: pytest.FixtureRequest, rie_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    """A twin of each deployment controller (blue 1.0.0, one task), shared by the module's tests."""
    config = TwinConfig(
        controller=request.param,
        template=TEMPLATE,
        rie=rie_binary,
        workdir=tmp_path_factory.mktemp(f"twin-{request.param.lower()}"),
        **E2E_TWIN,  # type: ignore[arg-type]
    )
    yield from start_twin(config)


@pytest.fixture(autouse=True)
def _twin_at_rest(request: pytest.FixtureRequest) -> Iterator[None]:
    """No fault outlives its test; the twin's blue still serves afterwards."""
    twin_aws.clear_faults()
    yield
    twin_aws.clear_faults()
    if "twin" in request.fixturenames:
        running: Twin = request.getfixturevalue("twin")
        assert running.live is not None and running.live.side.running, "production's tasks stopped running"


@pytest.fixture
def version() -> str:
    """A version no other deployment in this run used."""
    return f"2.{next(_versions)}.0"


@pytest.fixture(scope="module")
def ecs_twin(rie_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    """An ECS native twin (blue 1.0.0, one task), shared by the module's tests."""
    config = TwinConfig(
        controller="ECS", template=TEMPLATE, rie=rie_binary, workdir=tmp_path_factory.mktemp("twin-ecs"), **E2E_TWIN
    )  # type: ignore[arg-type]
    yield from start_twin(config)
