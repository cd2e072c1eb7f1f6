"""Property: whatever a spec document holds, reading it ends in a Spec or a SpecError naming where.

No document (parsed data or raw text) may end in any other exception, and every problem carries the
path of what is wrong. For single mutations of a valid spec, the path points at the mutation (or a
field around it), so a user is sent to the right line.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from greenlight.spec import SpecError, build_spec, load_text
from greenlight.spec.schema import join

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["5s", "250ms", "auto", "http://a.example.com", "${HOME}", "$${x}", "/health", "2xx", "-1"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), st.integers(0, 9)), inner, max_size=4),
    ),
    max_leaves=20,
)

VALID: dict[str, Any] = {
    "version": 1,
    "target": {
        "test_url": "http://alb.example.com:9080",
        "prod_url": "http://alb.example.com:8080",
        "allow_hosts": ["api.example.com", "*.example.net"],
        "tls": {"server_name": "svc.example.com"},
        "max_body_bytes": 65536,
    },
    "defaults": {"timeout": "5s", "interval": "1s", "count": 3},
    "settings": {"on_inconclusive": "fail", "report_reserve": "15s"},
    "hooks": {
        "AfterAllowTestTraffic": [
            {
                "name": "health",
                "http": {
                    "path": "/health",
                    "headers": {
                        "X-Trace": "t",
                        "Authorization": {"secret": "secretsmanager:token#key", "prefix": "Bearer "},
                    },
                    "expect": {
                        "status": [200, "2xx"],
                        "body_contains": "ok",
                        "json": {"status": "ok"},
                        "max_latency_ms": 500,
                    },
                },
                "count": 5,
                "failure_limit": 1,
                "consecutive_error_limit": 2,
            },
            {"name": "api", "http": {"url": "https://api.example.com/v1", "method": "POST", "follow_redirects": 2}},
        ],
        "AfterAllowTraffic": [{"name": "prod", "http": {"listener": "prod", "path": "/"}}],
    },
}


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here] if here else []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*here, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*here, i)))
    return out


PATHS = _paths(VALID)


def _text(keys: tuple[Any, ...]) -> str:
    path = ""
    for key in keys:
        path = join(path, key)
    return path


def _problems(call: Any) -> list[Any]:
    """The problems of a rejected document, or [] if it was accepted; any other exception fails the test."""
    try:
        call()
    except SpecError as exc:
        assert exc.problems, "a SpecError without problems"
        return exc.problems
    return []


def test_spec_valid_base_document_is_accepted() -> None:
    # GIVEN / WHEN the document the mutations start from is read / THEN it is valid
    spec = build_spec(copy.deepcopy(VALID), env={})
    assert [c.name for c in spec.checks_for("AfterAllowTestTraffic")] == ["health", "api"]


@given(doc=JSON)
@example(doc=[])
@example(doc={"version": 1, "hooks": None})
@example(doc={"version": 1, "hooks": {"AfterInstall": [{"name": "x", "http": {"url": "file:///etc/passwd"}}]}})
def test_spec_any_document_is_accepted_or_rejected_with_paths(doc: Any) -> None:
    # GIVEN any JSON-like document / WHEN it is read as a spec
    problems = _problems(lambda: build_spec(doc, env={}))
    # THEN every problem names where it is: a field path, or the top of the document when that is wrong
    for problem in problems:
        if not isinstance(doc, dict):
            assert problem.path == "" and "top of the spec" in problem.message
        else:
            assert problem.path, f"problem without a path: {problem}"
            roots = {*(str(k) for k in doc if str(k)), '[""]', "version", "hooks"}
            assert any(problem.path.startswith(root) for root in roots), problem


@given(
    where=st.sampled_from(PATHS),
    action=st.sampled_from(["replace", "delete", "add-key"]),
    value=JSON,
    key=st.text(min_size=1, max_size=10),
)
def test_spec_single_mutation_is_reported_where_it_was_made(
    where: tuple[Any, ...], action: str, value: Any, key: str
) -> None:
    # GIVEN a valid spec with one value replaced, one key deleted or one unknown key added
    doc = copy.deepcopy(VALID)
    parent = doc
    for k in where[:-1]:
        parent = parent[k]
    last = where[-1]
    mutated = _text(where)
    if action == "replace":
        parent[last] = value
    elif action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "add-key" and isinstance(parent[last], dict) and key not in parent[last]:
        parent[last][key] = value
        mutated = join(mutated, key)
    else:
        parent[last] = value
    # WHEN it is read
    problems = _problems(lambda: build_spec(doc, env={}))
    # THEN every problem is at the mutation, inside it, or at a field that contains it; a changed
    #      target may also reject an absolute URL it no longer allows
    for problem in problems:
        related = problem.path.startswith(mutated) or mutated.startswith(problem.path)
        allowlist = mutated.startswith("target") and problem.path.endswith(".url")
        assert problem.path and (related or allowlist), f"mutation at {mutated!r}, problem at {problem}"


@given(text=st.text(max_size=200))
@example(text="version: [1\nhooks: {")
@example(text="a: &a [1]\nb: [*a, *a]\n")
@example(text="\t- x")
@example(text="[" * 2000)
def test_spec_any_text_is_accepted_or_rejected_without_crashing(text: str) -> None:
    # GIVEN any text / WHEN it is read as a spec file / THEN it is a Spec or a SpecError
    _problems(lambda: load_text(text, env={}))


def test_spec_alias_bomb_is_rejected_without_expanding_it() -> None:
    # GIVEN a few lines of YAML whose aliases would expand to hundreds of millions of values
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    # WHEN it is read / THEN it is one problem naming the cause, found without building the expansion
    problems = _problems(lambda: load_text("\n".join(lines), env={}))
    assert len(problems) == 1 and "YAML alias" in problems[0].message
