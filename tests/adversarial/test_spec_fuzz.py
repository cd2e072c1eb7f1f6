"""Class 6 (no traceback, spec part): whatever a spec holds, reading it ends in a valid Spec or a SpecError.

Hypothesis generates documents (any nesting of mappings, lists and scalars, NaN and infinities included),
mutations of a valid spec at every field, raw text and bytes, regular expressions and JMESPath
expressions. Pathological files then go through `greenlight validate` and `greenlight check` as separate
processes: exit code 2, a message, and never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlight import spec as specs
from greenlight.spec.errors import SpecError
from greenlight.spec.loader import parse_text

HOOK = "AfterAllowTestTraffic"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["auto", "http://127.0.0.1:1/", "0xa9fea9fe", "1m30s", "(a+)+$", "${HOME}", "2xx", "p99"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.none()), children, max_size=4),
    ),
    max_leaves=30,
)

VALID = {
    "version": 1,
    "target": {"test_url": "http://127.0.0.1:8080", "prod_url": "auto", "allow_hosts": ["api.example.com"]},
    "defaults": {"count": 3, "interval": "1s", "timeout": "2s"},
    "settings": {"on_inconclusive": "fail", "report_reserve": "15s", "max_duration": "1h"},
    "hooks": {
        HOOK: [
            {
                "name": "h",
                "http": {
                    "path": "/health",
                    "headers": {"Authorization": {"secret": "ssm:/x", "prefix": "Bearer "}},
                    "expect": {"status": [200, "2xx"], "body_matches": "ok", "json": {"a.b": 1}, "max_latency_ms": 50},
                },
            },
            {"name": "m", "metric": {"metric_name": "X", "statistic": "p99", "max": 1.0, "window": "5m"}},
        ]
    },
}


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in `doc` a value sits."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, (*prefix, i))
    return out


PATHS = paths(VALID)


def replaced(doc: Any, where: tuple[Any, ...], value: Any) -> Any:
    if not where:
        return value
    head, rest = where[0], where[1:]
    if isinstance(doc, dict):
        return {**doc, head: replaced(doc.get(head), rest, value)}
    copy = list(doc)
    copy[head] = replaced(doc[head], rest, value)
    return copy


def read(doc: Any) -> None:
    """Build the spec; only SpecError may come out."""
    try:
        specs.build_spec(doc, env={"HOME": "/root"})
    except SpecError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


def test_spec_fuzz_valid_base_is_valid() -> None:
    # GIVEN the base the mutations start from
    # WHEN it is read
    spec = specs.build_spec(VALID, env={})
    # THEN it is valid (so the mutations below test what they change)
    assert [c.name for c in spec.checks_for(HOOK)] == ["h", "m"]


@FUZZ
@given(documents)
def test_spec_fuzz_any_document(doc: Any) -> None:
    read(doc)
    read({"version": 1, "hooks": {HOOK: doc}})


@FUZZ
@given(st.sampled_from(PATHS), documents)
def test_spec_fuzz_mutated_valid_spec(where: tuple[Any, ...], value: Any) -> None:
    read(replaced(VALID, where, value))


@FUZZ
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_spec_fuzz_raw_text(text: str) -> None:
    try:
        doc = parse_text(text, "<fuzz>")
    except SpecError:
        return
    read(doc)


@FUZZ
@given(st.text(max_size=80))
def test_spec_fuzz_regex_and_jmespath(expr: str) -> None:
    read(replaced(VALID, ("hooks", HOOK, 0, "http", "expect", "body_matches"), expr))
    read(replaced(VALID, ("hooks", HOOK, 0, "http", "expect", "json"), {expr: 1}))


@FUZZ
@given(st.text(max_size=80))
def test_spec_fuzz_identity_jmespath(expr: str) -> None:
    for json_path in (expr, "(" * 400 + "a" + ")" * 400):
        identity = {"path": "/version", "json": json_path, "expected": {"value": "1.0"}}
        read(
            {
                "version": 1,
                "target": {"test_url": "http://127.0.0.1:1"},
                "hooks": {HOOK: [{"name": "v", "identity": identity}]},
            }
        )


@FUZZ
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["(", "[", "{", "("]))
def test_spec_fuzz_deep_nesting_in_patterns(depth: int, opener: str) -> None:
    closer = {"(": ")", "[": "]", "{": "}"}[opener]
    read(replaced(VALID, ("hooks", HOOK, 0, "http", "expect", "body_matches"), "(" * depth + "a" + ")" * depth))
    read(replaced(VALID, ("hooks", HOOK, 0, "http", "expect", "json"), {opener * depth + "a" + closer * depth: 1}))


# --- the CLI, as a separate process ------------------------------------------------------------------------

# Nine levels of nine-fold aliases: 9**9 values once expanded, from a dozen lines.
ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
    + "version: 1\nhooks: {}\n"
).encode()
PATHOLOGICAL: dict[str, bytes] = {
    "deep YAML lists": b"version: 1\nhooks: " + b"[" * 20000 + b"]" * 20000,
    "deep YAML mappings": b"version: 1\nhooks: " + b"{a: " * 5000 + b"1" + b"}" * 5000,
    "5000-digit number": b"version: 1\nhooks: {AfterAllowTestTraffic: [{name: a, count: " + b"9" * 5000 + b"}]}",
    "binary garbage": bytes(range(256)) * 4,
    "not UTF-8": "version: 1\nhooks: {}\n# café".encode("latin-1"),
    "non-string keys": b"version: 1\nhooks: {1: [], null: [], true: [], 2.5: []}\n",
    "unhashable key": b"version: 1\nhooks: {? [a, b] : []}\n",
    "alias bomb": ALIAS_BOMB,
    "huge repeat count": yaml.safe_dump(replaced(VALID, ("hooks", HOOK, 0, "count"), 10**12)).encode(),
    "deep regex": yaml.safe_dump(
        replaced(VALID, ("hooks", HOOK, 0, "http", "expect", "body_matches"), "(" * 5000 + ")" * 5000)
    ).encode(),
    "deep JMESPath": yaml.safe_dump(
        replaced(VALID, ("hooks", HOOK, 0, "http", "expect", "json"), {"(" * 900 + "a" + ")" * 900: 1})
    ).encode(),
    "NaN bound": yaml.safe_dump(replaced(VALID, ("hooks", HOOK, 1, "metric", "max"), float("nan"))).encode(),
    "empty file": b"",
    "a list at the top": b"- 1\n- 2\n",
}


@pytest.mark.parametrize("command", ["validate", "check"])
@pytest.mark.parametrize("content", PATHOLOGICAL.values(), ids=list(PATHOLOGICAL))
def test_spec_fuzz_cli_pathological_spec_exits_2_without_traceback(
    tmp_path: Path, content: bytes, command: str
) -> None:
    # GIVEN a pathological spec file
    path = tmp_path / "spec.yaml"
    path.write_bytes(content)
    # WHEN the CLI reads it
    proc = subprocess.run(
        [sys.executable, "-m", "greenlight_cli", command, "--spec", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )
    # THEN a clear message and exit code 2, never a traceback
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip().startswith("greenlight:"), proc.stderr[-2000:]
