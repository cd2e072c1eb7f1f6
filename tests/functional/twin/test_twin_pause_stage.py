"""The twin's PAUSE stage option: which configurations it accepts and which template functions it runs.

`pause_stage` (`--pause-stage`) is the template parameter PauseStage: it turns on the template's
HasPauseHook condition, so the PauseHook (the "ECS Hook State Change" target) and the durable worker are
read from the template, as CloudFormation would create them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from greenlight_twin import shipped
from greenlight_twin.config import TwinConfig, TwinError
from greenlight_twin.hooks import ECS_KEY, PAUSE_KEY, HookFunctions

ROOT = Path(__file__).resolve().parents[3]
# (template, the folder its functions' code comes from): the project's, and the twin's own (shipped)
TEMPLATES = [(ROOT / "template.yaml", None), (shipped.hook_template(), shipped.hook_code_dir())]
STAGE = "POST_TEST_TRAFFIC_SHIFT"


def test_pause_stage_refused_with_codedeploy() -> None:
    with pytest.raises(TwinError, match="pause_stage 'POST_TEST_TRAFFIC_SHIFT': PAUSE hooks are played by the ECS"):
        TwinConfig(controller="CODE_DEPLOY", pause_stage=STAGE).checked()


def test_pause_stage_refused_when_not_an_ecs_stage() -> None:
    with pytest.raises(
        TwinError, match="pause_stage 'BAKE_TIME' is not a stage ECS allows a hook at: RECONCILE_SERVICE"
    ):
        TwinConfig(controller="ECS", pause_stage="BAKE_TIME").checked()


@pytest.mark.parametrize(("template", "code"), TEMPLATES, ids=["project", "shipped"])
def test_pause_stage_runs_the_pause_hook_and_the_worker(template: Path, code: Path | None, tmp_path: Path) -> None:
    # WHEN the ECS controller's functions are read with a PAUSE stage
    functions = HookFunctions(template, controller="ECS", pause_stage=STAGE, code=code, log_dir=tmp_path)
    # THEN the PauseHook serves the PAUSE event, with the stage from PauseStage, beside the ECS hook and the worker
    assert set(functions.configs) == {ECS_KEY, PAUSE_KEY}
    pause_hook = functions.configs[PAUSE_KEY]
    assert pause_hook.handler == "greenlight.durable.pause.handler"
    assert pause_hook.environment["GREENLIGHT_PAUSE_STAGE"] == STAGE
    assert functions.worker_config is not None and functions.name_for(PAUSE_KEY) == pause_hook.function_name


@pytest.mark.parametrize(("template", "code"), TEMPLATES, ids=["project", "shipped"])
def test_pause_stage_absent_leaves_the_pause_hook_out(template: Path, code: Path | None, tmp_path: Path) -> None:
    functions = HookFunctions(template, controller="ECS", code=code, log_dir=tmp_path)
    assert set(functions.configs) == {ECS_KEY} and functions.worker_config is None
