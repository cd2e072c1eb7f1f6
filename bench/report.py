"""What reporting adds to a verdict: building the JSON report, rendering HTML and JUnit, publishing to S3 and
EventBridge/SNS (the twin's moto server on 127.0.0.1), and the files' sizes.

    .venv/bin/python bench/report.py [--measurements N] [--repeat R]

Prints figures and asserts nothing. The run measured is real: checks against an HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from greenlight.aws import AwsClients  # noqa: E402
from greenlight.engine.deadline import Deadline  # noqa: E402
from greenlight.plan import run_hook  # noqa: E402
from greenlight.reporting import report as reports  # noqa: E402
from greenlight.reporting.publish import PublishSettings, publish  # noqa: E402
from greenlight.spec import build_spec  # noqa: E402
from greenlight_cli import junit, report_html  # noqa: E402
from support.servers import HttpServer, Reply  # noqa: E402

HOOK = "AfterAllowTestTraffic"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, list[float]]:
    out, times = None, []
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - started) * 1000)
    return out, times


def figure(name: str, times: list[float]) -> None:
    print(f"  {name:<34} median {statistics.median(times):8.2f} ms   max {max(times):8.2f} ms   (n={len(times)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measurements", type=int, default=50, help="measurements per check (3 checks)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with HttpServer(routes={"/": Reply(200, body="ok"), "/health": Reply(503, body="down")}) as server:
        n = args.measurements
        doc = {
            "version": 1,
            "target": {"test_url": server.url, "prod_url": server.url},
            "defaults": {"timeout": "2s", "interval": "0s"},
            "hooks": {
                HOOK: [
                    {"name": "home", "http": {"path": "/"}, "count": n},
                    {"name": "home-again", "http": {"path": "/"}, "count": n},
                    {"name": "health", "http": {"path": "/health"}, "count": n, "failure_limit": n},
                ]
            },
        }
        started = time.perf_counter()
        result = run_hook(build_spec(doc, env={}), HOOK, deadline=Deadline.after(120))
        verdict_ms = (time.perf_counter() - started) * 1000
    taken = sum(len(c.measurements) for c in result.checks)
    print(f"a {result.verdict.value} run: 3 checks, {taken} measurements, the verdict took {verdict_ms:.0f} ms")

    report, build_t = timed(lambda: reports.from_result(result, source="lambda", controller="CODE_DEPLOY"), args.repeat)
    text, dump_t = timed(lambda: reports.dumps(report), args.repeat)
    page, html_t = timed(lambda: report_html.render(report), args.repeat)
    xml, junit_t = timed(lambda: junit.render(report), args.repeat)
    print("in-process (what every verdict pays when a report is asked for):")
    figure("build the report", build_t)
    figure("serialise the JSON", dump_t)
    figure("render the HTML (CLI, twin)", html_t)
    figure("render JUnit (CLI)", junit_t)
    print(f"  sizes: JSON {len(text.encode()):,} B, HTML {len(page.encode()):,} B, JUnit {len(xml.encode()):,} B")

    from greenlight_twin.aws import start

    server = start()
    try:
        session = server.session()
        session.client("s3").create_bucket(Bucket="reports")
        topic = session.client("sns").create_topic(Name="verdicts")["TopicArn"]
        aws = AwsClients(session=session)
        settings = PublishSettings(bucket="reports", event_bus="default", topic_arn=topic)
        publish(report, aws=aws, settings=settings, budget=10)  # clients created once, as in a warm Lambda
        done, pub_t = timed(lambda: publish(report, aws=aws, settings=settings, budget=10), args.repeat)
        print("publishing, after the answer (CodeDeploy) or before it (ECS), moto server on 127.0.0.1:")
        figure("S3 + EventBridge + SNS", pub_t)
        print(f"  steps: {json.dumps(done.steps)}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
