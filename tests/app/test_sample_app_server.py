"""Unit tests of the sample service's runner (app/server.py): arguments, port and start-up errors."""

from __future__ import annotations

import pytest

from sample_app import ConfigError
from server import DEFAULT_PORT, SampleServer, build_parser, create_app, main, resolve_port


def test_resolve_port_prefers_cli_then_env_then_default() -> None:
    # GIVEN / WHEN / THEN --port wins, then $PORT, then 3000 (the container port)
    assert resolve_port("8123", {"PORT": "9000"}) == 8123
    assert resolve_port(None, {"PORT": "9000"}) == 9000
    assert resolve_port(None, {"PORT": " "}) == DEFAULT_PORT
    assert resolve_port(None, {}) == 3000
    assert resolve_port("0", {}) == 0


@pytest.mark.parametrize(
    ("cli", "env", "named"),
    [
        ("70000", {}, "--port='70000'"),
        ("http", {}, "--port='http'"),
        (None, {"PORT": "-1"}, "PORT='-1'"),
        (None, {"PORT": "3000.0"}, "PORT='3000.0'"),
        (None, {"PORT": "\u0663"}, "PORT="),
    ],
)
def test_resolve_port_rejects_non_ports_naming_source(cli: str | None, env: dict[str, str], named: str) -> None:
    # GIVEN a port that is not one
    # WHEN it is resolved
    with pytest.raises(ConfigError) as caught:
        resolve_port(cli, env)
    # THEN the error names where it came from and the accepted range
    assert named in str(caught.value)
    assert "from 0 to 65535" in str(caught.value)


def test_parser_defaults_bind_loopback() -> None:
    # GIVEN no arguments
    # WHEN they are parsed
    args = build_parser().parse_args([])
    # THEN the run command binds 127.0.0.1 (the container passes 0.0.0.0 itself) with a few threads
    assert args.host == "127.0.0.1"
    assert args.port is None
    assert args.threads == 4


def test_parser_rejects_zero_threads(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN --threads 0
    # WHEN it is parsed
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["--threads", "0"])
    # THEN argparse exits 2 naming the option
    assert caught.value.code == 2
    assert "--threads" in capsys.readouterr().err


def test_main_exits_2_on_invalid_configuration_before_serving(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a bad port and two bad switches
    env = {"PORT": "99999", "FAULT_ERROR_RATE": "2.0", "FAULT_UNHEALTHY": "perhaps"}
    # WHEN main runs (it would block serving if it got that far)
    status = main([], env)
    # THEN it exits 2 with one stderr line naming all three
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    for variable in ("PORT='99999'", "FAULT_ERROR_RATE='2.0'", "FAULT_UNHEALTHY='perhaps'"):
        assert variable in err


def test_sample_server_configures_one_gthread_worker() -> None:
    # GIVEN a server built for an IPv6 loopback bind
    app = create_app({})
    server = SampleServer(app, app.config["SETTINGS"], host="::1", port=3100, threads=3, access_log=False)
    # WHEN / THEN gunicorn's configuration holds what the run command promises
    assert server.cfg.bind == ["[::1]:3100"]
    assert server.cfg.workers == 1
    assert server.cfg.threads == 3
    assert server.cfg.worker_class_str == "gthread"
    assert server.cfg.graceful_timeout == 10
    assert server.load() is app
