"""Reads the functions of a SAM template as Lambda would run them: Globals applied, intrinsics evaluated."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from greenlight_twin.cfn import NO_VALUE, Evaluation, ParameterError, Unresolved, is_intrinsic, load_template
from greenlight_twin.functions.errors import TemplateError

__all__ = ["DEFAULT_MEMORY", "DEFAULT_TIMEOUT", "FunctionConfig", "functions_from_template"]

logger = logging.getLogger(__name__)

# Lambda's defaults when a template names neither (SAM passes them through unchanged).
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128


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


def functions_from_template(
    path: str | Path,
    *,
    stack_name: str = "greenlight",
    parameters: Mapping[str, Any] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    resources: Mapping[str, str] | None = None,
    code_dir: str | Path | None = None,
) -> list[FunctionConfig]:
    """The template's `AWS::Serverless::Function`s, with Globals.Function applied and intrinsics evaluated.

    `parameters` override the template's Defaults; `resources` gives values for `!Ref Logical` and
    `!GetAtt Logical.Attr` (keys `Logical` and `Logical.Attr`) that only a deployment would know.
    `code_dir` is the folder every function's code comes from; without it, each function's CodeUri,
    relative to the template. A function whose `Condition` is false is left out, as CloudFormation
    would. A value that cannot be resolved locally is logged as a warning and recorded in
    `FunctionConfig.notes`: an environment variable is then left out, a name/timeout/memory falls back
    to Lambda's default, and a function without a usable Handler (or CodeUri, when no `code_dir` is
    given) is skipped.
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
    try:
        evaluation = Evaluation(
            template,
            parameters,
            stack_name=stack_name,
            region=region,
            account_id=account_id,
            known=resources,
            strict=False,
            where=where,
        )
    except ParameterError as exc:
        raise TemplateError(str(exc)) from exc
    fixed_code = Path(code_dir).resolve() if code_dir is not None else None

    functions: list[FunctionConfig] = []
    for logical_id, resource in resources_node.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        built = _function_config(logical_id, resource, globals_function, evaluation, path.parent, fixed_code)
        if built is not None:
            functions.append(built)
    return functions


def _merge_globals(globals_value: Any, value: Any) -> Any:
    """SAM's Globals rule: maps merge (the function wins), lists concatenate, anything else is replaced."""
    if isinstance(globals_value, dict) and isinstance(value, dict):
        if is_intrinsic(globals_value) or is_intrinsic(value):
            return value
        merged = dict(globals_value)
        for key, item in value.items():
            merged[key] = _merge_globals(globals_value[key], item) if key in globals_value else item
        return merged
    if isinstance(globals_value, list) and isinstance(value, list):
        return globals_value + value
    return value


def _function_config(
    logical_id: str,
    resource: Mapping[str, Any],
    globals_function: Mapping[str, Any],
    evaluation: Evaluation,
    template_dir: Path,
    fixed_code: Path | None,
) -> FunctionConfig | None:
    where = f"{evaluation.where}: Resources.{logical_id}"
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        logger.warning("%s", message)

    condition = resource.get("Condition")
    if condition is not None:
        try:
            if not evaluation.condition(str(condition)):
                logger.info("%s: Condition %s is false; not created", where, condition)
                return None
        except Unresolved as exc:
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
            value = evaluation.value(props[name])
        except Unresolved as exc:
            note(f"{where}.Properties.{name}: {exc}")
            return default
        return default if value is NO_VALUE else value

    if resolve("PackageType", "Zip") != "Zip":
        logger.warning("%s: PackageType Image functions cannot run here; skipped", where)
        return None
    handler = resolve("Handler")
    if not isinstance(handler, str) or not handler:
        logger.warning("%s.Properties.Handler: missing or not resolvable; function skipped", where)
        return None
    if fixed_code is not None:
        code_dir = fixed_code
    else:
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
        function_name = f"{evaluation.pseudo['AWS::StackName']}-{logical_id}"

    def number(name: str, default: int) -> int:
        value = resolve(name, default)
        try:
            return int(value)
        except (TypeError, ValueError):
            note(f"{where}.Properties.{name}: {value!r} is not a whole number; using {default}")
            return default

    runtime = resolve("Runtime")
    return FunctionConfig(
        logical_id=logical_id,
        function_name=function_name,
        handler=handler,
        code_dir=code_dir,
        runtime=str(runtime) if runtime is not None else None,
        timeout=number("Timeout", DEFAULT_TIMEOUT),
        memory=number("MemorySize", DEFAULT_MEMORY),
        environment=_environment(props.get("Environment") or {}, evaluation, where, note),
        notes=tuple(notes),
    )


def _environment(node: Any, evaluation: Evaluation, where: str, note: Any) -> dict[str, str]:
    """Environment.Variables resolved one by one: a variable that cannot be is left out, with a note."""
    variables: Any = {}
    try:
        value = evaluation.value(node) if is_intrinsic(node) else node
        variables = (value or {}).get("Variables") or {}
        if is_intrinsic(variables):
            variables = evaluation.value(variables)
    except (Unresolved, AttributeError) as exc:
        note(f"{where}.Properties.Environment: {exc}; no variables")
        return {}
    environment: dict[str, str] = {}
    for name, item in (variables if isinstance(variables, dict) else {}).items():
        try:
            resolved = evaluation.value(item)
            if resolved is NO_VALUE:
                continue
            environment[str(name)] = evaluation.text(resolved)
        except Unresolved as exc:
            note(f"{where}.Properties.Environment.Variables.{name}: {exc}; left out")
    return environment
