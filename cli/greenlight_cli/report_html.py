"""A validation report (greenlight.reporting.report) as one self-contained HTML page.

The page needs nothing from a network: the CSS is inline and the plots are SVG drawn here, so it opens from a
CI artifact, an S3 console download or a phone's files app alike. It shows, in this order: the verdict, the
failing checks with the assertions that failed, a timeline of every check's measurements, a latency plot, and
each check's measurements (failing checks first). Every text that came from a server, a spec or AWS is
HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

_COLORS = {
    "PASS": "#1a7f37",  # nosec B105  # a status colour, not a password
    "FAIL": "#cf222e",
    "ERROR": "#bc4c00",
    "INCONCLUSIVE": "#8250df",
    "PAUSED": "#6e7781",
    "PASSED": "#1a7f37",
    "FAILED": "#cf222e",
}
# Series colors of the latency plot, one per check (cycled), readable on white.
_SERIES = ("#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#116329", "#0550ae")
_BAD = ("FAIL", "ERROR", "INCONCLUSIVE")

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#1f2328;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:12px}
header,section.block{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 14px;margin:0 0 12px}
h1{font-size:1.3em;margin:0 0 6px;word-break:break-word}
h2{font-size:1.1em;margin:0 0 8px}
h3{font-size:1em;margin:0 0 6px;word-break:break-word}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;color:#fff;font-weight:600;font-size:.9em}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0 0}
dl.facts dt{color:#59636e}
dl.facts dd{margin:0;word-break:break-all}
.check{border-left:4px solid #d0d7de;padding:6px 0 6px 10px;margin:0 0 12px}
.check.failing{border-left-color:#cf222e}
.check.passing{border-left-color:#1a7f37}
ul.assertions{margin:4px 0 0;padding-left:20px}
ul.assertions li{word-break:break-word}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eaeef2;vertical-align:top}
td.reason{word-break:break-word;min-width:12em}
svg{display:block;width:100%;height:auto;max-width:100%}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.85em;margin-top:6px}
.legend span::before{content:"";display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;
background:var(--c)}
.muted{color:#59636e;font-size:.9em}
@media (max-width:600px){body{font-size:14px}main{padding:6px}header,section.block{padding:10px}
dl.facts{grid-template-columns:1fr}dl.facts dt{margin-top:4px}}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _badge(status: str) -> str:
    color = _COLORS.get(status, "#6e7781")
    return f'<span class="badge" style="background:{color}">{_e(status)}</span>'


def _ordered(checks: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Failing checks first (FAIL, ERROR, INCONCLUSIVE; dry runs after the rest of them), then the others."""
    rank = {"FAIL": 0, "ERROR": 1, "INCONCLUSIVE": 2}
    return sorted(
        checks, key=lambda c: (c.get("status") not in _BAD, bool(c.get("dry_run")), rank.get(str(c.get("status")), 3))
    )


