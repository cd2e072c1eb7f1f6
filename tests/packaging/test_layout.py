"""The explicit package list in pyproject.toml against the folders on disk, and the set-up commands the README names.

setuptools ships only the packages pyproject.toml lists: a new subpackage left off the list is missing
from the wheel (and from every `pip install`) while the checkout, where tests import the folders, works.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from layout_of_dist import ROOT, package_roots, packages_on_disk


def test_package_list_names_every_package_folder(pyproject: dict[str, Any]) -> None:
    # GIVEN the packages pyproject.toml lists and the folders its package-dir maps
    listed = pyproject["tool"]["setuptools"]["packages"]
    roots = package_roots(pyproject)

    # WHEN the folders are walked for packages
    on_disk = packages_on_disk(roots)

    # THEN the list is exactly what is on disk: nothing missing from the wheel, nothing listed that is gone
    assert len(listed) == len(set(listed)), f"listed twice: {sorted({p for p in listed if listed.count(p) > 1})}"
    assert sorted(on_disk - set(listed)) == [], "package folders missing from [tool.setuptools] packages"
    assert sorted(set(listed) - on_disk) == [], "listed packages with no folder (or no __init__.py)"


def test_package_folders_hold_no_module_outside_a_package(pyproject: dict[str, Any]) -> None:
    # GIVEN the mapped folders and the package data each package ships
    roots = package_roots(pyproject)
    package_data = pyproject["tool"]["setuptools"].get("package-data", {})

    # WHEN every Python file below a root is matched to the package that would ship it
    stray = []
    for name, folder in roots.items():
        assert folder.is_dir(), f"package-dir maps {name} to {folder}, which does not exist"
        shipped_as_data = {p for pattern in package_data.get(name, []) for p in folder.glob(pattern) if p.is_file()}
        for module in folder.rglob("*.py"):
            if "__pycache__" in module.parts or module in shipped_as_data:
                continue
            if module.parent != folder and not (module.parent / "__init__.py").is_file():
                stray.append(str(module.relative_to(ROOT)))

    # THEN none is in a folder without __init__.py, which setuptools would silently leave out
    assert stray == [], "modules in folders that are not packages (add __init__.py and list the package)"


def test_readme_set_up_commands_are_make_targets() -> None:
    # GIVEN the README's first lines (the two set-up commands) and the Makefile's targets
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:4]
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))

    # WHEN the commands are read from them
    commands = [m.group(1) for line in head if (m := re.match(r"make (\S+)", line))]

    # THEN they are `make demo` and `make test`, and both exist, as does `make dist`
    assert commands == ["demo", "test"], head
    assert {"demo", "test", "dist"} <= targets, sorted(targets)


def test_license_file_is_the_one_pyproject_declares(pyproject: dict[str, Any]) -> None:
    project = pyproject["project"]
    assert project["license"] == "Apache-2.0"
    for name in project["license-files"]:
        text = Path(ROOT / name).read_text(encoding="utf-8")
        assert "Apache License" in text and "Version 2.0" in text, f"{name} is not the Apache-2.0 text"


def test_no_test_imports_from_a_conftest() -> None:
    # GIVEN every test module (several folders have a conftest.py, and `import conftest` finds whichever of
    # them was imported first in the session: a module that passes alone fails in the whole suite)
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.name != "conftest.py"
        and re.search(r"^\s*(from conftest import|import conftest)\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    # THEN none imports one: shared helpers live in a module of their own (e.g. tests/e2e/e2e_support.py)
    assert offenders == []
