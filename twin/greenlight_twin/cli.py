"""`greenlight twin`: play blue/green deployments on the local twin (no AWS account, everything on 127.0.0.1).

    greenlight twin play --spec greenlight.yaml --green-env FAULT_UNHEALTHY=true --expect rolled-back
    greenlight twin up &                       # blue, AWS (moto) and the load balancer, in the foreground
    greenlight twin deploy --spec greenlight.yaml --version 2.0.0
    greenlight twin status | stop | down

`play` starts a twin, plays one deployment and stops everything. `up` keeps a twin running with a
control API on 127.0.0.1 (its address and token in the state file, .twin/state.json by default) so
`deploy` can play deployment after deployment against the same blue. Exit status of `play` and
`deploy`: 0 when the deployment ended as `--expect` says (default: promoted), 1 when it did not,
2 when it could not be played.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from greenlight_cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE

# rolled-back: a greenlight hook failed (the spec rejected the build); rolled-back-other: not promoted, and no
# hook failed (green never started, no hook ran, the deployment was stopped).
EXPECTATIONS = ("promoted", "rolled-back", "rolled-back-other", "any")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "twin",
        help="play blue/green deployments on the local twin (moto, a load balancer, the hooks in the Lambda emulator)",
        description=__doc__.split("\n\n")[0],
    )
    actions = parser.add_subparsers(dest="twin_command", metavar="ACTION")

    play = actions.add_parser("play", help="start a twin, play one deployment, stop everything")
    _twin_options(play)
    _deploy_options(play)
    play.set_defaults(func=run)

    up = actions.add_parser(
        "up", help="run a twin in the foreground with a control API (Ctrl-C or `twin down` stops it)"
    )
    _twin_options(up)
    up.add_argument("--state", type=Path, default=None, help="state file to write (default .twin/state.json)")
    up.set_defaults(func=run)

    deploy = actions.add_parser("deploy", help="play one deployment on the twin `twin up` runs")
    _deploy_options(deploy)
    deploy.add_argument("--state", type=Path, default=None, help="the twin's state file (default .twin/state.json)")
    deploy.add_argument("--verbose", "-v", action="store_true", help="every target health change and measurement")
    deploy.set_defaults(func=run)

    for name, text in (
        ("status", "what the running twin serves"),
        ("stop", "stop the deployment being played (it rolls back)"),
        ("down", "stop the running twin"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--state", type=Path, default=None, help="the twin's state file (default .twin/state.json)")
        action.set_defaults(func=run)
    parser.set_defaults(func=run, twin_parser=parser)


def _twin_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the twin")
    group.add_argument(
        "--controller", default="CODE_DEPLOY", help="CODE_DEPLOY (default) or ECS (ECS native blue/green)"
    )
    group.add_argument(
        "--load-balancer",
        default="application",
        type=str.lower,
        choices=("application", "network"),
        help="application (ALB, default) or network (NLB: TCP listeners and health checks; probes are plain HTTP)",
    )
    group.add_argument(
        "--service-connect",
        action="store_true",
        help="ECS Service Connect: probes reach the client alias; test traffic is routed by the "
        "x-test-traffic: true header (testTrafficRules); --controller ECS",
    )
    group.add_argument("--blue-version", default="1.0.0", help="the version blue runs (default 1.0.0)")
    group.add_argument("--blue-tasks", type=int, default=1, help="blue's tasks (default 1)")
    group.add_argument(
        "--service-command",
        default=None,
        help="the service's command, with {port} where its port goes (default: the sample service the twin ships)",
    )
    group.add_argument(
        "--health-path", default="/health", help="the load balancer's health check path (default /health)"
    )
    group.add_argument(
        "--template",
        type=Path,
        default=None,
        help="the SAM template of the hook functions (default: the twin's own, running the installed greenlight)",
    )
    group.add_argument(
        "--code",
        type=Path,
        default=None,
        help="the folder the functions' code comes from (default: the template's CodeUri, relative to it)",
    )
    group.add_argument("--prod-port", type=int, default=0, help="production listener port (default: a free one)")
    group.add_argument("--test-port", type=int, default=0, help="test listener port (default: a free one)")
    group.add_argument("--workdir", type=Path, default=None, help="where the tasks' and functions' logs go")
    group.add_argument("--verbose", "-v", action="store_true", help="every target health change and measurement")
    group.add_argument(
        "--lambda",
        dest="lambda_backend",
        choices=("rie", "sam"),
        default="rie",
        help="how the hook functions run: rie (default: the Runtime Interface Emulator, no Docker) or sam "
        "(sam local start-lambda, containers on python3.13; needs Docker and --template)",
    )
    group.add_argument(
        "--sam-image", default=None, help="--invoke-image for SAM (default: SAM's own; scripts/lambda-image builds one)"
    )
    group.add_argument(
        "--bind-address",
        default=None,
        help="where containers reach the twin, relayed to 127.0.0.1 (default: none; with --lambda sam the Docker "
        "bridge's address); only a Docker bridge address is accepted",
    )
    group.add_argument(
        "--default-hook-timeout",
        type=float,
        default=60.0,
        help="seconds a hook may take before the deployment fails (AWS CodeDeploy: 3600; default 60)",
    )
    group.add_argument(
        "--function-timeout",
        type=int,
        default=None,
        help="the hook functions' timeout in whole seconds (default: the template's, capped at the hook timeout); "
        "a short one plays validations longer than a function (the durable worker) in seconds",
    )
    group.add_argument(
        "--pause-stage",
        default=None,
        metavar="STAGE",
        help="ECS controller: pause the deployment at this stage (e.g. POST_TEST_TRAFFIC_SHIFT) with a PAUSE "
        "lifecycle hook that the template's PauseHook hands to the durable worker (template parameter PauseStage)",
    )


def _deploy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the deployment")
    group.add_argument("--spec", required=True, type=Path, help="the greenlight spec the hook functions run")
    group.add_argument("--version", default=None, help="green's version (default: blue's major + 1, e.g. 2.0.0)")
    group.add_argument(
        "--green-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of every green task, e.g. FAULT_UNHEALTHY=true (repeatable)",
    )
    group.add_argument(
        "--task-env",
        action="append",
        default=[],
        metavar="N:NAME=VALUE",
        help="a setting of green task N only (1-based), e.g. 2:FAULT_ERROR_RATE=1 (repeatable)",
    )
    group.add_argument("--tasks", type=int, default=None, help="green's tasks (default: as many as blue)")
    group.add_argument("--hook-timeout", type=float, default=None, help="seconds a hook may take (this deployment)")
    group.add_argument(
        "--hooks", default=None, help="comma-separated hooks/stages that invoke the function (default: the spec's)"
    )
    group.add_argument(
        "--expect",
        choices=EXPECTATIONS,
        default="promoted",
        help="the outcome that exits 0: promoted (default); rolled-back (a greenlight hook failed: the spec rejected "
        "this build); rolled-back-other (not promoted, but no hook failed: green never started, no hook ran, "
        "stopped); any",
    )
    group.add_argument(
        "--json",
        action="store_true",
        help="print the outcome as JSON instead of a summary, with every hook invocation (event sent, answer)",
    )
    group.add_argument(
        "--strategy",
        default="BLUE_GREEN",
        type=str.upper,
        choices=("BLUE_GREEN", "LINEAR", "CANARY"),
        help="how ECS moves production traffic (ECS controller): all at once (default), in steps, or a canary first",
    )
    group.add_argument("--step-percent", type=float, default=None, help="LINEAR: percent per step (3-100, default 10)")
    group.add_argument("--canary-percent", type=float, default=None, help="CANARY: the canary's percent (default 5)")
    group.add_argument(
        "--step-bake",
        type=float,
        default=None,
        metavar="SECONDS",
        help="LINEAR/CANARY: seconds between steps (default: AWS's default minutes played as seconds: 6, 10)",
    )


def _pairs(items: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"{what} {item!r}: expected NAME=VALUE")
        out[name] = value
    return out


def _task_env(items: Sequence[str]) -> list[dict[str, str]]:
    per_task: dict[int, dict[str, str]] = {}
    for item in items:
        index, sep, pair = item.partition(":")
        if not sep or not index.isdigit() or int(index) < 1:
            raise ValueError(f"--task-env {item!r}: expected N:NAME=VALUE with N the task number (1, 2, ...)")
        per_task.setdefault(int(index), {}).update(_pairs([pair], "--task-env"))
    if not per_task:
        return []
    return [per_task.get(i, {}) for i in range(1, max(per_task) + 1)]


def _deployment_body(args: argparse.Namespace) -> dict[str, Any]:
    import math

    from greenlight import lifecycle
    from greenlight_twin.config import version_problem

    spec = Path(args.spec).expanduser().resolve()
    # Every mistake at once, before anything starts.
    problems = [] if spec.is_file() else [f"--spec {args.spec}: no such file"]
    if args.tasks is not None and not 1 <= args.tasks <= 20:
        problems.append(f"--tasks {args.tasks}: expected a whole number from 1 to 20")
    if args.hook_timeout is not None and not (math.isfinite(args.hook_timeout) and args.hook_timeout > 0):
        problems.append(f"--hook-timeout {args.hook_timeout:g}: expected a finite number of seconds > 0")
    if args.version is not None and (problem := version_problem(args.version, "--version")):
        problems.append(problem)
    hooks = [h.strip() for h in args.hooks.split(",") if h.strip()] if args.hooks else None
    by_controller = {"ECS": lifecycle.ECS_STAGES, "CODE_DEPLOY": lifecycle.CODEDEPLOY_HOOKS}
    known = by_controller.get(_controller(args) or "", lifecycle.ALL_HOOK_NAMES)
    unknown = [h for h in hooks or () if h not in known]
    if unknown:
        problems.append(f"--hooks {', '.join(unknown)}: not a hook of this controller ({', '.join(known)})")
    if problems:
        raise ValueError("; ".join(problems))
    return {
        "spec": str(spec),
        "version": args.version,
        "env": _pairs(args.green_env, "--green-env"),
        "task_env": _task_env(args.task_env),
        "tasks": args.tasks,
        "hook_timeout": args.hook_timeout,
        "hooks": hooks,
        **_rollout(args),
    }


def _controller(args: argparse.Namespace) -> str | None:
    """The controller `twin play` starts (CODE_DEPLOY or ECS); None for `twin deploy`, whose twin is running."""
    given = getattr(args, "controller", None)
    if given is None:
        return None
    name = str(given).upper().replace("-", "_")
    return "CODE_DEPLOY" if name == "CODEDEPLOY" else name


def _rollout(args: argparse.Namespace) -> dict[str, Any]:
    """The deployment's strategy options; a percent that does not belong to the strategy is an error."""
    if args.step_percent is not None and args.strategy != "LINEAR":
        raise ValueError("--step-percent needs --strategy LINEAR")
    if args.canary_percent is not None and args.strategy != "CANARY":
        raise ValueError("--canary-percent needs --strategy CANARY")
    if args.step_bake is not None and args.strategy == "BLUE_GREEN":
        raise ValueError("--step-bake needs --strategy LINEAR or CANARY")
    percent = args.step_percent if args.strategy == "LINEAR" else args.canary_percent
    from greenlight_twin.stage import Rollout

    Rollout(args.strategy, percent, args.step_bake).checked()  # ValueError naming the option, before anything starts
    if args.strategy != "BLUE_GREEN" and _controller(args) not in (None, "ECS"):
        raise ValueError(f"--strategy {args.strategy} is played by the ECS controller only (--controller ECS)")
    return {"strategy": args.strategy, "percent": percent, "bake": args.step_bake}


