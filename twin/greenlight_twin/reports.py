"""The validation reports of a deployment played on the twin: for each hook (or ECS stage) that ran checks, the same
JSON report a hook function writes to S3 (greenlight.reporting.report), and its HTML page.

Built from what the hook functions logged (greenlight_twin.hooklog): each check's result with its measurements,
and the verdict; the deployment is the twin's own (its id, the versions of blue and green).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from greenlight_twin.outcome import DeploymentOutcome, HookOutcome, short_id

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_VERDICTS = ("PASSED", "FAILED", "ERROR", "INCONCLUSIVE")


def report_of(outcome: DeploymentOutcome, hook: HookOutcome) -> dict[str, Any]:
    """The report of one hook's validation in `outcome`."""
    from greenlight.reporting.report import build

    verdict = hook.verdict if hook.verdict in _VERDICTS else ("PASSED" if hook.passed else "ERROR")
    run = {
        "hook": hook.hook,
        "verdict": verdict,
        "succeeded": hook.passed,
        "reason": hook.reason,
        "duration_ms": hook.duration * 1000,
        "checks": [c.to_dict() for c in hook.checks],
        "context": {},
    }
    deployment = {
        "controller": outcome.controller,
        "id": outcome.deployment_id,
        "versions": {"green": outcome.version, "blue": outcome.from_version},
        "rollback": hook.rollback,
    }
    return build(run, source="twin", controller=outcome.controller, deployment=deployment)


def write_reports(outcome: DeploymentOutcome, directory: Path) -> tuple[Path, ...]:
    """Writes `<directory>/<deployment>/<n>-<hook>.json` and `.html` per hook that ran checks; the HTML paths."""
    from greenlight_cli.report import write

    folder = Path(directory) / _UNSAFE.sub("_", short_id(outcome.deployment_id))
    pages = []
    for number, hook in enumerate(outcome.hooks, 1):
        if not hook.checks and hook.verdict is None:
            continue
        report = report_of(outcome, hook)
        stem = folder / f"{number}-{_UNSAFE.sub('_', hook.hook)}{'-rollback' if hook.rollback else ''}"
        write(report, json_path=stem.with_suffix(".json"), html_path=stem.with_suffix(".html"))
        pages.append(stem.with_suffix(".html"))
    return tuple(pages)
