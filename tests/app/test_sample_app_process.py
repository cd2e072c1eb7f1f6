"""Functional tests: the sample service as real processes on 127.0.0.1 (server.py, and the image's
commands from app/Dockerfile run without Docker)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys

from sample_app_harness import APP_DIR, SERVER, Spawn, free_port, http_get

READY_RE = re.compile(r"ready http://127\.0\.0\.1:(\d+) version=(\S+) pid=(\d+) faults=(\S+)")


def dockerfile_exec_forms() -> dict[str, list[str]]:
    """The Dockerfile's exec-form CMD and HEALTHCHECK CMD, as argument lists."""
    text = (APP_DIR / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    forms: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("CMD "):
            forms["CMD"] = json.loads(line.removeprefix("CMD "))
        elif line.startswith("HEALTHCHECK "):
            forms["HEALTHCHECK"] = json.loads(line.split(" CMD ", 1)[1])
    return forms


def replace_once(argv: list[str], old: str, new: str) -> list[str]:
    assert argv.count(old) == 1, f"{old!r} expected once in {argv}"
    return [new if arg == old else arg for arg in argv]


def assert_port_closed(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still accepts connections"


def test_server_serves_and_stops_on_sigterm(spawn: Spawn) -> None:
    # GIVEN server.py started the way other code starts it, on a free port
    port = free_port()
    service = spawn(
        [sys.executable, str(SERVER), "--host", "127.0.0.1", "--port", str(port)],
        env={"APP_VERSION": "7.1.0"},
    )
    # WHEN it prints its ready line
    line = service.next_line()
    # THEN the line names the address, version and the master's pid
    assert line is not None, service.stderr()
    ready = READY_RE.fullmatch(line)
    assert ready, line
    assert ready.groups() == (str(port), "7.1.0", str(service.proc.pid), "none")
    # AND /health answers ok with the version header
    health = http_get(f"http://127.0.0.1:{port}/health")
    assert health.status == 200
    assert health.body == {"status": "ok", "version": "7.1.0"}
    assert health.headers["X-App-Version"] == "7.1.0"
    # WHEN it receives SIGTERM
    status = service.stop(signal.SIGTERM)
    # THEN it exits cleanly, prints nothing more, and the port is released
    assert status == 0, service.stderr()
    assert service.next_line() is None
    assert_port_closed(port)


def test_server_on_port_zero_reports_port_and_fails_healthcheck_when_unhealthy(spawn: Spawn) -> None:
    # GIVEN server.py on port 0 (any free port) told to be unhealthy and slow on /version only
    service = spawn(
        [sys.executable, str(SERVER), "--port", "0"],
        env={"FAULT_UNHEALTHY": "true", "FAULT_LATENCY_MS": "10", "FAULT_LATENCY_PATHS": "/version"},
    )
    line = service.next_line()
    assert line is not None, service.stderr()
    ready = READY_RE.fullmatch(line)
    assert ready, line
    port = int(ready.group(1))
    assert ready.group(4) == "unhealthy,latency=10ms@/version"
    # WHEN the image's health check script probes it
    check = subprocess.run(
        [sys.executable, str(APP_DIR / "healthcheck.py"), "--port", str(port), "--timeout", "10"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    # THEN the check fails, saying what answered, and /health says unhealthy while / works
    assert check.returncode == 1
    assert f"http://127.0.0.1:{port}/health answered 503" in check.stderr
    assert http_get(f"http://127.0.0.1:{port}/health").status == 503
    assert http_get(f"http://127.0.0.1:{port}/").status == 200
    assert service.stop() == 0


def test_server_refuses_to_start_with_invalid_switch(spawn: Spawn) -> None:
    # GIVEN server.py with a rate that is not a rate
    service = spawn(
        [sys.executable, str(SERVER), "--port", str(free_port())],
        env={"FAULT_ERROR_RATE": "abc"},
    )
    # WHEN it runs
    status = service.proc.wait(timeout=30)
    # THEN it exits 2 before serving, naming the variable on stderr and printing no ready line
    assert status == 2
    assert "FAULT_ERROR_RATE='abc': expected a decimal number from 0 to 1" in service.stderr()
    assert service.next_line() is None


def test_container_command_serves_and_passes_healthcheck(spawn: Spawn) -> None:
    # GIVEN the Dockerfile's CMD, run from the image's WORKDIR with the bind moved to a loopback port
    forms = dockerfile_exec_forms()
    port = free_port()
    cmd = replace_once(forms["CMD"], "0.0.0.0:3000", f"127.0.0.1:{port}")
    assert cmd[0] == "gunicorn"
    service = spawn([sys.executable, "-m", "gunicorn", *cmd[1:]], env={"APP_VERSION": "2.0.0"}, cwd=APP_DIR)
    service.wait_until_serving(f"http://127.0.0.1:{port}/version")
    # WHEN the Dockerfile's HEALTHCHECK command probes it
    healthcheck = replace_once(forms["HEALTHCHECK"], "3000", str(port))
    assert healthcheck[0] == "python"
    check = subprocess.run(
        [sys.executable, *healthcheck[1:]], cwd=APP_DIR, capture_output=True, text=True, timeout=30, check=False
    )
    # THEN the check passes and the service answers with its version
    assert check.returncode == 0, check.stderr
    root = http_get(f"http://127.0.0.1:{port}/")
    assert root.body == {"message": "Hello World!", "version": "2.0.0"}
    assert root.headers["X-App-Version"] == "2.0.0"
    # AND it stops cleanly on the SIGTERM ECS sends
    assert service.stop(signal.SIGTERM) == 0, service.stderr()
    assert_port_closed(port)


def test_container_command_fails_on_invalid_switch(spawn: Spawn) -> None:
    # GIVEN the Dockerfile's CMD with a bad switch in the environment
    cmd = replace_once(dockerfile_exec_forms()["CMD"], "0.0.0.0:3000", f"127.0.0.1:{free_port()}")
    service = spawn([sys.executable, "-m", "gunicorn", *cmd[1:]], env={"FAULT_ERROR_RATE": "abc"}, cwd=APP_DIR)
    # WHEN it runs
    status = service.proc.wait(timeout=60)
    # THEN gunicorn gives up (non-zero) and its log names the variable and what was expected
    assert status != 0
    assert "FAULT_ERROR_RATE='abc': expected a decimal number from 0 to 1" in service.stderr()
