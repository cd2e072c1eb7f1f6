"""`make sam-local`: `sam local invoke` of every hook function in template.yaml against the twin's live deployments.

For each controller (CodeDeploy: the five hook functions; ECS: the ECS hook at its stages) the twin plays a good
and a bad green (FAULT_UNHEALTHY=true) with the SAM backend in `invoke` mode: every invocation the deployment
makes is one `sam local invoke FUNCTION --event FILE --env-vars FILE --invoke-image IMAGE --skip-pull-image
--docker-network bridge`, the event being the one the twin generated for its live deployment (kept under the
work folder). The functions reach the twin's AWS endpoint and listeners at the Docker bridge's address.

Prints one row per invocation: function, event, verdict, the status the twin's CodeDeploy recorded (or the
hookStatus returned), time; exits 0 when every deployment and every row ended as expected.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODEDEPLOY_HOOKS = ["BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"]
# The template's default EcsLifecycleStages less PRODUCTION_TRAFFIC_SHIFT (no checks in the spec: it would only
# add invocations that answer SUCCEEDED at once, as POST_SCALE_UP already shows).
ECS_STAGES = ["POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"]
# Where a bad green (its /health answers 503) must be stopped.
FAILS_AT = {"CODE_DEPLOY": "AfterAllowTestTraffic", "ECS": "POST_TEST_TRAFFIC_SHIFT"}
PASSED = {"Succeeded", "SUCCEEDED"}
FAILED = {"Failed", "FAILED"}


@dataclass
class Row:
    function: str
    event: str
    verdict: str
    status: str
    seconds: float
    expected: bool


def expected_status(controller: str, good: bool, hook: str) -> set[str]:
    if good or hook != FAILS_AT[controller]:
        return PASSED
    return FAILED


def play(controller: str, good: bool, args: argparse.Namespace, workdir: Path) -> tuple[list[Row], bool, str]:
    from greenlight_twin.controller import Twin, TwinConfig

    config = TwinConfig(
        controller=controller,
        template=args.template,
        lambda_backend="sam",
        sam_mode="invoke",
        sam_image=args.image,
        workdir=workdir,
        hook_timeout=args.hook_timeout,
    )
    hooks = CODEDEPLOY_HOOKS if controller == "CODE_DEPLOY" else ECS_STAGES
    with Twin(config) as twin:
        outcome = twin.deploy(args.spec, env={} if good else {"FAULT_UNHEALTHY": "true"}, hooks=hooks)
        events = sorted((workdir / "lambda" / "events").glob("*.json"), key=lambda p: p.stat().st_mtime)
    used: set[Path] = set()
    rows = []
    for hook in outcome.hooks:
        logical = next((p for p in events if p not in used and _serves(p, hook.function, controller)), None)
        if logical is not None:
            used.add(logical)
        expected = expected_status(controller, good, hook.hook) if not hook.rollback else PASSED
        rows.append(
            Row(
                function=hook.function,
                event=f"{hook.hook}{' (rollback)' if hook.rollback else ''}: "
                + (str(logical.relative_to(workdir)) if logical else "-"),
                verdict=hook.verdict or "-",
                status=hook.status,
                seconds=hook.duration,
                expected=hook.status in expected,
            )
        )
    promoted_ok = outcome.promoted if good else outcome.rolled_back
    return rows, promoted_ok, f"{outcome.deployment_id} {outcome.status}"


def _serves(event_file: Path, function: str, controller: str) -> bool:
    if controller == "ECS":
        return True
    # CodeDeploy: one function per hook; the file is named by its logical id (AfterInstallHook-01.json), the
    # function by the hook (CodeDeployHook_<stack>-AfterInstall).
    return event_file.name.rsplit("-", 1)[0] == function.rsplit("-", 1)[-1] + "Hook"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default=None, help="--invoke-image (default: SAM's own base image)")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--spec", type=Path, default=ROOT / "examples" / "twin" / "demo.yaml")
    parser.add_argument("--controller", choices=("CODE_DEPLOY", "ECS", "both"), default="both")
    parser.add_argument("--hook-timeout", type=float, default=90.0, help="seconds a hook may take (cold containers)")
    parser.add_argument("--workdir", type=Path, default=None, help="events, logs (default: a temporary folder)")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="greenlight-sam-local-"))
    controllers = ["CODE_DEPLOY", "ECS"] if args.controller == "both" else [args.controller]
    all_rows: list[tuple[str, Row]] = []
    failures = []
    started = time.monotonic()
    for controller in controllers:
        for good in (True, False):
            label = f"{controller} {'good' if good else 'bad'} green"
            print(f"--- {label}", flush=True)
            folder = workdir / f"{controller.lower()}-{'good' if good else 'bad'}"
            try:
                rows, ended_ok, summary = play(controller, good, args, folder)
            except Exception as exc:  # every deployment is tried; the table says what failed
                failures.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            if not ended_ok:
                failures.append(f"{label}: deployment {summary}, expected {'promoted' if good else 'rolled back'}")
            failures += [f"{label}: {row.function} {row.event}: {row.status}" for row in rows if not row.expected]
            all_rows += [(label, row) for row in rows]

    width = max((len(row.function) for _, row in all_rows), default=8)
    event_width = max((len(row.event) for _, row in all_rows), default=5)
    print()
    print(f"{'deployment':<19} {'function':<{width}} {'event':<{event_width}} {'verdict':<8} {'status':<9} time   ok")
    for label, row in all_rows:
        mark = "ok" if row.expected else "UNEXPECTED"
        print(
            f"{label:<19} {row.function:<{width}} {row.event:<{event_width}} {row.verdict:<8} {row.status:<9} "
            f"{row.seconds:5.1f}s {mark}"
        )
    print(f"\n{len(all_rows)} invocation(s) in {time.monotonic() - started:.0f} s; events and logs in {workdir}")
    if failures:
        print("sam-local: FAILED\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("sam-local: every verdict as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
