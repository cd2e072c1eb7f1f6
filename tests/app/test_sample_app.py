"""Unit tests of the sample service (app/sample_app.py) through Flask's test client."""

from __future__ import annotations

import math
import threading
from fractions import Fraction

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from sample_app import (
    DEFAULT_VERSION,
    VERSION_HEADER,
    ConfigError,
    ErrorSpread,
    create_app,
    load_settings,
)


def client_for(env: dict[str, str], sleeps: list[float] | None = None) -> FlaskClient:
    recorder = sleeps.append if sleeps is not None else (lambda _seconds: None)
    return create_app(env, sleep=recorder).test_client()


# --- endpoints ---------------------------------------------------------------------------------


def test_root_returns_greeting_and_version() -> None:
    # GIVEN a service at version 2.3.4
    client = client_for({"APP_VERSION": "2.3.4"})
    # WHEN / is requested
    response = client.get("/")
    # THEN it greets and names its version, in the body and the header
    assert response.status_code == 200
    assert response.get_json() == {"message": "Hello World!", "version": "2.3.4"}
    assert response.headers[VERSION_HEADER] == "2.3.4"


def test_health_returns_ok_with_version() -> None:
    # GIVEN a healthy service
    client = client_for({"APP_VERSION": "2.3.4"})
    # WHEN /health is requested
    response = client.get("/health")
    # THEN it answers 200 ok
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "version": "2.3.4"}
    assert response.headers[VERSION_HEADER] == "2.3.4"


def test_version_returns_only_version() -> None:
    # GIVEN a service at version green-7
    client = client_for({"APP_VERSION": "green-7"})
    # WHEN /version is requested
    response = client.get("/version")
    # THEN the body is just the version
    assert response.status_code == 200
    assert response.get_json() == {"version": "green-7"}
    assert response.headers[VERSION_HEADER] == "green-7"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/health", 200),
        ("GET", "/version", 200),
        ("HEAD", "/health", 200),
        ("GET", "/missing", 404),
        ("POST", "/", 405),
    ],
)
def test_every_response_carries_version_header(method: str, path: str, status: int) -> None:
    # GIVEN a service at version 9.9.9
    client = client_for({"APP_VERSION": "9.9.9"})
    # WHEN any path is requested, including ones that do not exist or refuse the method
    response = client.open(path, method=method)
    # THEN the answer names the version in its header
    assert response.status_code == status
    assert response.headers[VERSION_HEADER] == "9.9.9"


def test_unknown_path_answers_json_error() -> None:
    # GIVEN a service
    client = client_for({})
    # WHEN a path that does not exist is requested
    response = client.get("/nope")
    # THEN the 404 body is JSON like every other answer
    assert response.status_code == 404
    assert response.get_json() == {"error": "Not Found", "version": DEFAULT_VERSION}


def test_version_defaults_when_app_version_unset_or_empty() -> None:
    # GIVEN no APP_VERSION, and an empty one
    for env in ({}, {"APP_VERSION": ""}, {"APP_VERSION": "   "}):
        # WHEN /version is requested
        response = client_for(env).get("/version")
        # THEN the default version answers
        assert response.get_json() == {"version": "1.0.0"}, env
        assert response.headers[VERSION_HEADER] == "1.0.0"


def test_create_app_reads_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the switches in the process environment
    monkeypatch.setenv("APP_VERSION", "4.0.0")
    monkeypatch.setenv("FAULT_UNHEALTHY", "true")
    # WHEN the app is built without an explicit mapping
    client = create_app().test_client()
    # THEN it follows the process environment
    response = client.get("/health")
    assert response.status_code == 503
    assert response.headers[VERSION_HEADER] == "4.0.0"


# --- FAULT_UNHEALTHY ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes", "on"])
def test_unhealthy_switch_fails_health_only(value: str) -> None:
    # GIVEN a service told to be unhealthy
    client = client_for({"APP_VERSION": "3.0.0", "FAULT_UNHEALTHY": value})
    # WHEN /health, / and /version are requested
    health, root, version = client.get("/health"), client.get("/"), client.get("/version")
    # THEN /health answers 503 unhealthy while the other endpoints still work
    assert health.status_code == 503
    assert health.get_json()["status"] == "unhealthy"
    assert health.get_json()["version"] == "3.0.0"
    assert health.headers[VERSION_HEADER] == "3.0.0"
    assert root.status_code == 200
    assert version.status_code == 200


