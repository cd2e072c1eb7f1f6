"""The `compare` check against two real HTTP servers on 127.0.0.1, one playing blue and one green."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenlight import __version__
from greenlight.checks import check_class
from greenlight.engine.check import CheckContext
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import Measurement, Status
from greenlight.plan import run_hook
from greenlight.spec import build_spec
from greenlight.spec.errors import SpecError
from support.servers import METADATA_URL, HttpServer, RefusingPort, Reply

HOOK = "AfterAllowTestTraffic"


def spec_for(blue: str, green: str, compare: dict[str, Any], **policy: Any) -> Any:
    doc = {
        "version": 1,
        "target": {"prod_url": blue, "test_url": green},
        "hooks": {HOOK: [{"name": "vs-blue", "compare": compare, **policy}]},
    }
    return build_spec(doc, env={})


def measure(blue: str, green: str, compare: dict[str, Any], *, timeout: float = 20) -> Measurement:
    """One measurement of a one-check spec, the way the engine takes it."""
    spec = spec_for(blue, green, compare, timeout=timeout)
    check = spec.checks_for(HOOK)[0].build()
    ctx = CheckContext(target=spec.target, deadline=Deadline.after(60))
    check.prepare(ctx)
    return check.measure(ctx)


def test_compare_same_build_passes(serve: Callable[..., HttpServer]) -> None:
    # GIVEN blue and green answering alike
    blue, green = serve(Reply(body="ok")), serve(Reply(body="ok"))
    # WHEN they are compared with 30 requests each
    m = measure(blue.url, green.url, {"samples": 30, "path": "/hello"})
    # THEN it passes (a same-build comparison is MARGINAL by chance in alpha of the runs, and MARGINAL passes),
    # and each side got its 30 requests, interleaved, with greenlight's User-Agent
    assert m.status is Status.PASS, m.reason
    assert m.details["outcome"] in ("PASS", "MARGINAL") and m.details["score"] >= 75.0
    assert len(blue.requests) == 30 and len(green.requests) == 30
    assert {r.path for r in blue.requests + green.requests} == {"/hello"}
    assert all(r.header("user-agent") == f"greenlight/{__version__}" for r in blue.requests + green.requests)
    for side in ("blue", "green"):
        assert m.details[side]["sent"] == 30 and m.details[side]["errors"] == 0
        assert len(m.details[side]["latencies_ms"]) == 30
        assert m.details[side]["latency_ms"]["n"] == 30


def test_compare_slower_green_fails(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a green that answers 60 ms later than blue: within any fixed 500 ms bound
    blue, green = serve(Reply()), serve(Reply(delay=0.06))
    # WHEN compared
    m = measure(blue.url, green.url, {"samples": 20})
    # THEN the latency comparison fails it, naming both medians and the test
    assert m.status is Status.FAIL, m.reason
    assert m.details["outcome"] == "FAIL" and m.details["score"] == 50.0  # latency fails, errors pass
    assert "green is slower" in m.reason and "Mann-Whitney p=" in m.reason
    assert m.details["metrics"]["latency"]["outcome"] == "FAIL"
    assert m.details["metrics"]["latency"]["median_increase_ms"] > 50


def test_compare_slower_within_tolerance_is_marginal(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a green 20 ms slower, and a tolerance of 200 ms
    blue, green = serve(Reply()), serve(Reply(delay=0.02))
    body = {"samples": 15, "max_increase_ms": 200}
    # WHEN compared, by default and with marginal: fail
    default = measure(blue.url, green.url, body)
    strict = measure(blue.url, green.url, {**body, "marginal": "fail"})
    # THEN MARGINAL passes by default and fails when asked to
    assert default.details["outcome"] == "MARGINAL", default.reason
    assert default.status is Status.PASS and "slower, within the tolerance" in default.reason
    assert default.details["score"] == 75.0
    assert strict.status is Status.FAIL and "(marginal: fail)" in strict.reason


def test_compare_green_errors_fail_by_fisher(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a green that answers 503 to everything
    blue, green = serve(Reply()), serve(Reply(status=503))
    # WHEN compared
    m = measure(blue.url, green.url, {"samples": 12})
    # THEN the errors fail it; green's latency has no data, which FAIL outranks
    assert m.status is Status.FAIL, m.reason
    assert "errors: green 12/12 (100.0%) vs blue 0/12 (0.0%), Fisher p=" in m.reason
    assert m.details["metrics"]["latency"]["outcome"] == "NODATA"
    assert m.details["green"]["failures"] == {"503": 12}


def test_compare_unreachable_green_fails(serve: Callable[..., HttpServer], refused_port: RefusingPort) -> None:
    # GIVEN a green whose port refuses connections
    blue = serve(Reply())
    # WHEN compared
    m = measure(blue.url, refused_port.url, {"samples": 10})
    # THEN no answer counts as an error, and green fails
    assert m.status is Status.FAIL, m.reason
    assert m.details["green"]["errors"] == 10 and m.details["blue"]["errors"] == 0


def test_compare_error_status_decides_what_an_error_is(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a green that answers 404 everywhere, where blue answers 200
    blue, green = serve(Reply()), serve(Reply(status=404))
    # WHEN 4xx is an error (the default: 4xx and 5xx) and when only 5xx is
    strict = measure(blue.url, green.url, {"samples": 10})
    lenient = measure(blue.url, green.url, {"samples": 10, "error_status": ["5xx"]})
    # THEN only the first fails: a green that has lost the path never passes by default
    assert strict.status is Status.FAIL and strict.details["green"]["failures"] == {"404": 10}
    assert lenient.status is Status.PASS, lenient.reason


def test_compare_status_outside_200_599_is_an_error_whatever_error_status_says(
    serve: Callable[..., HttpServer],
) -> None:
    # GIVEN a green answering a status HTTP does not define, where blue answers 200
    blue, green = serve(Reply()), serve(Reply(status=999))
    # WHEN compared with only 5xx counted as errors
    m = measure(blue.url, green.url, {"samples": 10, "error_status": ["5xx"]})
    # THEN green's answers are errors, and it fails
    assert m.status is Status.FAIL, m.reason
    assert m.details["green"]["failures"] == {"999": 10}


def test_compare_green_with_no_good_answer_fails_whatever_blue_did(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a blue that never answers within the request timeout (so blue is all errors too, or too few to judge),
    # a green that answers 500, and a spec that lets NODATA pass
    blue, green = serve(Reply(delay=2)), serve(Reply(status=500))
    # WHEN compared
    m = measure(
        blue.url,
        green.url,
        {"samples": 5, "min_samples": 3, "request_timeout": "300ms", "on_no_data": "pass"},
        timeout=5,
    )
    # THEN green fails: not one of its answers was good, so nothing can excuse it
    assert m.status is Status.FAIL, m.reason
    assert m.reason.startswith("none of green's") and m.details["green"]["failures"].get("500")


def test_compare_stops_at_the_timeout_and_says_so(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a green that takes 200 ms, 50 samples each, and a 1 s check timeout
    blue, green = serve(Reply()), serve(Reply(delay=0.2))
    # WHEN compared
    m = measure(blue.url, green.url, {"samples": 50}, timeout=1)
    # THEN it stops within the timeout with too few samples: NODATA, an ERROR by default, saying why
    assert m.status is Status.ERROR, m.reason
    assert m.details["outcome"] == "NODATA"
    assert (
        "stopped after" in m.reason
        and "timeout 1s" in m.reason
        and "raise `timeout`" in m.reason
        and "(on_no_data: error)" in m.reason
    )
    assert len(green.requests) < 10
    # and the request the timeout cut short counts as no sample, not as green's error
    assert m.details["green"]["errors"] == 0 and m.details["blue"]["errors"] == 0


def test_compare_nodata_policy_pass(serve: Callable[..., HttpServer]) -> None:
    blue, green = serve(Reply()), serve(Reply(delay=0.2))
    m = measure(blue.url, green.url, {"samples": 50, "on_no_data": "pass"}, timeout=1)
    assert m.status is Status.PASS and m.details["outcome"] == "NODATA"


def test_compare_runs_through_the_engine(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a spec whose compare check sees a green 80 ms slower
    blue, green = serve(Reply()), serve(Reply(delay=0.08))
    spec = spec_for(blue.url, green.url, {"samples": 10}, timeout="10s")
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(30))
    # THEN the run fails on it
    assert not result.succeeded
    assert result.checks[0].status is Status.FAIL and "green is slower" in result.checks[0].reason


def test_compare_needs_both_listeners_unless_urls_are_given() -> None:
    cls = check_class("compare")
    assert cls.needs({"path": "/"}).listeners == frozenset({"prod", "test"})
    assert cls.needs({"blue_url": "http://127.0.0.1:1/"}).listeners == frozenset({"test"})
    assert not cls.needs({"blue_url": "http://a/", "green_url": "http://b/"}).listeners


def test_compare_spec_vets_both_urls_against_ssrf_rules() -> None:
    # GIVEN explicit URLs: one at the instance metadata address, one at a host not in allow_hosts
    with pytest.raises(SpecError) as caught:
        spec_for(
            "http://127.0.0.1:1",
            "http://127.0.0.1:2",
            {"blue_url": METADATA_URL, "green_url": "http://elsewhere.example:8080/"},
        )
    # THEN both are named where they are written
    text = str(caught.value)
    assert "compare.blue_url" in text and "compare.green_url" in text


def test_compare_spec_rejects_bad_values() -> None:
    with pytest.raises(SpecError) as caught:
        spec_for("http://127.0.0.1:1", "http://127.0.0.1:2", {"samples": 5, "min_samples": 10, "alpha": 0.9})
    text = str(caught.value)
    assert "min_samples 10 is above samples 5" in text
    assert "compare.alpha" in text
