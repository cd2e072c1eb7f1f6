"""`greenlight check`: run a hook's checks from a spec against any URL and print the verdict."""

from __future__ import annotations

import argparse
import sys

from greenlight_cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE


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
    p.add_argument("--dry-run", action="store_true", help="report what would fail, exit 0")
    p.add_argument("--deadline", type=float, default=900.0, help="seconds the whole run may take (default 900)")
    p.add_argument("--quiet", action="store_true", help="no live progress")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from greenlight import lifecycle, plan
    from greenlight import spec as specs
    from greenlight.probe.http import ProbeError, validate_url
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
                validate_url(url)
            except ProbeError as exc:
                print(f"greenlight: {flag}: {exc}", file=sys.stderr)
                return EXIT_USAGE
    if args.deadline <= 0:
        print("greenlight: --deadline must be a positive number of seconds", file=sys.stderr)
        return EXIT_USAGE

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
    progress = None if (args.json or args.quiet) else output.LiveProgress()
    if progress:
        n = len(planned.checks)
        print(f"greenlight: {hook}: {n} check(s) against {target.test_url or '(no test URL)'}", file=sys.stderr)
    result = plan.execute(
        planned,
        aws=aws,
        progress=progress,
        context={"test_url": target.test_url, "prod_url": target.prod_url, "source": spec.source}
        | ({"discovered": deployment.summary()} if deployment is not None else {}),
    ).result
    if args.json:
        print(output.as_json(result))
    else:
        print(output.table(result, color=sys.stdout.isatty()))
    return EXIT_OK if result.succeeded else EXIT_FAILED
