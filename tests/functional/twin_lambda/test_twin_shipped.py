"""What the twin ships so it runs outside a checkout: its hook template, the hooks' code, the demo spec.

The twin's own template must define the functions the deployable template.yaml defines (same names,
handlers, GREENLIGHT_HOOK and other variables, timeouts), or the twin would validate something else
than what is deployed. No process is started here: a Twin is only configured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from greenlight_twin import shipped
from greenlight_twin.config import TwinError
from greenlight_twin.controller import Twin, TwinConfig
from greenlight_twin.functions import FunctionConfig, functions_from_template

ROOT = Path(__file__).resolve().parents[3]
REPO_TEMPLATE = ROOT / "template.yaml"


def as_run(function: FunctionConfig) -> dict[str, Any]:
    """Everything of a function but where its code comes from."""
    return {
        "function_name": function.function_name,
        "handler": function.handler,
        "runtime": function.runtime,
        "timeout": function.timeout,
        "memory": function.memory,
        "environment": dict(function.environment),
    }


@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "ECS"])
def test_shipped_template_defines_the_functions_of_template_yaml(controller: str) -> None:
    # GIVEN the deployable template and the twin's own, with the same controller
    parameters = {"DeploymentController": controller}

    # WHEN both are read as the twin reads them
    deployed = functions_from_template(REPO_TEMPLATE, parameters=parameters)
    shipped_functions = functions_from_template(
        shipped.hook_template(), parameters=parameters, code_dir=shipped.hook_code_dir()
    )

    # THEN they define the same functions, run the same way
    assert deployed, "template.yaml defines no function for this controller?"
    assert {f.logical_id: as_run(f) for f in shipped_functions} == {f.logical_id: as_run(f) for f in deployed}


def test_shipped_code_dir_holds_the_installed_greenlight_package() -> None:
    # GIVEN / WHEN the folder the twin's own template takes its code from
    code = shipped.hook_code_dir()

    # THEN it holds the greenlight package the handlers are imported from
    import greenlight

    assert (code / "greenlight" / "handlers" / "codedeploy.py").is_file()
    assert Path(greenlight.__file__).resolve().parent == code / "greenlight"


def test_shipped_demo_spec_is_the_example_one() -> None:
    # GIVEN / WHEN / THEN the demo's spec the package ships is examples/twin/demo.yaml, byte for byte
    assert shipped.demo_spec().read_bytes() == (ROOT / "examples" / "twin" / "demo.yaml").read_bytes()


def test_twin_defaults_to_its_own_template_and_the_installed_code(tmp_path: Path) -> None:
    # GIVEN / WHEN a twin configured with neither template nor code
    twin = Twin(TwinConfig(workdir=tmp_path))

    # THEN it runs its own template's five hook functions from the installed greenlight
    assert twin.template == shipped.hook_template()
    assert sorted(twin.functions.configs) == sorted(
        ["BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"]
    )
    assert {c.code_dir for c in twin.functions.configs.values()} == {shipped.hook_code_dir()}


def test_twin_takes_a_user_template_with_its_code_uri_or_the_given_code(tmp_path: Path) -> None:
    # GIVEN a user's template whose CodeUri is a folder beside it, and another folder
    (tmp_path / "src").mkdir()
    (tmp_path / "other").mkdir()
    template = tmp_path / "template.yaml"
    template.write_text(
        shipped.hook_template()
        .read_text()
        .replace("Globals:\n  Function:\n", "Globals:\n  Function:\n    CodeUri: src/\n")
    )

    # WHEN twins are configured with it, without and with --code, for ECS
    from_uri = Twin(TwinConfig(controller="ECS", template=template, workdir=tmp_path / "a"))
    from_code = Twin(TwinConfig(controller="ECS", template=template, code=tmp_path / "other", workdir=tmp_path / "b"))

    # THEN the first runs the code of CodeUri (relative to the template), the second the given folder
    assert [c.code_dir for c in from_uri.functions.configs.values()] == [(tmp_path / "src").resolve()]
    assert [c.code_dir for c in from_code.functions.configs.values()] == [(tmp_path / "other").resolve()]


def test_twin_refuses_a_template_without_hook_functions(tmp_path: Path) -> None:
    # GIVEN a template whose only function is no greenlight hook
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: ., Handler: app.handler}\n"
    )

    # WHEN / THEN the twin refuses it before starting anything, saying what it looks for
    with pytest.raises(TwinError, match="defines no hook function for DeploymentController=CODE_DEPLOY"):
        Twin(TwinConfig(template=template, workdir=tmp_path / "w"))
    with pytest.raises(TwinError, match="does not exist"):
        Twin(TwinConfig(template=tmp_path / "missing.yaml", workdir=tmp_path / "w"))
