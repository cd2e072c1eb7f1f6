"""The twin's AWS endpoint: moto in server mode on 127.0.0.1, with greenlight's extensions and faults.

`start()` runs moto's WSGI app (the one ThreadedMotoServer runs) in a thread of this process, wrapped
in the fault middleware, after `install()` has patched moto. Because the server shares this process's
moto backends, the backdoor functions of this package act on what the server answers.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from greenlight_twin.aws import faults

FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "testing"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"

_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Patch moto's backends and response classes with greenlight's extensions; safe to call again.

    Everything it changes is a monkeypatch on moto 5's classes, listed in the docstrings of
    greenlight_twin.aws.codedeploy, .elbv2, .ecs and .durable.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        from greenlight_twin.aws import codedeploy, durable, ecs, elbv2

        codedeploy.install()
        durable.install()
        elbv2.install()
        ecs.install()
        _installed = True


class MotoServer:
    """A running moto server on 127.0.0.1; stop it with `.stop()` or use it as a context manager."""

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1", quiet: bool = True) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the twin serves on the loopback interface only, not {host!r}")
        self._requested = (host, port)
        self._quiet = quiet
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> MotoServer:
        if self._server is not None:
            return self
        install()
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        quiet = self._quiet

        class _Handler(MotoRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                if not quiet:  # one line per request drowns test output; errors are still logged
                    super().log_request(code, size)

        app = faults.FaultMiddleware(DomainDispatcherApplication(create_backend_app))
        host, port = self._requested
        self._server = make_server(host, port, app, threaded=True, request_handler=_Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"moto-{self.port}", daemon=True)
        self._thread.start()
        return self

    @property
    def host(self) -> str:
        return str(self._require().server_address[0])

    @property
    def port(self) -> int:
        return int(self._require().server_address[1])

    @property
    def endpoint_url(self) -> str:
        host = self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def _require(self) -> Any:
        if self._server is None:
            raise RuntimeError("the moto server is not running: call start() first")
        return self._server

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def reset(self) -> None:
        """Empty every moto backend and drop faults and health overrides (the server keeps running)."""
        reset()

    def session(self, region: str = DEFAULT_REGION) -> Any:
        return session(self.endpoint_url, region)

    def client_env(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        return client_env(self.endpoint_url, region)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.endpoint_url if self._server is not None else "stopped"
        return f"MotoServer({state})"


def start(port: int = 0, *, quiet: bool = True) -> MotoServer:
    """Start a moto server with greenlight's extensions on 127.0.0.1 (port 0: a free port)."""
    return MotoServer(port, quiet=quiet).start()


def reset() -> None:
    """Empty every moto backend in this process, and drop faults, health states and the health provider."""
    from moto.moto_api._internal.models import moto_api_backend

    from greenlight_twin.aws import elbv2

    faults.clear_faults()
    elbv2.set_target_health_provider(None)
    moto_api_backend.reset()  # health states live on moto's objects and go with them


def _session_class() -> type:
    import boto3

    class TwinSession(boto3.session.Session):
        """A boto3 Session with fake credentials whose clients default to the twin's endpoint."""

        def __init__(self, endpoint_url: str, region_name: str) -> None:
            super().__init__(
                aws_access_key_id=FAKE_ACCESS_KEY,
                aws_secret_access_key=FAKE_SECRET_KEY,
                region_name=region_name,
            )
            self.endpoint_url = endpoint_url

        # endpoint_url is the sixth positional parameter of client()/resource(): respect it if given.
        def client(self, *args: Any, **kwargs: Any) -> Any:
            if len(args) < 6 and kwargs.get("endpoint_url") is None:
                kwargs["endpoint_url"] = self.endpoint_url
            return super().client(*args, **kwargs)

        def resource(self, *args: Any, **kwargs: Any) -> Any:
            if len(args) < 6 and kwargs.get("endpoint_url") is None:
                kwargs["endpoint_url"] = self.endpoint_url
            return super().resource(*args, **kwargs)

    return TwinSession


def session(endpoint_url: str, region: str = DEFAULT_REGION) -> Any:
    """A boto3 Session with fake credentials whose clients talk to `endpoint_url` unless told otherwise."""
    return _session_class()(endpoint_url, region)


def client_env(endpoint_url: str, region: str = DEFAULT_REGION) -> dict[str, str]:
    """Environment variables that point boto3 in another process (a Lambda, the CLI) at the twin."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
