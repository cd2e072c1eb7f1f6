"""Inputs that once passed, crashed or hung, each refused now with a message naming what is wrong and where.

Found by attacking the project as a hostile user would: a listener URL whose query or fragment swallowed
every check's path (a green answering 404 passed), an empty `--spec` that silently ran the bundled spec,
`${` references left as literal text, a lone surrogate that crashed the regex compiler (exit 3), header
names and values no request can carry, a token written as a list under `Authorization` and quoted in the
spec error, spec and report files that are devices or FIFOs (a hang, or all the memory), and `twin play`
options refused only after the whole twin had started. Every case runs the real loader or the real CLI.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenlight import spec as specs
from greenlight.probe import redact
from greenlight.spec.errors import SpecError, SpecSourceError
from greenlight_cli.main import EXIT_FAILED, EXIT_USAGE, main
from support.servers import HttpServer, Reply

HOOK = "AfterAllowTestTraffic"
URL = "http://127.0.0.1:8080"


def problems(doc: dict[str, Any] | str, env: dict[str, str] | None = None) -> list[str]:
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc)
    with pytest.raises(SpecError) as caught:
        specs.load_text(text, env=env or {})
    return [str(p) for p in caught.value.problems]


def with_check(http: dict[str, Any], **target: Any) -> dict[str, Any]:
    return {"version": 1, "target": {"test_url": URL, **target}, "hooks": {HOOK: [{"name": "h", "http": http}]}}


# --- listener URLs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/health#", "http://127.0.0.1:8080/?", "http://lb/x?a=1"])
def test_listener_url_with_a_query_or_fragment_is_a_spec_error(url: str) -> None:
    # GIVEN a test listener URL whose query or fragment would swallow the path each check appends
    # WHEN the spec is read
    said = problems(with_check({"path": "/missing"}, test_url=url))
    # THEN it is refused, quoting the URL
    assert said == [
        "target.test_url: expected an http:// or https:// URL with no query or fragment (checks append their path), "
        f"or 'auto', got {url!r}"
    ]


def test_listener_url_flag_with_a_query_is_refused_before_probing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a green where the checked path is missing (404), and --test-url ending in '?'
    with HttpServer(Reply(200), routes={"/missing": Reply(404)}) as server:
        spec = tmp_path / "s.yaml"
        spec.write_text(yaml.safe_dump(with_check({"path": "/missing"})))
        # WHEN greenlight check runs with it, and without the '?'
        refused = main(["check", "--spec", str(spec), "--quiet", "--test-url", f"{server.url}/?"])
        err = capsys.readouterr().err
        plain = main(["check", "--spec", str(spec), "--quiet", "--test-url", server.url])
    # THEN the '?' is a usage error sent nowhere, and without it the 404 fails the check (it passed before)
    assert refused == EXIT_USAGE and "--test-url" in err and "query or fragment" in err
    assert plain == EXIT_FAILED
    assert [r.path for r in server.requests] == ["/missing"]


@pytest.mark.parametrize("url", ["http://169.254.169.254", "http://0xa9fea9fe:80", "http://[::ffff:169.254.169.254]"])
def test_listener_url_flag_naming_a_metadata_address_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    # GIVEN a metadata address on --test-url (in the spec it is a spec error; on the flag it was refused only
    # when probed, exit 1, as if green had failed)
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(with_check({"path": "/"})))
    # WHEN greenlight check runs with it
    code = main(["check", "--spec", str(spec), "--quiet", "--test-url", url])
    # THEN it is a usage error naming the flag
    assert code == EXIT_USAGE
    assert "--test-url" in capsys.readouterr().err


# --- where the spec comes from --------------------------------------------------------------------------------


def test_empty_spec_location_is_refused_not_the_bundled_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--spec", ""]) == EXIT_USAGE
    assert "the spec location is empty" in capsys.readouterr().err
    with pytest.raises(SpecSourceError, match="empty"):
        specs.load("  ", env={"GREENLIGHT_SPEC": "/elsewhere.yaml"})


def test_spec_location_with_a_scheme_other_than_ssm_says_so() -> None:
    with pytest.raises(SpecSourceError, match=r"s3:// is not a spec source; give a file path or ssm:/name"):
        specs.load("s3://bucket/greenlight.yaml", env={})


@pytest.mark.parametrize("command", ["validate", "report"])
@pytest.mark.parametrize("kind", ["device", "fifo", "oversized"])
def test_spec_and_report_files_that_are_devices_fifos_or_huge_are_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, kind: str
) -> None:
    # GIVEN a path that is /dev/zero, a FIFO nobody writes to, or a regular file over the size limit
    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    else:
        path = tmp_path / "big.json"
        with path.open("wb") as handle:
            handle.truncate(65 * 1024 * 1024)  # sparse: above both limits (1 MiB spec, 64 MiB report)
    argv = ["validate", "--spec", str(path)] if command == "validate" else ["report", str(path), "-o", "/dev/null"]
    # WHEN the command reads it (in a thread, so a hang fails the test instead of holding it)
    out: dict[str, int] = {}
    worker = threading.Thread(target=lambda: out.update(code=main(argv)), daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(10)
    # THEN it exits 2 within a moment, naming the file and why
    assert "code" in out, f"{command} on a {kind} did not return in 10 s"
    err = capsys.readouterr().err
    assert out["code"] == EXIT_USAGE and str(path) in err, err
    assert ("not a regular file" if kind != "oversized" else "is at most") in err
    assert time.monotonic() - started < 5


# --- ${VAR}, surrogates, headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/${NOPE:-${OTHER}}", "the default of ${NOPE} holds another ${...}, which is not expanded"),
        ("/${UNCLOSED", "a ${ that is not a reference"),
        ("/${1BAD}", "a ${ that is not a reference"),
    ],
)
def test_malformed_variable_reference_is_a_spec_error_not_literal_text(path: str, said: str) -> None:
    assert any(said in p for p in problems(with_check({"path": path}), env={"OTHER": "x"}))


def test_variable_in_a_key_is_refused_and_a_literal_one_is_still_written_with_two_dollars() -> None:
    said = problems(with_check({"path": "/", "headers": {"${NAME}": "v"}}), env={"NAME": "X-A"})
    assert "hooks.AfterAllowTestTraffic[0].http.headers.${NAME}: ${...} is expanded in values only, not in keys" in said
    spec = specs.load_text(yaml.safe_dump(with_check({"path": "/$${LITERAL}"})), env={})
    assert spec.checks_for(HOOK)[0].body["path"] == "/${LITERAL}"


def test_lone_surrogate_in_a_pattern_is_a_spec_error_not_a_crash(capsys: pytest.CaptureFixture[str]) -> None:
    text = yaml.safe_dump(with_check({"path": "/", "expect": {"body_matches": "\ud800"}}))
    assert any("lone surrogate" in p for p in problems(text))


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({"Bad Name": "v"}, "a header name is letters, digits and"),
        ({"Bad:Name": "v"}, "a header name is letters, digits and"),
        ({"X-A": "a\x00b"}, "header value contains CR, LF or NUL"),
        ({"X-A": "a\r\nInjected: 1"}, "header value contains CR, LF or NUL"),
        ({"X-A": "snowman \u2603"}, "beyond Latin-1"),
    ],
)
def test_header_no_request_can_carry_is_refused_in_http_checks_and_in_load(headers: dict[str, str], said: str) -> None:
    in_check = problems(with_check({"path": "/", "headers": headers}))
    in_load = problems(
        {**with_check({"path": "/"}), "load": {HOOK: {"rate": 1, "requests": [{"path": "/", "headers": headers}]}}}
    )
    assert any(said in p for p in in_check), in_check
    assert any(said in p and p.startswith(f"load.{HOOK}.requests[0].headers.") for p in in_load), in_load


@pytest.mark.parametrize("value", [["Bearer ${TOKEN}"], {"secret": "sk_live_pasted_token_123"}, 12345678901234])
def test_credential_header_of_the_wrong_form_is_refused_without_quoting_it(value: Any) -> None:
    # GIVEN a token under Authorization in a form the spec does not take: a list (from the environment), pasted
    # where a secret reference belongs, or a number
    token = "sk_live_S3CR3TVALUE"
    said = problems(with_check({"path": "/", "headers": {"Authorization": value}}), env={"TOKEN": token})
    # THEN the problem names the header, and neither the token nor the pasted value is quoted
    text = "\n".join(said)
    assert "headers.Authorization" in text and "not shown here (a credential header)" in text
    assert token not in text and "sk_live_pasted" not in text and "12345678901234" not in text
    if isinstance(value, list):  # and the value expanded into it is masked in every later output
        assert token not in redact.mask_text(f"green echoed {token}")


def test_load_with_too_many_requests_or_weights_is_refused_at_spec_time() -> None:
    # GIVEN load sections whose weighted cycle (built before the load starts) would take minutes to build
    many = [{"path": "/", "weight": 1000}] * 300
    heavy = [{"path": "/a", "weight": 1000}, {"path": "/b", "weight": 1000}]
    for requests, said in ((many, "expected at most 50 item(s), got 300"), (heavy, "the weights add up to 2000")):
        doc = {**with_check({"path": "/"}), "load": {HOOK: {"rate": 1, "pick": "weighted", "requests": requests}}}
        # THEN each is a spec error naming the requests
        assert any(p.startswith(f"load.{HOOK}.requests: ") and said in p for p in problems(doc)), said


# --- twin play options ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--strategy", "LINEAR"], "played by the ECS controller only"),
        (["--controller", "ECS", "--strategy", "LINEAR", "--step-percent", "0"], "stepPercent 0.0 must be from 3"),
        (["--controller", "ECS", "--strategy", "CANARY", "--canary-percent", "inf"], "canaryPercent inf"),
        (["--controller", "ECS", "--strategy", "LINEAR", "--step-bake", "nan"], "bake time nan"),
        (["--hooks", "NotAHook"], "--hooks NotAHook: not a hook of this controller"),
        (["--controller", "ECS", "--hooks", "AfterInstall"], "--hooks AfterInstall: not a hook of this controller"),
        (["--function-timeout", "0"], "function_timeout 0 must be from 1 to 900"),
        (["--health-path", "nohealth"], "health_path 'nohealth' must be a path starting with /"),
    ],
)
def test_twin_play_options_are_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, flags: list[str], said: str
) -> None:
    # GIVEN a twin that must not start: starting it fails the test
    from greenlight_twin import controller

    def refuse_to_start(self: Any) -> None:
        raise AssertionError("the twin started before its options were checked")

    monkeypatch.setattr(controller.Twin, "start", refuse_to_start)
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(with_check({"path": "/"})))
    # WHEN twin play runs with a bad option
    code = main(["twin", "play", "--spec", str(spec), *flags])
    # THEN it exits 2 naming the option, and nothing started
    assert code == EXIT_USAGE
    assert said in capsys.readouterr().err