def _times(checks: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    ts = [m["t"] for c in checks for m in c.get("measurements") or () if isinstance(m.get("t"), int | float)]
    if not ts:
        return 0.0, 1.0
    start, end = min(ts), max(ts)
    return start, max(end, start + 1e-3)


def _span(seconds: float) -> str:
    """An axis' length: milliseconds under a second, else seconds."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _facts(report: Mapping[str, Any]) -> str:
    dep = report.get("deployment") or {}
    versions = dep.get("versions") or {}
    weights = dep.get("weights") or {}
    target = report.get("target") or {}
    rows = [
        ("controller", report.get("controller")),
        ("deployment", dep.get("id")),
        ("application / group", " / ".join(str(x) for x in (dep.get("application"), dep.get("deployment_group")) if x)),
        ("service", dep.get("service")),
        ("green version", versions.get("green")),
        ("blue version", versions.get("blue")),
        (
            "weights",
            ", ".join(
                f"{side} {weights[side]:g}%" for side in ("green", "blue") if isinstance(weights.get(side), int | float)
            ),
        ),
        ("test URL", target.get("test_url")),
        ("production URL", target.get("prod_url")),
        (
            "duration",
            f"{report['duration_ms'] / 1000:.2f} s" if isinstance(report.get("duration_ms"), int | float) else None,
        ),
        ("written", f"{report.get('created_at', '')} by {report.get('generator', '')} ({report.get('source', '')})"),
    ]
    cells = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows if v not in (None, ""))
    return f'<dl class="facts">{cells}</dl>'


def _failing(report: Mapping[str, Any]) -> str:
    failing = report.get("failing") or []
    if not failing:
        return '<section class="block" id="failing"><h2>Failing checks</h2><p>None: every check passed.</p></section>'
    items = []
    for f in failing:
        assertions = "".join(f"<li>{_e(a)}</li>" for a in f.get("assertions") or ())
        dry = ' <span class="muted">(dry run: did not fail the hook)</span>' if f.get("dry_run") else ""
        items.append(
            f'<div class="check failing" data-check="{_e(f.get("check"))}" data-status="{_e(f.get("status"))}">'
            f'<h3>{_badge(str(f.get("status")))} {_e(f.get("check"))} <span class="muted">{_e(f.get("kind"))}</span>'
            f'{dry}</h3><p>{_e(f.get("reason"))}</p><ul class="assertions">{assertions}</ul></div>'
        )
    return f'<section class="block" id="failing"><h2>Failing checks</h2>{"".join(items)}</section>'


def _timeline(checks: Sequence[Mapping[str, Any]]) -> str:
    """One row per check, one mark per measurement at its time, colored by its status."""
    start, end = _times(checks)
    width, label_w, row_h, pad = 600, 150, 30, 8
    plot_w = width - label_w - pad
    height = row_h * max(1, len(checks)) + 30
    parts = [
        f'<svg id="timeline" viewBox="0 0 {width} {height}" role="img" aria-label="timeline of every measurement" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="18">'
    ]
    for i, c in enumerate(checks):
        y = i * row_h + 4
        name = str(c.get("name", "?"))
        short = name if len(name) <= 14 else name[:13] + "…"
        parts.append(f'<text x="0" y="{y + 16}" fill="#1f2328">{_e(short)}<title>{_e(name)}</title></text>')
        parts.append(
            f'<line x1="{label_w}" y1="{y + 11}" x2="{width - pad}" y2="{y + 11}" stroke="#eaeef2" stroke-width="1"/>'
        )
        for m in c.get("measurements") or ():
            t = m.get("t")
            if not isinstance(t, int | float):
                continue
            x = label_w + (t - start) / (end - start) * plot_w
            color = _COLORS.get(str(m.get("status")), "#6e7781")
            parts.append(
                f'<rect class="mark" data-check="{_e(name)}" x="{x - 4:.1f}" y="{y + 1}" width="8" height="20" rx="1" '
                f'fill="{color}"><title>{_e(m.get("at"))} {_e(m.get("status"))}: {_e(m.get("reason"))}</title></rect>'
            )
    parts.append(
        f'<text x="{label_w}" y="{height - 4}" fill="#59636e">0 s</text>'
        f'<text x="{width - pad}" y="{height - 4}" fill="#59636e" text-anchor="end">{_span(end - start)}</text></svg>'
    )
    legend = "".join(f'<span style="--c:{_COLORS[s]}">{s}</span>' for s in ("PASS", "FAIL", "ERROR"))
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _latency_plot(checks: Sequence[Mapping[str, Any]]) -> str:
    """Each check's measurement latency over time: a polyline per check, a dot per measurement."""
    start, end = _times(checks)
    latencies = [
        float(m.get("latency_ms") or 0) for c in checks for m in c.get("measurements") or () if m.get("t") is not None
    ]
    top = max(latencies, default=1.0) * 1.1 or 1.0
    width, height, left, bottom, pad = 600, 300, 76, 30, 10
    plot_w, plot_h = width - left - pad, height - bottom - pad
    parts = [
        f'<svg id="latency" viewBox="0 0 {width} {height}" role="img" aria-label="latency of every measurement" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="18">',
        f'<line x1="{left}" y1="{pad}" x2="{left}" y2="{pad + plot_h}" stroke="#8c959f"/>',
        f'<line x1="{left}" y1="{pad + plot_h}" x2="{width - pad}" y2="{pad + plot_h}" stroke="#8c959f"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        y = pad + plot_h - frac * plot_h
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#59636e">{top * frac:.0f} ms</text>'
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - pad}" y2="{y:.1f}" stroke="#eaeef2"/>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 6}" fill="#59636e">0 s</text>'
        f'<text x="{width - pad}" y="{height - 6}" fill="#59636e" text-anchor="end">{_span(end - start)}</text>'
    )
    legend = []
    for i, c in enumerate(checks):
        color = _SERIES[i % len(_SERIES)]
        name = str(c.get("name", "?"))
        points, dots = [], []
        for m in c.get("measurements") or ():
            t = m.get("t")
            if not isinstance(t, int | float):
                continue
            x = left + (t - start) / (end - start) * plot_w
            y = pad + plot_h - float(m.get("latency_ms") or 0) / top * plot_h
            points.append(f"{x:.1f},{y:.1f}")
            dot = _COLORS.get(str(m.get("status")), color)
            dots.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{dot}"><title>{_e(name)} {_e(m.get("at"))}: '
                f"{_e(m.get('latency_ms'))} ms {_e(m.get('status'))}</title></circle>"
            )
        if not points:
            continue
        parts.append(
            f'<polyline class="latency" data-check="{_e(name)}" fill="none" stroke="{color}" stroke-width="2" '
            f'points="{" ".join(points)}"/>'
        )
        parts.extend(dots)
        legend.append(f'<span style="--c:{color}">{_e(name)}</span>')
    parts.append("</svg>")
    return "".join(parts) + f'<div class="legend">{"".join(legend)}</div>'


