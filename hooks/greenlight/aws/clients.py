"""boto3 clients with explicit timeouts and standard retries, one per service."""

from __future__ import annotations

import threading
from typing import Any

# Bounded so no AWS call can eat the hook's reserve: botocore's defaults are 60 s per read.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10
MAX_ATTEMPTS = 3


def client_config(**overrides: Any) -> Any:
    from botocore.config import Config

    settings: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "retries": {"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        "user_agent_extra": "greenlight",
    }
    settings.update(overrides)
    return Config(**settings)


class AwsClients:
    """Creates each service's client on first use and keeps it for the invocation.

    Tests and the local twin pass `session` (or set AWS_ENDPOINT_URL, which boto3 honours).
    """

    def __init__(self, session: Any = None, region: str | None = None, **config: Any) -> None:
        self._session = session
        self._region = region
        self._config = config
        self._clients: dict[str, Any] = {}
        # Checks run side by side, and creating clients from one boto3 session is not thread-safe.
        self._lock = threading.Lock()

    @property
    def session(self) -> Any:
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session(region_name=self._region)
        return self._session

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._session_locked().client(
                    service, region_name=self._region, config=client_config(**self._config)
                )
            return self._clients[service]

    def __getattr__(self, service: str) -> Any:
        # aws.codedeploy, aws.elbv2, aws.ecs, aws.cloudwatch ...
        if service.startswith("_"):
            raise AttributeError(service)
        return self.client(service)
