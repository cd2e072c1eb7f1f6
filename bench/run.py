"""Performance figures for greenlight: the Lambda bundle beside a naive hook, and the engine's concurrency.

Prints figures and asserts nothing; `make bench` runs it after `make build`. bench/README.md says what
they mean and how they are measured.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test servers (support.servers) are reused here

from greenlight.engine.deadline import Deadline  # noqa: E402
from greenlight.plan import run_hook  # noqa: E402
from greenlight.spec import build_spec  # noqa: E402
from support.servers import HttpServer, Reply  # noqa: E402

HOOK = "AfterAllowTestTraffic"
FUNCTION = "AfterAllowTestTrafficHook"
LAYER = "DependenciesLayer"
HANDLER = "greenlight.handlers.codedeploy"
NAIVE = ROOT / "bench" / "naive_hook"
DRIVER = ROOT / "bench" / "lambda_process.py"
# What the python3.13 runtime itself provides under /var/runtime: boto3 and its dependencies.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py")
# One check, as in the figures: a GET of /health through the test listener.
SPEC = f"""version: 1
target:
  test_url: {{url}}
  prod_url: {{url}}
hooks:
  {HOOK}:
    - name: health
      http:
        path: /health
        expect:
          status: [200]
          json: {{{{status: ok}}}}
      count: 1
"""
# Modules the handler should not load before a spec asks for them (lazy imports keep cold starts short).
SHOULD_BE_LAZY = (
    "greenlight.checks.http",
    "greenlight.probe.http",
    "greenlight.spec",
    "greenlight.discovery.codedeploy",
    "greenlight_twin",
    "jmespath",
    "requests",
    "urllib3",
    "yaml",
    "boto3",
    "botocore",
    "moto",
)

KIB = 1024
MIB = 1024 * 1024


# --------------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------------
def zipped(folder: Path) -> tuple[int, int, dict[str, int]]:
    """(zipped bytes, unzipped bytes, zipped bytes per top-level entry), zipped the way sam deploy does (deflate)."""
    buffer = io.BytesIO()
    per_top: dict[str, int] = {}
    raw = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = path.relative_to(folder).as_posix()
            archive.write(path, relative)
            info = archive.getinfo(relative)
            raw += info.file_size
            top = relative.split("/", 1)[0]
            if top == "python":  # a layer: group by the package under python/
                top = relative.split("/", 2)[1] if relative.count("/") >= 1 else top
            top = re.sub(r"-[0-9][^/]*\.dist-info$", ".dist-info", top)
            per_top[top] = per_top.get(top, 0) + info.compress_size + len(relative) + 76  # + headers
    return buffer.tell(), raw, per_top


def human(size: float) -> str:
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size / KIB:.1f} KiB"


def share(per_top: dict[str, int], names: Sequence[str]) -> float:
    total = sum(per_top.values())
    return sum(size for name, size in per_top.items() if name.split(".")[0] in names) / total if total else 0.0


# --------------------------------------------------------------------------------------------------
# Cold and warm invocations in a fresh runtime process
# --------------------------------------------------------------------------------------------------
@dataclass
class Variant:
    """One bundle as Lambda would lay it out: the function's folder, then layer and runtime folders."""

    name: str
    paths: list[Path]
    handler: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(run[key] for run in self.runs)

    def warm_median(self) -> float:
        return statistics.median(ms for run in self.runs for ms in run["warm_ms"])


@dataclass
class World:
    """The twin's moto server with one seeded CodeDeploy deployment, and a healthy /health on 127.0.0.1.

    Every invocation gets a hook execution of its own, opened just before it (GET next_event_url), as
    CodeDeploy opens one per invocation: a repeated execution would let greenlight stop early.
    """

    env: dict[str, str]
    deployment_id: str
    next_event_url: str = ""
    opened: list[str] = field(default_factory=list)

    def event(self) -> dict[str, str]:
        from greenlight_twin.aws import open_hook_execution

        execution_id = open_hook_execution(self.deployment_id, HOOK)
        self.opened.append(execution_id)
        return {"DeploymentId": self.deployment_id, "LifecycleEventHookExecutionId": execution_id}


@contextmanager
def world(workdir: Path) -> Iterator[World]:
    from greenlight_twin.aws import seed_bluegreen, start

    with start() as moto, HttpServer(Reply(json={"status": "ok"})) as health, HttpServer() as control:
        seeded = seed_bluegreen(moto.session())
        assert seeded.deployment_id is not None
        spec = workdir / "spec.yaml"
        spec.write_text(SPEC.format(url=health.url), encoding="utf-8")
        env = {
            **moto.client_env(),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "AWS_LAMBDA_FUNCTION_NAME": "CodeDeployHook_bench-AfterAllowTestTraffic",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "GREENLIGHT_HOOK": HOOK,
            "GREENLIGHT_SPEC": str(spec),
            "POWERTOOLS_SERVICE_NAME": "greenlight",
            "POWERTOOLS_METRICS_NAMESPACE": "greenlight",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "HEALTH_URL": f"{health.url}/health",
        }
        w = World(env, seeded.deployment_id, control.url_for("/next"))
        control.set("/next", lambda _request: Reply(json=w.event()))
        yield w


