"""`make demo`: two blue/green deployments on the local twin, one promoted and one rolled back by greenlight.

    python -m greenlight_twin.demo [--controller both|CODE_DEPLOY|ECS] [--verbose]
                                   [--spec FILE] [--template FILE] [--code DIR]

Sets up what it needs (the Lambda Runtime Interface Emulator is found, or fetched once from the
aws-sam-cli wheel), starts a twin with blue 1.0.0 of the sample service and the hook functions of
`--template` (default: the twin's own, running the installed greenlight; `make demo` passes the
project's template.yaml, so the demo runs what is deployed), then plays (for CodeDeploy,
then again for ECS native blue/green, where AfterAllowTestTraffic's checks run at
POST_TEST_TRAFFIC_SHIFT):

1. green 2.0.0, healthy: every check passes and production moves to green;
2. green 3.0.0 with FAULT_UNHEALTHY=true (its /health answers 503): AfterAllowTestTraffic's `health`
   check fails, the hook reports Failed and the deployment is rolled back, production never leaving
   2.0.0.

Meanwhile a watcher sends a request to the production listener every 100 ms and counts who answered.
Exits 0 only if both deployments ended as expected and no process was left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from greenlight_twin import shipped


@dataclass(frozen=True)
class Scenario:
    title: str
    version: str
    env: dict[str, str]
    expect_promoted: bool
    expect_check: str | None = None  # the check that must fail when the deployment must be rolled back


SCENARIOS = (
    Scenario("a good release", "2.0.0", {}, expect_promoted=True),
    Scenario(
        "a release whose /health answers 503 (FAULT_UNHEALTHY=true)",
        "3.0.0",
        {"FAULT_UNHEALTHY": "true"},
        expect_promoted=False,
        expect_check="health",
    ),
)


class ProductionWatcher:
    """Asks the production listener for / every `interval` and counts the answers by version and status."""

    def __init__(self, url: str, interval: float = 0.1) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.interval = interval
        self.answers: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="production-watcher", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            connection = http.client.HTTPConnection(self.host, self.port, timeout=2)
            try:
                connection.request("GET", "/", headers={"User-Agent": "greenlight-demo"})
                response = connection.getresponse()
                response.read()
                version = response.getheader("X-App-Version") or "?"
                self.answers[f"{version} ({response.status})"] += 1
            except (OSError, http.client.HTTPException) as exc:
                self.answers[f"no answer ({type(exc).__name__})"] += 1
            finally:
                connection.close()

    @contextlib.contextmanager
    def watching(self) -> Iterator[ProductionWatcher]:
        self.answers.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="production-watcher", daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=5)

    def describe(self) -> str:
        return ", ".join(f"{key} x{count}" for key, count in sorted(self.answers.items())) or "nothing"


def _rule(out: TextIO, title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 100 - len(title)), file=out, flush=True)


def run_demo(
    controller: str,
    *,
    spec: Path,
    template: Path | None = None,
    code: Path | None = None,
    verbose: bool = False,
    out: TextIO = sys.stdout,
) -> tuple[bool, list[str]]:
    """Plays the scenarios on a twin of `controller`; (all as expected, summary lines)."""
    from greenlight_twin.controller import Twin, TwinConfig
    from greenlight_twin.progress import ConsoleProgress

    progress = ConsoleProgress(out, verbose=verbose)
    lines: list[str] = []
    all_ok = True
    _rule(out, f"starting the twin ({controller}): blue 1.0.0 of the sample service")
    config = TwinConfig(controller=controller, hook_timeout=60.0, template=template, code=code)
    with Twin(config, progress=progress) as twin:
        status = twin.status()
        print(
            f"production {status['prod_url']}  test {status['test_url']}  AWS {status['aws_endpoint_url']}",
            file=out,
            flush=True,
        )
        watcher = ProductionWatcher(twin.prod_url)
        for number, scenario in enumerate(SCENARIOS, 1):
            _rule(out, f"deployment {number}: {scenario.title}, {twin.live_version} -> {scenario.version}")
            with watcher.watching():
                outcome = twin.deploy(spec, version=scenario.version, env=scenario.env)
            print(outcome.summary(), file=out)
            for page in twin.report_pages.get(outcome.deployment_id, ()):
                print(f"report: {page}", file=out)
            print(f"production answered during the deployment: {watcher.describe()}", file=out, flush=True)
            ok = outcome.promoted == scenario.expect_promoted
            detail = "promoted" if outcome.promoted else f"rolled back at {outcome.failed_step}"
            if scenario.expect_check and not outcome.promoted:
                try:
                    check = outcome.check(scenario.expect_check)
                except KeyError:
                    ok = False
                    detail += f"; check {scenario.expect_check!r} did not run"
                else:
                    ok = ok and check.status == "FAIL"
                    detail += f": check {check.name} {check.status} - {check.reason}"
            bad_seen = [key for key in watcher.answers if key.startswith(f"{scenario.version} ")]
            if not scenario.expect_promoted and bad_seen:
                ok = False
                detail += f"; production answered with the bad version: {', '.join(bad_seen)}"
            expected = "promoted" if scenario.expect_promoted else "rolled back"
            mark = "ok" if ok else "UNEXPECTED"
            lines.append(
                f"[{controller}] {scenario.version} {scenario.title}: expected {expected}, {detail} ... {mark}"
            )
            all_ok = all_ok and ok
        lines.append(f"[{controller}] production serves {twin.live_version} at the end")
    return all_ok, lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m greenlight_twin.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--controller", choices=("both", "CODE_DEPLOY", "ECS"), default="both")
    parser.add_argument("--verbose", "-v", action="store_true", help="every health change and measurement")
    parser.add_argument("--spec", type=Path, default=None, help="the spec validating green (default: the demo's)")
    parser.add_argument("--template", type=Path, default=None, help="the SAM template of the hook functions")
    parser.add_argument("--code", type=Path, default=None, help="the functions' code folder (default: CodeUri)")
    args = parser.parse_args(argv)
    spec = (args.spec or shipped.demo_spec()).resolve()
    out = sys.stdout

    from greenlight_twin.functions import RieNotFoundError, find_rie
    from greenlight_twin.processes import child_processes

    started = time.monotonic()
    _rule(out, "setting up")
    try:
        rie = find_rie()
    except RieNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Lambda Runtime Interface Emulator: {rie}", file=out)
    print(f"spec: {spec}", file=out)
    functions = args.template.resolve() if args.template else "the twin's own template"
    print(f"hook functions: {functions}", file=out, flush=True)

    controllers = ("CODE_DEPLOY", "ECS") if args.controller == "both" else (args.controller,)
    all_ok, summary = True, []
    for controller in controllers:
        try:
            ok, lines = run_demo(
                controller, spec=spec, template=args.template, code=args.code, verbose=args.verbose, out=out
            )
        except Exception as exc:  # the summary must still say what happened
            ok, lines = False, [f"[{controller}] the demo failed: {type(exc).__name__}: {exc}"]
        all_ok = all_ok and ok
        summary += lines

    left = child_processes()
    _rule(out, "summary")
    for line in summary:
        print(line, file=out)
    if left:
        all_ok = False
        print("processes left behind: " + "; ".join(f"{pid} {cmd}" for pid, cmd in left), file=out)
    else:
        print("no process left behind", file=out)
    verdict = "as expected" if all_ok else "NOT as expected"
    print(f"demo {verdict} in {time.monotonic() - started:.0f} s", file=out, flush=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
