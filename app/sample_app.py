"""The sample service greenlight deploys as blue and green: a tiny Flask app with fault switches.

Everything it does is read from the environment once, when the app is built, so a bad switch
stops the process before it serves a single request instead of misbehaving later:

- ``APP_VERSION``: the version the service reports (default ``1.0.0``).
- ``FAULT_UNHEALTHY``: ``true`` makes ``/health`` answer 503; the other endpoints keep working.
- ``FAULT_LATENCY_MS`` / ``FAULT_LATENCY_PATHS``: delay every answer (or only those paths) by N ms.
- ``FAULT_ERROR_RATE``: this share (0..1) of the requests to ``/`` and ``/health`` answer 500,
  spread deterministically: request n fails when ``floor(n*r) > floor((n-1)*r)``.
- ``FAULT_WRONG_VERSION``: claim this version instead of ``APP_VERSION`` (body and header).

An empty value counts as unset, so ``FAULT_UNHEALTHY=`` in a compose file or task definition
switches the fault off rather than failing.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

__all__ = [
    "DEFAULT_VERSION",
    "VERSION_HEADER",
    "ConfigError",
    "ErrorSpread",
    "Settings",
    "create_app",
    "load_settings",
]

DEFAULT_VERSION = "1.0.0"
VERSION_HEADER = "X-App-Version"
GREETING = "Hello World!"

# Paths that FAULT_ERROR_RATE applies to (and the only ones its request counter counts).
ERROR_RATE_PATHS = frozenset({"/", "/health"})

# A version ends up in a response header: visible ASCII only, no spaces, bounded length.
_VERSION_RE = re.compile(r"[!-~]{1,128}")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# An upper bound catches unit mistakes (microseconds typed as milliseconds); ten minutes is already
# longer than any probe waits, so a larger value would only leave a request hanging.
MAX_LATENCY_MS = 600_000
MAX_RATE_DECIMALS = 9


class ConfigError(ValueError):
    """One or more environment variables hold a value the service cannot use."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid configuration: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Settings:
    """What the service does, parsed and validated from the environment."""

    version: str = DEFAULT_VERSION
    unhealthy: bool = False
    latency_ms: int = 0
    # None: the delay applies to every path.
    latency_paths: frozenset[str] | None = None
    # Exact fraction, so the failing request numbers do not depend on float rounding.
    error_rate: Fraction = Fraction(0)
    wrong_version: str | None = None

    @property
    def served_version(self) -> str:
        """The version the service claims: FAULT_WRONG_VERSION wins over APP_VERSION."""
        return self.wrong_version if self.wrong_version is not None else self.version

    def describe_faults(self) -> str:
        """One short, log-friendly line naming the active fault switches (``none`` if none)."""
        faults: list[str] = []
        if self.unhealthy:
            faults.append("unhealthy")
        if self.latency_ms:
            where = ",".join(sorted(self.latency_paths)) if self.latency_paths is not None else "*"
            faults.append(f"latency={self.latency_ms}ms@{where}")
        if self.error_rate:
            faults.append(f"error_rate={float(self.error_rate):g}")
        if self.wrong_version is not None:
            faults.append(f"wrong_version={self.wrong_version}")
        return ",".join(faults) if faults else "none"


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _parse_version(env: Mapping[str, str], name: str, problems: list[str]) -> str | None:
    raw = _get(env, name)
    if raw is None:
        return None
    if not _VERSION_RE.fullmatch(raw):
        problems.append(f"{name}={raw!r}: expected 1 to 128 visible ASCII characters without spaces (e.g. 1.2.3)")
        return None
    return raw


def _parse_bool(env: Mapping[str, str], name: str, problems: list[str]) -> bool:
    raw = _get(env, name)
    if raw is None:
        return False
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    problems.append(f"{name}={raw!r}: expected true or false (also accepted: 1/0, yes/no, on/off)")
    return False


def _parse_latency(env: Mapping[str, str], problems: list[str]) -> int:
    raw = _get(env, "FAULT_LATENCY_MS")
    if raw is None:
        return 0
    expected = f"expected a whole number of milliseconds from 0 to {MAX_LATENCY_MS}"
    # ASCII digits only (str.isdigit() lets through characters int() rejects), and a length check
    # first so a very long string never reaches int().
    if not re.fullmatch(r"[0-9]{1,7}", raw) or int(raw) > MAX_LATENCY_MS:
        problems.append(f"FAULT_LATENCY_MS={raw!r}: {expected}")
        return 0
    return int(raw)


