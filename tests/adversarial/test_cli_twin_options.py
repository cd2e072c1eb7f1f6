"""`greenlight twin` refuses bad options before anything starts, with every mistake in one clear message.

Each case runs `main()` in-process. The twin's start is replaced by a sentinel that fails the test if reached
(nothing may start for a bad option; a real start would spawn moto, the load balancer and the Lambda emulator).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenlight_cli.main import main
from greenlight_twin.controller import Twin


@pytest.fixture(autouse=True)
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    # A sentinel, not a stand-in: reaching it means a bad option got as far as starting the twin.
    def refuse(self: Twin) -> Twin:
        raise AssertionError("the twin started although an option was bad")

    monkeypatch.setattr(Twin, "start", refuse)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "greenlight.yaml"
    path.write_text("version: 1\nhooks: {}\n")
    return path


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--tasks", "0"], "--tasks 0: expected a whole number from 1 to 20"),
        (["--tasks", "21"], "--tasks 21"),
        (["--tasks=-3"], "--tasks -3"),
        (["--hook-timeout=-5"], "--hook-timeout -5: expected a finite number of seconds > 0"),
        (["--hook-timeout", "nan"], "--hook-timeout nan"),
        (["--hook-timeout", "inf"], "--hook-timeout inf"),
        (["--version", "b@d"], "--version 'b@d' is not a version"),
        (["--version", "2.0.0 rc"], "--version '2.0.0 rc' is not a version"),
        (["--version", "." + "1" * 10], "is not a version"),
        (["--blue-version", "1.0/0"], "blue_version '1.0/0' is not a version"),
        (["--default-hook-timeout", "nan"], "hook_timeout nan must be a finite number of seconds > 0"),
        (["--default-hook-timeout", "0"], "hook_timeout 0.0 must be"),
        (["--blue-tasks", "0"], "tasks 0 must be a whole number from 1 to 20"),
        (["--prod-port", "70000"], "prod_port 70000 must be a port number from 1 to 65535"),
        (["--test-port=-1"], "test_port -1 must be a port number"),
        (["--prod-port", "41000", "--test-port", "41000"], "the two listeners need two ports"),
        (["--controller", "K8S"], "controller 'K8S' is not one of"),
    ],
)
def test_cli_twin_bad_option_is_refused_before_anything_starts(
    spec: Path, capsys: pytest.CaptureFixture[str], flags: list[str], said: str
) -> None:
    # GIVEN / WHEN `twin play` with a bad option
    code = main(["twin", "play", "--spec", str(spec), *flags])
    # THEN it exits 2 with a message naming the option and its value, and nothing started
    err = capsys.readouterr().err
    assert code == 2, err
    assert said in err
    assert "Traceback" not in err


def test_cli_twin_every_bad_deployment_option_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN several mistakes in one command line
    code = main(
        [
            "twin",
            "play",
            "--spec",
            str(tmp_path / "missing.yaml"),
            "--tasks",
            "0",
            "--hook-timeout=-1",
            "--version",
            "b@d",
        ]
    )
    # THEN all are named in one message
    err = capsys.readouterr().err
    assert code == 2
    for said in ("no such file", "--tasks 0", "--hook-timeout -1", "--version 'b@d'"):
        assert said in err


@pytest.mark.parametrize("flag", ["--prod-port", "--test-port"])
def test_cli_twin_busy_port_is_refused_before_anything_starts(
    spec: Path, busy_port: int, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    # GIVEN a port some other process listens on
    # WHEN the twin is asked to listen there
    code = main(["twin", "play", "--spec", str(spec), flag, str(busy_port)])
    # THEN it exits 2 saying the port is in use, and nothing started
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{busy_port} (already in use)" in err
