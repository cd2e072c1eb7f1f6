"""Class 1 (hang): a user regular expression cannot hold the interpreter.

`body_matches` is matched by RE2 (greenlight.spec.regex), in time linear in the body. A pattern only a
backtracking engine could run is refused when the spec is read, naming its path and what to use instead.
No timing assertion here: the catastrophic pattern would run for longer than the test suite's timeout
under Python's `re`; with RE2 it ends, and the verdict and the report are asserted. Figures: bench/regex.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hook_harness import HOOK, Twin, invoke, write_spec

from greenlight import spec as specs
from greenlight.spec.errors import SpecError
from greenlight.spec.regex import MAX_PATTERN, compile_pattern
from support.servers import HttpServer, Reply

CATASTROPHIC = r"(a+)+$"
HOSTILE_BODY = "a" * 5000 + "!"
CLI = [sys.executable, "-m", "greenlight_cli"]


def regex_spec(url: str, pattern: str, **expect: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "target": {"test_url": url, "prod_url": url},
        "hooks": {
            HOOK: [{"name": "body", "count": 1, "http": {"path": "/", "expect": {"body_matches": pattern, **expect}}}]
        },
    }


def problems_of(doc: Any) -> list[str]:
    with pytest.raises(SpecError) as caught:
        specs.build_spec(doc, env={})
    return [str(p) for p in caught.value.problems]


def test_regex_catastrophic_pattern_on_hostile_body_hook_reports_failed(twin: Twin, tmp_path: Path) -> None:
    # GIVEN green answers 'a' * 5000 + '!' and the spec asks for the classic catastrophic (a+)+$
    with HttpServer(Reply(200, body=HOSTILE_BODY)) as green:
        spec_path = write_spec(tmp_path, regex_spec(green.url, CATASTROPHIC))
        # WHEN the CodeDeploy hook runs (a real handler, the test Lambda context, the twin's CodeDeploy)
        run = invoke(twin, spec_path, seconds=60)
    # THEN the match ended (RE2 finds no match: the body does not end in 'a'), the hook failed and reported it
    assert run.error is None, run.error
    assert run.outcome is not None and run.outcome["status"] == "Failed", run.outcome
    assert twin.execution().reports == ("Failed",)


def test_regex_catastrophic_pattern_cli_reports_json_verdict(tmp_path: Path) -> None:
    # GIVEN the same body and pattern, once failing (no match) and once passing ((a+)+! does match)
    with HttpServer(Reply(200, body=HOSTILE_BODY)) as green:
        failing = write_spec(tmp_path, regex_spec(green.url, CATASTROPHIC), name="fail.yaml")
        passing = write_spec(tmp_path, regex_spec(green.url, r"(a+)+!$"), name="pass.yaml")
        # WHEN `greenlight check --json` runs each as a separate process
        runs = [
            subprocess.run(
                [*CLI, "check", "--spec", str(path), "--json", "--quiet"],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            for path in (failing, passing)
        ]
    # THEN each printed its verdict: FAIL naming the pattern, then PASS
    bad, good = (json.loads(r.stdout) for r in runs)
    assert runs[0].returncode == 1, runs[0].stderr
    (check,) = bad["checks"]
    assert check["status"] == "FAIL" and "does not match /(a+)+$/" in check["reason"]
    assert runs[1].returncode == 0, runs[1].stderr
    assert good["checks"][0]["status"] == "PASS"


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(a)\1", "backreferences"),
        (r"(?P<x>a)(?P=x)", "backreferences"),
        (r"foo(?=bar)", "lookahead"),
        (r"(?!error)", "negative lookahead"),
        (r"(?<=x)y", "lookbehind"),
        (r"a{1001}", "at most 1000"),
        (r"((a{999}){999}){999}", "repetition"),
        (r"a*+", "possessive"),
        ("(", "missing )"),
    ],
)
def test_regex_pattern_re2_cannot_take_is_a_spec_error(pattern: str, why: str) -> None:
    # GIVEN a body_matches only a backtracking engine (or no engine) could run
    doc = regex_spec("http://127.0.0.1:9", pattern)
    # WHEN the spec is read
    problems = problems_of(doc)
    # THEN one problem names the path, quotes the pattern, says why and what to use instead
    (problem,) = problems
    assert problem.startswith(f"hooks.{HOOK}[0].http.expect.body_matches: cannot use the regular expression ")
    assert why in problem
    assert "RE2" in problem and "body_contains" in problem


def test_regex_pathological_sizes_are_spec_errors_not_tracebacks() -> None:
    # GIVEN patterns that are huge, or nested thousands deep
    huge = "a" * (MAX_PATTERN + 1)
    deep = "(" * 2000 + "a" + ")" * 2000  # within MAX_PATTERN: RE2's own nesting limit decides
    # WHEN they are read as specs
    too_long = problems_of(regex_spec("http://127.0.0.1:9", huge))
    # THEN the long one is refused by size; the deep one is refused or compiled, never a crash
    assert "longer than" in too_long[0]
    try:
        compile_pattern(deep)
    except ValueError as exc:
        assert "RE2" in str(exc) and "nest" in str(exc)


def test_regex_match_reaching_the_cut_of_a_truncated_body_fails(tmp_path: Path) -> None:
    # GIVEN a body larger than max_body_bytes, and patterns that match only thanks to the cut
    body = "ok " + "x" * 4000 + " trailing-error"
    with HttpServer(Reply(200, body=body)) as green:
        results = {}
        for name, pattern in {"anchored": r"x+$", "early": r"^ok "}.items():
            doc = regex_spec(green.url, pattern)
            doc["target"]["max_body_bytes"] = 1024
            spec_path = write_spec(tmp_path, doc, name=f"{name}.yaml")
            proc = subprocess.run(
                [*CLI, "check", "--spec", str(spec_path), "--json", "--quiet"],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            results[name] = json.loads(proc.stdout)["checks"][0]
    # THEN `x+$` matched only where the body was cut: FAIL; `^ok ` matched well before the cut: PASS
    assert results["anchored"]["status"] == "FAIL"
    assert "max_body_bytes" in results["anchored"]["reason"]
    assert results["early"]["status"] == "PASS"


def test_regex_spec_yaml_with_catastrophic_pattern_still_valid() -> None:
    # GIVEN (a+)+$ is valid RE2: it is not refused, since RE2 runs it in linear time
    text = yaml.safe_dump(regex_spec("http://127.0.0.1:9", CATASTROPHIC))
    # WHEN the spec is read
    spec = specs.load_text(text, env={})
    # THEN it is accepted as written
    (check,) = spec.checks_for(HOOK)
    assert check.body["expect"]["body_matches"] == CATASTROPHIC
