"""Where a spec comes from: a file (YAML or JSON), or an SSM parameter, named by GREENLIGHT_SPEC."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from greenlight.spec.errors import Problem, SpecError, SpecSourceError
from greenlight.spec.model import Spec, build_spec

# A spec is a few dozen checks: a file far larger than this is a mistake (or /dev/zero).
MAX_SPEC_BYTES = 1024 * 1024
# The spec bundled with the hook functions: package data of `greenlight`, read when GREENLIGHT_SPEC is empty.
BUNDLED_SPEC = "default_spec.yaml"
BUNDLED_SOURCE = f"greenlight/{BUNDLED_SPEC} (bundled)"
SSM_PREFIX = "ssm:"
# What reading a spec from `ssm:/name` calls (the decrypting of a SecureString is SSM's own kms:Decrypt).
IAM_ACTIONS: tuple[str, ...] = ("ssm:GetParameter",)


def bundled_text() -> str:
    """The text of the spec bundled with the package (importlib.resources: a zip or a folder alike)."""
    return resources.files("greenlight").joinpath(BUNDLED_SPEC).read_text(encoding="utf-8")


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, less its leniency: a key given twice in one mapping is an error, not a
    silent replacement (a pasted second `AfterAllowTestTraffic:` block would otherwise drop the first
    one's checks, and an unhealthy green would pass)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Only the keys written in this mapping are compared: a key merged in (`<<: *base`) may be
        # overridden, that is what merges are for. PyYAML merges them in flatten_mapping, called after.
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"a key that is a {type(key).__name__} cannot be used",
                    key_node.start_mark,
                ) from None
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {_shown_key(key)} on line {key_node.start_mark.line + 1}, first given on line "
                    f"{first.start_mark.line + 1}; a second block would silently replace the first",
                    key_node.start_mark,
                )
            seen[key] = key_node
        self.flatten_mapping(node)
        return super().construct_mapping(node, deep=deep)


def _shown_key(key: Any) -> str:
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_text(text: str, source: str) -> Any:
    """Parse YAML (JSON is accepted, being YAML); syntax errors name the line and column, duplicate keys both lines."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506  # nosec B506  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([Problem(where, f"not valid YAML or JSON: {problem}")], source) from exc
    except (ValueError, RecursionError) as exc:
        # PyYAML raises plain errors for a value it parsed but cannot build (a date such as 2001-02-30),
        # and for nesting deeper than the interpreter's stack.
        problem = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise SpecError([Problem("", f"not valid YAML or JSON: {problem}")], source) from exc


def load_text(text: str, *, source: str = "<text>", env: Mapping[str, str] | None = None) -> Spec:
    return build_spec(parse_text(text, source), env=env, source=source)


def read_source(location: str, *, ssm_client: Any = None) -> str:
    """The spec's text from a path or from `ssm:/parameter/name`."""
    if location.startswith(SSM_PREFIX):
        name = location[len(SSM_PREFIX) :]
        if not name:
            raise SpecSourceError(f"GREENLIGHT_SPEC {location!r} names no SSM parameter")
        from aws_lambda_powertools.utilities import parameters

        try:
            # get_parameter() passes unknown keywords on to the SSM API call, so an injected client needs
            # a provider of its own; without one, the shared default provider caches across invocations.
            if ssm_client is not None:
                value = parameters.SSMProvider(boto3_client=ssm_client).get(name, decrypt=True, max_age=60)
            else:
                value = parameters.get_parameter(name, decrypt=True, max_age=60)
        except Exception as exc:
            raise SpecSourceError(f"cannot read spec from SSM parameter {name}: {type(exc).__name__}: {exc}") from exc
        return str(value)
    scheme = location.partition("://")[0]
    if "://" in location and scheme.isalnum():
        raise SpecSourceError(f"spec {location!r}: {scheme}:// is not a spec source; give a file path or ssm:/name")
    path = Path(location)
    try:
        return read_text_file(path, limit=MAX_SPEC_BYTES, what="spec file")
    except FileNotFoundError as exc:
        raise SpecSourceError(f"spec file not found: {path}") from exc
    except OSError as exc:
        raise SpecSourceError(f"cannot read spec file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SpecSourceError(f"spec file {path} is not UTF-8 text") from exc


def read_text_file(path: Path, *, limit: int, what: str) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes.

    A FIFO, a device (/dev/zero, /dev/urandom) or a file over the limit is refused before it is read: reading one
    would hang, or fill the memory. OSError (a message naming the file) when it cannot or must not be read.
    """
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a FIFO, a device, a socket)"
        raise OSError(errno.EINVAL, f"it is {kind}", str(path))
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"a {what} is at most {limit // 1024} KiB; this one is larger", str(path))
    return data.decode("utf-8")


def load(
    location: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    ssm_client: Any = None,
) -> Spec:
    """Load and validate a spec from `location`, else GREENLIGHT_SPEC, else the bundled file."""
    environ = os.environ if env is None else env
    if location is not None and not location.strip():
        raise SpecSourceError("the spec location is empty: give a file path or ssm:/name")
    where = location or environ.get("GREENLIGHT_SPEC")
    if not where:
        return load_text(bundled_text(), source=BUNDLED_SOURCE, env=environ)
    text = read_source(where, ssm_client=ssm_client)
    return load_text(text, source=where, env=environ)
