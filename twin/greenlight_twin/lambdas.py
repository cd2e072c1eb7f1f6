"""Runs greenlight's hook functions as Lambda runs them: each in its own Runtime Interface Emulator process.

The Lambda Runtime Interface Emulator (RIE) is the Go program AWS ships to run a function outside Lambda:
it serves the Runtime API to a bootstrap (here `python -m awslambdaric <module.function>`) and turns an
HTTP POST on `/2015-03-31/functions/function/invocations` into one invocation. It is a static Linux
binary that ships inside the aws-sam-cli wheel, so no Docker is needed.

What the emulator does, as observed with the build in aws-sam-cli 1.170.0:

- Command line: `aws-lambda-rie [--log-level L] [--runtime-interface-emulator-address H:P]
  [--runtime-api-address H:P] BOOTSTRAP ARGS... HANDLER` (no `--help`: unknown words are taken as the
  bootstrap). The invoke address defaults to 0.0.0.0:8080 and the Runtime API to 127.0.0.1:9001, so
  both are always given here. A port that is taken makes it exit at once with code 2 and
  `[PANIC] ... bind: address already in use` in its output.
- The function starts lazily: the bootstrap runs on the first invocation, not when the emulator starts.
- It reads `AWS_LAMBDA_FUNCTION_TIMEOUT` (whole seconds, default 300) from its own environment at each
  invocation, and forwards its whole environment to the function.
- A handler that raises: HTTP 200 whose body is the error document
  `{"errorMessage", "errorType", "requestId", "stackTrace"}` (no `X-Amz-Function-Error` header).
- A handler that cannot be imported (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, ...):
  HTTP 502 with the same document shape and an empty requestId; every later invocation retries the init.
- A timeout: HTTP 200, plain-text body `Task timed out after N.00 seconds`; the runtime is killed and the
  next invocation starts it again (a cold start), as Lambda does.
- On SIGTERM it SIGKILLs the runtime and exits. The runtime runs in its own process group inside the
  emulator's session, so stopping here signals the whole session.

Linux only (the emulator is a Linux binary).
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from greenlight_twin.cfn import load_template
from greenlight_twin.processes import (
    LiveChildren,
    free_port,
    port_is_free,
    session_members,
    wait_listening,
)

__all__ = [
    "FunctionConfig",
    "FunctionError",
    "HandlerImportError",
    "InvocationResult",
    "LambdaFleet",
    "LambdaInvokeError",
    "LambdaProcess",
    "LambdaRuntime",
    "LambdaStartError",
    "LambdaTwinError",
    "PortInUseError",
    "RieNotFoundError",
    "TemplateError",
    "find_rie",
    "functions_from_template",
    "lambda_environment",
]

logger = logging.getLogger(__name__)

RIE_ENV = "GREENLIGHT_RIE"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# The RIE's address inside the aws-sam-cli wheel (and installed package), per architecture.
RIE_IN_SAMCLI = "samcli/local/rapid/aws-lambda-rie-{arch}"
# Lambda's defaults when a template names neither (SAM passes them through unchanged).
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128
# How long an invocation may take beyond the function's own timeout before the caller gives up: the
# first invocation also imports the handler, and the emulator answers a timeout ~0.1 s after it.
INVOKE_WAIT_MARGIN = 30.0
# Credentials moto accepts; nothing here can reach a real account with them.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_TIMEOUT_BODY = re.compile(r"Task timed out after [0-9.]+ seconds")
_ERROR_KEYS = frozenset({"errorMessage", "errorType", "requestId", "stackTrace"})


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------
class LambdaTwinError(Exception):
    """Base of every error raised while running functions locally."""


class RieNotFoundError(LambdaTwinError):
    """The Runtime Interface Emulator binary could not be found nor fetched."""


class TemplateError(LambdaTwinError):
    """The template cannot be read as a SAM template at all."""


class PortInUseError(LambdaTwinError):
    """The emulator could not listen on its port because something else holds it."""


class LambdaStartError(LambdaTwinError):
    """The emulator died or never listened while starting."""


class HandlerImportError(LambdaTwinError):
    """The function's handler cannot be imported (missing module, missing function, syntax error)."""


class LambdaInvokeError(LambdaTwinError):
    """The emulator could not carry out an invocation (not running, died, no answer in time)."""


class FunctionError(LambdaTwinError):
    """The function raised or timed out (from `InvocationResult.raise_for_error`)."""


# --------------------------------------------------------------------------------------------------
# Finding the emulator
# --------------------------------------------------------------------------------------------------
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


def repo_root() -> Path:
    """The checkout holding this package: twin/greenlight_twin/ is two levels below it."""
    return Path(__file__).resolve().parents[2]


def _cache_dir(root: Path) -> Path:
    # In a checkout the binary is cached next to the code (.twin/ is ignored by git and `make clean`
    # removes it); an installed package has no checkout, so it uses the user's cache.
    if (root / "pyproject.toml").is_file():
        return root / ".twin" / "bin"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "greenlight" / "bin"


