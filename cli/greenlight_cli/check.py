"""`greenlight check`: run a hook's checks from a spec against any URL and print the verdict."""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

from greenlight_cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE

# The longest --deadline: a day is far beyond any hook (a Lambda runs 15 minutes, CodeDeploy waits an hour),
# and larger values overflow the waits (threading refuses timeouts beyond about 292 years).
MAX_DEADLINE = 86_400.0


def seconds(text: str) -> float:
    """--deadline's type: a finite number of seconds, more than 0 and at most MAX_DEADLINE."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, e.g. 300; got {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_DEADLINE:
        raise argparse.ArgumentTypeError(
            f"expected a finite number of seconds above 0 and at most {MAX_DEADLINE:g}; got {text!r}"
        )
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run the checks of one hook and print the verdict")
    p.add_argument("--spec", required=True, help="spec file (YAML or JSON), or ssm:/parameter/name")
    p.add_argument("--hook", help="which hook's checks to run (default: the spec's only hook)")
    p.add_argument("--test-url", help="the test listener URL (overrides target.test_url)")
    p.add_argument("--prod-url", help="the production listener URL (overrides target.prod_url)")
    p.add_argument(
        "--deployment-id",
        help="discover green (listeners, target groups, task sets) from this CodeDeploy deployment, "
        "d-XXXXXXXXX, with the default AWS credentials and region; AWS-side checks need it",
    )
    p.add_argument("--json", action="store_true", help="print a JSON report with every measurement")
    p.add_argument("--dry-run", action="store_true", help="run every check to its end, report what would fail, exit 0")
    p.add_argument(
        "--deadline",
        type=seconds,
        default=900.0,
        help=f"seconds the whole run may take, above 0 and at most {MAX_DEADLINE:g} (default 900)",
    )
    p.add_argument(
        "--require-checks",
        action="store_true",
        help="exit 1 when the hook has no checks (a CI step that names the wrong hook must not pass silently)",
    )
    p.add_argument("--quiet", action="store_true", help="no live progress")
    # The report's files (docs/reports.md): written whatever the verdict, before the exit code is returned.
    p.add_argument("--report-json", type=Path, metavar="FILE", help="write the report (docs/report.schema.json)")
    p.add_argument("--report-html", type=Path, metavar="FILE", help="write the report as one HTML page")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write the checks as JUnit XML")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from greenlight import lifecycle, plan
    from greenlight import spec as specs
    from greenlight.probe.http import ProbeError, forbidden_ip, parse_ip, validate_url
    from greenlight.spec.model import LISTENER_URL
    from greenlight_cli import output

    try:
        spec = specs.load(args.spec)
    except (specs.SpecError, specs.SpecSourceError) as exc:
        print(f"greenlight: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configured = [h for h, checks in spec.hooks.items() if checks]
    hook = args.hook
    if hook is None:
        if len(configured) != 1:
            print(
                f"greenlight: --hook is required; the spec has checks for: {', '.join(configured) or 'none'}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        hook = configured[0]
    if hook not in lifecycle.ALL_HOOK_NAMES:
        print(
            f"greenlight: unknown hook {hook!r}; expected one of {', '.join(lifecycle.ALL_HOOK_NAMES)}", file=sys.stderr
        )
        return EXIT_USAGE
    for flag, url in (("--test-url", args.test_url), ("--prod-url", args.prod_url)):
        if url:
            try:
                _, host = validate_url(url)
            except ProbeError as exc:
                print(f"greenlight: {flag}: {exc}", file=sys.stderr)
                return EXIT_USAGE
            literal = parse_ip(host)
            if literal is not None and forbidden_ip(literal):
                print(
                    f"greenlight: {flag}: {host} is a link-local or instance-metadata address, never probed",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            if not re.fullmatch(LISTENER_URL, url):
                print(
                    f"greenlight: {flag}: {url!r} has a query or fragment; a listener URL has none, as each check "
                    "appends its path to it",
                    file=sys.stderr,
                )
                return EXIT_USAGE
    if not spec.checks_for(hook):
        with_checks = ", ".join(configured) or "none"
        print(
            f"greenlight: WARNING: hook {hook} has no checks in {args.spec}: nothing will be validated "
            f"(hooks with checks: {with_checks})"
            + ("" if args.require_checks else "; --require-checks makes this a failure"),
            file=sys.stderr,
        )
        if args.require_checks:
            return EXIT_FAILED

    time_left = plan.TimeLeft.of(args.deadline, remedy="raise --deadline")
    aws, discovery = None, None
    if args.deployment_id:
        from greenlight.aws import AwsClients
        from greenlight.discovery.codedeploy import CodeDeployDiscovery

        aws = AwsClients()
        discovery = CodeDeployDiscovery(args.deployment_id, aws)
    from greenlight.discovery.model import DiscoveryError

    try:
        # A deployment named on the command line is always discovered: its summary is part of the report.
        planned = plan.prepare(
            spec,
            hook,
            time=time_left,
            discovery=discovery,
            discover_always=True,
            test_url=args.test_url,
            prod_url=args.prod_url,
            dry_run=args.dry_run,
        )
    except DiscoveryError as exc:
        print(f"greenlight: --deployment-id: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TimeoutError as exc:
        print(f"greenlight: {exc}", file=sys.stderr)
        return EXIT_FAILED
    target, deployment = planned.target, planned.deployment
    progress = None if (args.json or args.quiet or sys.stderr is None) else output.LiveProgress()
    if progress:
        n = len(planned.checks)
        dry = " (dry run: every check runs to its end, nothing fails the command)" if planned.dry_run else ""
        output.emit(f"greenlight: {hook}: {n} check(s) against {target.test_url or '(no test URL)'}{dry}", sys.stderr)
    result = plan.execute(
        planned,
        aws=aws,
        progress=progress,
        context={"test_url": target.test_url, "prod_url": target.prod_url, "source": spec.source}
        | ({"discovered": deployment.summary()} if deployment is not None else {}),
    ).result
    if args.report_json or args.report_html or args.junit:
        from greenlight.reporting.report import from_result
        from greenlight_cli.report import write

        controller = deployment.controller if deployment is not None else None
        try:
            write(
                from_result(result, source="cli", controller=controller),
                json_path=args.report_json,
                html_path=args.report_html,
                junit_path=args.junit,
            )
        except OSError as exc:
            print(f"greenlight: cannot write {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    # Printing cannot change the verdict: a closed or broken stdout is silenced, the exit code stays.
    if args.json:
        output.emit(output.as_json(result))
    else:
        output.emit(output.table(result, color=output.wants_color(sys.stdout), unicode=output.unicode_ok(sys.stdout)))
    return EXIT_OK if result.succeeded else EXIT_FAILED