def _check_section(c: Mapping[str, Any]) -> str:
    status = str(c.get("status"))
    cls = "failing" if status in _BAD else "passing"
    counts = c.get("counts") or {}
    count_text = ", ".join(f"{counts.get(k, 0)} {k.lower()}" for k in ("PASS", "FAIL", "ERROR"))
    dropped = c.get("measurements_dropped") or 0
    rows = "".join(
        f"<tr><td>{_e((m.get('at') or '')[11:23])}</td><td>{float(m.get('latency_ms') or 0):.1f}</td>"
        f'<td>{_badge(str(m.get("status")))}</td><td class="reason">{_e(m.get("reason"))}</td></tr>'
        for m in c.get("measurements") or ()
    )
    more = f'<p class="muted">{dropped} earlier measurement(s) not kept in this report.</p>' if dropped else ""
    dry = ' <span class="muted">(dry run)</span>' if c.get("dry_run") else ""
    return (
        f'<div class="check {cls}" data-check="{_e(c.get("name"))}" data-status="{_e(status)}">'
        f'<h3>{_badge(status)} {_e(c.get("name"))} <span class="muted">{_e(c.get("kind"))}</span>{dry}</h3>'
        f'<p>{_e(c.get("reason"))}<br><span class="muted">{_e(count_text)}</span></p>{more}'
        f'<div class="scroll"><table><thead><tr><th>time (UTC)</th><th>ms</th><th>status</th><th>reason</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></div></div>"
    )


def render(report: Mapping[str, Any]) -> str:
    """The HTML page of `report` (a dict as greenlight.reporting.report builds it)."""
    checks = _ordered(list(report.get("checks") or ()))
    verdict = str(report.get("verdict", "?"))
    title = f"greenlight {report.get('hook', '')}: {verdict}"
    outcome = "reported Succeeded" if report.get("succeeded") else "reported Failed"
    sections = "".join(_check_section(c) for c in checks)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No request may leave the page: it is opened from CI artifacts and downloads, often offline.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<header><h1>{_badge(verdict)} {_e(report.get('hook'))}</h1>"
        f"<p>{_e(outcome)}: {_e(report.get('reason'))}</p>{_facts(report)}</header>"
        f"{_failing(report)}"
        f'<section class="block"><h2>Timeline</h2>{_timeline(checks)}</section>'
        f'<section class="block"><h2>Latency</h2>{_latency_plot(checks)}</section>'
        f'<section class="block" id="checks"><h2>Checks</h2>{sections}</section>'
        "</main></body></html>\n"
    )