def run_process(
    python: str, variant: Variant, world: World, warm: int, workdir: Path, *, importtime: bool = False
) -> str:
    """One fresh runtime process: a cold and `warm` warm invocations; returns what the process printed."""
    from greenlight_twin.aws import reported_status

    world.opened.clear()
    out = workdir / "result.json"
    plan = workdir / "plan.json"
    plan.write_text(
        json.dumps({"paths": [str(p) for p in variant.paths], "handler": variant.handler, "event": world.event(),
                    "next_event_url": world.next_event_url, "warm": warm, "out": str(out)}),
        encoding="utf-8",
    )  # fmt: skip
    # -I -S: only the standard library and the bundle, as in Lambda; -B: nothing written back, since
    # Lambda's file system is read-only (a bundle without bytecode compiles it at every cold start).
    with (workdir / "lambda.log").open("wb") as log:
        proc = subprocess.run(
            [python, "-I", "-S", "-B", *(["-X", "importtime"] if importtime else []), str(DRIVER), str(plan)],
            env=world.env, stdout=log, stderr=subprocess.STDOUT, timeout=300, check=False,
        )  # fmt: skip
    printed = (workdir / "lambda.log").read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        variant.failures.append(f"exit {proc.returncode}: {printed[-2000:]}")
        return printed
    result = json.loads(out.read_text(encoding="utf-8"))
    statuses = [reported_status(execution_id) for execution_id in world.opened]
    if len(statuses) != warm + 1 or any(s != "Succeeded" for s in statuses):
        variant.failures.append(f"reported {statuses} (answers {result['answers'][:2]} ...)")
    if not importtime:  # -X importtime slows every import: never part of the figures
        variant.runs.append(result)
    return printed


