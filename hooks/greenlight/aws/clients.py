"""boto3 clients with explicit timeouts and standard retries, reused across warm invocations."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

# Bounded so no AWS call can eat the hook's reserve: botocore's defaults are 60 s per read.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10
MAX_ATTEMPTS = 3
# Enough for every service a hook uses under a few settings; a test process that cycles through many
# endpoints drops the oldest instead of growing without bound.
CACHE_ENTRIES = 64


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


def settings_key(env: Mapping[str, str] | None = None) -> str:
    """A digest of every AWS_* variable: what boto3 reads for region, endpoints, credentials and retries.

    Two invocations share a client only when all of these agree, so a changed endpoint (AWS_ENDPOINT_URL,
    AWS_ENDPOINT_URL_<SERVICE>), region or credential never reaches an old client. A digest, so the cache
    keys hold no secret.
    """
    env = os.environ if env is None else env
    items = sorted((name, value) for name, value in env.items() if name.startswith("AWS_"))
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def _config_key(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, default=repr)


class _Shared:
    """The process's default-credential sessions and clients; Lambda keeps them between warm invocations.

    Clients come from botocore sessions, not boto3's: boto3 only wraps them, and importing it also loads
    s3transfer and multiprocessing, a tenth of a cold start. A session and its clients hold no
    invocation's state (no event hooks are registered on them), and botocore clients are safe to share
    between threads; creating them is not, hence the lock.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: OrderedDict[str, Any] = OrderedDict()
        self.clients: OrderedDict[tuple[str, str, str | None, str], Any] = OrderedDict()

    def client(self, service: str, region: str | None, config: Mapping[str, Any]) -> Any:
        env_key = settings_key()
        key = (env_key, service, region, _config_key(config))
        with self.lock:
            found = self.clients.get(key)
            if found is not None:
                self.clients.move_to_end(key)
                return found
            session = self._session_locked(env_key)
            made = session.create_client(service, region_name=region, config=client_config(**config))
            self.clients[key] = made
            while len(self.clients) > CACHE_ENTRIES:
                self.clients.popitem(last=False)
            return made

    def session(self, region: str | None) -> Any:
        """A boto3 Session over the shared botocore session, for callers that want one."""
        import boto3

        with self.lock:
            return boto3.session.Session(botocore_session=self._session_locked(settings_key()), region_name=region)

    def _session_locked(self, env_key: str) -> Any:
        found = self.sessions.get(env_key)
        if found is None:
            import botocore.session

            found = self.sessions[env_key] = botocore.session.Session()
            while len(self.sessions) > CACHE_ENTRIES:
                self.sessions.popitem(last=False)
        self.sessions.move_to_end(env_key)
        return found

    def clear(self) -> None:
        with self.lock:
            self.sessions.clear()
            self.clients.clear()


_shared = _Shared()


def clear_shared_clients() -> None:
    """Forget the process's shared sessions and clients (the next call builds new ones)."""
    _shared.clear()


class AwsClients:
    """Each service's client, created on first use.

    Without `session` (Lambda, the CLI), clients come from one process-wide cache keyed by service,
    region, config and every AWS_* setting, so a warm invocation reuses the clients of the one before
    instead of paying for a new session and client each time. With `session` (tests, the local twin),
    the clients belong to that session and to this object alone.
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
        if self._session is None:
            return _shared.session(self._region)
        return self._session

    def client(self, service: str) -> Any:
        with self._lock:
            found = self._clients.get(service)
            if found is None:
                if self._session is None:
                    found = _shared.client(service, self._region, self._config)
                else:
                    found = self._session.client(
                        service, region_name=self._region, config=client_config(**self._config)
                    )
                # Kept for this object's lifetime: one invocation sees one client per service even if
                # the environment changes under it.
                self._clients[service] = found
            return found

    def __getattr__(self, service: str) -> Any:
        # aws.codedeploy, aws.elbv2, aws.ecs, aws.cloudwatch ...
        if service.startswith("_"):
            raise AttributeError(service)
        return self.client(service)
