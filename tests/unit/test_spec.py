"""Spec validation: every mistake with its path, all at once; durations, variables, JSON, YAML errors, defaults."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlight.checks import KINDS, Check, CheckContext, Destination
from greenlight.engine.model import Measurement, passed
from greenlight.spec import Spec, SpecError, SpecSourceError, build_spec, load, load_text
from greenlight.spec.schema import Field, ListOf, Obj, Str, parse_duration

REPO = Path(__file__).resolve().parents[2]
HOOK = "AfterAllowTestTraffic"


def problems_of(text_or_doc: str | dict[str, Any], env: dict[str, str] | None = None) -> list[str]:
    """Every problem the spec has, as 'path: message' lines (fails the test if the spec is valid)."""
    with pytest.raises(SpecError) as caught:
        if isinstance(text_or_doc, str):
            load_text(text_or_doc, env=env or {})
        else:
            build_spec(text_or_doc, env=env or {})
    return [str(p) for p in caught.value.problems]


def doc_with(check: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": 1, "hooks": {HOOK: [{"name": "health", **check}]}, **top}


def only_check(spec: Spec) -> Any:
    (check,) = spec.checks_for(HOOK)
    return check


# --- every mistake, with its path ------------------------------------------------------------------------


def test_spec_unknown_field_did_you_mean() -> None:
    # GIVEN a misspelt expectation
    text = "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - name: h\n      http: {path: /, expect: {stauts: 200}}\n"
    # WHEN it is loaded
    problems = problems_of(text)
    # THEN the problem names its full path and suggests the right word
    assert problems == ["hooks.AfterAllowTestTraffic[0].http.expect.stauts: unknown field (did you mean 'status'?)"]


def test_spec_every_problem_reported_at_once() -> None:
    # GIVEN a spec with many mistakes in different places
    doc = {
        "version": 2,
        "target": {"test_url": "ftp://lb", "max_body_bytes": 10},
        "defaults": {"count": 0, "timeout": "soon"},
        "settings": {"on_inconclusive": "pas", "dry_run": "yes"},
        "hooks": {
            HOOK: [
                {"name": "a", "http": {"path": "health", "method": "FETCH"}},
                {"name": "b", "http": {"path": "/", "expect": {"status": [999]}}, "count": 1.5},
            ]
        },
    }
    # WHEN it is validated
    problems = problems_of(doc)
    # THEN each mistake is reported once, with its path
    assert problems == [
        "version: expected a whole number from 1 to 1, got 2",
        "target.test_url: expected an http:// or https:// URL with no query or fragment (checks append their path), "
        "or 'auto', got 'ftp://lb'",
        "target.max_body_bytes: expected a whole number from 1024 to 67108864, got 10",
        "defaults.count: expected a whole number from 1 to 100000, got 0",
        "defaults.timeout: expected a duration such as 250ms, 90s, 2m, 1m30s, 1h or a number of seconds, got 'soon'",
        "settings.on_inconclusive: expected one of 'fail', 'pass', got 'pas' (did you mean 'pass'?)",
        "settings.dry_run: expected true or false, got 'yes'",
        "hooks.AfterAllowTestTraffic[0].http.method: expected one of 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', "
        "'DELETE', 'OPTIONS', got 'FETCH' (did you mean 'PATCH'?)",
        "hooks.AfterAllowTestTraffic[0].http.path: expected a path starting with '/', got 'health'",
        "hooks.AfterAllowTestTraffic[1].count: expected a whole number from 1 to 100000, got 1.5",
        "hooks.AfterAllowTestTraffic[1].http.expect.status[0]: expected a whole number from 100 to 599 "
        "or a status class such as '2xx', got 999",
    ]


def test_spec_error_message_lists_source_and_problems() -> None:
    # GIVEN an invalid spec read from a named source
    # WHEN it is loaded
    with pytest.raises(SpecError) as caught:
        load_text("version: 1\nhooks: {}\ntargte: {}\n", source="greenlight.yaml", env={})
    # THEN the message names the source, the count, and each problem on its own line
    assert str(caught.value) == (
        "invalid spec greenlight.yaml: 1 problem(s)\n  targte: unknown field (did you mean 'target'?)"
    )
    assert caught.value.source == "greenlight.yaml"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"hooks": {}}, "version: required field is missing (a whole number from 1 to 1)"),
        ({"version": 1}, "hooks: required field is missing (a mapping)"),
        (
            {"version": 1, "hooks": {HOOK: [{"name": "h"}]}},
            "hooks.AfterAllowTestTraffic[0]: expected one check kind: ",
        ),
        (
            {"version": 1, "hooks": {HOOK: [{"http": {"path": "/"}}]}},
            "hooks.AfterAllowTestTraffic[0].name: required field is missing",
        ),
        ({"version": 1, "hooks": {HOOK: ["health"]}}, "hooks.AfterAllowTestTraffic[0]: expected a mapping"),
        ({"version": 1, "hooks": {HOOK: None}}, "hooks.AfterAllowTestTraffic: expected a list of a check, got null"),
        (
            {"version": 1, "hooks": {HOOK: [{"name": "bad name!", "http": {"path": "/"}}]}},
            "hooks.AfterAllowTestTraffic[0].name: expected a name of letters, digits, _.:-, got 'bad name!'",
        ),
    ],
    ids=["no-version", "no-hooks", "no-kind", "no-name", "not-a-mapping", "null-hook", "bad-name"],
)
def test_spec_structure_mistakes(doc: dict[str, Any], expected: str) -> None:
    # GIVEN a spec missing or misshaping something structural
    # WHEN it is validated
    problems = problems_of(doc)
    # THEN the problem says where and what was expected
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize("top", ["", "- a list\n", "just text\n", "42\n"], ids=["empty", "list", "text", "number"])
def test_spec_top_level_must_be_a_mapping(top: str) -> None:
    # GIVEN a document that is not a mapping
    # WHEN it is loaded
    problems = problems_of(top)
    # THEN that is the one problem
    assert problems == ["expected a mapping at the top of the spec"]


def test_spec_unknown_hook_name_did_you_mean() -> None:
    # GIVEN a misspelt hook name
    doc = {"version": 1, "hooks": {"AfterAlowTestTraffic": [{"name": "h", "http": {"path": "/"}}]}}
    # WHEN it is validated
    problems = problems_of(doc)
    # THEN it is unknown, with a suggestion
    assert problems == ["hooks.AfterAlowTestTraffic: unknown field (did you mean 'AfterAllowTestTraffic'?)"]


def test_spec_ecs_stage_names_are_hooks_too() -> None:
    # GIVEN checks keyed by an ECS native stage name
    doc = {"version": 1, "hooks": {"POST_TEST_TRAFFIC_SHIFT": [{"name": "h", "http": {"path": "/"}}]}}
    # WHEN the spec is built
    spec = build_spec(doc, env={})
    # THEN the stage and its CodeDeploy equivalent both find the check
    assert [c.name for c in spec.checks_for("POST_TEST_TRAFFIC_SHIFT")] == ["h"]
    assert [c.name for c in spec.checks_for(HOOK)] == ["h"]
    assert spec.checks_for("AfterInstall") == ()


def test_spec_duplicate_check_names_in_a_hook() -> None:
    # GIVEN two checks of one hook with the same name, and the same name again in another hook
    check = {"name": "health", "http": {"path": "/"}}
    doc = {"version": 1, "hooks": {HOOK: [check, dict(check)], "AfterAllowTraffic": [dict(check)]}}
    # WHEN it is validated
    problems = problems_of(doc)
    # THEN only the duplicate within one hook is a mistake
    assert problems == ["hooks.AfterAllowTestTraffic[1].name: duplicate check name 'health'"]


def test_spec_one_check_kind_per_check() -> None:
    # GIVEN a check with a kind and an unknown key
    doc = doc_with({"http": {"path": "/"}, "tcp": {"port": 80}})
    # WHEN it is validated
    problems = problems_of(doc)
    # THEN the unknown key is named with what is allowed
    assert len(problems) == 1
    assert problems[0].startswith("hooks.AfterAllowTestTraffic[0].tcp: unknown field")


def test_spec_http_body_mistakes() -> None:
    # GIVEN an http check with mistakes only the http kind knows about
    doc = doc_with(
        {
            "http": {
                "path": "/x",
                "url": "http://127.0.0.1/x",
                "headers": {"X-Bad": "a\r\nInjected: 1"},
                "expect": {"body_matches": "(", "json": {"a[": 1}},
            }
        },
        target={"test_url": "http://127.0.0.1", "prod_url": "http://127.0.0.1"},
    )
    # WHEN it is validated
    problems = problems_of(doc)
    # THEN each is reported at its path
    prefix = "hooks.AfterAllowTestTraffic[0].http"
    assert f"{prefix}.url: give either 'path' or 'url', not both" in problems
    assert f"{prefix}.headers.X-Bad: header value contains CR, LF or NUL" in problems
    assert any(p.startswith(f"{prefix}.expect.body_matches: cannot use the regular expression") for p in problems)
    assert any(p.startswith(f"{prefix}.expect.json.a[: invalid JMESPath") for p in problems)


def test_spec_consecutive_successes_beyond_count_is_a_mistake() -> None:
    # GIVEN a check that needs more passes in a row than it will ever measure (count from the defaults)
    doc = doc_with({"http": {"path": "/"}, "consecutive_successes": 3}, defaults={"count": 2})
    # WHEN it is validated
    problems = problems_of(doc)
    # THEN the spec is refused: the check could never pass
    assert problems == [
        "hooks.AfterAllowTestTraffic[0].consecutive_successes: 3 consecutive successes can never come from "
        "count 2 measurements; raise count or lower consecutive_successes"
    ]


# --- durations --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("250ms", 0.25),
        ("5s", 5.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        (" 10 s ", 10.0),
        ("3", 3.0),
        (3, 3.0),
        (0.5, 0.5),
        (0, 0.0),
    ],
)
def test_spec_duration_parses(value: Any, seconds: float) -> None:
    # GIVEN a duration as a spec may give it
    # WHEN it is parsed
    # THEN it is that many seconds
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["5x", "-1s", -1, "", "ms", "5 seconds", True, None, [5], "1e3s"])
def test_spec_duration_rejects(value: Any) -> None:
    # GIVEN something that is not a duration
    # WHEN it is parsed
    # THEN it is refused
    assert parse_duration(value) is None


def test_spec_durations_in_checks_become_seconds() -> None:
    # GIVEN a check with durations in several forms
    doc = doc_with({"http": {"path": "/"}, "timeout": "250ms", "interval": "2m"})
    # WHEN the spec is built
    policy = only_check(build_spec(doc, env={})).policy
    # THEN the policy holds seconds
    assert (policy.timeout, policy.interval) == (0.25, 120.0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timeout", "soon", "expected a duration such as 250ms, 90s, 2m, 1m30s, 1h or a number of seconds, got 'soon'"),
        ("timeout", 0, "expected a duration from 0.001s to 900s, got 0"),
        ("timeout", "16m", "expected a duration from 0.001s to 900s, got '16m'"),
        ("interval", "2h", "expected a duration from 0s to 3600s, got '2h'"),
    ],
)
def test_spec_duration_mistakes_name_the_field(field: str, value: Any, message: str) -> None:
    # GIVEN a check with a bad or out-of-range duration
    doc = doc_with({"http": {"path": "/"}, field: value})
    # WHEN it is validated
    problems = problems_of(doc)
    # THEN the problem names the field and the accepted range
    assert problems == [f"hooks.AfterAllowTestTraffic[0].{field}: {message}"]


# --- ${VAR} expansion ---------------------------------------------------------------------------------------


def test_spec_variables_expand() -> None:
    # GIVEN a spec using environment variables, with and without defaults, and a literal ${
    text = """
