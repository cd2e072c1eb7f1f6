"""Fuzzing the command line's flags: whatever the arguments, a documented exit code and never a traceback.

hypothesis builds argument lists for `check`, `validate`, `appspec` and `twin` from flags that exist, flags that do
not, and values of every kind (non-finite and huge numbers, empty and non-ASCII text, URLs that are not URLs,
specs that are missing, empty, binary or invalid), and runs `main()` in-process with stdout and stderr captured.
A few argument lists also go through the real entry point in a subprocess.

Every address a run can reach is on 127.0.0.1: the spec's target and every URL offered are a port that refuses
connections, and AWS calls go to the same port (AWS_ENDPOINT_URL), so discovery and SSM fail fast and locally.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlight import lifecycle
from greenlight_cli.main import main
from support.servers import RefusingPort

DOCUMENTED = {0, 1, 2}  # passed, failed, usage; 3 (internal error) is a bug, 130 needs a Ctrl-C


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Spec files of every sort, a refusing port, and AWS pointed at it, for the module's runs."""
    root = tmp_path_factory.mktemp("cli-fuzz")
    with RefusingPort() as port:
        url = port.url
        good = root / "good.yaml"
        good.write_text(
            f"version: 1\ntarget: {{test_url: '{url}', prod_url: '{url}'}}\n"
            "hooks:\n  AfterAllowTestTraffic:\n    - {name: h, http: {path: /}, count: 1, timeout: 200ms}\n"
        )
        (root / "nochecks.yaml").write_text(f"version: 1\ntarget: {{test_url: '{url}'}}\nhooks: {{}}\n")
        (root / "invalid.yaml").write_text("version: 1\nhooks: {AfterAllowTestTraffic: [{name: x}]}\n")
        (root / "broken.yaml").write_text("version: 1\nhooks: [unclosed\n")
        (root / "empty.yaml").write_text("")
        (root / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage\x80")
        (root / "adir").mkdir()
        saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "NO_COLOR")}
        os.environ["AWS_ENDPOINT_URL"] = url
        try:
            yield {"root": root, "url": url, "port": port.port}
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _argv(world: dict[str, Any]) -> st.SearchStrategy[list[str]]:
    root, url, port = world["root"], world["url"], world["port"]
    specs = st.sampled_from(
        [
            str(root / n)
            for n in (
                "good.yaml",
                "nochecks.yaml",
                "invalid.yaml",
                "broken.yaml",
                "empty.yaml",
                "binary.yaml",
                "adir",
                "missing.yaml",
            )
        ]
        + ["ssm:/greenlight/nope", "", "ssm:"]
    )
    numbers = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(["nan", "inf", "-inf", "1e308", "1e-308", "abc", "", "0", "-1", "0.3", "86400", "1_0"]),
        st.text(max_size=6),
    )
    urls = st.one_of(
        st.sampled_from(
            [
                url,
                url + "/x?token=s3cr3t",
                f"https://127.0.0.1:{port}/",
                f"http://localhost:{port}",
                "http://",
                "ftp://127.0.0.1/",
                "http://[::1",
                "http://127.0.0.1:99999",
                "not a url",
                f"http://user:pass@127.0.0.1:{port}/",
                "file:///etc/passwd",
                "",
            ]
        ),
        st.text(alphabet=st.characters(blacklist_characters=":/"), max_size=10),  # never a URL with a host
    )
    texts = st.one_of(st.text(max_size=12), st.sampled_from(["", "-", "--", "é✓健", "\x7f"]))
    hooks = st.one_of(st.sampled_from([*lifecycle.ALL_HOOK_NAMES, "", "nope"]), texts)
    pair = lambda flag, values: st.tuples(st.just(flag), values)  # noqa: E731
    check_flags = st.one_of(
        pair("--deadline", numbers),
        pair("--hook", hooks),
        pair("--test-url", urls),
        pair("--prod-url", urls),
        pair("--deployment-id", st.one_of(st.just("d-ABCDEFGHI"), texts)),
        pair("--spec", specs),
        st.sampled_from([("--json",), ("--dry-run",), ("--quiet",), ("--require-checks",), ("--bogus",), ("-x",)]),
        pair("--deadline", texts),
    )
    check = st.tuples(pair("--spec", specs), st.lists(check_flags, max_size=5)).map(
        lambda t: ["check", *t[0], *(a for flag in t[1] for a in flag)]
    )
    validate = st.lists(st.one_of(pair("--spec", specs), st.just(("--json",)), pair("--x", texts)), max_size=3).map(
        lambda flags: ["validate", *(a for flag in flags for a in flag)]
    )
    appspec_flags = st.one_of(
        pair("--stack", texts),
        pair(
            "--task-definition", st.one_of(texts, st.just("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"))
        ),
        pair("--port", numbers),
        pair("--container", texts),
        pair("--format", st.sampled_from(["yaml", "json", "xml", ""])),
        pair("--region", st.sampled_from(["us-east-1", "", "nowhere-1"])),
        pair("--output", st.just(str(root / "adir"))),
    )
    appspec = st.lists(appspec_flags, max_size=5).map(lambda flags: ["appspec", *(a for f in flags for a in f)])
    state = str(root / "no-state.json")
    twin = st.one_of(
        st.sampled_from(
            [
                ["twin"],
                ["twin", "nope"],
                ["twin", "status", "--state", state],
                ["twin", "down", "--state", state],
                ["twin", "stop", "--state", state],
            ]
        ),
        st.lists(
            st.one_of(
                pair("--tasks", numbers),
                pair("--hook-timeout", numbers),
                pair("--version", texts),
                pair("--prod-port", numbers),
                pair("--controller", texts),
            ),
            max_size=4,
        ).map(
            # the spec never exists, so a valid command line is still refused before a twin starts
            lambda flags: ["twin", "play", "--spec", str(root / "missing.yaml"), *(a for f in flags for a in f)]
        ),
    )
    top = st.sampled_from([[], ["--version"], ["--help"], ["nope"], ["check"], ["-x"]])
    return st.one_of(check, validate, appspec, twin, top)