def import_lines(printed: str) -> list[tuple[str, int, int, int]]:
    """`-X importtime` lines: (module, self µs, cumulative µs, nesting depth)."""
    lines = []
    for raw in printed.splitlines():
        m = re.match(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$", raw)
        if m:
            lines.append((m.group(4), int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2))
    return lines


def by_package(lines: list[tuple[str, int, int, int]]) -> dict[str, float]:
    """Milliseconds of import time per top-level package (each module's own time, summed)."""
    totals: dict[str, float] = {}
    for module, own, _cumulative, _depth in lines:
        top = module.split(".")[0]
        totals[top] = totals.get(top, 0.0) + own / 1000
    return totals


def import_profile(python: str, paths: Sequence[Path], env: dict[str, str]) -> list[tuple[str, int, int, int]]:
    """`-X importtime` of the handler module alone in a fresh runtime process."""
    code = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}; import {HANDLER}"
    proc = subprocess.run(
        [python, "-I", "-S", "-B", "-X", "importtime", "-c", code],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return import_lines(proc.stderr)


def importer(lines: list[tuple[str, int, int, int]], module: str) -> str:
    """The module whose import pulled `module` in (importtime lists an import's children before it)."""
    index = next(i for i, line in enumerate(lines) if line[0] == module)
    depth = lines[index][3]
    return next((line[0] for line in lines[index + 1 :] if line[3] < depth), "the handler")


def compiled_copy(python: str, source: Path, target: Path, prefix: str) -> Path:
    """A copy of `source` with unchecked-hash bytecode, as bundle/Makefile compiles it."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
         "-s", str(target), "-p", prefix, str(target)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return target


def split_runtime(layer: Path, workdir: Path, compiled: bool) -> tuple[Path, Path]:
    """The layer without boto3 and its dependencies, and those packages in a folder of their own (the runtime's)."""
    suffix = "compiled" if compiled else "source"
    rest, runtime = workdir / f"layer-without-boto3-{suffix}", workdir / f"runtime-boto3-{suffix}"
    ignore = None if compiled else shutil.ignore_patterns("__pycache__")
    if not rest.exists():
        shutil.copytree(layer, rest, ignore=ignore)
        runtime.mkdir()
        for entry in list(rest.iterdir()):
            base = re.sub(r"-[0-9][^/]*\.dist-info$", "", entry.name).replace("python_dateutil", "dateutil")
            if entry.name in RUNTIME_PACKAGES or base in RUNTIME_PACKAGES:
                shutil.move(str(entry), runtime / entry.name)
        if compiled:  # six.py's bytecode sits in the top-level __pycache__
            (runtime / "__pycache__").mkdir(exist_ok=True)
            for pyc in (rest / "__pycache__").glob("six.*.pyc"):
                shutil.move(str(pyc), runtime / "__pycache__" / pyc.name)
    return rest, runtime


# --------------------------------------------------------------------------------------------------
# The figures
# --------------------------------------------------------------------------------------------------
def bench_bundle(args: argparse.Namespace) -> None:
    python = args.python
    build = Path(args.build_dir)
    function, layer = build / FUNCTION, build / LAYER / "python"
    if not function.is_dir() or not layer.is_dir():
        print(f"bundle: {build} has no {FUNCTION} and {LAYER}; run `make build` first")
        return
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                             text=True, check=True).stdout.strip()  # fmt: skip

    print(f"bundle: {build} (zipped with deflate, as sam deploy uploads it)")
    fn_zip, fn_raw, _ = zipped(function)
    layer_zip, layer_raw, per_top = zipped(layer.parent)
    naive_zip, _, _ = zipped(NAIVE)
    sdk = share(per_top, ["boto3", "botocore", "s3transfer"])
    print(f"  one hook function ({FUNCTION}): {human(fn_zip)} zipped, {human(fn_raw)} unzipped (target <= 300 KiB)")
    print(f"  the shared layer ({LAYER}): {human(layer_zip)} zipped, {human(layer_raw)} unzipped; "
          f"boto3+botocore+s3transfer {sdk:.0%} of it")  # fmt: skip
    print("    largest parts: " + ", ".join(f"{n} {human(s)}" for n, s in sorted(per_top.items(),
          key=lambda x: -x[1])[:6]))  # fmt: skip
    print(f"  naive sample hook function: {human(naive_zip)} zipped")

    with tempfile.TemporaryDirectory(prefix="greenlight-bench-") as tmp:
        workdir = Path(tmp)
        variants = [
            Variant("greenlight", [function, layer], f"{HANDLER}.handler"),
            Variant("naive hook", [NAIVE, layer], "app.handler"),
        ]
        if args.runtime_boto3:
            for compiled in (True, False):
                rest, runtime = split_runtime(layer, workdir, compiled)
                label = "precompiled" if compiled else "not precompiled"
                if compiled:
                    rest_zip, _, _ = zipped(rest)
                    print(f"  the layer without boto3 (boto3 from the runtime): {human(rest_zip)} zipped")
                variants.append(Variant(f"greenlight, runtime boto3 {label}", [function, rest, runtime],
                                        f"{HANDLER}.handler"))  # fmt: skip
        for before in args.before:
            before_fn = Path(before) / FUNCTION
            before_zip, before_raw, before_top = zipped(before_fn)
            print(f"  before ({before}): one hook function {human(before_zip)} zipped, {human(before_raw)} "
                  f"unzipped, no layer; boto3+botocore+s3transfer "
                  f"{share(before_top, ['boto3', 'botocore', 's3transfer']):.0%}")  # fmt: skip
            variants.append(Variant("before, as built", [before_fn], f"{HANDLER}.handler"))
            precompiled = compiled_copy(python, before_fn, workdir / "before-compiled", "/var/task")
            variants.append(Variant("before, precompiled", [precompiled], f"{HANDLER}.handler"))

        print()
        print(f"invocations: Python {version} with -I -S -B (only the bundle; nothing cached on disk), "
              f"{args.cold} fresh processes x (1 cold + {args.warm} warm) each, against the twin's moto server "
              "and a real /health on 127.0.0.1; processes of all variants interleaved")  # fmt: skip
        with world(workdir) as w:
            for _ in range(args.cold):
                for variant in variants:
                    run_process(python, variant, w, args.warm, workdir)
            profile = import_profile(python, [function, layer], w.env)
            cold_imports = {
                v.name: by_package(import_lines(run_process(python, v, w, 0, workdir, importtime=True)))
                for v in variants[:2]
            }

        naive = variants[1]
        header = f"  {'':38} {'import':>9} {'cold':>9} {'x naive':>8} {'warm':>8} {'x naive':>8} {'CPU/verdict':>12} {'x naive':>8}"  # noqa: E501
        print(header)
        for variant in variants:
            if variant.failures:
                print(f"  {variant.name:38} FAILED: {variant.failures[0]}")
            if not variant.runs:
                continue
            cold, warm, cpu = variant.median("cold_ms"), variant.warm_median(), variant.median("warm_cpu_ms")
            ratios = ("", "", "")
            if naive.runs:
                ratios = tuple(
                    f"{value / base:.2f}"
                    for value, base in ((cold, naive.median("cold_ms")), (warm, naive.warm_median()),
                                        (cpu, naive.median("warm_cpu_ms")))
                )  # fmt: skip
            print(f"  {variant.name:38} {variant.median('import_ms'):7.0f}ms {cold:7.0f}ms {ratios[0]:>8} "
                  f"{warm:6.1f}ms {ratios[1]:>8} {cpu:10.1f}ms {ratios[2]:>8}")  # fmt: skip
        print("  (medians; cold = import + first invocation; targets: cold <= 1.2x naive, warm <= 2x naive)")

    print()
    print(f"what a cold start imports (import + first invocation, python {version} -X importtime; ms per package)")
    mine, theirs = cold_imports["greenlight"], cold_imports["naive hook"]
    print(f"  greenlight {sum(mine.values()):.0f} ms, naive hook {sum(theirs.values()):.0f} ms; "
          "the packages that differ most:")  # fmt: skip
    for name in sorted(set(mine) | set(theirs), key=lambda n: -abs(mine.get(n, 0) - theirs.get(n, 0)))[:10]:
        print(f"    {name:28} greenlight {mine.get(name, 0):6.1f}   naive {theirs.get(name, 0):6.1f}")
    print()
    print(f"import {HANDLER} alone (what the handler loads before an invocation needs it)")
    total = sum(line[1] for line in profile) / 1000
    print(f"  {total:.1f} ms over {len(profile)} modules; by package: " + ", ".join(
        f"{n} {ms:.1f}" for n, ms in sorted(by_package(profile).items(), key=lambda x: -x[1])[:6]))  # fmt: skip
    imported = {line[0] for line in profile}
    lazy = [m for m in SHOULD_BE_LAZY if m not in imported]
    eager = [f"{m} (by {importer(profile, m)})" for m in SHOULD_BE_LAZY if m in imported]
    print(f"  not imported at start (loaded when a spec needs them): {', '.join(lazy) or 'none'}")
    print(f"  imported at start anyway: {', '.join(eager) or 'none'}")


def bench_concurrency(checks: int, delay: float, repeats: int) -> None:
    """Wall time of one run_hook with `checks` HTTP checks against a server answering after `delay` seconds."""
    with HttpServer(Reply(delay=delay, json={"status": "ok"})) as server:
        doc = {
            "version": 1,
            "target": {"test_url": server.url, "prod_url": server.url},
            "hooks": {HOOK: [{"name": f"c{i}", "http": {"path": f"/{i}"}, "timeout": "5s"} for i in range(checks)]},
        }
        spec = build_spec(doc, env={})
        run_hook(spec, HOOK, deadline=Deadline.after(30))  # warm-up: first imports and thread start-up
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            result = run_hook(spec, HOOK, deadline=Deadline.after(30))
            times.append(time.perf_counter() - started)
            if not result.succeeded:
                print(f"  warning: a run did not pass: {result.reason}")
        served = len(server.requests)
    print(f"engine: {checks} HTTP checks, server answering in {delay * 1000:.0f} ms, {repeats} runs")
    print(
        f"  wall time per run: min {min(times):.3f} s, median {statistics.median(times):.3f} s, max {max(times):.3f} s"
    )
    print(f"  one after another would take at least {checks * delay:.1f} s; requests served: {served}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--python", default=shutil.which("python3.13") or "python3.13",
                        help="the Lambda runtime's interpreter (default python3.13 on PATH)")  # fmt: skip
    parser.add_argument("--build-dir", default=str(ROOT / ".aws-sam" / "build"), help="sam build's output")
    parser.add_argument("--before", action="append", default=[], metavar="BUILD_DIR",
                        help="also measure another build (an older commit's .aws-sam/build) the same way")  # fmt: skip
    parser.add_argument("--runtime-boto3", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure greenlight with boto3 from the runtime instead of the layer")  # fmt: skip
    parser.add_argument("--cold", type=int, default=5, help="fresh processes per variant (default 5)")
    parser.add_argument("--warm", type=int, default=20, help="warm invocations per process (default 20)")
    parser.add_argument("--checks", type=int, default=20, help="HTTP checks in the concurrency run (default 20)")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds the server takes to answer (default 0.3)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of the concurrency measurement (default 5)")
    parser.add_argument("--compare-runs", type=int, default=2000, help="simulated compare runs a scenario (2000)")
    parser.add_argument("--compare-real-runs", type=int, default=100, help="real same-build compare runs (100)")
    args = parser.parse_args(argv)
    bench_bundle(args)
    print()
    bench_concurrency(args.checks, args.delay, args.repeats)
    print()
    import compare  # bench/compare.py, beside this script (its folder is on sys.path)

    compare.main(["--runs", str(args.compare_runs), "--real-runs", str(args.compare_real_runs)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
