"""`greenlight report`: turn a JSON report written earlier (by a hook, `check --report-json` or the twin) into HTML
or JUnit; and the one function that writes a report's files, for `greenlight check` and the twin."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from greenlight_cli.main import EXIT_OK, EXIT_USAGE

# A report keeps at most 500 measurements per check: far larger is not a report (or is /dev/zero).
MAX_REPORT_BYTES = 64 * 1024 * 1024


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="render a JSON validation report as HTML (and JUnit)",
        description="Render a JSON validation report (docs/report.schema.json) as one self-contained HTML page.",
    )
    p.add_argument("report", type=Path, help="the JSON report (from a hook's S3 bucket, check --report-json, the twin)")
    p.add_argument("-o", "--output", type=Path, help="the HTML file to write (default: the report's name with .html)")
    p.add_argument("--junit", type=Path, help="also write the checks as JUnit XML to this file")
    p.set_defaults(func=run)


def write(
    report: Mapping[str, Any],
    *,
    json_path: Path | None = None,
    html_path: Path | None = None,
    junit_path: Path | None = None,
) -> list[Path]:
    """Write the report's files that are asked for; returns their paths. OSError when one cannot be written."""
    from greenlight.reporting.report import dumps
    from greenlight_cli import junit, report_html

    written = []
    for path, text in (
        (json_path, dumps),
        (html_path, report_html.render),
        (junit_path, junit.render),
    ):
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        # A lone surrogate (JSON can carry one as a \\u escape) is written as that escape, never a crash.
        try:
            path.write_text(text(report), encoding="utf-8", errors="backslashreplace")
        except OSError as exc:  # a failed flush (a full disk, /dev/full) names no file: name it
            raise OSError(exc.errno, exc.strerror, exc.filename or str(path)) from exc
        written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    from greenlight.reporting.report import ReportFileError, loads
    from greenlight.spec.loader import read_text_file

    source: Path = args.report
    try:
        report = loads(read_text_file(source, limit=MAX_REPORT_BYTES, what="report"), where=str(source))
    except OSError as exc:
        print(f"greenlight: cannot read {source}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ReportFileError, UnicodeDecodeError) as exc:
        print(f"greenlight: {exc}", file=sys.stderr)
        return EXIT_USAGE
    output = args.output or source.with_suffix(".html")
    for flag, path in (("-o", output), ("--junit", args.junit)):
        if path is not None and path.resolve() == source.resolve():
            print(f"greenlight: {flag} {path} is the report being read; give another file", file=sys.stderr)
            return EXIT_USAGE
    try:
        for path in write(report, html_path=output, junit_path=args.junit):
            print(path)
    except OSError as exc:
        print(f"greenlight: cannot write {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
