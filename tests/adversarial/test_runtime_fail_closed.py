"""Fail closed at run time: a crash anywhere in a check's thread is ERROR, never INCONCLUSIVE; a dry run shows all.

`on_inconclusive: pass` lets an INCONCLUSIVE run report success, so nothing but the deadline may make a check
INCONCLUSIVE: an exception in a progress callback, in reading a measurement, or a thread stuck outside the
runner's bounds must be an ERROR. Checks run for real against HTTP servers on 127.0.0.1; the throwaway check
kinds are registered in greenlight.checks.KINDS the way a new kind is, for the length of one test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("runtime_support")
from runtime_support import HOOK, Twin, http_spec, invoke_timed, write_spec  # noqa: E402

from greenlight.checks import KINDS, Check, CheckContext  # noqa: E402
from greenlight.engine.deadline import Deadline  # noqa: E402
from greenlight.engine.model import Measurement, Status, Verdict  # noqa: E402
from greenlight.plan import run_hook  # noqa: E402
from greenlight.spec import build_spec  # noqa: E402
from greenlight.spec.schema import Field, Obj, Str  # noqa: E402
from support.servers import HttpServer, Reply  # noqa: E402

OK = Reply(json={"status": "ok"})
PLACES = ("reason", "status", "details", "prepare")


class _Poisoned(Measurement):
    """A measurement whose fields blow up when the runner reads them (after measure() has returned)."""

    def __getattribute__(self, name: str) -> Any:
        if name == object.__getattribute__(self, "details").get("poison"):
            raise RuntimeError(f"reading {name} of a poisoned measurement")
        return object.__getattribute__(self, name)


class ExplodingCheck(Check):
    """A throwaway kind that passes in measure() and crashes where the runner, not the check, is at work."""

    kind = "explode"
    schema = Obj({"where": Field(Str(choices=PLACES), default="reason")})

    def prepare(self, ctx: CheckContext) -> None:
        if self.body["where"] == "prepare":
            raise KeyError("prepare went wrong")

    def measure(self, ctx: CheckContext) -> Measurement:
        return _Poisoned(Status.PASS, "measured fine", details={"poison": self.body["where"]})


@pytest.fixture
def exploding_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, "explode", f"{__name__}:ExplodingCheck")


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown, so a callback stuck on purpose ends its thread."""
    event = threading.Event()
    yield event
    event.set()


def spec_for(url: str, checks: list[dict[str, Any]], **settings: Any) -> Any:
    doc = {"version": 1, "target": {"test_url": url, "prod_url": url}, "hooks": {HOOK: checks}, "settings": settings}
    return build_spec(doc, env={})


@pytest.mark.usefixtures("exploding_kind")
@pytest.mark.parametrize("where", PLACES)
@pytest.mark.parametrize("on_inconclusive", ["fail", "pass"])
def test_runtime_crash_outside_measure_is_error_even_with_on_inconclusive_pass(
    where: str, on_inconclusive: str
) -> None:
    # GIVEN a check kind whose measurements pass but crash when the runner reads them (or whose prepare raises)
    spec = spec_for(
        "http://127.0.0.1:9",
        [{"name": "boom", "explode": {"where": where}, "count": 3, "interval": 0}],
        on_inconclusive=on_inconclusive,
    )
    # WHEN the hook's checks run
    result = run_hook(spec, HOOK, deadline=Deadline.after(20))
    # THEN the check is an ERROR naming the crash, and the run never reports success
    (check,) = result.checks
    print(f"[fail-closed] crash in {where}, on_inconclusive {on_inconclusive}: {check.status.value}: {check.reason}")
    assert check.status is Status.ERROR
    assert "RuntimeError" in check.reason or "KeyError" in check.reason
    assert result.verdict is Verdict.ERROR
    assert result.succeeded is False


