"""The HTML report as a person sees it: headless Chromium renders the page of a real failing run, on a phone-sized
window, and the test reads what is on the page (the failing check first, the plots drawn).

Chromium is Debian's `chromium` package; without it the tests skip locally, and CI (.ci/run) installs it and
fails when they did not run.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from greenlight.reporting import report as reports
from greenlight_cli import report_html
from support.report_runs import failing_routes, run_against

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
# Where the last screenshot is kept for a person to look at (GREENLIGHT_SCREENSHOT_DIR), besides the test's tmp dir.
SHOT_DIR = os.environ.get("GREENLIGHT_SCREENSHOT_DIR")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Chromium, headless, with everything that would reach a network switched off."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # tests run as root in containers, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=390,844",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)  # noqa: S603


class _Page(HTMLParser):
    """What the rendered DOM holds: the checks' sections in order, and each latency polyline's point count."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[tuple[str, str, str]] = []  # (where, check, status)
        self.polylines: dict[str, int] = {}
        self.marks = 0
        self.where = ""
        self.viewport = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self.where = a["id"] or ""
        if tag == "meta" and a.get("name") == "viewport":
            self.viewport = True
        cls = (a.get("class") or "").split()
        if tag == "div" and "check" in cls:
            self.sections.append((self.where, a.get("data-check") or "", a.get("data-status") or ""))
        if tag == "polyline" and "latency" in cls:
            self.polylines[a.get("data-check") or ""] = len((a.get("points") or "").split())
        if tag == "rect" and "mark" in cls:
            self.marks += 1


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def failing_page(serve: Any, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    report = reports.from_result(run_against(serve(routes=failing_routes())), source="cli", controller="CODE_DEPLOY")
    path = tmp_path / "report.html"
    path.write_text(report_html.render(report), encoding="utf-8")
    return path, report


def test_browser_shows_the_failing_check_first_and_draws_the_plots(
    failing_page: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page_path, report = failing_page
    # WHEN Chromium loads the page and dumps the DOM it rendered
    done = chromium(tmp_path, "--dump-dom", page_path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    page = _Page()
    page.feed(done.stdout)
    # THEN the failing check leads: first in "Failing checks", and first among the checks' sections
    assert page.viewport
    failing = [s for s in page.sections if s[0] == "failing"]
    listed = [s for s in page.sections if s[0] == "checks"]
    assert failing == [("failing", "health", "FAIL")]
    assert [s[1:] for s in listed] == [("health", "FAIL"), ("home", "PASS")]
    # AND the latency plot has one point per measurement of each check, and the timeline one mark each
    counts = {c["name"]: len(c["measurements"]) for c in report["checks"]}
    assert counts == {"home": 3, "health": 3}
    assert page.polylines == counts
    assert page.marks == sum(counts.values())
    # AND what the server answered is shown as text, never run as markup
    assert "<script>alert" not in done.stdout


def test_browser_screenshot_on_a_phone_sized_window(failing_page: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    page_path, _ = failing_page
    shot = tmp_path / "report.png"
    # WHEN Chromium takes a screenshot of the page on a 390x844 window (a phone)
    done = chromium(tmp_path, f"--screenshot={shot}", page_path.as_uri())
    # THEN it is a PNG of that size
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    assert png_size(shot) == (390, 844)
    if SHOT_DIR:
        Path(SHOT_DIR).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(SHOT_DIR) / "report-phone.png")
        shutil.copy(page_path, Path(SHOT_DIR) / "report.html")
    assert not re.search(r"ERR_(NAME_NOT_RESOLVED|CONNECTION_REFUSED|BLOCKED)", done.stderr)
