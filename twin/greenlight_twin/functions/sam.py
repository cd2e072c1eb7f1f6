"""Runs the hook functions through the AWS SAM CLI: `sam build`, then containers on the runtime's Python (3.13).

The twin's other Lambda backend (the default is `rie`: the Runtime Interface Emulator on the host, no Docker). Two
ways to call a function, behind the interface the players use (`start()` gives an object with `name`, `log_path`,
`running`, `invoke()`, `stop()`, `pids()`):

- `start-lambda`: one `sam local start-lambda` on 127.0.0.1 serves every function of the built template through
  Lambda's Invoke API; containers are kept warm (`--warm-containers LAZY`), as Lambda keeps an instance.
- `invoke`: one `sam local invoke FUNCTION --event FILE` per invocation, a fresh container each time (what a
  user types to test a hook by hand).

What a function needs from the twin reaches it the way it would in AWS: its AWS endpoint (moto, through the
Docker bridge relay: greenlight_twin.functions.bridge) as the template's LocalAwsEndpointUrl parameter, fake
credentials and the region from the SAM CLI's own environment, and the spec as an SSM parameter in the twin's
moto (`GREENLIGHT_SPEC=ssm:/greenlight-twin/spec-<digest>`), since a container sees none of the host's files
besides the function's build folder. Requires a Docker engine (scripts/docker-engine) and, where SAM's base image
cannot be pulled, the image scripts/lambda-image builds.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenlight_twin.functions.environment import FAKE_CREDENTIALS
from greenlight_twin.functions.errors import LambdaInvokeError, LambdaStartError
from greenlight_twin.functions.invocation import InvocationResult, decode_answer
from greenlight_twin.functions.rie import rie_arch, search_places
from greenlight_twin.functions.template import FunctionConfig
from greenlight_twin.processes import free_port, stop_session, wait_listening

__all__ = ["SAM_MODES", "SamFunction", "SamRuntime", "SamSettings", "find_sam", "sam_environment"]

SAM_MODES = ("start-lambda", "invoke")
SPEC_PARAMETER = "/greenlight-twin/spec-{digest}"
# Variables SAM passes on from --env-vars: only those the template declares (Globals: GREENLIGHT_SPEC, ...).
_DECLARED = ("GREENLIGHT_SPEC", "POWERTOOLS_LOG_LEVEL", "GREENLIGHT_REPORT_RESERVE")


def find_sam() -> str:
    """The SAM CLI: `.venv-sam/bin/sam` of the project (as rie.search_places finds it), else `sam` on PATH."""
    for place in search_places():
        candidate = place / ".venv-sam" / "bin" / "sam"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("sam")
    if found:
        return found
    raise LambdaStartError("the AWS SAM CLI is not installed: make .venv-sam/.installed, or pip install aws-sam-cli")


def sam_environment(region: str) -> dict[str, str]:
    """The SAM CLI's environment: the host's, with fake credentials and the region (SAM hands both to the function)
    and nothing of the host's AWS profile, so nothing can reach a real account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # sam build runs bundle/Makefile with the runtime's interpreter, python3.13, which must come first on PATH
    # (a pyenv shim of that name fails unless the version is selected).
    installed = sorted(Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"))
    if installed:
        env["PATH"] = f"{installed[-1].parent}{os.pathsep}{env.get('PATH', os.defpath)}"
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "SAM_CLI_TELEMETRY": "0",
        }
    )
    return env


@dataclass(frozen=True)
class SamSettings:
    """How the functions run under SAM."""

    template: Path  # the SAM template to build (CodeUri and the dependency layer: this project's template.yaml)
    bridge: str  # the host's address on the Docker network: where containers reach the twin
    image: str | None = None  # --invoke-image (with --skip-pull-image); None: SAM's own base image
    mode: str = "start-lambda"
    network: str = "bridge"
    build_dir: Path | None = None  # default: .aws-sam-local/build-<arch> beside the template
    sam: str | None = None