def _config(args: argparse.Namespace) -> Any:
    from greenlight_twin.controller import TwinConfig

    return TwinConfig(
        controller=args.controller,
        load_balancer=args.load_balancer,
        service_connect=args.service_connect,
        service_command=shlex.split(args.service_command) if args.service_command else None,
        blue_version=args.blue_version,
        tasks=args.blue_tasks,
        template=args.template,
        code=args.code,
        health_path=args.health_path,
        prod_port=args.prod_port,
        test_port=args.test_port,
        workdir=args.workdir,
        hook_timeout=args.default_hook_timeout,
        function_timeout=args.function_timeout,
        pause_stage=args.pause_stage,
        lambda_backend=args.lambda_backend,
        sam_image=args.sam_image,
        bind_address=args.bind_address,
    )


def _verdict(outcome: Any, expect: str) -> int:
    """EXIT_OK when the DeploymentOutcome ended as `expect` says."""
    from greenlight_twin.outcome import HOOK_FAILED, OTHER_CAUSE

    if expect == "any":
        return EXIT_OK
    if expect == "promoted":
        wanted = outcome.promoted
    else:
        wanted = outcome.rollback_cause == (HOOK_FAILED if expect == "rolled-back" else OTHER_CAUSE)
    return EXIT_OK if wanted else EXIT_FAILED


