"""A check kind is one class plus one registry line: a kind defined here, registered with monkeypatch, is validated
by the spec, has its destinations vetted by the SSRF rules, runs in the engine and gets its section in the docs.

Nothing outside this file knows the kind: its URL field is deliberately not called `url`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenlight import spec as specs
from greenlight.checks import KINDS, Check, CheckContext, Destination, Needs, requirements
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import Measurement, Status, failed, passed
from greenlight.engine.runner import run_checks
from greenlight.probe.http import Request, fetch
from greenlight.spec.schema import Field, Int, Obj, Str
from greenlight_cli import checks_doc
from support.servers import OTHER_HOST, HttpServer, Reply

HOOK = "AfterAllowTestTraffic"
ROOT = Path(__file__).resolve().parents[2]


class StatusPageCheck(Check):
    """A status page (anywhere the spec allows) answers with the wanted status."""

    kind = "status_page"
    schema = Obj(
        {
            "page": Field(Str(pattern=r"https?://\S+", pattern_doc="an http(s) URL"), required=True, doc="the page"),
            "status": Field(Int(min=100, max=599), default=200, doc="the status it must answer"),
        }
    )
    iam_actions = ()

    @classmethod
    def destinations(cls, body: Mapping[str, Any]) -> Iterable[Destination]:
        """The page's URL, written in `page`."""
        return (Destination(("page",), url=body["page"]),)

    def measure(self, ctx: CheckContext) -> Measurement:
        hosts = frozenset(ctx.target.allow_hosts)
        timeout = ctx.deadline.bound(self.policy.timeout)
        answer = fetch(Request("GET", self.body["page"], timeout=timeout, allowed_hosts=hosts))
        if answer.status != self.body["status"]:
            return failed(f"status {answer.status}, expected {self.body['status']}")
        return passed(f"status {answer.status}")


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The kind's one registry line."""
    monkeypatch.setitem(KINDS, "status_page", f"{__name__}:StatusPageCheck")
    yield


def spec_text(body: dict[str, Any], **target: Any) -> str:
    check = {"name": "status", "status_page": body, "count": 1}
    return yaml.safe_dump({"version": 1, "target": target, "hooks": {HOOK: [check]}})


def problems_of(text: str) -> list[str]:
    with pytest.raises(specs.SpecError) as caught:
        specs.load_text(text, env={})
    return [str(p) for p in caught.value.problems]


P = f"hooks.{HOOK}[0].status_page"


def test_new_kind_is_validated_by_its_schema() -> None:
    # GIVEN a spec using the kind, with its default left out
    spec = specs.load_text(spec_text({"page": "http://127.0.0.1:8080/status"}, allow_hosts=["127.0.0.1"]), env={})

    # WHEN / THEN the check carries the kind and its body with the default filled
    (check,) = spec.checks_for(HOOK)
    assert (check.kind, dict(check.body)) == ("status_page", {"page": "http://127.0.0.1:8080/status", "status": 200})

    # AND a mistake in its body is reported at its path, with the kind's own words
    problems = problems_of(spec_text({"page": "http://127.0.0.1/", "status": 99, "colour": "red"}))
    assert f"{P}.status: expected a whole number from 100 to 599, got 99" in problems
    assert any(p.startswith(f"{P}.colour: unknown field") for p in problems), problems


@pytest.mark.parametrize(
    ("page", "target", "words"),
    [
        ("http://evil.example.com/status", {}, "host evil.example.com is not in target.allow_hosts"),
        (
            "http://a.example.org/",
            {"allow_hosts": ["*.example.com"]},
            "host a.example.org is not in target.allow_hosts",
        ),
        ("http://169.254.169.254/latest/meta-data/", {}, "169.254.169.254 is a link-local or instance-metadata"),
        ("http://[fe80::1]/", {"allow_hosts": ["fe80::1"]}, "link-local or instance-metadata address"),
        ("http://u:p@api.example.com/", {"allow_hosts": ["api.example.com"]}, "credentials in URLs are not allowed"),
    ],
    ids=["unlisted-host", "wildcard-other-domain", "metadata", "link-local-v6", "credentials"],
)
def test_new_kind_destinations_are_vetted_by_the_ssrf_rules(page: str, target: dict[str, Any], words: str) -> None:
    # GIVEN the kind pointed somewhere probes must not go, through a field that is not called `url`
    # WHEN the spec is read
    problems = problems_of(spec_text({"page": page}, **target))

    # THEN it is refused at the field's own path
    assert any(p.startswith(f"{P}.page:") and words in p for p in problems), problems


def test_new_kind_destination_on_a_listed_host_or_the_listener_host_is_accepted() -> None:
    # GIVEN pages on a wildcard-listed host and on the explicit test listener's host
    cases: list[tuple[str, dict[str, Any]]] = [
        ("https://status.example.net/", {"allow_hosts": ["*.example.net"]}),
        ("http://127.0.0.1:9/status", {"test_url": "http://127.0.0.1:9080"}),
    ]
    for page, target in cases:
        # WHEN / THEN the spec is valid
        assert specs.load_text(spec_text({"page": page}, **target), env={}).checks_for(HOOK)


@pytest.mark.parametrize(("answer", "status"), [(200, Status.PASS), (503, Status.FAIL)])
def test_new_kind_runs_in_the_engine(answer: int, status: Status) -> None:
    # GIVEN a real status page on another loopback host, allowed by the spec
    with HttpServer(routes={"/status": Reply(answer)}, host=OTHER_HOST) as page:
        spec = specs.load_text(spec_text({"page": page.url_for("/status")}, allow_hosts=[OTHER_HOST]), env={})
        checks = spec.checks_for(HOOK)

        # WHEN the plan asks what it needs and the engine runs it
        assert requirements(checks) == Needs()
        ctx = CheckContext(target=spec.target, deadline=Deadline.after(30))
        (result,) = run_checks([c.build() for c in checks], ctx)

    # THEN the engine ran the kind's measurement against the page and judged it
    assert (result.kind, result.status) == ("status_page", status), result.reason
    assert len(page.requests_to("/status")) == 1


def test_new_kind_gets_its_section_in_the_generated_docs() -> None:
    # GIVEN the committed docs/checks.md, which knows nothing of the kind
    current = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert "status_page" not in current

    # WHEN the generator runs
    written = checks_doc.render(current)

    # THEN the kind has a section with its summary, field table and IAM actions, listed in the kinds table too
    section = written[written.index("## `status_page`") :]
    assert section.startswith(
        "## `status_page`\n\nA status page (anywhere the spec allows) answers with the wanted status.\n"
    )
    assert "| `page` | an http(s) URL | (required) | the page |" in section
    assert "| `status` | integer, 100 to 599 | `200` | the status it must answer |" in section
    assert "IAM actions: none." in section
    assert "| [`status_page`](#status_page) | A status page" in written
    assert written.index("## `status_page`") < written.index(checks_doc.NEW_KINDS_MARK)
