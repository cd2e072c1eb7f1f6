"""The `greenlight` command line: exit codes, the JSON report, dry run, and `validate`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from greenlight_cli.main import main
from support.servers import HttpServer, Reply

REPO = Path(__file__).resolve().parents[2]
HOOK = "AfterAllowTestTraffic"


@pytest.fixture
def spec_file(tmp_path: Path) -> Callable[..., Path]:
    """Factory: write a spec (YAML text, or a dict written as JSON) and return its path."""

    def write(content: str | dict[str, Any], name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        return path

    return write


def one_check(url: str, **http: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "target": {"test_url": url, "prod_url": url},
        "hooks": {HOOK: [{"name": "health", "http": {"path": "/health", **http}, "count": 2, "interval": 0}]},
    }


# --- greenlight check ----------------------------------------------------------------------------------


def test_cli_check_exit_0_when_green_passes(
    serve: Callable[..., HttpServer], spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a healthy service and a spec for it
    server = serve(Reply(json={"status": "ok"}))
    path = spec_file(one_check(server.url))
    # WHEN the checks run from the command line
    code = main(["check", "--spec", str(path), "--quiet"])
    # THEN it exits 0 and the table says what would be reported
    out = capsys.readouterr().out
    assert code == 0
    assert "health" in out
    assert f"{HOOK}: PASSED → would report Succeeded" in out


def test_cli_check_exit_1_when_green_fails(
    serve: Callable[..., HttpServer], spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a service answering 500
    server = serve(Reply(status=500))
    path = spec_file(one_check(server.url))
    # WHEN the checks run, with live progress
    code = main(["check", "--spec", str(path)])
    # THEN it exits 1, progress showed the measurement, and the table names the failure
    captured = capsys.readouterr()
    assert code == 1
    assert "health [1/2] FAIL: status 500, expected 200" in captured.err
    assert f"{HOOK}: FAILED → would report Failed" in captured.out


def test_cli_check_exit_2_on_invalid_spec(spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a spec with two mistakes
    path = spec_file(
        "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - name: h\n      http: {paht: /}\n      cuont: 2\n"
    )
    # WHEN it is used to check
    code = main(["check", "--spec", str(path), "--test-url", "http://127.0.0.1:9"])
    # THEN it exits 2 and prints every problem with its path
    err = capsys.readouterr().err
    assert code == 2
    assert "hooks.AfterAllowTestTraffic[0].cuont: unknown field (did you mean 'count'?)" in err
    assert "hooks.AfterAllowTestTraffic[0].http.paht: unknown field (did you mean 'path'?)" in err


def test_cli_check_json_report_shape(
    serve: Callable[..., HttpServer], spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a healthy service
    server = serve(Reply(json={"status": "ok"}))
    path = spec_file(one_check(server.url, expect={"json": {"status": "ok"}}))
    # WHEN the checks run with --json
    code = main(["check", "--spec", str(path), "--json"])
    # THEN stdout is one JSON report with the run, every check and every measurement
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(report) == {"hook", "verdict", "succeeded", "reason", "dry_run", "duration_ms", "context", "checks"}
    assert (report["hook"], report["verdict"], report["succeeded"], report["dry_run"]) == (HOOK, "PASSED", True, False)
    assert report["context"]["test_url"] == server.url
    assert report["context"]["source"] == str(path)
    (check,) = report["checks"]
    assert {"name", "kind", "status", "reason", "dry_run", "counts", "measurements"} <= set(check)
    assert (check["name"], check["kind"], check["status"]) == ("health", "http", "PASS")
    assert check["counts"] == {"PASS": 2, "FAIL": 0, "ERROR": 0}
    assert len(check["measurements"]) == 2
    first = check["measurements"][0]
    assert first["status"] == "PASS"
    assert first["details"]["status"] == 200
    assert isinstance(first["duration_ms"], float)


def test_cli_check_dry_run_exits_0_and_says_what_would_fail(
    serve: Callable[..., HttpServer], spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a failing service
    server = serve(Reply(status=503))
    path = spec_file(one_check(server.url))
    # WHEN the checks run with --dry-run
    code = main(["check", "--spec", str(path), "--json", "--dry-run"])
    # THEN it exits 0, the verdict is kept, and the reason says Failed would have been reported
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (report["verdict"], report["succeeded"], report["dry_run"]) == ("FAILED", True, True)
    assert report["reason"].startswith("dry run, would have reported Failed: ")


def test_cli_check_test_url_overrides_the_spec(
    serve: Callable[..., HttpServer], spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a spec that leaves the URLs to discovery, and a service to point it at
    server = serve(Reply())
    path = spec_file({"version": 1, "hooks": {HOOK: [{"name": "h", "http": {"path": "/"}}]}})
    # WHEN --test-url is given
    code = main(["check", "--spec", str(path), "--test-url", server.url + "/", "--json"])
    # THEN the checks probe it
    assert code == 0
    assert json.loads(capsys.readouterr().out)["context"]["test_url"] == server.url
    assert len(server.requests) == 1


def test_cli_check_invalid_test_url_exit_2(spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a valid spec
    path = spec_file(one_check("http://127.0.0.1:9"))
    # WHEN --test-url is not an http URL
    code = main(["check", "--spec", str(path), "--test-url", "ftp://127.0.0.1/"])
    # THEN it exits 2 naming the flag
    assert code == 2
    assert "--test-url: only http and https URLs may be probed" in capsys.readouterr().err


def test_cli_check_missing_hook_with_several_hooks_exit_2(
    spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a spec with checks for two hooks
    doc = one_check("http://127.0.0.1:9")
    doc["hooks"]["AfterAllowTraffic"] = [{"name": "prod", "http": {"listener": "prod", "path": "/"}}]
    path = spec_file(doc)
    # WHEN --hook is not given
    code = main(["check", "--spec", str(path)])
    # THEN it exits 2 and lists the hooks to choose from
    assert code == 2
    assert "--hook is required; the spec has checks for: AfterAllowTestTraffic, AfterAllowTraffic" in (
        capsys.readouterr().err
    )


def test_cli_check_unknown_hook_exit_2(spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a valid spec
    path = spec_file(one_check("http://127.0.0.1:9"))
    # WHEN --hook names no hook
    code = main(["check", "--spec", str(path), "--hook", "AfterAlowTestTraffic"])
    # THEN it exits 2 naming the bad name
    assert code == 2
    assert "unknown hook 'AfterAlowTestTraffic'" in capsys.readouterr().err


def test_cli_check_bad_deadline_exit_2(spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a valid spec
    path = spec_file(one_check("http://127.0.0.1:9"))
    # WHEN the deadline is not positive
    code = main(["check", "--spec", str(path), "--deadline", "0"])
    # THEN it exits 2
    assert code == 2
    assert "argument --deadline: expected a finite number of seconds above 0" in capsys.readouterr().err


def test_cli_without_a_command_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN no subcommand
    # WHEN the command runs
    code = main([])
    # THEN it prints the help to stderr and exits 2
    assert code == 2
    assert "usage: greenlight" in capsys.readouterr().err


# --- greenlight validate ---------------------------------------------------------------------------------


def test_cli_validate_valid_spec(spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a valid spec with checks for one hook
    doc = one_check("http://127.0.0.1:9")
    doc["hooks"][HOOK].append({"name": "home", "http": {"path": "/"}})
    path = spec_file(doc)
    # WHEN it is validated
    code = main(["validate", "--spec", str(path)])
    # THEN it exits 0 and summarises the spec
    assert code == 0
    assert capsys.readouterr().out.strip() == f"{path}: valid spec, version 1: {HOOK} (2 checks)"


def test_cli_validate_invalid_spec_prints_every_problem(
    spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a spec with several mistakes
    path = spec_file(
        "version: 1\n"
        "defaults: {timeout: 5 seconds}\n"
        "hooks:\n"
        "  AfterAllowTestTraffic:\n"
        "    - name: h\n"
        "      http: {path: /, expect: {stauts: 200}}\n"
        "  AfterTraffic: []\n"
    )
    # WHEN it is validated
    code = main(["validate", "--spec", str(path)])
    # THEN it exits 2 and prints each problem with its path
    err = capsys.readouterr().err
    assert code == 2
    assert "3 problem(s)" in err
    assert (
        "defaults.timeout: expected a duration such as 250ms, 90s, 2m, 1m30s, 1h or a number of seconds, "
        "got '5 seconds'" in err
    )
    assert "hooks.AfterAllowTestTraffic[0].http.expect.stauts: unknown field (did you mean 'status'?)" in err
    assert "hooks.AfterTraffic: unknown field (did you mean 'AfterAllowTraffic'?)" in err


def test_cli_validate_missing_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a path with no file
    missing = tmp_path / "missing.yaml"
    # WHEN it is validated
    code = main(["validate", "--spec", str(missing)])
    # THEN it exits 2 naming the file
    assert code == 2
    assert f"spec file not found: {missing}" in capsys.readouterr().err


def test_cli_validate_examples_and_bundled_spec(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the specs shipped in the repository
    shipped = [REPO / "examples" / "basic.yaml", REPO / "hooks" / "greenlight" / "default_spec.yaml"]
    # WHEN each is validated
    codes = [main(["validate", "--spec", str(path)]) for path in shipped]
    # THEN all are valid
    assert codes == [0] * len(shipped), capsys.readouterr().err


def test_cli_validate_spec_from_ssm(aws_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a spec kept in an SSM parameter
    spec = one_check("http://127.0.0.1:9")
    aws_env.session().client("ssm").put_parameter(Name="/greenlight/cli-spec", Value=json.dumps(spec), Type="String")
    # WHEN it is validated by name
    code = main(["validate", "--spec", "ssm:/greenlight/cli-spec"])
    # THEN it is read from SSM and found valid
    assert code == 0
    assert "ssm:/greenlight/cli-spec: valid spec, version 1" in capsys.readouterr().out


def test_cli_module_entry_point_runs(serve: Callable[..., HttpServer], spec_file: Callable[..., Path]) -> None:
    # GIVEN a healthy service and a spec
    server = serve(Reply())
    path = spec_file(one_check(server.url))
    # WHEN `python -m greenlight_cli check` runs as its own process
    proc = subprocess.run(
        [sys.executable, "-m", "greenlight_cli", "check", "--spec", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO / "hooks")},
        check=False,
    )
    # THEN it exits 0 with a JSON report on stdout
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "PASSED"
    assert len(server.requests) == 2
