"""ecs-greenlight as a user gets it: the wheel with the twin extra, in a fresh environment outside the checkout.

The sdist and the wheel are built once per session (the wheel from the sdist, so a file the sdist lacks
is missing here too), or taken from $GREENLIGHT_DIST when CI has built them already. A new virtual
environment in a temporary folder gets `pip install '<wheel>[twin]'` from the package index this
machine reaches. Every command then runs from a folder outside the checkout, with no PYTHONPATH, so
nothing can be imported from the source tree: `greenlight --version`, `validate`, `check` against a
server this test runs on 127.0.0.1, `twin play` (a good build promoted, an unhealthy one rolled back),
and a user's own pytest suite that uses the `greenlight_twin` fixture.

The twin's Lambda Runtime Interface Emulator comes from $GREENLIGHT_RIE, else from this checkout's
.venv-sam (make test installs the SAM CLI there); without one the twin tests skip, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from layout_of_dist import ROOT, checkout_version, package_roots, wheel_files

pytestmark = pytest.mark.slow

DIST_ENV = "GREENLIGHT_DIST"
RIE_ENV = "GREENLIGHT_RIE"
SDIST_LIMIT = 1024 * 1024  # the sources are a few hundred KiB; more means something heavy slipped in

CHECK_SPEC = """\
version: 1
target: {{test_url: http://127.0.0.1:1}}   # replaced by --test-url
defaults: {{timeout: 2s, interval: 100ms}}
hooks:
  AfterAllowTestTraffic:
    - name: health
      http:
        path: /health
        expect: {{status: [200], json: {{status: ok}}, headers: {{X-App-Version: "{version}"}}}}
      count: 3
      failure_limit: 0
"""

TWIN_SPEC = """\
version: 1
target: {test_url: auto, prod_url: auto}
defaults: {timeout: 2s, interval: 250ms}
settings: {report_reserve: 3s}
hooks:
  AfterAllowTestTraffic:
    - name: health
      http:
        path: /health
        expect: {status: [200], json: {status: ok}}
      count: 4
      failure_limit: 0
    - name: green-targets-healthy
      target_health: {}
      count: 20
      interval: 500ms
      failure_limit: 19
      consecutive_successes: 1
"""

USER_SUITE = """\
def test_spec_accepts_good_build(greenlight_twin):
    assert greenlight_twin.deploy("greenlight.yaml").promoted


def test_spec_rejects_unhealthy_build(greenlight_twin):
    outcome = greenlight_twin.deploy("greenlight.yaml", env={"FAULT_UNHEALTHY": "true"})
    assert outcome.rolled_back
    assert outcome.check("health").status == "FAIL"
"""


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path
    version: str


@dataclass(frozen=True)
class Installed:
    """A virtual environment outside the checkout with the wheel installed, and a user's folder to run in."""

    venv: Path
    home: Path
    env: Mapping[str, str]

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        executable = self.venv / "bin" / args[0]
        return subprocess.run(
            [str(executable), *args[1:]],
            cwd=cwd or self.home,
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would let a child import from the checkout or this venv."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTEST_ADDOPTS")
        and not name.startswith(("PYTEST_", "COV_"))
    }
    env.update(extra)
    return env


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {folder}, found {[p.name for p in found]}"
    return found[0]


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """The sdist and the wheel: from $GREENLIGHT_DIST if set, else built now with `python -m build`."""
    version = checkout_version()
    given = os.environ.get(DIST_ENV)
    if given:
        folder = Path(given).resolve()
    else:
        folder = tmp_path_factory.mktemp("dist")
        done = subprocess.run(
            [sys.executable, "-m", "build", "--outdir", str(folder), str(ROOT)],
            capture_output=True,
            text=True,
            timeout=300,
            env=clean_env(),
            check=False,
        )
        assert done.returncode == 0, f"python -m build exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    wheel = _one(folder, f"ecs_greenlight-{version}-py3-none-any.whl")
    sdist = _one(folder, f"ecs_greenlight-{version}.tar.gz")
    return Dist(wheel=wheel, sdist=sdist, version=version)


def install(tmp_path_factory: pytest.TempPathFactory, name: str, *requirements: str) -> Installed:
    """A fresh virtual environment in a temporary folder (outside the checkout), with `requirements` installed."""
    base = tmp_path_factory.mktemp(name)
    assert not base.resolve().is_relative_to(ROOT), f"{base} is inside the checkout"
    venv, home = base / "venv", base / "home"
    home.mkdir()
    # sys.executable may itself be a virtual environment's; venv builds the new one on the base interpreter.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=clean_env())
    env = clean_env(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(venv))
    # --no-compile: byte-compiling botocore and moto is a third of the install's time, and nothing here needs it.
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", *requirements],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"pip install exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return Installed(venv=venv, home=home, env=env)


@pytest.fixture(scope="module")
def installed(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """`<wheel>[twin]`, and pytest for the user's own suite."""
    return install(tmp_path_factory, "user", f"{dist.wheel}[twin]", "pytest")


@pytest.fixture(scope="module")
def rie() -> Path:
    """The Lambda Runtime Interface Emulator for the installed twin, or a skip that says why there is none."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the twin's Lambda Runtime Interface Emulator is a Linux binary")
    given = os.environ.get(RIE_ENV)
    if given:
        return Path(given)
    arch = "arm64" if os.uname().machine in ("aarch64", "arm64") else "x86_64"
    candidates = [
        *sorted(ROOT.glob(f".venv-sam/lib*/python*/site-packages/samcli/local/rapid/aws-lambda-rie-{arch}")),
        ROOT / ".twin" / "bin" / f"aws-lambda-rie-{arch}",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip(f"no Lambda Runtime Interface Emulator: ${RIE_ENV} is unset and none of {candidates} exists")


class _Service(BaseHTTPRequestHandler):
    server: _ServiceServer

    def do_GET(self) -> None:
        healthy = self.server.healthy.is_set()
        body = json.dumps({"status": "ok" if healthy else "unhealthy"}).encode()
        self.send_response(200 if healthy else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-App-Version", self.server.version)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ServiceServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, version: str) -> None:
        super().__init__(("127.0.0.1", 0), _Service)
        self.version = version
        self.healthy = threading.Event()
        self.healthy.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def service() -> Iterator[_ServiceServer]:
    """A service on 127.0.0.1 that answers /health 200 until told to answer 503."""
    server = _ServiceServer(version="2.0.0")
    thread = threading.Thread(target=server.serve_forever, name="packaging-service", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_wheel_ships_every_package_module_and_data_file(dist: Dist, pyproject: dict[str, Any]) -> None:
    # GIVEN what the listed packages hold on disk
    expected = wheel_files(pyproject)

    # WHEN the wheel's files are listed
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = {n for n in wheel.namelist() if not n.split("/")[0].endswith(".dist-info")}
        metadata = wheel.read(f"ecs_greenlight-{dist.version}.dist-info/METADATA").decode()
        entry_points = wheel.read(f"ecs_greenlight-{dist.version}.dist-info/entry_points.txt").decode()

    # THEN it holds exactly those (so the sdist it was built from held them too), with the license and plugins
    assert sorted(set(expected) - names) == [], "files on disk missing from the wheel"
    assert sorted(names - set(expected)) == [], "files in the wheel that no listed package holds"
    assert "Name: ecs-greenlight" in metadata and "License-Expression: Apache-2.0" in metadata
    assert "greenlight = greenlight_cli.main:main" in entry_points
    assert "twin = greenlight_twin.cli" in entry_points
    assert "greenlight_twin = greenlight_twin.pytest_plugin" in entry_points


def test_sdist_holds_the_sources_and_nothing_heavy(dist: Dist, pyproject: dict[str, Any]) -> None:
    # GIVEN the sdist's members, relative to its top folder
    top = f"ecs_greenlight-{dist.version}/"
    with tarfile.open(dist.sdist) as sdist:
        members = {m.name.removeprefix(top): m for m in sdist.getmembers() if m.isfile()}
    roots = [folder.relative_to(ROOT).as_posix() + "/" for folder in package_roots(pyproject).values()]

    # WHEN each is matched to a package folder or the project's own files
    project_files = {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO", "setup.cfg", "MANIFEST.in"}
    outside = sorted(
        name
        for name in members
        if name not in project_files and not name.startswith(("ecs_greenlight.egg-info/", *roots))
    )

    # THEN it holds every file the wheel ships, the license and the README, and nothing else or compiled
    sources = {path.relative_to(ROOT).as_posix() for path in wheel_files(pyproject).values()}
    assert sorted(sources - set(members)) == [], "files the wheel ships that the sdist lacks"
    assert {"pyproject.toml", "README.md", "LICENSE"} <= set(members)
    assert outside == [], "sdist files outside the package folders"
    assert [n for n in members if "__pycache__" in n or n.endswith((".pyc", ".pyo"))] == []
    assert dist.sdist.stat().st_size < SDIST_LIMIT, f"sdist is {dist.sdist.stat().st_size} bytes"


def test_installed_packages_import_from_the_environment_not_the_checkout(installed: Installed) -> None:
    # WHEN the installed interpreter says where each package comes from
    done = installed.run(
        "python",
        "-c",
        "import json, greenlight, greenlight_cli, greenlight_twin, greenlight_sample_app;"
        "from importlib.resources import files;"
        "print(json.dumps({m.__name__: m.__file__ for m in (greenlight, greenlight_cli, greenlight_twin)}"
        " | {'greenlight_sample_app': str(files(greenlight_sample_app) / 'server.py')}"
        " | {'default_spec': str(files(greenlight) / 'default_spec.yaml')}))",
    )

    # THEN every one is inside the new environment's site-packages, default spec included
    assert done.returncode == 0, done.stderr
    for name, location in json.loads(done.stdout).items():
        path = Path(location)
        assert path.is_relative_to(installed.venv), f"{name} imports from {path}"
        assert path.is_file(), f"{name}: {path} does not exist"


def test_installed_cli_version_and_validate(installed: Installed, dist: Dist) -> None:
    # GIVEN a valid spec and one with a mistake, in the user's folder
    (installed.home / "good.yaml").write_text(CHECK_SPEC.format(version="2.0.0"))
    (installed.home / "broken.yaml").write_text(CHECK_SPEC.format(version="2.0.0").replace("count: 3", "count: many"))

    # WHEN the installed command runs
    version = installed.run("greenlight", "--version")
    good = installed.run("greenlight", "validate", "--spec", "good.yaml")
    broken = installed.run("greenlight", "validate", "--spec", "broken.yaml")

    # THEN it is the version built, accepts the good spec and names the broken one's mistake
    assert version.returncode == 0 and version.stdout.strip() == f"greenlight {dist.version}", version
    assert good.returncode == 0, good.stdout + good.stderr
    assert broken.returncode == 2, broken.stdout + broken.stderr
    assert "hooks.AfterAllowTestTraffic[0].count" in broken.stdout + broken.stderr


def test_installed_cli_check_passes_then_fails_against_a_local_server(
    installed: Installed, service: _ServiceServer
) -> None:
    # GIVEN a spec that wants /health 200 with status ok from version 2.0.0
    (installed.home / "check.yaml").write_text(CHECK_SPEC.format(version="2.0.0"))
    check = ("greenlight", "check", "--spec", "check.yaml", "--test-url", service.url, "--quiet")

    # WHEN the service is healthy, then answers 503
    passed = installed.run(*check)
    service.healthy.clear()
    failed = installed.run(*check)

    # THEN the first run passes (exit 0) and the second fails (exit 1), naming the check
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "health" in failed.stdout


def test_plain_install_without_the_twin_extra_runs_the_command(
    dist: Dist, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # GIVEN the wheel installed without extras: no moto, no Lambda runtime client, no flask
    plain = install(tmp_path_factory, "plain", str(dist.wheel))
    (plain.home / "good.yaml").write_text(CHECK_SPEC.format(version="2.0.0"))

    # WHEN the command lists its subcommands (the twin's registers through its entry point) and validates
    listed = plain.run("greenlight", "--help")
    valid = plain.run("greenlight", "validate", "--spec", "good.yaml")
    missing = plain.run("python", "-c", "import moto")

    # THEN both work, and the twin's dependencies really are absent
    assert listed.returncode == 0 and "twin" in listed.stdout, listed.stdout + listed.stderr
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert missing.returncode != 0 and "ModuleNotFoundError" in missing.stderr


def test_installed_twin_play_promotes_good_build_and_rolls_back_unhealthy_one(installed: Installed, rie: Path) -> None:
    # GIVEN a spec in the user's folder and nothing else: the twin brings its own template and sample service
    (installed.home / "greenlight.yaml").write_text(TWIN_SPEC)
    env = {**installed.env, RIE_ENV: str(rie)}
    twin = Installed(venv=installed.venv, home=installed.home, env=env)

    # WHEN a good build and an unhealthy one are played
    good = twin.run("greenlight", "twin", "play", "--spec", "greenlight.yaml", timeout=180)
    bad = twin.run(
        "greenlight", "twin", "play", "--spec", "greenlight.yaml",
        "--expect", "rolled-back", "--green-env", "FAULT_UNHEALTHY=true",
        timeout=180,
    )  # fmt: skip

    # THEN the good one is promoted and the unhealthy one rolled back by the health check
    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode == 0, bad.stdout + bad.stderr
    assert "health" in bad.stdout


def test_user_suite_with_the_twin_fixture_passes(installed: Installed, rie: Path, tmp_path: Path) -> None:
    # GIVEN a user's own repository: a spec and a test module, nothing of this project's
    repo = tmp_path / "my-service"
    (repo / "tests").mkdir(parents=True)
    (repo / "greenlight.yaml").write_text(TWIN_SPEC)
    (repo / "tests" / "test_my_spec.py").write_text(USER_SUITE)
    env = {**installed.env, RIE_ENV: str(rie)}

    # WHEN the user runs pytest there with the installed environment (the fixture comes from the entry point)
    done = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    # THEN both tests pass
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "2 passed" in output, output