def run_in_process(argv: list[str]) -> tuple[Any, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: Any = main(argv)
        except SystemExit as exc:  # main returns argparse's code rather than exiting; this would be a regression
            code = f"SystemExit({exc.code!r})"
        except BaseException as exc:  # an exception escaping main() is the failure being looked for
            code = f"raised {type(exc).__name__}: {exc}"
    return code, out.getvalue(), err.getvalue()


def test_cli_fuzz_flags_in_process_documented_exit_codes_and_no_traceback(world: dict[str, Any]) -> None:
    seen: dict[Any, int] = {}

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(_argv(world))
    def one(argv: list[str]) -> None:
        # GIVEN / WHEN any command line
        code, out, err = run_in_process(argv)
        seen[code] = seen.get(code, 0) + 1
        # THEN a documented exit code, and no traceback anywhere
        assert code in DOCUMENTED, f"{argv!r} -> {code!r}\nstderr: {err}"
        assert "Traceback" not in err and "Traceback" not in out, f"{argv!r}\n{err}"
        assert "internal error" not in err, f"{argv!r}\n{err}"

    one()
    print(f"[cli-fuzz] exit codes over the examples: {dict(sorted(seen.items(), key=str))}")


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--spec", "{root}/good.yaml", "--deadline", "nan"],
        ["check", "--spec", "{root}/binary.yaml"],
        ["check", "--spec", "{root}/good.yaml", "--test-url", "http://[::1", "--json"],
        ["check", "--spec", "{root}/good.yaml", "--deployment-id", "d-ABCDEFGHI", "--json"],
        ["check", "--spec", "{root}/good.yaml", "--hook", "é✓健", "--dry-run"],
        [
            "appspec",
            "--stack",
            "s",
            "--task-definition",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
            "--output",
            "{root}/adir",
        ],
        ["twin", "play", "--spec", "{root}/missing.yaml", "--tasks", "0"],
        ["validate", "--spec", "{root}/adir"],
    ],
)
def test_cli_fuzz_cases_through_the_real_entry_point(world: dict[str, Any], argv: list[str]) -> None:
    # GIVEN a command line the in-process fuzzing covers, WHEN run as a user runs it (a fresh interpreter)
    args = [a.format(root=world["root"]) for a in argv]
    done = subprocess.run(
        [sys.executable, "-m", "greenlight_cli", *args],
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    # THEN the same promises hold
    print(f"[cli-fuzz] {args[:2]}: exit {done.returncode}: {done.stderr.decode(errors='replace').strip()[-160:]}")
    assert done.returncode in DOCUMENTED
    assert b"Traceback" not in done.stderr and b"Traceback" not in done.stdout