version: 1
target: {test_url: "${BASE_URL}", prod_url: "${PROD_URL:-http://prod.example:8080}"}
hooks:
  AfterAllowTestTraffic:
    - name: version
      http:
        path: "/${HEALTH_PATH}"
        headers: {X-Template: "$${NOT_A_VAR}"}
        expect: {headers: {X-App-Version: "${GREEN_VERSION:-2.0.0}"}}
"""
    env = {"BASE_URL": "http://test.example:9080/", "HEALTH_PATH": "health"}
    # WHEN it is loaded
    spec = load_text(text, env=env)
    # THEN each reference is replaced, defaults fill the gaps, and $${ stays a literal ${
    body = only_check(spec).body
    assert spec.target.test_url == "http://test.example:9080"
    assert spec.target.prod_url == "http://prod.example:8080"
    assert body["path"] == "/health"
    assert body["headers"] == {"X-Template": "${NOT_A_VAR}"}
    assert body["expect"]["headers"] == {"X-App-Version": "2.0.0"}


def test_spec_variable_set_but_empty_is_used() -> None:
    # GIVEN a variable that is set to the empty string and has a default
    text = 'version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - {name: h, http: {path: "/x${SUFFIX:-y}"}}\n'
    # WHEN it is loaded
    spec = load_text(text, env={"SUFFIX": ""})
    # THEN the empty value wins over the default (as in a shell's ${VAR-default})
    assert only_check(spec).body["path"] == "/x"


def test_spec_missing_variable_names_it_and_where() -> None:
    # GIVEN a spec referring to variables that are not set
    text = (
        "version: 1\nhooks:\n  AfterAllowTestTraffic:\n"
        '    - {name: h, http: {path: "/${NOPE}", headers: {X: "${ALSO_NOPE}"}}}\n'
    )
    # WHEN it is loaded
    problems = problems_of(text, env={})
    # THEN each missing variable is named at the place that uses it
    assert "hooks.AfterAllowTestTraffic[0].http.path: environment variable NOPE is not set" in problems
    assert "hooks.AfterAllowTestTraffic[0].http.headers.X: environment variable ALSO_NOPE is not set" in problems


# --- formats ---------------------------------------------------------------------------------------------


def test_spec_json_accepted() -> None:
    # GIVEN a spec written as JSON
    text = json.dumps(doc_with({"http": {"path": "/health"}, "count": 3}))
    # WHEN it is loaded
    spec = load_text(text, env={})
    # THEN it is the same spec as the YAML form
    check = only_check(spec)
    assert (check.name, check.kind, check.policy.count, check.body["path"]) == ("health", "http", 3, "/health")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\nhooks:\n  AfterInstall:\n    - name: [a\n", "line 5, column 1"),
        ("version: 1\nhooks:\n  AfterInstall:\n  - name: a\n    http: {path: /}\n   bad: 1\n", "line 6, column 4"),
        ('{"version": 1, "hooks": {,}}', "line 1, column 26"),
        ("version: 1\n\thooks: {}\n", "line 2, column 1"),
    ],
    ids=["unclosed-list", "bad-indent", "bad-json", "tab"],
)
def test_spec_syntax_errors_give_line_and_column(text: str, where: str) -> None:
    # GIVEN text that is neither valid YAML nor JSON
    # WHEN it is loaded
    problems = problems_of(text)
    # THEN the one problem says where the syntax broke
    assert len(problems) == 1
    assert problems[0].startswith(f"{where}: not valid YAML or JSON: ")


# --- defaults ---------------------------------------------------------------------------------------------


def test_spec_defaults_merge_builtin_then_defaults_then_check() -> None:
    # GIVEN defaults for some policy fields and a check overriding one of them
    doc = doc_with(
        {"http": {"path": "/"}, "timeout": 7},
        defaults={"timeout": "2s", "count": 4, "failure_limit": 1},
    )
    # WHEN the spec is built
    policy = only_check(build_spec(doc, env={})).policy
    # THEN the check's own value wins, then the defaults, then the built-in values
    assert (policy.timeout, policy.count, policy.failure_limit) == (7.0, 4, 1)
    assert (policy.interval, policy.consecutive_error_limit, policy.consecutive_successes) == (1.0, 4, None)
    assert policy.dry_run is False


def test_spec_http_and_target_defaults_filled() -> None:
    # GIVEN the smallest http check
    doc = doc_with({"http": {"path": "/"}})
    # WHEN the spec is built
    spec = build_spec(doc, env={})
    # THEN every default is filled in
    body = only_check(spec).body
    assert (body["listener"], body["method"], body["follow_redirects"], body["headers"]) == ("test", "GET", False, {})
    assert body["expect"]["status"] == [200]
    assert (spec.target.test_url, spec.test_url_auto, spec.needs_discovery) == (None, True, True)
    assert spec.target.max_body_bytes == 1024 * 1024
    assert (spec.on_inconclusive, spec.dry_run, spec.report_reserve) == ("fail", False, 15.0)


def test_spec_explicit_urls_need_no_discovery() -> None:
    # GIVEN both listener URLs, one with a trailing slash
    doc = doc_with({"http": {"path": "/"}}, target={"test_url": "http://lb:9080/", "prod_url": "https://lb"})
    # WHEN the spec is built
    spec = build_spec(doc, env={})
    # THEN the URLs are kept without the slash and nothing is left to discover
    assert (spec.target.test_url, spec.target.prod_url, spec.needs_discovery) == ("http://lb:9080", "https://lb", False)


def test_spec_dry_run_per_check() -> None:
    # GIVEN one check in dry-run mode
    doc = {
        "version": 1,
        "hooks": {HOOK: [{"name": "a", "http": {"path": "/"}, "dry_run": True}, {"name": "b", "http": {"path": "/"}}]},
    }
    # WHEN the spec is built
    a, b = build_spec(doc, env={}).checks_for(HOOK)
    # THEN only that check's policy says so
    assert (a.policy.dry_run, b.policy.dry_run) == (True, False)


# --- destinations: the SSRF rules vet whatever a kind declares ---------------------------------------------------


class RelayCheck(Check):
    """A kind that reaches bare hosts (no URL): each relay host is a destination."""

    kind = "relay"
    schema = Obj({"relays": Field(ListOf(Str(min_len=1)), required=True, doc="hosts it connects to")})

    @classmethod
    def destinations(cls, body: Mapping[str, Any]) -> Iterable[Destination]:
        return [Destination(("relays", i), host=h) for i, h in enumerate(body["relays"])]

    def measure(self, ctx: CheckContext) -> Measurement:
        return passed()


@pytest.mark.parametrize(
    ("relays", "problems"),
    [
        (["relay.example.com"], []),
        (["RELAY.example.com", "10.0.0.7", "[::1]"], []),
        (["other.example.org"], ["[0]: host other.example.org is not in target.allow_hosts"]),
        (["169.254.169.254"], ["[0]: 169.254.169.254 is a link-local or instance-metadata address"]),
        (["fe80::1"], ["[0]: fe80::1 is a link-local or instance-metadata address"]),
        (["http://relay.example.com/"], ["[0]: expected a host name or an IP address"]),
        (["*.example.com"], ["[0]: expected a host name or an IP address"]),
    ],
    ids=["listed", "case-and-ips", "unlisted", "metadata", "link-local-v6", "url-as-host", "wildcard"],
)
def test_spec_vets_bare_host_destinations_a_kind_declares(
    relays: list[str], problems: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a kind whose destinations are hosts in a list, and a spec allowing some hosts
    monkeypatch.setitem(KINDS, "relay", f"{__name__}:RelayCheck")
    doc = doc_with({"relay": {"relays": relays}}, target={"allow_hosts": ["*.example.com", "10.0.0.7", "::1"]})

    # WHEN the spec is built
    try:
        build_spec(doc, env={})
        found: list[str] = []
    except SpecError as exc:
        found = [str(p) for p in exc.problems]

    # THEN each refused host is named at its own path inside the kind's body
    prefix = f"hooks.{HOOK}[0].relay.relays"
    assert len(found) == len(problems), found
    for seen, wanted in zip(found, problems, strict=True):
        assert seen.startswith(prefix + wanted), found


# --- where a spec comes from -----------------------------------------------------------------------------------


def test_spec_load_from_file_and_environment(tmp_path: Path) -> None:
    # GIVEN a spec file named by GREENLIGHT_SPEC
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps(doc_with({"http": {"path": "/"}})), encoding="utf-8")
    # WHEN it is loaded without a location
    spec = load(env={"GREENLIGHT_SPEC": str(path)})
    # THEN the file was read and the spec knows its source
    assert spec.source == str(path)
    assert only_check(spec).name == "health"


def test_spec_load_missing_file(tmp_path: Path) -> None:
    # GIVEN a path with no file
    missing = tmp_path / "absent.yaml"
    # WHEN it is loaded
    with pytest.raises(SpecSourceError) as caught:
        load(str(missing), env={})
    # THEN the error names the file
    assert str(caught.value) == f"spec file not found: {missing}"


def test_spec_load_not_utf8(tmp_path: Path) -> None:
    # GIVEN a file that is not UTF-8 text
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\nname: caf\xe9\n")
    # WHEN it is loaded
    with pytest.raises(SpecSourceError) as caught:
        load(str(path), env={})
    # THEN the error says so
    assert str(caught.value) == f"spec file {path} is not UTF-8 text"


@pytest.mark.parametrize("path", ["examples/basic.yaml", "hooks/greenlight/default_spec.yaml"])
def test_spec_shipped_specs_are_valid(path: str) -> None:
    # GIVEN a spec shipped in the repository
    # WHEN it is loaded with no environment variables set
    spec = load(str(REPO / path), env={})
    # THEN it is valid and has checks
    assert any(spec.hooks.values())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version: 1\nhooks: {}\nreleased: 2001-02-30\n", "not valid YAML or JSON: day is out of range for month"),
        ("[" * 1000, "not valid YAML or JSON: nested too deeply"),
    ],
    ids=["impossible-date", "deep-nesting"],
)
def test_spec_values_yaml_cannot_build_are_spec_errors(text: str, problem: str) -> None:
    # GIVEN text that parses but cannot be turned into data
    # WHEN it is loaded
    problems = problems_of(text)
    # THEN it is an ordinary spec problem, not a crash
    assert problems == [problem]


def test_spec_empty_jmespath_key_is_reported_not_raised() -> None:
    # GIVEN a JSON expectation with an empty expression
    doc = doc_with({"http": {"path": "/", "expect": {"json": {"": "ok"}}}})
    # WHEN it is validated
    problems = problems_of(doc)
    # THEN the empty key is a problem at its path
    (problem,) = problems
    assert problem.startswith("hooks.AfterAllowTestTraffic[0].http.expect.json")
    assert problem.endswith(": must not be empty")


# --- property: whatever the document, the answer is a Spec or a SpecError ---------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2000),
    st.floats(allow_nan=True),
    st.text(max_size=6),
    st.sampled_from(["/", "/x", "http://127.0.0.1/", "2xx", "5s", "auto", "${X}", "secretsmanager:a", "a[", "("]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(st.text(max_size=4), st.sampled_from(["secret", "status", "json"])), inner, max_size=3
        ),
    ),
    max_leaves=10,
)
_expect = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(["status", "body_contains", "body_matches", "json", "headers", "max_latency_ms"], _values),
)
_http = st.fixed_dictionaries(
    {},
    optional={
        "path": _values,
        "url": _values,
        "method": _values,
        "headers": _values,
        "follow_redirects": _values,
        "expect": st.one_of(_expect, _values),
    },
)
_check = st.fixed_dictionaries(
    {"name": st.one_of(st.just("h"), _values)},
    optional={
        "http": st.one_of(_http, _values),
        "count": _values,
        "timeout": _values,
        "consecutive_successes": _values,
    },
)
_docs = st.fixed_dictionaries(
    {
        "version": st.one_of(st.just(1), _values),
        "hooks": st.dictionaries(
            st.sampled_from([HOOK, "AfterInstall", "POST_SCALE_UP", "Nope"]),
            st.one_of(st.lists(_check, max_size=3), _values),
            max_size=2,
        ),
    },
    optional={"target": _values, "defaults": _values, "settings": _values},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_docs)
def test_spec_property_only_spec_errors(doc: dict[str, Any]) -> None:
    # GIVEN any document shaped roughly like a spec
    # WHEN it is validated
    try:
        spec = build_spec(doc, env={})
    except SpecError as exc:
        # THEN a refusal carries problems that each say where they are
        assert exc.problems
        return
    # THEN an accepted document gives a Spec
    assert isinstance(spec, Spec)
