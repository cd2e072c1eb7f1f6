"""The Lambda bundle: one shared dependency layer, functions that hold only greenlight, bytecode for the runtime.

The structural tests read template.yaml and bundle/Makefile as data; the build test runs a function's
make target the way `sam build` does (a scratch copy of hooks/, ARTIFACTS_DIR set) with the runtime's
Python, and reads the bytecode it leaves. The layer's target needs PyPI and is exercised by `make build`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "bundle"
MAKEFILE = BUNDLE / "Makefile"
LAYER = "DependenciesLayer"
# The pyc header's flags word (PEP 552): bit 0 hash-based, bit 1 check the source. Unchecked hash = 1.
UNCHECKED_HASH = 0b01
# Each pyc's file name, and whether any of its code objects keeps column ranges (PEP 657).
READ_CODE = """import marshal, sys
def walk(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            yield from walk(const)
for path in sys.argv[1:]:
    code = marshal.loads(open(path, "rb").read()[16:])
    columns = any(col is not None for c in walk(code) for _l, _e, col, _ec in c.co_positions())
    print(code.co_filename, columns)
"""


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def make_variable(name: str) -> str:
    m = re.search(rf"^{name}\s*:?=\s*(.+)$", MAKEFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert m, f"bundle/Makefile defines no {name}"
    return m.group(1).strip()


def runtime_python() -> str | None:
    """The runtime's interpreter (python3.13): pyenv's own binary first, since its shims may refuse to run."""
    candidates = sorted(Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"))
    found = shutil.which("python3.13")
    for candidate in [*map(str, candidates), *([found] if found else [])]:
        try:
            out = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                                 text=True, timeout=30, check=True).stdout  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            continue
        if out.strip() == "(3, 13)":
            return candidate
    return None


# --------------------------------------------------------------------------------------------
# The template
# --------------------------------------------------------------------------------------------


def test_bundle_every_function_uses_the_shared_layer(template: dict[str, Any]) -> None:
    # GIVEN Globals.Function and the functions
    glob = template["Globals"]["Function"]

    # THEN every function takes its dependencies from the one layer, and none overrides that
    assert glob["Layers"] == [{"Ref": LAYER}]
    assert functions(template)
    assert all("Layers" not in f["Properties"] for f in functions(template).values())


def test_bundle_every_function_is_built_by_the_bundle_makefile(template: dict[str, Any]) -> None:
    # GIVEN the functions' build metadata (Metadata is a resource attribute: Globals cannot hold it)
    for logical_id, function in functions(template).items():
        # THEN sam build runs bundle/Makefile's build-<LogicalId> target on the CodeUri hooks/
        assert function.get("Metadata") == {"BuildMethod": "makefile", "ContextPath": "bundle"}, logical_id
        dry = subprocess.run(
            ["make", "-n", "-f", str(MAKEFILE), f"build-{logical_id}", "ARTIFACTS_DIR=/nonexistent"],
            capture_output=True, text=True, timeout=30, check=False, cwd=ROOT / "hooks",
        )  # fmt: skip
        assert dry.returncode == 0, f"bundle/Makefile has no target build-{logical_id}: {dry.stderr}"
    assert template["Globals"]["Function"]["CodeUri"] == "hooks/"


def test_bundle_layer_is_built_by_sam_for_the_runtime_and_both_architectures(template: dict[str, Any]) -> None:
    # GIVEN the layer and the functions' runtime and architecture parameter
    layer = template["Resources"][LAYER]
    props = layer["Properties"]
    runtime = template["Globals"]["Function"]["Runtime"]
    architectures = template["Parameters"]["Architecture"]["AllowedValues"]

    # THEN sam build builds it with bundle/Makefile, for that runtime and for every allowed architecture
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert props["ContentUri"] == "bundle/"
    assert props["CompatibleRuntimes"] == [runtime]
    assert sorted(props["CompatibleArchitectures"]) == sorted(architectures)
    assert layer["Metadata"]["BuildArchitecture"] in props["CompatibleArchitectures"]
    assert props["RetentionPolicy"] == "Delete"
    # AND the Makefile installs wheels for each of those architectures and compiles for that runtime
    platforms = make_variable("PLATFORMS").split()
    assert {p.split("_", 1)[1] for p in platforms} == {"aarch64" if a == "arm64" else a for a in architectures}
    assert f"python{make_variable('RUNTIME_PYTHON')}" == runtime
    assert "--invalidation-mode unchecked-hash" in make_variable("COMPILE")


def test_bundle_code_uri_holds_only_the_greenlight_package() -> None:
    # GIVEN the functions' CodeUri folder
    entries = {p.name for p in (ROOT / "hooks").iterdir()} - {"__pycache__"}

    # THEN it is the package alone: its dependencies live with the layer
    assert entries == {"greenlight"}
    assert not (ROOT / "hooks" / "requirements.txt").exists()
    assert (BUNDLE / "requirements.txt").is_file()


# --------------------------------------------------------------------------------------------
# A function build, as sam build runs it
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_function(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = runtime_python()
    if python is None:
        pytest.skip("python3.13 (the Lambda runtime's Python) is not installed")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # GIVEN a scratch copy of hooks/ with stale bytecode of another Python in it, as a checkout has
    scratch = tmp_path_factory.mktemp("scratch")
    shutil.copytree(ROOT / "hooks", scratch, dirs_exist_ok=True)
    stale = scratch / "greenlight" / "__pycache__" / "__init__.cpython-311.pyc"
    stale.parent.mkdir(exist_ok=True)
    stale.write_bytes(b"stale")
    artifacts = tmp_path_factory.mktemp("artifacts")
    # WHEN the function's target runs there
    subprocess.run(
        ["make", "--makefile", str(MAKEFILE), "build-AfterAllowTestTrafficHook", f"PYTHON={python}"],
        cwd=scratch, env={**os.environ, "ARTIFACTS_DIR": str(artifacts)},
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return artifacts


def test_bundle_function_build_ships_unchecked_hash_bytecode_for_the_runtime(built_function: Path) -> None:
    sources = sorted(built_function.rglob("*.py"))
    pycs = sorted(built_function.rglob("*.pyc"))

    # THEN it holds the greenlight package and its package data, nothing else
    assert {p.name for p in built_function.iterdir()} == {"greenlight"}
    assert (built_function / "greenlight" / "default_spec.yaml").is_file()
    # AND each module has exactly one pyc, for CPython 3.13 (no stale ones of other Pythons)
    assert sources
    assert all(p.name.endswith(".cpython-313.pyc") for p in pycs)
    assert len(pycs) == len(sources)
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        # AND they are unchecked-hash pycs: valid whatever mtime the deployment zip gives the sources
        assert int.from_bytes(pyc.read_bytes()[4:8], "little") == UNCHECKED_HASH, pyc
    # AND they name the file where Lambda unpacks it, not this build's folder, and hold no column ranges
    # (read by the runtime's Python: only it can unmarshal its own bytecode)
    python = runtime_python()
    assert python is not None
    read = subprocess.run(
        [python, "-c", READ_CODE, *map(str, pycs)], capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    expected = [
        f"/var/task/{p.parent.parent.relative_to(built_function).as_posix()}/{p.name.split('.')[0]}.py False"
        for p in pycs
    ]
    assert read == expected


def test_bundle_function_build_is_reproducible(built_function: Path, tmp_path: Path) -> None:
    # GIVEN the same sources built again elsewhere
    python = runtime_python()
    assert python is not None
    scratch, artifacts = tmp_path / "scratch", tmp_path / "artifacts"
    shutil.copytree(ROOT / "hooks", scratch)
    subprocess.run(
        ["make", "--makefile", str(MAKEFILE), "build-EcsHook", f"PYTHON={python}"],
        cwd=scratch, env={**os.environ, "ARTIFACTS_DIR": str(artifacts)},
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip

    # THEN every file has the same bytes: sam deploy uploads code only when it really changed
    first = {p.relative_to(built_function): p.read_bytes() for p in built_function.rglob("*") if p.is_file()}
    second = {p.relative_to(artifacts): p.read_bytes() for p in artifacts.rglob("*") if p.is_file()}
    assert first == second


def test_bundle_makefile_refuses_another_python(tmp_path: Path) -> None:
    # GIVEN an interpreter that is not the runtime's (this test process's own, when it is not 3.13)
    import sys

    if sys.version_info[:2] == (3, 13):
        pytest.skip("the test interpreter is the runtime's Python")
    # WHEN a function is built with it
    proc = subprocess.run(
        ["make", "--makefile", str(MAKEFILE), "build-EcsHook", f"PYTHON={sys.executable}"],
        cwd=ROOT / "hooks", env={**os.environ, "ARTIFACTS_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    # THEN the build fails, naming the interpreter, before anything is written
    assert proc.returncode != 0
    assert "is not Python 3.13" in proc.stderr
    assert list(tmp_path.iterdir()) == []
