"""What the twin brings so it runs anywhere greenlight is installed: its hook template, the hooks' code, a demo spec.

Found through the import system (importlib), never as paths of a checkout: after `pip install
'ecs-greenlight[twin]'` they are package data and installed packages like any other. The sample
service that blue and green run by default is the package `greenlight_sample_app`
(greenlight_twin.services.sample_service_dir).
"""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

__all__ = ["ShippedFileError", "demo_spec", "hook_code_dir", "hook_template"]


class ShippedFileError(Exception):
    """A file the twin ships is not where the installation should have put it."""


def _data_file(name: str) -> Path:
    # A real file, not just a resource: the emulators and the spec loader open it by path.
    path = Path(str(resources.files("greenlight_twin").joinpath("data", name)))
    if not path.is_file():
        raise ShippedFileError(f"{path} is missing: the twin's package data is incomplete; reinstall ecs-greenlight")
    return path


def hook_template() -> Path:
    """The twin's own SAM template of the hook functions (greenlight_twin/data/template.yaml); it has no CodeUri."""
    return _data_file("template.yaml")


def demo_spec() -> Path:
    """The spec the demo validates green with (the same as examples/twin/demo.yaml of the source tree)."""
    return _data_file("demo.yaml")


def hook_code_dir() -> Path:
    """The folder that holds the installed `greenlight` package: the hook functions' code, as CodeUri holds it."""
    spec = importlib.util.find_spec("greenlight")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        raise ShippedFileError("the greenlight package is not installed; install ecs-greenlight")
    return Path(locations[0]).resolve().parent