@pytest.mark.parametrize("value", ["false", "0", "no", "off", ""])
def test_unhealthy_switch_off_values_keep_health_ok(value: str) -> None:
    # GIVEN the switch set to an "off" value
    client = client_for({"FAULT_UNHEALTHY": value})
    # WHEN /health is requested
    response = client.get("/health")
    # THEN it is healthy
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


# --- FAULT_LATENCY_MS / FAULT_LATENCY_PATHS ----------------------------------------------------


def test_latency_switch_delays_every_answer() -> None:
    """The sleep is recorded instead of timed (timed assertions are not allowed in tests)."""
    # GIVEN a 250 ms delay on every path
    sleeps: list[float] = []
    client = client_for({"FAULT_LATENCY_MS": "250"}, sleeps)
    # WHEN four paths are requested, one of them unknown
    statuses = [client.get(path).status_code for path in ("/", "/health", "/version", "/missing")]
    # THEN each answer waited 0.25 s first, and the answers themselves are unchanged
    assert statuses == [200, 200, 200, 404]
    assert sleeps == [0.25, 0.25, 0.25, 0.25]


def test_latency_paths_limit_the_delay() -> None:
    """The sleep is recorded instead of timed (timed assertions are not allowed in tests)."""
    # GIVEN a delay limited to /health and / (with blanks and a trailing comma in the list)
    sleeps: list[float] = []
    client = client_for({"FAULT_LATENCY_MS": "1500", "FAULT_LATENCY_PATHS": " /health, /,"}, sleeps)
    # WHEN /version, /health, / and /health/extra are requested
    for path in ("/version", "/health", "/", "/health/extra"):
        client.get(path)
    # THEN only the exact listed paths waited
    assert sleeps == [1.5, 1.5]


def test_latency_zero_does_not_wait() -> None:
    # GIVEN a zero delay
    sleeps: list[float] = []
    client = client_for({"FAULT_LATENCY_MS": "0"}, sleeps)
    # WHEN a request is served
    client.get("/")
    # THEN nothing waited
    assert sleeps == []


# --- FAULT_ERROR_RATE --------------------------------------------------------------------------


def test_error_rate_spreads_failures_deterministically() -> None:
    # GIVEN an error rate of 0.2
    client = client_for({"APP_VERSION": "5.0.0", "FAULT_ERROR_RATE": "0.2"})
    # WHEN ten requests alternate between / and /health
    statuses = [client.get("/" if n % 2 else "/health").status_code for n in range(1, 11)]
    # THEN exactly requests 5 and 10 fail
    assert statuses == [200, 200, 200, 200, 500, 200, 200, 200, 200, 500]


def test_error_rate_failure_names_the_fault_and_version() -> None:
    # GIVEN every request fails
    client = client_for({"APP_VERSION": "5.0.0", "FAULT_ERROR_RATE": "1"})
    # WHEN / is requested
    response = client.get("/")
    # THEN the 500 says why and who answered
    assert response.status_code == 500
    assert response.get_json() == {"error": "injected fault (FAULT_ERROR_RATE)", "version": "5.0.0"}
    assert response.headers[VERSION_HEADER] == "5.0.0"


def test_error_rate_ignores_and_does_not_count_other_paths() -> None:
    # GIVEN an error rate of 0.5
    client = client_for({"FAULT_ERROR_RATE": "0.5"})
    # WHEN /version and unknown paths are requested between requests to /
    answers = []
    for _ in range(3):
        answers.append(client.get("/version").status_code)
        answers.append(client.get("/missing").status_code)
        answers.append(client.get("/").status_code)
    # THEN /version always works, and the count runs over / alone: its 2nd request fails
    assert answers == [200, 404, 200, 200, 404, 500, 200, 404, 200]