class SamRuntime:
    """Builds the template once for this machine's architecture, then starts its functions under SAM."""

    def __init__(
        self,
        settings: SamSettings,
        *,
        log_dir: Path,
        region: str = "us-east-1",
        controller: str = "CODE_DEPLOY",
        function_timeout: int = 60,
    ) -> None:
        if settings.mode not in SAM_MODES:
            raise LambdaStartError(f"SAM mode {settings.mode!r} is not one of {', '.join(SAM_MODES)}")
        self.settings = settings
        self.sam = settings.sam or find_sam()
        self.arch = rie_arch()
        self.template = Path(settings.template).resolve()
        self.build_dir = settings.build_dir or self.template.parent / ".aws-sam-local" / f"build-{self.arch}"
        self.log_dir = Path(log_dir)
        self.region = region
        self.controller = controller
        self.function_timeout = function_timeout
        self._built = False
        self._server: _StartLambda | None = None
        self._server_key: tuple[str, str] | None = None
        self._functions: list[SamFunction] = []

    # -- build ------------------------------------------------------------------------------------
    def build(self) -> Path:
        """`sam build` for this machine's architecture into a folder of its own; the built template's path."""
        built = self.build_dir / "template.yaml"
        if self._built:
            return built
        self.check_image()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / "sam-build.log"
        cmd = [
            self.sam, "build", "--template", str(self.template), "--build-dir", str(self.build_dir),
            "--cache-dir", str(self.build_dir.parent / f"cache-{self.arch}"), "--cached",
            "--parameter-overrides", f"Architecture={self.arch}",
        ]  # fmt: skip
        with log.open("wb") as out:
            done = subprocess.run(
                cmd, cwd=self.template.parent, env=sam_environment(self.region), stdout=out, stderr=subprocess.STDOUT
            )
        if done.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise LambdaStartError(f"sam build failed (exit {done.returncode}, log {log}):\n{tail}")
        self._built = True
        return built

    def check_image(self) -> None:
        """The image SAM is told to use is there (with --skip-pull-image SAM would only fail at the first call)."""
        image = self.settings.image
        if not image:
            return
        try:
            found = subprocess.run(["docker", "image", "inspect", image], capture_output=True, timeout=30, check=False)  # nosec B603 B607  # the Docker CLI from PATH
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LambdaStartError(f"cannot ask Docker for image {image}: {exc}") from exc
        if found.returncode != 0:
            raise LambdaStartError(f"no Docker image {image}: build it with make lambda-image (scripts/lambda-image)")

    # -- what every command shares ----------------------------------------------------------------
    def common_args(self, env_file: Path) -> list[str]:
        overrides = [
            f"Architecture={self.arch}",
            f"DeploymentController={self.controller}",
            f"HookTimeoutSeconds={self.function_timeout}",
        ]
        args = [
            "--template", str(self.build()), "--env-vars", str(env_file),
            "--parameter-overrides", " ".join(overrides), "--region", self.region,
            "--docker-network", self.settings.network,
        ]  # fmt: skip
        if self.settings.image:
            args += ["--invoke-image", self.settings.image, "--skip-pull-image"]
        return args

    def publish_spec(self, spec_path: str, endpoint_url: str) -> str:
        """Puts the spec into the twin's SSM (moto) and returns GREENLIGHT_SPEC for it (ssm:/...)."""
        import boto3

        text = Path(spec_path).read_text(encoding="utf-8")
        name = SPEC_PARAMETER.format(digest=hashlib.sha256(text.encode()).hexdigest()[:16])
        ssm = boto3.client(
            "ssm",
            endpoint_url=endpoint_url,
            region_name=self.region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        ssm.put_parameter(Name=name, Value=text, Type="String", Overwrite=True, Tier="Advanced")
        return f"ssm:{name}"

    def env_file(self, variables: Mapping[str, str]) -> Path:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        path = self.log_dir / f"sam-env-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps({"Parameters": dict(variables)}, indent=2))
        return path

    # -- functions --------------------------------------------------------------------------------
    def start(
        self,
        config: FunctionConfig,
        *,
        env_overrides: Mapping[str, str] | None = None,
        endpoint_url: str | None = None,
        **_: Any,
    ) -> SamFunction:
        """A function under SAM; `endpoint_url` is the twin's AWS as the host reaches it (127.0.0.1)."""
        if not endpoint_url:
            raise LambdaStartError("the SAM backend needs the twin's AWS endpoint")
        overrides = dict(env_overrides or {})
        container_endpoint = endpoint_url.replace("://127.0.0.1:", f"://{self.settings.bridge}:")
        variables = {k: overrides[k] for k in _DECLARED if k in overrides}
        if overrides.get("GREENLIGHT_SPEC"):
            variables["GREENLIGHT_SPEC"] = self.publish_spec(overrides["GREENLIGHT_SPEC"], endpoint_url)
        # Declared by the template (Globals, through LocalAwsEndpointUrl), so --env-vars may set it: SAM evaluates
        # no Fn::If in Variables and would otherwise hand the function an empty value.
        variables["AWS_ENDPOINT_URL"] = container_endpoint
        variables.setdefault("POWERTOOLS_LOG_LEVEL", str(config.environment.get("POWERTOOLS_LOG_LEVEL", "INFO")))
        key = (json.dumps(variables, sort_keys=True), container_endpoint)
        log_path = self.log_dir / "sam-start-lambda.log"
        if self.settings.mode == "start-lambda":
            if self._server is None or self._server_key != key or not self._server.running:
                if self._server is not None:
                    self._server.stop()
                self._server = _StartLambda(self, container_endpoint, self.env_file(variables), log_path)
                self._server.start()
                self._server_key = key
            function = SamFunction(config, runtime=self, server=self._server, log_path=log_path)
        else:
            log_path = self.log_dir / f"sam-invoke-{config.logical_id}.log"
            function = SamFunction(
                config, runtime=self, log_path=log_path, endpoint_url=container_endpoint, variables=variables
            )
        self._functions.append(function)
        return function

    def close(self) -> None:
        self._functions.clear()
        if self._server is not None:
            self._server.stop()
            self._server = None


class _StartLambda:
    """One `sam local start-lambda` on 127.0.0.1, serving every function of the built template."""

    def __init__(self, runtime: SamRuntime, endpoint_url: str, env_file: Path, log_path: Path) -> None:
        self.runtime = runtime
        self.endpoint_url = endpoint_url
        self.env_file = env_file
        self.log_path = log_path
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 120.0) -> None:
        self.port = free_port()
        cmd = [
            self.runtime.sam, "local", "start-lambda", "--host", "127.0.0.1", "--port", str(self.port),
            "--warm-containers", "LAZY", "--container-host-interface", "127.0.0.1",
            *self.runtime.common_args(self.env_file),
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- greenlight {time.strftime('%H:%M:%S')}: {' '.join(cmd)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                cmd,
                env=sam_environment(self.runtime.region),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            code = wait_listening(self._proc, [self.port], timeout, interval=0.1)
        except TimeoutError as exc:
            self.stop()
            raise LambdaStartError(
                f"sam local start-lambda did not listen within {timeout:.0f} s (log {self.log_path})"
            ) from exc
        if code is not None:
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-15:])
            raise LambdaStartError(f"sam local start-lambda exited with code {code} while starting:\n{tail}")

    def stop(self, grace: float = 10.0) -> None:
        # SAM stops its warm containers on SIGTERM; its whole session goes after `grace`.
        if self._proc is not None:
            stop_session(self._proc, grace)
            self._proc = None

    def pids(self) -> list[int]:
        return [self._proc.pid] if self.running and self._proc is not None else []


