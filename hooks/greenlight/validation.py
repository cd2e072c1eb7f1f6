"""One validation: the checks a spec gives for a hook, run by the engine, folded into a RunResult.

Shared by the hook handlers and the command line; knows nothing about who asked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from greenlight.engine.check import CheckContext, Target
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import RunResult
from greenlight.engine.policy import combine
from greenlight.engine.runner import CheckState, ProgressFn, run_checks
from greenlight.spec.model import Spec


def resolve_target(spec: Spec, test_url: str | None = None, prod_url: str | None = None) -> Target:
    """The spec's target with explicit overrides (command line, discovery) applied."""
    target = spec.target
    if test_url:
        target = replace(target, test_url=test_url.rstrip("/"))
    if prod_url:
        target = replace(target, prod_url=prod_url.rstrip("/"))
    return target


def discovered_target(spec: Spec, deployment: Any, test_url: str | None = None, prod_url: str | None = None) -> Target:
    """The spec's target with discovered listener URLs where the spec says `auto`.

    Explicit URLs win: `test_url`/`prod_url` given here (command line) over everything, then the spec's
    own URLs, then what discovery found.
    """
    if deployment is not None:
        test_url = test_url or (deployment.test_url if spec.test_url_auto else None)
        prod_url = prod_url or (deployment.prod_url if spec.prod_url_auto else None)
    return resolve_target(spec, test_url, prod_url)


def run_hook(
    spec: Spec,
    hook: str,
    *,
    deadline: Deadline,
    target: Target | None = None,
    deployment: Any = None,
    aws: Any = None,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    settings: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    resume: Mapping[str, CheckState] | None = None,
    pause: Deadline | None = None,
) -> RunResult:
    """Run the checks the spec gives for `hook` and decide the verdict."""
    started = time.monotonic()
    checks = [c.build() for c in spec.checks_for(hook)]
    ctx = CheckContext(
        target=target or spec.target,
        deadline=deadline,
        deployment=deployment,
        aws=aws,
        settings=settings or {},
    )
    results = run_checks(checks, ctx, progress=progress, resume=resume, pause=pause)
    run_dry = dry_run or spec.dry_run
    decision = combine(results, dry_run=run_dry, inconclusive_passes=spec.on_inconclusive == "pass")
    return RunResult(
        hook=hook,
        verdict=decision.verdict,
        succeeded=decision.succeeded,
        reason=decision.reason,
        checks=tuple(results),
        duration_ms=(time.monotonic() - started) * 1000,
        dry_run=run_dry,
        context=dict(context or {}),
    )