def _parse_latency_paths(env: Mapping[str, str], problems: list[str]) -> frozenset[str] | None:
    raw = _get(env, "FAULT_LATENCY_PATHS")
    if raw is None:
        return None
    # Blank entries (a trailing comma) are ignored; anything else must look like a path.
    paths = [part.strip() for part in raw.split(",") if part.strip()]
    bad = [path for path in paths if not path.startswith("/")]
    if not paths or bad:
        problems.append(
            f"FAULT_LATENCY_PATHS={raw!r}: expected a comma-separated list of paths starting with '/' (e.g. /,/health)"
        )
        return None
    if _get(env, "FAULT_LATENCY_MS") is None:
        problems.append("FAULT_LATENCY_PATHS is set but FAULT_LATENCY_MS is not: set the delay too")
        return None
    return frozenset(paths)


def _parse_error_rate(env: Mapping[str, str], problems: list[str]) -> Fraction:
    raw = _get(env, "FAULT_ERROR_RATE")
    if raw is None:
        return Fraction(0)
    expected = "expected a decimal number from 0 to 1 (e.g. 0.2 for one request in five)"
    try:
        number = Decimal(raw)
    except InvalidOperation:
        problems.append(f"FAULT_ERROR_RATE={raw!r}: {expected}")
        return Fraction(0)
    if not number.is_finite() or not 0 <= number <= 1:
        problems.append(f"FAULT_ERROR_RATE={raw!r}: {expected}")
        return Fraction(0)
    # More precision than this is no use to a demo and would make the exact fraction (and every
    # request's arithmetic) needlessly large: 1e-999999 has a denominator of a million digits.
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_RATE_DECIMALS:
        problems.append(f"FAULT_ERROR_RATE={raw!r}: expected at most {MAX_RATE_DECIMALS} decimal places")
        return Fraction(0)
    return Fraction(number)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Parse the service's environment; raise ConfigError naming every bad variable at once."""
    source: Mapping[str, str] = os.environ if env is None else env
    problems: list[str] = []
    version = _parse_version(source, "APP_VERSION", problems) or DEFAULT_VERSION
    settings = Settings(
        version=version,
        unhealthy=_parse_bool(source, "FAULT_UNHEALTHY", problems),
        latency_ms=_parse_latency(source, problems),
        latency_paths=_parse_latency_paths(source, problems),
        error_rate=_parse_error_rate(source, problems),
        wrong_version=_parse_version(source, "FAULT_WRONG_VERSION", problems),
    )
    if problems:
        raise ConfigError(problems)
    return settings


class ErrorSpread:
    """Decides which requests fail so that exactly floor(n*rate) of the first n do, evenly spread.

    Request n (counting from 1) fails when floor(n*rate) > floor((n-1)*rate). The counter lives
    in the process, so a test or a demo sees the same failures on every run.
    """

    def __init__(self, rate: Fraction) -> None:
        if not 0 <= rate <= 1:
            raise ValueError(f"error rate must be between 0 and 1, got {rate}")
        self.rate = rate
        self._count = 0
        # gunicorn serves requests from several threads; the count must not skip or repeat.
        self._lock = threading.Lock()

    def next_fails(self) -> bool:
        """Count one request and say whether it is one of those that fail."""
        with self._lock:
            self._count += 1
            n = self._count
        return math.floor(n * self.rate) > math.floor((n - 1) * self.rate)

    @property
    def count(self) -> int:
        """How many requests have been counted so far."""
        with self._lock:
            return self._count


def create_app(
    env: Mapping[str, str] | None = None,
    *,
    sleep: Callable[[float], Any] = time.sleep,
) -> Flask:
    """Build the service from ``env`` (default: ``os.environ``); ConfigError if a switch is invalid.

    ``sleep`` is how FAULT_LATENCY_MS waits; tests pass a recorder so they need not time anything.
    """
    settings = load_settings(env)
    spread = ErrorSpread(settings.error_rate)
    version = settings.served_version

    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.extensions["error_spread"] = spread

    @app.before_request
    def inject_faults() -> tuple[Response, int] | None:
        if settings.latency_ms and (settings.latency_paths is None or request.path in settings.latency_paths):
            sleep(settings.latency_ms / 1000)
        if settings.error_rate and request.path in ERROR_RATE_PATHS and spread.next_fails():
            return jsonify(error="injected fault (FAULT_ERROR_RATE)", version=version), 500
        return None

    @app.after_request
    def stamp_version(response: Response) -> Response:
        # Every answer says who gave it, so a probe can tell blue from green.
        response.headers[VERSION_HEADER] = version
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify(error=exc.name, version=version), exc.code or 500

    @app.get("/")
    def greeting() -> Response:
        return jsonify(message=GREETING, version=version)

    @app.get("/health")
    def health() -> tuple[Response, int]:
        if settings.unhealthy:
            return jsonify(status="unhealthy", version=version, reason="FAULT_UNHEALTHY"), 503
        return jsonify(status="ok", version=version), 200

    @app.get("/version")
    def show_version() -> Response:
        return jsonify(version=version)

    return app