def find_rie(*, root: Path | None = None, fetch: bool = True, python: str | None = None) -> Path:
    """The emulator binary for this machine, fetching it from the aws-sam-cli wheel if nothing has it.

    Looks, in order, at: `$GREENLIGHT_RIE` (used as is: an error if it is not an executable file);
    the samcli package in `<root>/.venv-sam` (any python version); the cache `<root>/.twin/bin/`;
    then downloads the aws-sam-cli wheel with `python -m pip download` and extracts only the binary
    into the cache. `root` defaults to the checkout this package lives in.
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
    root = (root or repo_root()).resolve()
    tried: list[str] = []

    venv = root / ".venv-sam"
    candidates = sorted(venv.glob(f"lib*/python*/site-packages/{RIE_IN_SAMCLI.format(arch=arch)}"))
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
        tried.append(f"{candidate} (not executable)")
    if not candidates:
        tried.append(f"{venv}/lib/python*/site-packages/{RIE_IN_SAMCLI.format(arch=arch)} (no such file)")

    cached = _cache_dir(root) / f"aws-lambda-rie-{arch}"
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
            + f". Install aws-sam-cli into {venv} (make validate) or set ${RIE_ENV} to the binary."
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


# --------------------------------------------------------------------------------------------------
# Functions from a SAM template
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FunctionConfig:
    """One function as Lambda would run it: what the template (and its Globals) resolve to."""

    logical_id: str
    function_name: str
    handler: str
    code_dir: Path
    runtime: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY
    environment: Mapping[str, str] = field(default_factory=dict, hash=False)
    # What could not be resolved locally (and was therefore left out or defaulted).
    notes: tuple[str, ...] = ()


class _Unresolved(Exception):
    """A template value that cannot be computed without a deployed stack."""


_NO_VALUE = object()  # AWS::NoValue: the property is dropped


def _is_intrinsic(node: Any) -> bool:
    return isinstance(node, dict) and len(node) == 1 and next(iter(node)) in _INTRINSIC_KEYS


_INTRINSIC_KEYS = frozenset(
    {
        "Ref", "Condition", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::GetAtt",
        "Fn::FindInMap", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Condition", "Fn::ImportValue",
        "Fn::GetAZs", "Fn::Base64", "Fn::Cidr", "Fn::Transform", "Fn::Length", "Fn::ToJsonString",
        "Fn::Contains", "Fn::EachMemberIn", "Fn::ValueOf", "Fn::ValueOfAll", "Fn::RefAll",
    }
)  # fmt: skip


class _Resolver:
    """Evaluates the intrinsic functions whose value is known before deployment."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        stack_name: str,
        region: str,
        account_id: str,
        parameters: Mapping[str, Any],
        resources: Mapping[str, str],
        where: str,
    ) -> None:
        self.where = where
        self.resources = dict(resources)
        self.mappings = template.get("Mappings") or {}
        self.conditions = template.get("Conditions") or {}
        self._condition_values: dict[str, bool] = {}
        self.pseudo = {
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
        }
        self.params: dict[str, Any] = {}
        self.missing_params: dict[str, str] = {}
        declared = template.get("Parameters") or {}
        for name in parameters:
            if name not in declared:
                logger.warning("%s: parameter %r is not declared in the template; ignored", where, name)
        for name, spec in declared.items():
            spec = spec or {}
            if name in parameters:
                value: Any = parameters[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                self.missing_params[name] = "has no Default and no value was given"
                continue
            allowed = spec.get("AllowedValues")
            if name in parameters and allowed and str(value) not in {str(a) for a in allowed}:
                raise TemplateError(f"{where}: parameter {name}={value!r} is not one of {allowed}")
            kind = str(spec.get("Type", "String"))
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                if isinstance(value, str):
                    value = [] if value == "" else [item.strip() for item in value.split(",")]
                value = [str(item) for item in value]
            elif isinstance(value, bool):
                value = "true" if value else "false"
            else:
                value = str(value)
            self.params[name] = value

    # -- values -----------------------------------------------------------------------------------
    def value(self, node: Any) -> Any:
        """The node's value, or _NO_VALUE; _Unresolved when it needs a deployment or is malformed."""
        try:
            return self._value(node)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            raise _Unresolved(f"malformed {_describe(node)}: {exc}") from exc

    def _value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self.value(x) for x in node) if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if not _is_intrinsic(node):
            out = {}
            for key, item in node.items():
                resolved = self.value(item)
                if resolved is not _NO_VALUE:
                    out[key] = resolved
            return out
        ((key, arg),) = node.items()
        if key == "Ref":
            return self.ref(str(arg))
        if key == "Fn::Sub":
            return self.sub(arg)
        if key == "Fn::GetAtt":
            return self.get_att(arg)
        if key == "Fn::If":
            if not isinstance(arg, list) or len(arg) != 3:
                raise _Unresolved(f"Fn::If needs [condition, value_if_true, value_if_false], got {arg!r}")
            return self.value(arg[1] if self.condition(str(arg[0])) else arg[2])
        if key == "Fn::Join":
            delimiter, items = self._pair(key, arg)
            values = self.value(items)
            if not isinstance(values, list):
                raise _Unresolved(f"Fn::Join needs a list, got {values!r}")
            return str(delimiter).join(self._text(v) for v in values)
        if key == "Fn::Select":
            index, items = self._pair(key, arg)
            values = self.value(items)
            position = int(self.value(index))
            if not isinstance(values, list) or not 0 <= position < len(values):
                raise _Unresolved(f"Fn::Select index {position} is out of range of {values!r}")
            return values[position]
        if key == "Fn::Split":
            delimiter, text = self._pair(key, arg)
            return self._text(self.value(text)).split(str(delimiter))
        if key == "Fn::FindInMap":
            if not isinstance(arg, list) or len(arg) < 3:
                raise _Unresolved(f"Fn::FindInMap needs [map, top key, second key], got {arg!r}")
            name, top, second = (self._text(self.value(x)) for x in arg[:3])
            try:
                return self.mappings[name][top][second]
            except (KeyError, TypeError) as exc:
                raise _Unresolved(f"Fn::FindInMap: Mappings has no {name}.{top}.{second}") from exc
        if key in {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition", "Fn::Condition"}:
            return self.test(node)
        raise _Unresolved(f"{key} is not supported locally")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            return self.params[name]
        if name in self.missing_params:
            raise _Unresolved(f"!Ref {name}: the parameter {self.missing_params[name]}")
        if name in self.resources:
            return self.resources[name]
        raise _Unresolved(f"!Ref {name}: a resource's physical id is not known before deployment")

    def get_att(self, arg: Any) -> Any:
        parts = arg.split(".", 1) if isinstance(arg, str) else [self._text(self.value(x)) for x in arg]
        key = ".".join(parts)
        if key in self.resources:
            return self.resources[key]
        raise _Unresolved(f"!GetAtt {key}: a resource attribute is not known before deployment")

    def sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], dict):
                raise _Unresolved(f"Fn::Sub needs a string or [string, {{variables}}], got {arg!r}")
            text, variables = str(arg[0]), arg[1]
        else:
            text, variables = str(arg), {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is the escape for a literal ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return self._text(self.value(variables[name]))
            if "." in name and name.split(".", 1)[0] not in self.pseudo:
                return self._text(self.get_att(name))
            return self._text(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # -- conditions -------------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.conditions:
            raise _Unresolved(f"condition {name!r} is not in the template's Conditions")
        self._condition_values[name] = False  # a cycle evaluates as false instead of recursing forever
        try:
            result = self.test(self.conditions[name])
        except _Unresolved as exc:
            del self._condition_values[name]
            raise _Unresolved(f"condition {name!r} cannot be evaluated locally (unsupported: {exc})") from exc
        self._condition_values[name] = result
        return result

    def test(self, node: Any) -> bool:
        try:
            return self._test(node)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            raise _Unresolved(f"malformed {_describe(node)}: {exc}") from exc

    def _test(self, node: Any) -> bool:
        if isinstance(node, bool):
            return node
        if not _is_intrinsic(node):
            raise _Unresolved(f"not a condition: {node!r}")
        ((key, arg),) = node.items()
        if key in {"Condition", "Fn::Condition"}:
            return self.condition(str(arg))
        if key == "Fn::Equals":
            left, right = self._pair(key, arg)
            return self._comparable(self.value(left)) == self._comparable(self.value(right))
        if key == "Fn::Not":
            inner = arg[0] if isinstance(arg, list) and len(arg) == 1 else arg
            return not self.test(inner)
        if key == "Fn::And":
            return all(self.test(item) for item in arg)
        if key == "Fn::Or":
            return any(self.test(item) for item in arg)
        raise _Unresolved(f"{key} is not a condition function")

    # -- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _pair(key: str, arg: Any) -> tuple[Any, Any]:
        if not isinstance(arg, list) or len(arg) != 2:
            raise _Unresolved(f"{key} needs two arguments, got {arg!r}")
        return arg[0], arg[1]

    @staticmethod
    def _text(value: Any) -> str:
        if value is _NO_VALUE:
            raise _Unresolved("AWS::NoValue used where a value is needed")
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise _Unresolved(f"expected a string, got {value!r}")

    @classmethod
    def _comparable(cls, value: Any) -> Any:
        return value if isinstance(value, list) else cls._text(value)


def _describe(node: Any) -> str:
    if _is_intrinsic(node):
        return f"{next(iter(node))} {node[next(iter(node))]!r}"[:200]
    return repr(node)[:200]


def _merge_globals(globals_value: Any, value: Any) -> Any:
    """SAM's Globals rule: maps merge (the function wins), lists concatenate, anything else is replaced."""
    if isinstance(globals_value, dict) and isinstance(value, dict):
        if _is_intrinsic(globals_value) or _is_intrinsic(value):
            return value
        merged = dict(globals_value)
        for key, item in value.items():
            merged[key] = _merge_globals(globals_value[key], item) if key in globals_value else item
        return merged
    if isinstance(globals_value, list) and isinstance(value, list):
        return globals_value + value
    return value


def functions_from_template(
    path: str | Path,
    *,
    stack_name: str = "greenlight",
    parameters: Mapping[str, Any] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    resources: Mapping[str, str] | None = None,
) -> list[FunctionConfig]:
    """The template's `AWS::Serverless::Function`s, with Globals.Function applied and intrinsics evaluated.

    `parameters` override the template's Defaults; `resources` gives values for `!Ref Logical` and
    `!GetAtt Logical.Attr` (keys `Logical` and `Logical.Attr`) that only a deployment would know.
    A function whose `Condition` is false is left out, as CloudFormation would. A value that cannot be
    resolved locally is logged as a warning and recorded in `FunctionConfig.notes`: an environment
    variable is then left out, a name/timeout/memory falls back to Lambda's default, and a function
    without a usable Handler or CodeUri is skipped.
    """
    path = Path(path).resolve()
    where = str(path)
    try:
        template = load_template(path)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise TemplateError(f"{where}: cannot be read as a template: {exc}") from exc
    resources_node = template.get("Resources")
    if not isinstance(resources_node, dict):
        raise TemplateError(f"{where}: no Resources mapping")
    globals_function = (template.get("Globals") or {}).get("Function") or {}
    if not isinstance(globals_function, dict):
        raise TemplateError(f"{where}: Globals.Function must be a mapping")
    resolver = _Resolver(
        template,
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        parameters=dict(parameters or {}),
        resources=dict(resources or {}),
        where=where,
    )

    functions: list[FunctionConfig] = []
    for logical_id, resource in resources_node.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        built = _function_config(logical_id, resource, globals_function, resolver, path.parent, stack_name)
        if built is not None:
            functions.append(built)
    return functions


def _function_config(
    logical_id: str,
    resource: Mapping[str, Any],
    globals_function: Mapping[str, Any],
    resolver: _Resolver,
    template_dir: Path,
    stack_name: str,
) -> FunctionConfig | None:
    where = f"{resolver.where}: Resources.{logical_id}"
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        logger.warning("%s", message)

    condition = resource.get("Condition")
    if condition is not None:
        try:
            if not resolver.condition(str(condition)):
                logger.info("%s: Condition %s is false; not created", where, condition)
                return None
        except _Unresolved as exc:
            note(f"{where}.Condition: {exc}; the function is kept")

    own = resource.get("Properties") or {}
    if not isinstance(own, dict):
        logger.warning("%s.Properties: not a mapping; function skipped", where)
        return None
    props = _merge_globals(dict(globals_function), own)

    def resolve(name: str, default: Any = None) -> Any:
        if name not in props:
            return default
        try:
            value = resolver.value(props[name])
        except _Unresolved as exc:
            note(f"{where}.Properties.{name}: {exc}")
            return default
        return default if value is _NO_VALUE else value

    if resolve("PackageType", "Zip") != "Zip":
        logger.warning("%s: PackageType Image functions cannot run here; skipped", where)
        return None
    handler = resolve("Handler")
    if not isinstance(handler, str) or not handler:
        logger.warning("%s.Properties.Handler: missing or not resolvable; function skipped", where)
        return None
    code_uri = resolve("CodeUri")
    if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        logger.warning(
            "%s.Properties.CodeUri: %s; only a local folder can run here; function skipped",
            where,
            "missing (InlineCode is not supported)" if code_uri is None else f"{code_uri!r}",
        )
        return None
    code_dir = (template_dir / code_uri).resolve()

    function_name = resolve("FunctionName")
    if not isinstance(function_name, str) or not function_name:
        # CloudFormation would append a random suffix; a stable name is more useful locally.
        function_name = f"{stack_name}-{logical_id}"

    def number(name: str, default: int) -> int:
        value = resolve(name, default)
        try:
            return int(value)
        except (TypeError, ValueError):
            note(f"{where}.Properties.{name}: {value!r} is not a whole number; using {default}")
            return default

    environment: dict[str, str] = {}
    env_node = props.get("Environment") or {}
    variables: Any = {}
    try:
        env_value = env_node if not _is_intrinsic(env_node) else resolver.value(env_node)
        variables = (env_value or {}).get("Variables") or {}
        if _is_intrinsic(variables):
            variables = resolver.value(variables)
    except (_Unresolved, AttributeError) as exc:
        note(f"{where}.Properties.Environment: {exc}; no variables")
        variables = {}
    for name, node in (variables if isinstance(variables, dict) else {}).items():
        try:
            value = resolver.value(node)
            if value is _NO_VALUE:
                continue
            environment[str(name)] = resolver._text(value)
        except _Unresolved as exc:
            note(f"{where}.Properties.Environment.Variables.{name}: {exc}; left out")

    runtime = resolve("Runtime")
    return FunctionConfig(
        logical_id=logical_id,
        function_name=function_name,
        handler=handler,
        code_dir=code_dir,
        runtime=str(runtime) if runtime is not None else None,
        timeout=number("Timeout", DEFAULT_TIMEOUT),
        memory=number("MemorySize", DEFAULT_MEMORY),
        environment=environment,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------------
# Running functions
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvocationResult:
    """What one invocation returned, in the terms of Lambda's Invoke API.

    `payload` is the decoded response (for a handler error: the error document, as Lambda returns it);
    `error_type`/`error_message` are set when the function failed (`Sandbox.Timedout` on a timeout);
    `init_error` when the handler could not even be imported. `duration_ms` is the wall-clock time of
    the HTTP round trip, so a cold start's import is included.
    """

    payload: Any
    error_type: str | None
    error_message: str | None
    duration_ms: float
    timed_out: bool
    request_id: str = ""
    stack_trace: tuple[str, ...] = ()
    init_error: bool = False
    function_name: str = ""
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def raise_for_error(self) -> InvocationResult:
        """Returns self when the function succeeded; raises HandlerImportError or FunctionError otherwise."""
        if self.ok:
            return self
        where = f"{self.function_name}: " if self.function_name else ""
        log = f" (log: {self.log_path})" if self.log_path else ""
        message = f"{where}{self.error_type}: {self.error_message}{log}"
        if self.init_error:
            raise HandlerImportError(message)
        raise FunctionError(message)


def lambda_environment(
    config: FunctionConfig,
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    env_overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment a function's emulator runs with (the emulator forwards all of it).

    Built from scratch rather than inherited, as in Lambda: the host's variables (proxies, profiles,
    real credentials) never reach the function. Order: base, the template's variables, the variables
    Lambda itself sets (a template cannot override those in Lambda either), then `env_overrides`.
    """
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(config.code_dir),
    }
    env.update({str(k): str(v) for k, v in config.environment.items()})
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(config.timeout)),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(int(config.memory)),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]twin",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            **FAKE_CREDENTIALS,
            # No shared config/credentials files and no instance metadata: nothing outside the twin.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": str(config.code_dir),
            # Lambda ships each line to CloudWatch as it is written; buffered output would reach the
            # log file only when the runtime exits (or never, when it is killed on a timeout).
            "PYTHONUNBUFFERED": "1",
        }
    )
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    env.update({str(k): str(v) for k, v in (env_overrides or {}).items()})
    return env


_LIVE: LiveChildren[LambdaProcess] = LiveChildren()


class _PortClash(Exception):
    pass


def _handler_module_found(code_dir: Path, handler: str) -> tuple[bool, str]:
    module, sep, attribute = handler.rpartition(".")
    if not sep or not module or not attribute:
        raise HandlerImportError(f"handler {handler!r}: expected 'module.function' (e.g. package.module.handler)")
    # awslambdaric accepts both dotted and slashed module paths.
    relative = Path(*module.replace("/", ".").split("."))
    candidates = [code_dir / relative.with_suffix(".py"), code_dir / relative / "__init__.py"]
    if any(candidate.is_file() for candidate in candidates):
        return True, ""
    if any((code_dir / relative).parent.glob(f"{relative.name}.*.so")):
        return True, ""
    return False, " or ".join(str(c.relative_to(code_dir)) for c in candidates)


class LambdaProcess:
    """One function in one emulator process on 127.0.0.1; invocations run one at a time.

    Made by `LambdaRuntime.start`. A context manager: leaving it stops the process.
    """

    def __init__(
        self,
        config: FunctionConfig,
        *,
        rie: Path,
        python: str,
        log_path: Path,
        environment: Mapping[str, str],
        port: int | None = None,
        rie_log_level: str = "info",
        start_timeout: float = 10.0,
        check_handler: bool = True,
    ) -> None:
        self.config = config
        self.rie = Path(rie)
        self.python = python
        self.log_path = Path(log_path)
        self.environment = dict(environment)
        self.requested_port = port
        self.rie_log_level = rie_log_level
        self.start_timeout = start_timeout
        self.check_handler = check_handler
        self.port: int | None = None
        self.runtime_api_port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = f"pid={self.pid} port={self.port}" if self.running else "stopped"
        return f"<LambdaProcess {self.config.function_name} {state}>"

    @property
    def name(self) -> str:
        return self.config.function_name

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def url(self) -> str:
        if self.port is None:
            raise LambdaInvokeError(f"{self.name}: not started")
        return f"http://127.0.0.1:{self.port}{INVOKE_PATH}"

    def pids(self) -> list[int]:
        """The emulator's pid and every process it started (the runtime), while they exist."""
        if self._proc is None:
            return []
        members = set(session_members(self._proc.pid))
        if self._proc.poll() is None:
            members.add(self._proc.pid)
        return sorted(members)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> LambdaProcess:
        if self._proc is not None:
            raise LambdaStartError(f"{self.name}: already started (pid {self._proc.pid})")
        self._preflight()
        attempts = 1 if self.requested_port else 3
        for attempt in range(1, attempts + 1):
            port = self.requested_port or free_port()
            if self.requested_port and not port_is_free(port):
                raise PortInUseError(f"{self.name}: 127.0.0.1:{port} is already in use")
            api_port = free_port(exclude={port})
            try:
                self._launch(port, api_port)
                self._wait_ready()
            except _PortClash as exc:
                self._reap()
                # Another process took a port between choosing and binding it; choose again.
                if attempt == attempts:
                    raise PortInUseError(f"{self.name}: {exc}\n{self.log_tail()}") from None
                continue
            except BaseException:
                self.stop()
                raise
            logger.info("%s: emulator pid %s on %s (log %s)", self.name, self.pid, self.url, self.log_path)
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _preflight(self) -> None:
        config = self.config
        if not self.rie.is_file() or not os.access(self.rie, os.X_OK):
            raise RieNotFoundError(f"{self.name}: emulator binary {self.rie} is missing or not executable")
        if not config.code_dir.is_dir():
            raise HandlerImportError(f"{config.logical_id} ({self.name}): code folder {config.code_dir} does not exist")
        if int(config.timeout) < 1:
            raise LambdaStartError(f"{config.logical_id} ({self.name}): timeout must be >= 1 s, got {config.timeout}")
        if self.check_handler:
            found, looked_for = _handler_module_found(config.code_dir, config.handler)
            if not found:
                raise HandlerImportError(
                    f"{config.logical_id} ({self.name}): handler {config.handler!r}: no {looked_for} under "
                    f"{config.code_dir}; Lambda imports the handler from the function's CodeUri"
                )
        if Path(self.python).resolve() == Path(sys.executable).resolve() and (
            importlib.util.find_spec("awslambdaric") is None
        ):
            raise LambdaStartError(f"awslambdaric is not installed for {self.python}: pip install 'greenlight[twin]'")

    def _launch(self, port: int, api_port: int) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(self.rie),
            "--log-level", self.rie_log_level,
            "--runtime-interface-emulator-address", f"127.0.0.1:{port}",
            "--runtime-api-address", f"127.0.0.1:{api_port}",
            self.python, "-m", "awslambdaric", self.config.handler,
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"--- greenlight {stamp}: {' '.join(cmd)} (cwd {self.config.code_dir})\n".encode())
            log.flush()
            # A session of its own: stop() can then find and signal everything the emulator started.
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.config.code_dir,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.port, self.runtime_api_port = port, api_port
        _LIVE.add(self)

    def _wait_ready(self) -> None:
        assert self._proc is not None and self.port is not None and self.runtime_api_port is not None
        # The invoke server and the Runtime API both listen at start-up; the function itself
        # starts on the first invocation.
        try:
            code = wait_listening(self._proc, [self.port, self.runtime_api_port], self.start_timeout, interval=0.02)
        except TimeoutError:
            raise LambdaStartError(
                f"{self.name}: the emulator did not listen on 127.0.0.1:{self.port} within "
                f"{self.start_timeout:.0f} s\n{self.log_tail()}"
            ) from None
        if code is not None:
            tail = self.log_tail()
            if "address already in use" in tail:
                raise _PortClash(f"port {self.port} or {self.runtime_api_port} is already in use")
            raise LambdaStartError(f"{self.name}: the emulator exited with code {code} while starting\n{tail}")

    def stop(self, grace: float = 5.0) -> None:
        """Stops the emulator and its runtime and waits for them; safe to call twice."""
        # SIGTERM lets the emulator SIGKILL the runtime it started; the runtime has its own process group,
        # which the session sweep reaches.
        _LIVE.stop(self, self._proc, grace)

    def _reap(self) -> None:
        self.stop(grace=1.0)
        self._proc = None
        self.port = self.runtime_api_port = None

    def __enter__(self) -> LambdaProcess:
        if self._proc is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- invocations ------------------------------------------------------------------------------
    def invoke(self, event: Any, timeout: float | None = None) -> InvocationResult:
        """Invokes the function with `event` (JSON-serialisable) and waits for its answer.

        `timeout` bounds the wait in seconds (default: the function's timeout plus a margin); the
        function's own timeout comes back as `timed_out`. Invocations of one process run one at a time.
        """
        try:
            body = json.dumps(event).encode()
        except (TypeError, ValueError) as exc:
            raise LambdaInvokeError(f"{self.name}: the event is not JSON: {exc}") from exc
        wait = timeout if timeout is not None else self.config.timeout + INVOKE_WAIT_MARGIN
        request_id = str(uuid.uuid4())
        with self._lock:
            if not self.running:
                raise LambdaInvokeError(f"{self.name}: not running{self._exit_detail()}")
            assert self.port is not None
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=wait)
            try:
                connection.request(
                    "POST",
                    INVOKE_PATH,
                    body=body,
                    headers={"Content-Type": "application/json", "X-Amzn-RequestId": request_id},
                )
                response = connection.getresponse()
                status, raw = response.status, response.read()
            except TimeoutError as exc:
                raise LambdaInvokeError(
                    f"{self.name}: no answer within {wait:.1f} s (the function keeps running until its own "
                    f"{self.config.timeout} s timeout)"
                ) from exc
            except (OSError, http.client.HTTPException) as exc:
                time.sleep(0.05)  # lets a dying emulator finish exiting, so the detail names its exit code
                raise LambdaInvokeError(f"{self.name}: invocation failed: {exc}{self._exit_detail()}") from exc
            finally:
                connection.close()
            duration_ms = (time.monotonic() - started) * 1000.0
        return self._result(status, raw, request_id, duration_ms)

    def _result(self, status: int, raw: bytes, request_id: str, duration_ms: float) -> InvocationResult:
        common: dict[str, Any] = {
            "duration_ms": duration_ms,
            "request_id": request_id,
            "function_name": self.name,
            "log_path": self.log_path,
        }
        text = raw.decode("utf-8", errors="replace")
        if status == 200 and _TIMEOUT_BODY.fullmatch(text.strip()):
            return InvocationResult(
                payload=None, error_type="Sandbox.Timedout", error_message=text.strip(), timed_out=True, **common
            )
        payload = _decode(raw)
        is_error = isinstance(payload, dict) and "errorType" in payload and set(payload) <= _ERROR_KEYS
        if status == 200:
            # A handler error is also HTTP 200; the document carries our request id, a return value never does.
            if is_error and payload.get("requestId", request_id) in {request_id, ""}:
                return _error_result(payload, init_error=False, common=common)
            return InvocationResult(payload=payload, error_type=None, error_message=None, timed_out=False, **common)
        if status == 502 and is_error:
            return _error_result(payload, init_error=True, common=common)
        raise LambdaInvokeError(
            f"{self.name}: the emulator answered HTTP {status}: {text[:500]!r}{self._exit_detail()}"
        )

    # -- logs -------------------------------------------------------------------------------------
    def log_tail(self, lines: int = 20) -> str:
        """The last lines this process wrote to its log (this start only)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                size = log.tell()
                log.seek(max(self._log_offset, size - 64 * 1024))
                data = log.read().decode("utf-8", errors="replace")
        except OSError as exc:
            return f"(log {self.log_path} unreadable: {exc})"
        tail = data.splitlines()[-lines:]
        return f"last lines of {self.log_path}:\n" + "\n".join(f"  {line}" for line in tail)

    def _exit_detail(self) -> str:
        if self._proc is None:
            return ""
        code = self._proc.poll()
        state = "running" if code is None else f"exited with code {code}"
        return f"; the emulator (pid {self._proc.pid}) {state}\n{self.log_tail()}"


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def _error_result(document: Mapping[str, Any], *, init_error: bool, common: Mapping[str, Any]) -> InvocationResult:
    trace = document.get("stackTrace") or []
    return InvocationResult(
        payload=dict(document),
        error_type=str(document.get("errorType")),
        error_message=str(document.get("errorMessage", "")),
        timed_out=False,
        stack_trace=tuple(str(line) for line in trace) if isinstance(trace, list) else (str(trace),),
        init_error=init_error,
        **common,
    )


def _log_name(function_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", function_name) + ".log"


class LambdaRuntime:
    """Starts functions the way Lambda would run them, each in its own emulator process.

    The bootstrap is `<python> -m awslambdaric <handler>` with `python` defaulting to `sys.executable`
    (the interpreter running the twin, with its virtualenv). How that differs from Lambda:

    - Lambda runs the template's runtime (python3.13) with only the deployment bundle (CodeUri plus
      its requirements) and the runtime's boto3; here the host's interpreter runs it, and everything
      installed in its virtualenv is importable too.
    - No limits: MemorySize is only reported (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), /tmp is the host's (not
      512 MB, not private, not wiped), no CPU share, no IAM (fake credentials;
      moto does not check permissions), no VPC.
    - No freeze/thaw: between invocations the process keeps running (background threads too).
    - One invocation at a time per function (Lambda would start another instance); callers queue.
    - Init happens on the first invocation and counts against its timeout (Lambda gives init its own
      10 s); after a timeout the runtime is killed and the next invocation is a cold start, as in Lambda.
    - The emulator reports `context.invoked_function_arn` as
      `arn:aws:lambda:us-east-1:012345678912:function:<name>` whatever the region.
    - Logs go to one file per function (`LambdaProcess.log_path`), not CloudWatch.

    `log_dir` defaults to a fresh temporary folder; `close()` (or leaving the `with` block) stops every
    process this runtime started. An atexit hook stops any process still running at interpreter exit.
    """

    def __init__(
        self,
        *,
        rie: str | Path | None = None,
        python: str | None = None,
        log_dir: str | Path | None = None,
        region: str = "us-east-1",
        rie_log_level: str = "info",
        start_timeout: float = 10.0,
    ) -> None:
        self._rie = Path(rie) if rie is not None else None
        self.python = python or sys.executable
        self.log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="greenlight-lambda-"))
        self.region = region
        self.rie_log_level = rie_log_level
        self.start_timeout = start_timeout
        self._processes: list[LambdaProcess] = []

    @property
    def rie(self) -> Path:
        """The emulator binary (found, or fetched, on first use)."""
        if self._rie is None:
            self._rie = find_rie()
        return self._rie

    @property
    def processes(self) -> list[LambdaProcess]:
        return list(self._processes)

    def start(
        self,
        config: FunctionConfig,
        *,
        env_overrides: Mapping[str, str] | None = None,
        endpoint_url: str | None = None,
        port: int | None = None,
        check_handler: bool = True,
    ) -> LambdaProcess:
        """Starts `config` in a new emulator on 127.0.0.1 (a free port unless `port` is given).

        `endpoint_url` becomes AWS_ENDPOINT_URL (the twin's moto server); without it the function
        has no AWS endpoint of its own. `check_handler` verifies the handler's module file exists
        under code_dir before starting, since the emulator would only notice at the first invocation.
        """
        process = LambdaProcess(
            config,
            rie=self.rie,
            python=self.python,
            log_path=self.log_dir / _log_name(config.function_name),
            environment=lambda_environment(
                config, region=self.region, endpoint_url=endpoint_url, env_overrides=env_overrides
            ),
            port=port,
            rie_log_level=self.rie_log_level,
            start_timeout=self.start_timeout,
            check_handler=check_handler,
        )
        process.start()
        self._processes.append(process)
        return process

    def close(self) -> None:
        """Stops every process this runtime started."""
        while self._processes:
            self._processes.pop().stop()

    def __enter__(self) -> LambdaRuntime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class LambdaFleet:
    """Several functions started together, each in its own emulator; all stop together.

    If any function fails to start, the ones already started are stopped before the error is raised.
    Look a process up by logical id or function name: `fleet["AfterInstallHook"]`.
    """

    def __init__(
        self,
        configs: Iterable[FunctionConfig],
        *,
        runtime: LambdaRuntime | None = None,
        endpoint_url: str | None = None,
        env_overrides: Mapping[str, str] | None = None,
        env_by_function: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.configs = list(configs)
        self._own_runtime = runtime is None
        self.runtime = runtime or LambdaRuntime()
        self.endpoint_url = endpoint_url
        self.env_overrides = dict(env_overrides or {})
        self.env_by_function = {k: dict(v) for k, v in (env_by_function or {}).items()}
        self._processes: dict[str, LambdaProcess] = {}

    def start(self) -> LambdaFleet:
        try:
            for config in self.configs:
                overrides = dict(self.env_overrides)
                overrides.update(self.env_by_function.get(config.logical_id, {}))
                overrides.update(self.env_by_function.get(config.function_name, {}))
                process = self.runtime.start(config, env_overrides=overrides, endpoint_url=self.endpoint_url)
                self._processes[config.logical_id] = process
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops every started function (the ones that started, even if a later one failed)."""
        errors: list[BaseException] = []
        for process in self._processes.values():
            try:
                process.stop()
            except Exception as exc:  # stop the rest before reporting
                errors.append(exc)
        self._processes.clear()
        if self._own_runtime:
            self.runtime.close()
        if errors:
            raise errors[0]

    def __getitem__(self, key: str) -> LambdaProcess:
        if key in self._processes:
            return self._processes[key]
        for process in self._processes.values():
            if process.config.function_name == key:
                return process
        known = ", ".join(f"{p.config.logical_id} ({p.name})" for p in self._processes.values()) or "none"
        raise KeyError(f"no running function {key!r}; running: {known}")

    def __iter__(self) -> Iterator[LambdaProcess]:
        return iter(list(self._processes.values()))

    def __len__(self) -> int:
        return len(self._processes)

    def invoke(self, key: str, event: Any, timeout: float | None = None) -> InvocationResult:
        return self[key].invoke(event, timeout=timeout)

    def __enter__(self) -> LambdaFleet:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m greenlight_twin.lambdas rie|functions TEMPLATE`: find the emulator, list template functions."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m greenlight_twin.lambdas", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rie", help="print the emulator binary's path (fetching it if needed)")
    listing = sub.add_parser("functions", help="list a template's functions as they would run locally")
    listing.add_argument("template", type=Path)
    listing.add_argument("--stack-name", default="greenlight")
    listing.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        if args.command == "rie":
            print(find_rie())
            return 0
        parameters = dict(item.split("=", 1) for item in args.parameter)
        for config in functions_from_template(args.template, stack_name=args.stack_name, parameters=parameters):
            print(f"{config.logical_id}: {config.function_name} {config.handler} timeout={config.timeout}s "
                  f"memory={config.memory}MB code={config.code_dir}")  # fmt: skip
            for name, value in sorted(config.environment.items()):
                print(f"    {name}={value}")
    except LambdaTwinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