def test_error_rate_counts_per_app_instance() -> None:
    # GIVEN two apps built with rate 0.5 (two processes, in effect)
    first = client_for({"FAULT_ERROR_RATE": "0.5"})
    second = client_for({"FAULT_ERROR_RATE": "0.5"})
    # WHEN the first serves two requests and then the second serves two
    statuses = [first.get("/").status_code, first.get("/").status_code]
    statuses += [second.get("/").status_code, second.get("/").status_code]
    # THEN each counts from its own first request
    assert statuses == [200, 500, 200, 500]


def test_error_rate_precedes_unhealthy_on_health() -> None:
    # GIVEN an unhealthy service that also fails every other request
    client = client_for({"FAULT_UNHEALTHY": "true", "FAULT_ERROR_RATE": "0.5"})
    # WHEN /health is requested twice
    statuses = [client.get("/health").status_code, client.get("/health").status_code]
    # THEN the counted failure is a 500, the other answer the unhealthy 503
    assert statuses == [503, 500]


def test_error_spread_is_exact_under_concurrent_requests() -> None:
    # GIVEN rate 0.2 and 8 threads sending 125 requests each
    client_app = create_app({"FAULT_ERROR_RATE": "0.2"})
    failures: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        client = client_app.test_client()
        failed = sum(client.get("/").status_code == 500 for _ in range(125))
        with lock:
            failures.append(failed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    # WHEN they all run at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN exactly a fifth of the 1000 requests failed: no request was counted twice or skipped
    assert sum(failures) == 200
    assert client_app.extensions["error_spread"].count == 1000


@given(
    rate=st.decimals(min_value=0, max_value=1, places=3, allow_nan=False, allow_infinity=False),
    n=st.integers(min_value=1, max_value=400),
)
def test_error_spread_fails_floor_n_times_rate_evenly(rate: object, n: int) -> None:
    # GIVEN any rate with up to three decimals, parsed as the service parses it
    settings = load_settings({"FAULT_ERROR_RATE": str(rate)})
    spread = ErrorSpread(settings.error_rate)
    # WHEN n requests are counted
    fails = [spread.next_fails() for _ in range(n)]
    # THEN exactly floor(n * rate) of them failed
    exact = Fraction(str(rate))
    assert sum(fails) == math.floor(n * exact)
    # AND every window of consecutive requests holds floor or ceil of its share: evenly spread
    window = 10
    share = window * exact
    for start in range(n - window + 1):
        assert math.floor(share) <= sum(fails[start : start + window]) <= math.ceil(share)


def test_error_rate_parses_exactly_not_as_float() -> None:
    # GIVEN rate 0.29, where 100 * 0.29 is 28.999999999999996 in floating point
    spread = ErrorSpread(load_settings({"FAULT_ERROR_RATE": "0.29"}).error_rate)
    # WHEN 100 requests are counted
    failed = sum(spread.next_fails() for _ in range(100))
    # THEN exactly 29 failed
    assert failed == 29


# --- FAULT_WRONG_VERSION -----------------------------------------------------------------------


def test_wrong_version_switch_claims_other_version_everywhere() -> None:
    # GIVEN green at 2.0.0 told to claim blue's 1.0.0
    client = client_for({"APP_VERSION": "2.0.0", "FAULT_WRONG_VERSION": "1.0.0"})
    # WHEN every endpoint is requested
    root, health, version = client.get("/"), client.get("/health"), client.get("/version")
    # THEN bodies and headers all claim 1.0.0
    assert root.get_json()["version"] == "1.0.0"
    assert health.get_json() == {"status": "ok", "version": "1.0.0"}
    assert version.get_json() == {"version": "1.0.0"}
    assert {r.headers[VERSION_HEADER] for r in (root, health, version)} == {"1.0.0"}


# --- invalid values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "variable", "expected"),
    [
        ({"FAULT_ERROR_RATE": "abc"}, "FAULT_ERROR_RATE", "decimal number from 0 to 1"),
        ({"FAULT_ERROR_RATE": "2.0"}, "FAULT_ERROR_RATE", "decimal number from 0 to 1"),
        ({"FAULT_ERROR_RATE": "-0.1"}, "FAULT_ERROR_RATE", "decimal number from 0 to 1"),
        ({"FAULT_ERROR_RATE": "nan"}, "FAULT_ERROR_RATE", "decimal number from 0 to 1"),
        ({"FAULT_ERROR_RATE": "1/5"}, "FAULT_ERROR_RATE", "decimal number from 0 to 1"),
        ({"FAULT_ERROR_RATE": "1e-999999"}, "FAULT_ERROR_RATE", "at most 9 decimal places"),
        ({"FAULT_LATENCY_MS": "abc"}, "FAULT_LATENCY_MS", "whole number of milliseconds"),
        ({"FAULT_LATENCY_MS": "-5"}, "FAULT_LATENCY_MS", "whole number of milliseconds"),
        ({"FAULT_LATENCY_MS": "1.5"}, "FAULT_LATENCY_MS", "whole number of milliseconds"),
        ({"FAULT_LATENCY_MS": "600001"}, "FAULT_LATENCY_MS", "from 0 to 600000"),
        ({"FAULT_LATENCY_MS": "9" * 5000}, "FAULT_LATENCY_MS", "from 0 to 600000"),
        ({"FAULT_LATENCY_MS": "\u00b2"}, "FAULT_LATENCY_MS", "whole number of milliseconds"),
        ({"FAULT_LATENCY_MS": "10", "FAULT_LATENCY_PATHS": "health"}, "FAULT_LATENCY_PATHS", "starting with '/'"),
        ({"FAULT_LATENCY_MS": "10", "FAULT_LATENCY_PATHS": ",,"}, "FAULT_LATENCY_PATHS", "starting with '/'"),
        ({"FAULT_LATENCY_PATHS": "/health"}, "FAULT_LATENCY_PATHS", "FAULT_LATENCY_MS is not"),
        ({"FAULT_UNHEALTHY": "maybe"}, "FAULT_UNHEALTHY", "expected true or false"),
        ({"APP_VERSION": "1.0 beta"}, "APP_VERSION", "visible ASCII characters without spaces"),
        ({"APP_VERSION": "v" * 129}, "APP_VERSION", "1 to 128"),
        ({"FAULT_WRONG_VERSION": "bad\u00e9"}, "FAULT_WRONG_VERSION", "visible ASCII"),
    ],
)
def test_invalid_switch_rejected_naming_variable(env: dict[str, str], variable: str, expected: str) -> None:
    # GIVEN an environment with one bad value
    # WHEN the app is built
    with pytest.raises(ConfigError) as caught:
        create_app(env)
    # THEN the error names the variable and what was expected
    message = str(caught.value)
    assert f"{variable}" in message
    assert expected in message
    assert len(caught.value.problems) == 1


def test_invalid_switches_reported_together() -> None:
    # GIVEN three bad values
    env = {"FAULT_ERROR_RATE": "abc", "FAULT_UNHEALTHY": "maybe", "FAULT_LATENCY_MS": "soon"}
    # WHEN the settings are loaded
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    # THEN all three are named in one error
    assert [problem.split("=")[0] for problem in caught.value.problems] == [
        "FAULT_UNHEALTHY",
        "FAULT_LATENCY_MS",
        "FAULT_ERROR_RATE",
    ]


def test_settings_describe_active_faults() -> None:
    # GIVEN every fault switched on
    settings = load_settings(
        {
            "FAULT_UNHEALTHY": "yes",
            "FAULT_LATENCY_MS": "40",
            "FAULT_LATENCY_PATHS": "/health,/",
            "FAULT_ERROR_RATE": "0.25",
            "FAULT_WRONG_VERSION": "0.9.0",
        }
    )
    # WHEN / THEN the one-line description names each, and no faults reads "none"
    assert settings.describe_faults() == "unhealthy,latency=40ms@/,/health,error_rate=0.25,wrong_version=0.9.0"
    assert load_settings({}).describe_faults() == "none"
