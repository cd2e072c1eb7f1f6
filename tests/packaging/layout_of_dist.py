"""What the distribution should hold, read from pyproject.toml and the folders on disk (no build needed)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load_pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def checkout_version() -> str:
    """greenlight.__version__ as the checkout's source says it (the version the wheel is built with)."""
    tree = ast.parse((ROOT / "hooks" / "greenlight" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise AssertionError("hooks/greenlight/__init__.py sets no __version__")


def package_roots(pyproject: dict[str, Any]) -> dict[str, Path]:
    """Top-level import package -> its folder, from [tool.setuptools.package-dir]."""
    mapping = pyproject["tool"]["setuptools"]["package-dir"]
    return {name: ROOT / folder for name, folder in mapping.items()}


def package_folder(package: str, roots: dict[str, Path]) -> Path:
    top, *below = package.split(".")
    return roots[top].joinpath(*below)


def packages_on_disk(roots: dict[str, Path]) -> set[str]:
    """Every import package the mapped folders hold: each root and each folder below it.

    A root needs no __init__.py of its own (app/ is the sample service's folder and the package
    greenlight_sample_app at once). Below a root, a folder with __init__.py is a package, and so is a folder
    of data files only (greenlight_twin/data): Python imports it as a namespace package, and setuptools warns
    ("Package would be ignored") unless it is listed, so it ships its files as that package's data.
    """
    found = set()
    for name, folder in roots.items():
        found.add(name)
        for below in folder.rglob("*"):
            relative = below.relative_to(folder)
            if not below.is_dir() or "__pycache__" in relative.parts:
                continue
            if (below / "__init__.py").is_file() or not any(below.glob("*.py")):
                found.add(".".join((name, *relative.parts)))
    return found


def wheel_files(pyproject: dict[str, Any]) -> dict[str, Path]:
    """Path inside the wheel -> source file, for every module and data file the listed packages ship."""
    settings = pyproject["tool"]["setuptools"]
    roots = package_roots(pyproject)
    package_data = settings.get("package-data", {})
    shipped: dict[str, Path] = {}
    for package in settings["packages"]:
        folder = package_folder(package, roots)
        prefix = package.replace(".", "/")
        files = {p for p in folder.glob("*.py") if p.is_file()}
        files |= {p for pattern in package_data.get(package, []) for p in folder.glob(pattern) if p.is_file()}
        for path in files:
            shipped[f"{prefix}/{path.relative_to(folder).as_posix()}"] = path
    return shipped
