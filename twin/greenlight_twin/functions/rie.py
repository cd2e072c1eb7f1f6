"""Finds the Lambda Runtime Interface Emulator binary, or fetches it once from the aws-sam-cli wheel.

Nothing here assumes a checkout of greenlight: the places looked at are `$GREENLIGHT_RIE`, a
`.venv-sam` (the SAM CLI's virtual environment) in the current directory or beside the virtual
environment that runs the twin, and the user's cache (`$XDG_CACHE_HOME/greenlight/bin`, else
`~/.cache/greenlight/bin`), where a fetched binary is kept.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from greenlight_twin.functions.errors import RieNotFoundError

__all__ = ["RIE_ENV", "cache_dir", "fetch_rie", "find_rie", "rie_arch", "search_places"]

logger = logging.getLogger(__name__)

RIE_ENV = "GREENLIGHT_RIE"
# The RIE's address inside the aws-sam-cli wheel (and installed package), per architecture.
RIE_IN_SAMCLI = "samcli/local/rapid/aws-lambda-rie-{arch}"


def rie_arch(machine: str | None = None) -> str:
    """The aws-sam-cli suffix of the emulator build for this (or the given) machine."""
    name = (machine or platform.machine()).lower()
    if name in {"x86_64", "amd64"}:
        return "x86_64"
    if name in {"aarch64", "arm64"}:
        return "arm64"
    raise RieNotFoundError(
        f"no Lambda Runtime Interface Emulator build for machine {name!r} (aws-sam-cli ships x86_64 and arm64)"
    )


def cache_dir() -> Path:
    """Where a fetched emulator is kept: the user's cache, shared by every project on the machine."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "greenlight" / "bin"


def search_places() -> list[Path]:
    """The folders whose `.venv-sam` may hold the SAM CLI: the current one, and the one beside this virtualenv."""
    places = [Path.cwd()]
    if sys.prefix != sys.base_prefix:  # running in a virtual environment: its siblings are the project's
        places.append(Path(sys.prefix).parent)
    unique: list[Path] = []
    for place in places:
        resolved = place.resolve()
        if resolved not in unique:
            unique.append(resolved)
    return unique


def find_rie(
    *,
    places: Sequence[Path] | None = None,
    cache: Path | None = None,
    fetch: bool = True,
    python: str | None = None,
) -> Path:
    """The emulator binary for this machine, fetching it from the aws-sam-cli wheel if nothing has it.

    Looks, in order, at: `$GREENLIGHT_RIE` (used as is: an error if it is not an executable file);
    the samcli package in `<place>/.venv-sam` (any python version) for each of `places` (default:
    `search_places()`); the cache folder (default `cache_dir()`); then downloads the aws-sam-cli wheel
    with `python -m pip download` and extracts only the binary into the cache.
    """
    if sys.platform != "linux":
        raise RieNotFoundError(f"the Lambda Runtime Interface Emulator is a Linux binary; this is {sys.platform}")
    override = os.environ.get(RIE_ENV)
    if override:
        path = Path(override).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        problem = "does not exist" if not path.exists() else "is not an executable file"
        raise RieNotFoundError(f"${RIE_ENV}={override}: {problem}")

    arch = rie_arch()
    member = RIE_IN_SAMCLI.format(arch=arch)
    tried: list[str] = []
    venvs = [Path(place).resolve() / ".venv-sam" for place in (search_places() if places is None else places)]
    for venv in venvs:
        candidates = sorted(venv.glob(f"lib*/python*/site-packages/{member}"))
        for candidate in candidates:
            if os.access(candidate, os.X_OK):
                return candidate
            tried.append(f"{candidate} (not executable)")
        if not candidates:
            tried.append(f"{venv}/lib/python*/site-packages/{member} (no such file)")

    cached = (cache or cache_dir()) / f"aws-lambda-rie-{arch}"
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    tried.append(f"{cached} (no such file)")

    if not fetch:
        raise RieNotFoundError("Lambda Runtime Interface Emulator not found; tried: " + "; ".join(tried))
    try:
        return fetch_rie(cached.parent, arch=arch, python=python)
    except RieNotFoundError as exc:
        tried.append(f"pip download aws-sam-cli ({exc})")
        raise RieNotFoundError(
            "Lambda Runtime Interface Emulator not found nor fetched; tried: "
            + "; ".join(tried)
            + f". Install aws-sam-cli into ./.venv-sam or set ${RIE_ENV} to the binary."
        ) from exc


def fetch_rie(dest_dir: Path, *, arch: str | None = None, python: str | None = None, timeout: float = 600) -> Path:
    """Downloads the aws-sam-cli wheel (no dependencies) and extracts the emulator into `dest_dir`."""
    arch = arch or rie_arch()
    member = RIE_IN_SAMCLI.format(arch=arch)
    python = python or sys.executable
    with tempfile.TemporaryDirectory(prefix="greenlight-sam-wheel-") as tmp:
        cmd = [
            python, "-m", "pip", "download", "aws-sam-cli", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--quiet", "--dest", tmp,
        ]  # fmt: skip
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RieNotFoundError(f"{' '.join(cmd[:4])} failed: {exc}") from exc
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise RieNotFoundError(f"pip download exited with {done.returncode}: {' | '.join(detail)}")
        wheels = sorted(Path(tmp).glob("aws_sam_cli-*.whl"))
        if not wheels:
            raise RieNotFoundError(f"pip download left no aws_sam_cli wheel in {tmp}")
        dest_dir.mkdir(parents=True, exist_ok=True)
        target = dest_dir / f"aws-lambda-rie-{arch}"
        # Written beside the target and renamed, so a concurrent fetch never sees half a binary.
        partial = dest_dir / f".{target.name}.{os.getpid()}.part"
        try:
            with zipfile.ZipFile(wheels[-1]) as wheel:
                try:
                    info = wheel.getinfo(member)
                except KeyError as exc:
                    raise RieNotFoundError(f"{wheels[-1].name} has no {member}") from exc
                with wheel.open(info) as src, partial.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
            partial.chmod(0o755)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    logger.info("fetched the Lambda Runtime Interface Emulator from %s into %s", wheels[-1].name, target)
    return target
