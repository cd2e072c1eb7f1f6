"""The command line never shows a traceback: bad flags, odd terminals, closed and broken pipes, missing config.

Each case runs the real `greenlight` entry point in a subprocess (a fresh interpreter, so stream encodings and
closed descriptors are real) or `main()` in-process, against HTTP servers and the twin's AWS on 127.0.0.1. The
documented exit codes are 0 passed, 1 failed (or did not pass), 2 bad usage, 3 internal error; no output problem
changes the code of a verdict already reached, and no traceback ever reaches stderr.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenlight_cli.main import main
from greenlight_twin import aws as twin_aws
from support.servers import HttpServer, RefusingPort, Reply

HOOK = "AfterAllowTestTraffic"
TASK_DEF = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7"


def spec_file(tmp_path: Path, url: str, **check: Any) -> Path:
    body = {
        "name": "home",
        "http": {"path": "/", "expect": {"body_contains": "santé ✓ 健康"}},
        "count": 2,
        "interval": "50ms",
        "timeout": "1s",
        **check,
    }
    doc = {"version": 1, "target": {"test_url": url, "prod_url": url}, "hooks": {HOOK: [body]}}
    path = tmp_path / "greenlight.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def run_cli(
    *argv: str, env: dict[str, str] | None = None, shell_suffix: str = "", **popen: Any
) -> subprocess.CompletedProcess:
    """`python -m greenlight_cli ARGV` in a fresh interpreter (with `shell_suffix`, through bash: `>&-`)."""
    environment = {**os.environ, **(env or {})}
    command = [sys.executable, "-m", "greenlight_cli", *argv]
    if shell_suffix:
        import shlex

        command = ["bash", "-c", " ".join(map(shlex.quote, command)) + " " + shell_suffix]
    return subprocess.run(command, env=environment, capture_output=True, timeout=120, check=False, **popen)


def assert_no_traceback(stderr: bytes | str) -> None:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text, text
    assert "Exception ignored" not in text, text


@pytest.fixture
def failing_green() -> Iterator[HttpServer]:
    """Green answers, but not what the spec wants: every run is a FAIL verdict (exit 1)."""
    with HttpServer(Reply(status=200, body="bonjour")) as server:
        yield server


# --- --deadline ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e308", "1e999", "-1", "0", "abc", "", "86401"])
def test_cli_deadline_not_a_finite_positive_number_exits_2_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    # GIVEN a valid spec
    with RefusingPort() as port:
        spec = spec_file(tmp_path, port.url)
        # WHEN --deadline is not a finite number of seconds in (0, 86400]
        code = main(["check", "--spec", str(spec), f"--deadline={value}"])
    # THEN it exits 2 before anything runs, naming the flag and the value
    err = capsys.readouterr().err
    assert code == 2
    assert "argument --deadline" in err and repr(value) in err
    assert_no_traceback(err)


def test_cli_deadline_nan_through_the_real_entry_point_exits_2(tmp_path: Path) -> None:
    with RefusingPort() as port:
        done = run_cli("check", "--spec", str(spec_file(tmp_path, port.url)), "--deadline", "nan")
    assert done.returncode == 2
    assert b"argument --deadline" in done.stderr
    assert_no_traceback(done.stderr)


# --- streams -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {"PYTHONIOENCODING": "latin-1"},
        {"PYTHONIOENCODING": "ascii"},
        {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""},
    ],
    ids=["latin-1", "ascii", "C-locale"],
)
@pytest.mark.parametrize("json_out", [False, True], ids=["table", "json"])
def test_cli_non_utf8_stdout_prints_the_verdict_without_crashing(
    tmp_path: Path, failing_green: HttpServer, env: dict[str, str], json_out: bool
) -> None:
    # GIVEN output holding non-ASCII text (the expected body, marks, the arrow) and a stdout that cannot encode it
    spec = spec_file(tmp_path, failing_green.url)
    # WHEN the check runs
    done = run_cli("check", "--spec", str(spec), *(["--json"] if json_out else []), env=env)
    # THEN the verdict is printed whole and the exit code is the verdict's (1: the body is wrong)
    print(f"[cli] {env}: exit {done.returncode}, last line {done.stdout.splitlines()[-1:]!r}")
    assert_no_traceback(done.stderr)
    assert done.returncode == 1
    assert (b'"verdict": "FAILED"' if json_out else b"AfterAllowTestTraffic: FAILED") in done.stdout


def _run_on_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """Run the CLI with stdout and stderr on a pseudo-terminal; (exit code, everything it printed)."""
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | env
    process = subprocess.Popen(
        [sys.executable, "-m", "greenlight_cli", *argv], stdout=follower, stderr=follower, env=environment
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    return process.wait(60), out


@pytest.mark.parametrize(("env", "colored"), [({}, True), ({"NO_COLOR": "1"}, False), ({"NO_COLOR": ""}, True)])
def test_cli_no_color_is_honoured_on_a_terminal(
    tmp_path: Path, failing_green: HttpServer, env: dict[str, str], colored: bool
) -> None:
    # GIVEN a terminal (where greenlight colors its marks and results)
    spec = spec_file(tmp_path, failing_green.url)
    # WHEN the check runs with NO_COLOR set (or set but empty, which https://no-color.org says to ignore)
    code, out = _run_on_a_terminal(["check", "--spec", str(spec)], env)
    # THEN colors appear exactly when NO_COLOR is not set to something; the verdict and exit code are unchanged
    assert code == 1
    assert b"AfterAllowTestTraffic: FAILED" in out
    assert (b"\x1b[" in out) is colored
    assert_no_traceback(out)


@pytest.mark.parametrize("json_out", [False, True], ids=["table", "json"])
@pytest.mark.parametrize(
    ("reply", "verdict_code"), [(Reply(status=200, body="bonjour"), 1), (Reply(body="santé ✓ 健康"), 0)]
)
def test_cli_broken_pipe_keeps_the_verdicts_exit_code_and_shows_no_traceback(
    tmp_path: Path, json_out: bool, reply: Reply, verdict_code: int
) -> None:
    # GIVEN a reader that goes away before the verdict is printed (`greenlight check ... | head -0`)
    with HttpServer(reply) as green:
        spec = spec_file(tmp_path, green.url, count=3, interval="200ms")
        process = subprocess.Popen(
            [sys.executable, "-m", "greenlight_cli", "check", "--spec", str(spec), *(["--json"] if json_out else [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        # WHEN the run ends and the report meets the broken pipe
        stderr = process.stderr.read()
        code = process.wait(60)
    # THEN the exit code is still the verdict's, and nothing but progress reached stderr
    assert code == verdict_code
    assert_no_traceback(stderr)


def test_cli_closed_stdout_keeps_the_verdicts_exit_code(tmp_path: Path, failing_green: HttpServer) -> None:
    # GIVEN greenlight started with its stdout closed (`greenlight check ... >&-`)
    spec = spec_file(tmp_path, failing_green.url)
    # WHEN the check runs
    done = run_cli("check", "--spec", str(spec), shell_suffix=">&-")
    # THEN the verdict's exit code comes back, without a traceback
    assert done.returncode == 1
    assert_no_traceback(done.stderr)


# --- a hook with no checks ---------------------------------------------------------------------------------------


def test_cli_hook_without_checks_warns_loudly_and_fails_with_require_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a spec whose checks are all for AfterAllowTestTraffic
    with RefusingPort() as port:
        spec = spec_file(tmp_path, port.url)
        # WHEN a CI step names another hook, without and with --require-checks
        plain = main(["check", "--spec", str(spec), "--hook", "BeforeInstall"])
        plain_err = capsys.readouterr().err
        required = main(["check", "--spec", str(spec), "--hook", "BeforeInstall", "--require-checks"])
        required_out = capsys.readouterr()
    # THEN both say so on stderr, naming the hook and the hooks that have checks; --require-checks exits 1
    assert plain == 0
    assert "WARNING: hook BeforeInstall has no checks" in plain_err and HOOK in plain_err
    assert required == 1
    assert "WARNING: hook BeforeInstall has no checks" in required_out.err
    assert required_out.out == ""  # no verdict: nothing ran


# --- appspec without a region -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    with twin_aws.start() as server:
        yield server.endpoint_url


def _no_region_env(endpoint: str, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE")}
    return env | {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(config),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }


@pytest.mark.parametrize("config_text", ["", "[default\nregion="], ids=["no-config", "broken-config"])
def test_cli_appspec_without_a_region_says_what_is_wrong(tmp_path: Path, aws_endpoint: str, config_text: str) -> None:
    # GIVEN no region anywhere (no AWS_REGION, no AWS_DEFAULT_REGION, no profile), or a config file that
    #       cannot be parsed; the AWS endpoint is the twin's on 127.0.0.1
    config = tmp_path / "config"
    config.write_text(config_text)
    # WHEN appspec runs for a stack that does not exist there
    done = subprocess.run(
        [sys.executable, "-m", "greenlight_cli", "appspec", "--stack", "nope", "--task-definition", TASK_DEF],
        env=_no_region_env(aws_endpoint, config),
        capture_output=True,
        timeout=120,
        check=False,
    )
    # THEN it exits 2 with one clear line: the stack is not found in the task definition's region, or the
    #      config file cannot be read
    print(f"[cli] appspec, {config_text!r}: exit {done.returncode}: {done.stderr.decode().strip()}")
    assert_no_traceback(done.stderr)
    assert done.returncode == 2
    expected = b"not found in eu-west-1" if not config_text else b"Unable to parse config file"
    assert expected in done.stderr


# --- --dry-run ---------------------------------------------------------------------------------------------------


def _dry_run_spec(tmp_path: Path, bad: str, good: str) -> Path:
    checks = [
        {"name": "fails", "http": {"url": bad + "/"}, "count": 2, "interval": 0},
        {
            "name": "refused",
            "http": {"url": "http://127.0.0.1:9/"},
            "count": 2,
            "interval": 0,
            "consecutive_error_limit": 0,
        },
        {"name": "healthy", "http": {"path": "/"}, "count": 3, "interval": "100ms"},
    ]
    doc = {
        "version": 1,
        "target": {"test_url": good, "prod_url": good, "allow_hosts": ["127.0.0.1"]},
        "hooks": {HOOK: checks},
    }
    path = tmp_path / "dry.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_cli_dry_run_shows_every_failure_and_marks_each_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    # GIVEN a check that fails at once, one that errors, and a healthy one
    with HttpServer(Reply(status=500)) as bad, HttpServer(Reply(body="ok")) as good:
        spec = _dry_run_spec(tmp_path, bad.url, good.url)
        # WHEN `check --dry-run` runs, as JSON and as a table
        json_code = main(["check", "--spec", str(spec), "--dry-run", "--json"])
        report = json.loads(capsys.readouterr().out)
        table_code = main(["check", "--spec", str(spec), "--dry-run", "--quiet"])
        table = capsys.readouterr().out
    # THEN both exit 0; every check ran to its own end (no "stopped early") and is marked dry run; the verdict
    #      says what would have failed
    assert json_code == 0 and table_code == 0
    assert report["dry_run"] is True and report["verdict"] == "FAILED" and report["succeeded"] is True
    checks = {c["name"]: c for c in report["checks"]}
    assert all(c["dry_run"] for c in checks.values())
    assert checks["fails"]["status"] == "FAIL" and checks["refused"]["status"] == "ERROR"
    assert checks["healthy"]["status"] == "PASS" and checks["healthy"]["counts"]["PASS"] == 3
    assert not any("stopped early" in c["reason"] for c in checks.values())
    rows = [line for line in table.splitlines() if line.split()[:1] in (["fails"], ["refused"], ["healthy"])]
    assert len(rows) == 3 and all("(dry run)" in row for row in rows)
    assert "FAILED (dry run)" in table and "would report Succeeded" in table