class SamFunction:
    """One function under SAM, with the interface of an emulator process (LambdaProcess) the players use."""

    def __init__(
        self,
        config: FunctionConfig,
        *,
        runtime: SamRuntime,
        log_path: Path,
        server: _StartLambda | None = None,
        endpoint_url: str = "",
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.log_path = log_path
        self.server = server
        self.endpoint_url = endpoint_url
        self.variables = dict(variables or {})
        self._lock = threading.Lock()
        self._stopped = False
        self._current: subprocess.Popen[bytes] | None = None
        self.events: list[Path] = []  # invoke mode: the event file of each invocation

    @property
    def name(self) -> str:
        # What SAM sets as AWS_LAMBDA_FUNCTION_NAME, and so what the function's log records carry.
        return self.config.function_name

    @property
    def running(self) -> bool:
        if self._stopped:
            return False
        return self.server.running if self.server is not None else True

    def stop(self, grace: float = 5.0) -> None:
        self._stopped = True
        proc = self._current
        if proc is not None:
            stop_session(proc, grace)

    def pids(self) -> list[int]:
        if self.server is not None:
            return self.server.pids()
        proc = self._current
        return [proc.pid] if proc is not None and proc.poll() is None else []

    def invoke(self, event: Any, timeout: float | None = None) -> InvocationResult:
        wait = timeout if timeout is not None else self.config.timeout + 60.0
        with self._lock:
            if not self.running:
                raise LambdaInvokeError(f"{self.name}: not running")
            if self.server is not None:
                return self._invoke_server(event, wait)
            return self._invoke_cli(event, wait)

    def _invoke_server(self, event: Any, wait: float) -> InvocationResult:
        assert self.server is not None and self.server.port is not None
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=wait)
        try:
            connection.request(
                "POST",
                f"/2015-03-31/functions/{self.config.logical_id}/invocations",
                body=json.dumps(event).encode(),
                headers={"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            status, raw, error = response.status, response.read(), response.getheader("X-Amz-Function-Error")
        except TimeoutError as exc:
            raise LambdaInvokeError(f"{self.name}: no answer from sam local start-lambda within {wait:.0f} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise LambdaInvokeError(f"{self.name}: sam local start-lambda failed: {exc} (log {self.log_path})") from exc
        finally:
            connection.close()
        duration_ms = (time.monotonic() - started) * 1000.0
        if status != 200:
            raise LambdaInvokeError(
                f"{self.name}: sam local start-lambda answered HTTP {status}: {raw[:300]!r} (log {self.log_path})"
            )
        return self._decode(raw, duration_ms, function_error=bool(error))

    def _invoke_cli(self, event: Any, wait: float) -> InvocationResult:
        env_file = self.runtime.env_file(self.variables)
        # Kept, one file per invocation: the events the twin generated, to run again by hand.
        event_path = self.runtime.log_dir / "events" / f"{self.config.logical_id}-{len(self.events) + 1:02d}.json"
        event_path.parent.mkdir(parents=True, exist_ok=True)
        event_path.write_text(json.dumps(event, indent=2))
        self.events.append(event_path)
        cmd = [
            self.runtime.sam, "local", "invoke", self.config.logical_id, "--event", str(event_path),
            "--container-host-interface", "127.0.0.1",
            *self.runtime.common_args(env_file),
        ]  # fmt: skip
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"--- greenlight {time.strftime('%H:%M:%S')}: {' '.join(cmd)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                cmd,
                env=sam_environment(self.runtime.region),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
            self._current = proc
            try:
                out, _ = proc.communicate(timeout=wait)
            except subprocess.TimeoutExpired as exc:
                stop_session(proc, 5.0)
                raise LambdaInvokeError(f"{self.name}: sam local invoke gave no answer within {wait:.0f} s") from exc
            finally:
                self._current = None
                with contextlib.suppress(OSError):
                    env_file.unlink()
        duration_ms = (time.monotonic() - started) * 1000.0
        lines = [line for line in out.decode(errors="replace").splitlines() if line.strip()]
        if proc.returncode != 0 or not lines:
            raise LambdaInvokeError(
                f"{self.name}: sam local invoke exited with {proc.returncode} and no answer (log {self.log_path})"
            )
        return self._decode(lines[-1].encode(), duration_ms, function_error=False)

    def _decode(self, raw: bytes, duration_ms: float, *, function_error: bool) -> InvocationResult:
        common = {"duration_ms": duration_ms, "function_name": self.name, "log_path": self.log_path}
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        # SAM's error documents carry its own request id; decode_answer recognises an error by it.
        request_id = str(document.get("requestId", "")) if isinstance(document, dict) else ""
        result = decode_answer(200, raw, request_id, **common)
        if result is None:  # pragma: no cover - decode_answer always decodes an HTTP 200
            raise LambdaInvokeError(f"{self.name}: unreadable answer {raw[:300]!r}")
        if function_error and result.ok:
            return InvocationResult(
                payload=result.payload,
                error_type="Unhandled",
                error_message=str(result.payload)[:500],
                duration_ms=duration_ms,
                timed_out=False,
                function_name=self.name,
                log_path=self.log_path,
            )
        return result
