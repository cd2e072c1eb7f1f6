"""`greenlight appspec`: write the AppSpec of a CodeDeploy ECS deployment, wired to a stack's hooks."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from greenlight_cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "appspec",
        help="write the AppSpec of a CodeDeploy deployment, with the stack's hook functions",
        description=(
            "Write the AppSpec (version 0.0) for a CodeDeploy ECS blue/green deployment: the service's new "
            "task definition, its load-balanced container, and the five lifecycle hooks wired to the greenlight "
            "stack's functions (read from the stack's outputs with the default AWS credentials)."
        ),
    )
    p.add_argument("--stack", required=True, metavar="NAME", help="the greenlight stack (sam deploy's stack_name)")
    p.add_argument(
        "--task-definition",
        required=True,
        metavar="ARN",
        help="full ARN of the task definition revision to deploy (…:task-definition/FAMILY:REVISION)",
    )
    p.add_argument("--container", metavar="NAME", help="load-balanced container (default: the stack's ContainerName)")
    p.add_argument("--port", type=int, metavar="N", help="its container port (default: the stack's ContainerPort)")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml", help="output format (default yaml)")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")
    p.add_argument(
        "--region",
        help="the stack's region (default: AWS_REGION / AWS_DEFAULT_REGION / profile, else the task definition's)",
    )
    p.set_defaults(func=run)


def _configured_region() -> str | None:
    """The region boto3 would use (environment, profile), or None when none is configured or it cannot be read."""
    try:
        from botocore.session import get_session

        region = get_session().get_config_variable("region")
    except Exception:  # a broken config file: --region or the task definition's region still works
        return None
    return str(region) if region else None


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError

    from greenlight_cli.appspec import build as appspecs

    try:
        # Checked before any AWS call: a typo should not wait for the network.
        arn = appspecs.TaskDefinitionArn.parse(args.task_definition)
        # CodeDeploy deploys a task definition of the stack's own region: with none configured, that is the one.
        region = getattr(args, "region", None) or _configured_region() or arn.region
        stack = appspecs.read_stack(args.stack, region=region)
        plan = appspecs.appspec_for_stack(
            stack, args.task_definition, container_name=args.container, container_port=args.port
        )
        text = appspecs.render(plan.appspec, args.format)
    except appspecs.AppSpecError as exc:
        print(f"greenlight appspec: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except appspecs.StackAccessError as exc:
        print(f"greenlight appspec: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BotoCoreError as exc:  # before any call: no region, no credentials, a broken AWS config file
        print(f"greenlight appspec: cannot call AWS: {exc} (set --region, AWS_REGION or a profile)", file=sys.stderr)
        return EXIT_USAGE
    for warning in plan.warnings:
        print(f"greenlight appspec: warning: {warning}", file=sys.stderr)

    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"greenlight appspec: --output {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"greenlight appspec: wrote {args.output}", file=sys.stderr)
    if plan.application and plan.deployment_group:
        # jq turns the file into the revision JSON CodeDeploy takes inline.
        revision = (
            f"$(jq -n --rawfile c {shlex.quote(args.output)} "
            "'{revisionType: \"AppSpecContent\", appSpecContent: {content: $c}}')"
        )
        print(
            "next: aws deploy create-deployment"
            f" --application-name {shlex.quote(plan.application)}"
            f" --deployment-group-name {shlex.quote(plan.deployment_group)}"
            f' --revision "{revision}"',
            file=sys.stderr,
        )
    return EXIT_OK
