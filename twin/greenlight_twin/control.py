"""The control API of a running twin (`greenlight twin up`): a small HTTP server on 127.0.0.1.

    GET  /status        what the twin serves now (JSON)
    POST /deployments   plays one deployment: JSON body {spec, version, env, task_env, tasks, hook_timeout,
                        hooks}; the answer streams one JSON object per line, {"event": ...} as the deployment
                        goes, then {"outcome": ...} (or {"error": "..."})
    POST /stop          stops the deployment being played (it rolls back)
    POST /shutdown      stops the twin

Every request must carry the token of the state file (header X-Greenlight-Twin-Token): the file is
readable by its owner only, so other local users cannot drive the twin. `up` writes the state file;
`deploy`, `status`, `stop` and `down` read it (`ControlClient.from_state`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from greenlight_twin.controller import Twin

__all__ = ["ControlClient", "ControlError", "ControlServer", "read_state", "write_state"]

TOKEN_HEADER = "X-Greenlight-Twin-Token"
DEFAULT_STATE = Path(".twin") / "state.json"
_MAX_BODY = 1024 * 1024


class ControlError(Exception):
    """The twin's control API cannot be reached, or refused the request; the message says why."""


def write_state(path: Path, state: Mapping[str, Any]) -> None:
    """Writes the state file readable by its owner only (it holds the control token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dict(state), out, indent=2)
    partial.replace(path)


def read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ControlError(
            f"no twin is running here: {path} does not exist (start one with `greenlight twin up`)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ControlError(f"cannot read the twin's state file {path}: {exc}") from exc
    if not isinstance(state, dict) or "control_url" not in state or "token" not in state:
        raise ControlError(f"{path} is not a twin state file (no control_url/token)")
    return state


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # the streamed answer ends when the connection closes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (BaseHTTPRequestHandler's name)
        return  # quiet: the twin's own progress is what the terminal shows

    def _authorised(self) -> bool:
        given = self.headers.get(TOKEN_HEADER, "")
        if secrets.compare_digest(given, self.server.token):
            return True
        self._json(403, {"error": f"missing or wrong {TOKEN_HEADER} (read it from the twin's state file)"})
        return False

    def _json(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ValueError("request body too large")
        raw = self.rfile.read(length) if length else b"{}"
        body = json.loads(raw or b"{}")
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    def do_GET(self) -> None:  # noqa: N802 (BaseHTTPRequestHandler's name)
        if not self._authorised():
            return
        if self.path == "/status":
            self._json(200, self.server.twin.status())
        else:
            self._json(404, {"error": f"no {self.path}; try GET /status"})

    def do_POST(self) -> None:  # noqa: N802
        if not self._authorised():
            return
        try:
            body = self._body()
        except ValueError as exc:
            self._json(400, {"error": str(exc)})
            return
        if self.path == "/deployments":
            self._deploy(body)
        elif self.path == "/stop":
            self._json(200, {"stopped": self.server.twin.stop_deployment()})
        elif self.path == "/shutdown":
            self._json(200, {"shutting_down": True})
            self.server.on_shutdown()
        else:
            self._json(404, {"error": f"no {self.path}"})

    def _deploy(self, body: dict[str, Any]) -> None:
        from greenlight_twin.controller import TwinError
        from greenlight_twin.progress import Event

        spec = body.get("spec")
        if not isinstance(spec, str) or not spec:
            self._json(400, {"error": "spec: the path of the spec file is required"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        lock = threading.Lock()

        def send(line: Mapping[str, Any]) -> None:
            with lock, contextlib.suppress(OSError):  # a client that left does not stop the deployment
                self.wfile.write(json.dumps(line).encode() + b"\n")
                self.wfile.flush()

        def progress(event: Event) -> None:
            send({"event": event.to_dict()})
            if self.server.progress is not None:
                self.server.progress(event)

        try:
            outcome = self.server.twin.deploy(
                spec,
                version=body.get("version"),
                env=body.get("env") or {},
                task_env=body.get("task_env") or (),
                tasks=body.get("tasks"),
                hook_timeout=body.get("hook_timeout"),
                hooks=body.get("hooks"),
                description=body.get("description"),
                progress=progress,
                strategy=body.get("strategy") or "BLUE_GREEN",
                percent=body.get("percent"),
                bake=body.get("bake"),
            )
        except (TwinError, ValueError, OSError) as exc:
            send({"error": str(exc)})
            return
        except Exception as exc:  # reported to the client; the twin keeps serving
            send({"error": f"{type(exc).__name__}: {exc}"})
            return
        send({"outcome": outcome.to_dict()})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, twin: Twin, token: str, on_shutdown: Callable[[], None], progress: Callable[[Any], None] | None
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.twin = twin
        self.token = token
        self.on_shutdown = on_shutdown
        self.progress = progress


class ControlServer:
    """Serves a twin's control API on 127.0.0.1 (a free port) until stop()."""

    def __init__(
        self,
        twin: Twin,
        *,
        on_shutdown: Callable[[], None],
        progress: Callable[[Any], None] | None = None,
    ) -> None:
        self.token = secrets.token_urlsafe(24)
        self._server = _Server(twin, self.token, on_shutdown, progress)
        self._thread = threading.Thread(target=self._server.serve_forever, name="twin-control", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class ControlClient:
    """Talks to a running twin's control API."""

    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise ControlError(f"the twin's control API must be on 127.0.0.1, not {url}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_state(cls, path: Path) -> ControlClient:
        state = read_state(path)
        return cls(str(state["control_url"]), str(state["token"]))

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None, timeout: float | None) -> Any:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)
        data = json.dumps(body).encode() if body is not None else None
        headers = {TOKEN_HEADER: self.token, "Content-Type": "application/json"}
        try:
            connection.request(method, path, body=data, headers=headers)
            return connection, connection.getresponse()
        except OSError as exc:
            connection.close()
            raise ControlError(
                f"the twin's control API at http://{self.host}:{self.port} does not answer ({exc}); is the twin "
                "still running?"
            ) from exc

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        connection, response = self._request(method, path, body, None)
        try:
            raw = response.read()
        finally:
            connection.close()
        try:
            answer = json.loads(raw or b"{}")
        except ValueError as exc:
            raise ControlError(f"{method} {path}: not JSON: {raw[:200]!r}") from exc
        if response.status != 200:
            raise ControlError(f"{method} {path}: HTTP {response.status}: {answer.get('error', answer)}")
        return dict(answer)

    def deploy(self, body: Mapping[str, Any], *, timeout: float = 3600.0) -> Iterator[dict[str, Any]]:
        """POST /deployments: yields each streamed line ({"event"}, then {"outcome"} or {"error"})."""
        connection, response = self._request("POST", "/deployments", body, timeout)
        try:
            if response.status != 200:
                raw = response.read()
                with contextlib.suppress(ValueError):
                    raw = json.loads(raw).get("error", raw)
                raise ControlError(f"POST /deployments: HTTP {response.status}: {raw!r}")
            for line in response:
                text = line.strip()
                if text:
                    yield json.loads(text)
        finally:
            connection.close()
