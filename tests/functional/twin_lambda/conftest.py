"""Fixtures for running functions through the real Lambda Runtime Interface Emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from greenlight_twin.functions import FunctionConfig, LambdaRuntime

CODE_DIR = Path(__file__).parent / "lambda_code"
HANDLERS = "twin_test_handlers"


@pytest.fixture
def lambda_runtime(rie_binary: Path, tmp_path: Path) -> Iterator[LambdaRuntime]:
    """A runtime whose processes all stop when the test ends."""
    with LambdaRuntime(rie=rie_binary, log_dir=tmp_path / "logs") as runtime:
        yield runtime


@pytest.fixture
def make_config() -> Callable[..., FunctionConfig]:
    """Builds a FunctionConfig for one of the test handlers."""

    def make(
        function: str,
        *,
        timeout: int = 5,
        memory: int = 256,
        environment: Mapping[str, str] | None = None,
        name: str | None = None,
        code_dir: Path = CODE_DIR,
    ) -> FunctionConfig:
        return FunctionConfig(
            logical_id=f"{function.title()}Function",
            function_name=name or f"twin-test-{function}",
            handler=f"{HANDLERS}.{function}" if "." not in function else function,
            code_dir=code_dir,
            runtime="python3.13",
            timeout=timeout,
            memory=memory,
            environment=dict(environment or {}),
        )

    return make


@pytest.fixture(scope="module")
def moto_endpoint(moto_server: Any) -> str:
    """The session's moto server (tests/functional/conftest.py), emptied for this module."""
    moto_server.reset()
    return str(moto_server.endpoint_url)