def _print_outcome(outcome: Any, args: argparse.Namespace, events: Sequence[Any] | None = None) -> None:
    if args.json:
        from greenlight_twin.progress import invocations

        listed = invocations(list(outcome.events if events is None else events))
        print(json.dumps({**outcome.to_dict(), "invocations": listed}, indent=2))
    else:
        print(outcome.summary())


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "twin_command", None)
    if command is None:
        args.twin_parser.print_help(sys.stderr)
        return EXIT_USAGE
    from greenlight_twin.control import DEFAULT_STATE, ControlError
    from greenlight_twin.controller import TwinError
    from greenlight_twin.functions import LambdaTwinError
    from greenlight_twin.services import ServiceError

    try:
        if command == "play":
            return _play(args)
        if command == "up":
            return _up(args, args.state or DEFAULT_STATE)
        return _remote(command, args, args.state or DEFAULT_STATE)
    except (TwinError, ControlError, LambdaTwinError, ServiceError, ValueError) as exc:
        print(f"greenlight twin {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _play(args: argparse.Namespace) -> int:
    from greenlight_twin.controller import Twin
    from greenlight_twin.progress import ConsoleProgress

    body = _deployment_body(args)
    stream = sys.stderr if args.json else sys.stdout
    with Twin(_config(args), progress=ConsoleProgress(stream, verbose=args.verbose)) as twin:
        outcome = twin.deploy(
            body["spec"],
            version=body["version"],
            env=body["env"],
            task_env=body["task_env"],
            tasks=body["tasks"],
            hook_timeout=body["hook_timeout"],
            hooks=body["hooks"],
            strategy=body["strategy"],
            percent=body["percent"],
            bake=body["bake"],
        )
    _print_outcome(outcome, args)
    return _verdict(outcome, args.expect)


def _up(args: argparse.Namespace, state_path: Path) -> int:
    from greenlight_twin.control import ControlServer, write_state
    from greenlight_twin.controller import Twin
    from greenlight_twin.progress import ConsoleProgress

    progress = ConsoleProgress(sys.stdout, verbose=args.verbose)
    done = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Twin(_config(args), progress=progress) as twin:
            control = ControlServer(twin, on_shutdown=done.set, progress=progress).start()
            try:
                status = twin.status()
                state = {
                    "pid": os.getpid(),
                    "control_url": control.url,
                    "token": control.token,
                    "controller": twin.controller,
                    "prod_url": status["prod_url"],
                    "test_url": status["test_url"],
                    "aws_endpoint_url": status["aws_endpoint_url"],
                    "region": status["region"],
                    "workdir": status["workdir"],
                }
                write_state(state_path, state)
                print(
                    f"twin up ({twin.controller}): production {status['prod_url']}, test {status['test_url']}, "
                    f"AWS {status['aws_endpoint_url']} (region {status['region']}, any credentials)\n"
                    f"state: {state_path} - deploy with `greenlight twin deploy --spec FILE`; stop with "
                    "`greenlight twin down` or Ctrl-C",
                    flush=True,
                )
                done.wait()
            finally:
                control.stop()
                state_path.unlink(missing_ok=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("twin down", flush=True)
    return EXIT_OK


def _remote(command: str, args: argparse.Namespace, state_path: Path) -> int:
    import time

    from greenlight_twin.control import ControlClient, ControlError, read_state
    from greenlight_twin.outcome import DeploymentOutcome
    from greenlight_twin.progress import ConsoleProgress, Event

    client = ControlClient.from_state(state_path)
    if command == "status":
        print(json.dumps(client.call("GET", "/status"), indent=2))
        return EXIT_OK
    if command == "stop":
        stopped = client.call("POST", "/stop")["stopped"]
        print("stop requested: the deployment rolls back" if stopped else "no deployment is being played")
        return EXIT_OK
    if command == "down":
        pid = int(read_state(state_path).get("pid") or 0)
        client.call("POST", "/shutdown")
        for _ in range(300):  # the twin stops its processes, then removes the state file
            if not state_path.exists():
                break
            time.sleep(0.1)
        print(f"twin (pid {pid}) stopped" if not state_path.exists() else f"twin (pid {pid}) is still stopping")
        return EXIT_OK
    # deploy
    body = _deployment_body(args)
    progress = ConsoleProgress(sys.stderr if args.json else sys.stdout, verbose=args.verbose)
    outcome: dict[str, Any] | None = None
    events: list[Event] = []
    for line in client.deploy(body):
        if "event" in line:
            events.append(Event.from_dict(line["event"]))
            progress(events[-1])
        elif "outcome" in line:
            outcome = line["outcome"]
        elif "error" in line:
            raise ControlError(str(line["error"]))
    if outcome is None:
        raise ControlError("the twin ended the deployment's stream without an outcome")
    ended = DeploymentOutcome.from_dict(outcome)
    _print_outcome(ended, args, events)
    return _verdict(ended, args.expect)