@pytest.mark.parametrize("on_inconclusive", ["fail", "pass"])
def test_runtime_progress_callback_that_raises_is_error_never_inconclusive(on_inconclusive: str) -> None:
    # GIVEN a healthy green, and a progress callback (the command line's live output) that raises
    def progress(check: Check, index: int, m: Measurement) -> None:
        raise OSError("the terminal went away")

    with HttpServer(OK) as green:
        spec = spec_for(
            green.url,
            [{"name": "health", "http": {"path": "/"}, "count": 3, "interval": 0}],
            on_inconclusive=on_inconclusive,
        )
        # WHEN the checks run with it
        result = run_hook(spec, HOOK, deadline=Deadline.after(20), progress=progress)
    # THEN the check is an ERROR naming the crash, and the run is not reported as a success
    (check,) = result.checks
    assert check.status is Status.ERROR
    assert "OSError: the terminal went away" in check.reason
    assert result.succeeded is False


def test_runtime_progress_callback_stuck_forever_is_error_by_the_deadline(release: threading.Event) -> None:
    # GIVEN a healthy green, on_inconclusive: pass, and a progress callback that never returns
    def progress(check: Check, index: int, m: Measurement) -> None:
        release.wait(120)

    with HttpServer(OK) as green:
        spec = spec_for(
            green.url, [{"name": "health", "http": {"path": "/"}, "count": 3, "interval": 0}], on_inconclusive="pass"
        )
        # WHEN the checks run with a 3 s deadline
        result = run_hook(spec, HOOK, deadline=Deadline.after(3), progress=progress)
    # THEN the run comes back at its deadline with the stuck check as an ERROR: nothing says it would have passed
    (check,) = result.checks
    print(f"[fail-closed] stuck callback: {check.status.value} after {result.duration_ms / 1000:.2f}s: {check.reason}")
    assert check.status is Status.ERROR
    assert "did not finish by the deadline" in check.reason
    assert result.succeeded is False


@pytest.mark.usefixtures("exploding_kind")
def test_runtime_crash_in_the_hook_reports_failed_with_on_inconclusive_pass(twin: Twin, tmp_path: Path) -> None:
    # GIVEN a spec that lets INCONCLUSIVE pass, and a check whose thread crashes outside measure()
    doc = http_spec("http://127.0.0.1:9", checks=[{"name": "boom", "explode": {"where": "status"}, "interval": 0}])
    spec = write_spec(tmp_path, {**doc, "settings": {"on_inconclusive": "pass"}})
    # WHEN the CodeDeploy hook runs
    timed = invoke_timed(twin, spec, seconds=20)
    timed.figures("crash in a check's thread")
    # THEN CodeDeploy is told Failed
    timed.assert_reported_in_time()
    assert timed.outcome["verdict"] == "ERROR"
    assert twin.execution().reports == ("Failed",)


def test_runtime_dry_run_runs_every_check_to_its_end_and_marks_each() -> None:
    # GIVEN a whole-run dry run with a check that fails at once, one that errors, and a slow healthy one
    with HttpServer(Reply(status=500)) as bad, HttpServer(OK) as good:
        checks = [
            {"name": "fails", "http": {"url": bad.url + "/"}, "count": 2, "interval": 0},
            {
                "name": "refused",
                "http": {"url": "http://127.0.0.1:9/"},
                "count": 2,
                "interval": 0,
                "consecutive_error_limit": 0,
            },
            {"name": "healthy", "http": {"path": "/"}, "count": 4, "interval": "200ms"},
        ]
        doc = {
            "version": 1,
            "target": {"test_url": good.url, "prod_url": good.url, "allow_hosts": ["127.0.0.1"]},
            "hooks": {HOOK: checks},
        }
        spec = build_spec(doc, env={})
        # WHEN the run is a dry run
        result = run_hook(spec, HOOK, deadline=Deadline.after(20), dry_run=True)
    # THEN no failure stopped another check: each ran to its own end and is marked dry run; the verdict says
    #      what would have failed, and success is reported
    by_name = {c.name: c for c in result.checks}
    assert {c.name for c in result.checks if c.dry_run} == {"fails", "refused", "healthy"}
    assert by_name["fails"].status is Status.FAIL
    assert by_name["refused"].status is Status.ERROR
    assert by_name["healthy"].status is Status.PASS and by_name["healthy"].counts["PASS"] == 4
    assert result.verdict is Verdict.FAILED
    assert result.succeeded is True
    assert "dry run, would have reported Failed" in result.reason
    assert "fails" in result.reason
