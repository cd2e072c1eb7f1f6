"""Class 3 (fail open, spec part) and the spec's messages: no bound may be NaN or infinite, no key may be given
twice, and every mistake is shown at once with the offending value and the expected form.

Specs are written as YAML text and read by the real loader, so `.nan`, `.inf` and duplicate keys come from
the YAML parser exactly as an operator would write them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from greenlight import spec as specs
from greenlight.spec.errors import SpecError
from greenlight.spec.schema import parse_duration

HOOK = "AfterAllowTestTraffic"
URL = "http://127.0.0.1:8080"


def problems_of_text(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        specs.load_text(text, env={})
    return [str(p) for p in caught.value.problems]


def base(check: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "version": 1,
        "target": {"test_url": URL, "prod_url": URL},
        "hooks": {HOOK: [check or {"name": "h", "http": {"path": "/"}}]},
    }


def put(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node = doc
    keys = path.split(".")
    for key in keys[:-1]:
        index = int(key) if key.isdigit() else key
        node = node.setdefault(index, {}) if isinstance(node, dict) else node[index]
    node[keys[-1]] = value
    return doc


METRIC = {"name": "m", "metric": {"metric_name": "HTTPCode_Target_5XX_Count", "statistic": "Sum", "max": 0}}
HEALTH = {"name": "t", "target_health": {}}
# Every number that bounds a check, anywhere in a spec: (the document, the path set, the path in messages).
NUMERIC = [
    (base(), "target.max_body_bytes", "target.max_body_bytes"),
    (base(), "settings.report_reserve", "settings.report_reserve"),
    (base(), "settings.max_duration", "settings.max_duration"),
    *[
        (base(), f"defaults.{name}", f"defaults.{name}")
        for name in (
            "count",
            "interval",
            "timeout",
            "failure_limit",
            "consecutive_error_limit",
            "consecutive_successes",
        )
    ],
    *[
        (base(), f"hooks.{HOOK}.0.{name}", f"hooks.{HOOK}[0].{name}")
        for name in (
            "count",
            "interval",
            "timeout",
            "failure_limit",
            "consecutive_error_limit",
            "consecutive_successes",
        )
    ],
    (base(), f"hooks.{HOOK}.0.http.expect.max_latency_ms", f"hooks.{HOOK}[0].http.expect.max_latency_ms"),
    (base(), f"hooks.{HOOK}.0.http.follow_redirects", f"hooks.{HOOK}[0].http.follow_redirects"),
    *[
        (base(dict(METRIC, metric=dict(METRIC["metric"]))), f"hooks.{HOOK}.0.metric.{n}", f"hooks.{HOOK}[0].metric.{n}")
        for n in ("max", "min", "window", "period")
    ],
    (base(dict(HEALTH)), f"hooks.{HOOK}.0.target_health.min_healthy", f"hooks.{HOOK}[0].target_health.min_healthy"),
]


@pytest.mark.parametrize(("value", "shown"), [(float("nan"), ".nan"), (float("inf"), ".inf"), (-float("inf"), "-.inf")])
@pytest.mark.parametrize(("doc", "where", "path"), NUMERIC, ids=[n[2] for n in NUMERIC])
def test_spec_non_finite_number_is_refused_everywhere(
    doc: dict[str, Any], where: str, path: str, value: float, shown: str
) -> None:
    # GIVEN a spec whose one bounding number is NaN or infinite, written as YAML writes it
    text = yaml.safe_dump(put(yaml.safe_load(yaml.safe_dump(doc)), where, value))
    assert shown in text
    # WHEN it is read
    problems = problems_of_text(text)
    # THEN the problem names the path and shows the value
    assert any(p.startswith(f"{path}: ") and p.endswith(f"got {shown}") for p in problems), problems


def test_spec_metric_nan_max_would_have_passed_anything() -> None:
    # GIVEN the case that failed open: `max: .nan` on a metric check
    text = yaml.safe_dump(base(METRIC)).replace("max: 0", "max: .nan")
    # WHEN it is read
    problems = problems_of_text(text)
    # THEN it is refused, naming the field and the expected form
    assert f"hooks.{HOOK}[0].metric.max: expected a finite number, got .nan" in problems


@pytest.mark.parametrize(
    ("path", "value", "shown"),
    [
        (f"hooks.{HOOK}.0.count", 10**12, "1000000000000"),
        (f"hooks.{HOOK}.0.count", 10**400, "a 401-digit number"),
        (f"hooks.{HOOK}.0.http.expect.max_latency_ms", 10**400, "a 401-digit number"),
        ("settings.report_reserve", 10**400, "a 401-digit number"),
        (f"hooks.{HOOK}.0.timeout", "99999999999h", "'99999999999h'"),
        (f"hooks.{HOOK}.0.count", 1.5, "1.5"),
        ("settings.dry_run", "yes", "'yes'"),
    ],
)
def test_spec_giant_and_wrong_numbers_show_the_value(path: str, value: Any, shown: str) -> None:
    # GIVEN a number far too large, or of the wrong kind
    doc = put(base(), path, value)
    # WHEN the spec is read
    problems = problems_of_text(yaml.safe_dump(doc))
    # THEN the message quotes what was given (cut short when huge) and what was expected
    message = [p for p in problems if p.startswith(path.replace(".0.", "[0].") + ": ")]
    assert message and message[0].endswith(f"got {shown}") and "expected" in message[0], problems


# --- durations ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1m30s", 90.0),
        ("90s", 90.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1m2.5s", 62.5),
        ("250ms", 0.25),
        ("1s500ms", 1.5),
        ("1.5", 1.5),
        (" 2m ", 120.0),
        (30, 30.0),
    ],
)
def test_spec_duration_grammar_accepts(text: Any, seconds: float) -> None:
    # GIVEN a duration in one of the documented forms
    # WHEN it is parsed, and used as a check's interval
    parsed = parse_duration(text)
    spec = specs.build_spec(put(base(), f"hooks.{HOOK}.0.interval", text), env={})
    # THEN both give the same number of seconds
    assert parsed == seconds
    assert spec.checks_for(HOOK)[0].policy.interval == seconds


@pytest.mark.parametrize(
    "text",
    ["1s1m", "1m1m", "m", "1d", "-1s", "1e3s", "1.5.2s", "", "ms", "1 minute", True, "１０s", "٣s"],
)
def test_spec_duration_grammar_refuses(text: Any) -> None:
    # GIVEN something that is not a duration
    # WHEN it is a check's interval
    problems = problems_of_text(yaml.safe_dump(put(base(), f"hooks.{HOOK}.0.interval", text)))
    # THEN the problem shows the value and the grammar
    (problem,) = problems
    assert problem.startswith(f"hooks.{HOOK}[0].interval: expected a duration such as 250ms, 90s, 2m, 1m30s, 1h")


# --- duplicate keys ----------------------------------------------------------------------------------------

DUPLICATES = {
    "hook block pasted twice": (
        "version: 1\ntarget: {test_url: 'http://127.0.0.1:1'}\nhooks:\n"
        "  AfterAllowTestTraffic:\n    - {name: a, http: {path: /}}\n"
        "  AfterAllowTestTraffic:\n    - {name: b, http: {path: /x}}\n",
        "AfterAllowTestTraffic",
        (6, 4),
    ),
    "top level": ("version: 1\nversion: 1\nhooks: {}\n", "version", (2, 1)),
    "inside a check": (
        "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - name: a\n      http: {path: /}\n      name: b\n",
        "name",
        (6, 4),
    ),
    "expectations": (
        "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - name: a\n      http:\n        path: /\n"
        "        expect:\n          status: 200\n          status: 500\n",
        "status",
        (9, 8),
    ),
    "flow mapping": ('{"version": 1, "hooks": {}, "hooks": {}}', "hooks", (1, 1)),
}


@pytest.mark.parametrize(("text", "key", "lines"), DUPLICATES.values(), ids=list(DUPLICATES))
def test_spec_duplicate_key_is_invalid_naming_key_and_both_lines(text: str, key: str, lines: tuple[int, int]) -> None:
    # GIVEN a spec that gives one key twice in the same mapping
    # WHEN it is read
    problems = problems_of_text(text)
    # THEN it is invalid: the key and both lines are named
    (problem,) = problems
    second, first = lines
    assert f"duplicate key {key!r} on line {second}, first given on line {first}" in problem


def test_spec_yaml_merge_keys_may_still_be_overridden() -> None:
    # GIVEN a YAML merge (`<<: *base`) whose key is overridden: that is what merges are for, not a duplicate
    text = (
        "version: 1\nx-base: &base {count: 3, interval: 1s}\nhooks:\n  AfterAllowTestTraffic:\n"
        "    - {<<: *base, count: 5, name: a, http: {path: /}}\n"
    )
    # WHEN it is parsed by the spec loader and validated (without the anchor's holder)
    doc = specs.loader.parse_text(text, "<text>")
    doc.pop("x-base")
    spec = specs.build_spec(doc, env={})
    # THEN the override stands, the merged key too
    assert spec.checks_for(HOOK)[0].policy.count == 5
    assert spec.checks_for(HOOK)[0].policy.interval == 1.0


# --- every mistake at once, TLS files ----------------------------------------------------------------------


def test_spec_every_mistake_at_once_includes_url_and_host_rules() -> None:
    # GIVEN schema mistakes, URL rules and host rules broken in one spec
    doc = base()
    doc["target"]["test_url"] = "http://user:pw@127.0.0.1:8080"
    doc["target"]["prod_url"] = "http://0xa9fea9fe/"
    doc["target"]["allow_hosts"] = ["169.254.169.254", "https://x.example.com/"]
    doc["hooks"][HOOK].append({"name": "u", "count": 0, "http": {"url": "http://other.example.com/x"}})
    # WHEN it is read
    problems = problems_of_text(yaml.safe_dump(doc))
    # THEN the schema's mistake and every URL and host rule are all reported together
    joined = "\n".join(problems)
    assert f"hooks.{HOOK}[1].count: expected a whole number from 1 to 100000, got 0" in problems
    assert "target.test_url: credentials in URLs are not allowed" in joined
    assert "target.prod_url: 0xa9fea9fe (169.254.169.254) is a link-local" in joined
    assert "target.allow_hosts[0]: 169.254.169.254 is a link-local" in joined
    assert "target.allow_hosts[1]: expected a host name" in joined
    assert f"hooks.{HOOK}[1].http.url: host other.example.com is not in target.allow_hosts" in joined


def test_spec_missing_ca_bundle_is_a_spec_error(tmp_path: Path) -> None:
    # GIVEN a TLS CA bundle path that does not exist, and one that does
    present = tmp_path / "ca.pem"
    present.write_text("-----BEGIN CERTIFICATE-----\n")
    missing = put(base(), "target.tls", {"ca_bundle": str(tmp_path / "nope.pem")})
    fine = put(base(), "target.tls", {"ca_bundle": str(present)})
    # WHEN each is read
    problems = problems_of_text(yaml.safe_dump(missing))
    spec = specs.build_spec(fine, env={})
    # THEN the missing file is named at spec time; the present one is taken
    assert problems == [f"target.tls.ca_bundle: no file at '{tmp_path / 'nope.pem'}' (a PEM file of CA certificates)"]
    assert spec.target.tls.ca_bundle == str(present)
