"""Evaluates what CloudFormation knows of a template before it creates anything: parameters, conditions, intrinsics.

    ev = Evaluation(load_template("template.yaml"), {"DeploymentController": "ECS"}, region="eu-south-1")
    ev.conditions["UseEcsController"]      # True
    ev.resources                           # the resources that would be created, Fn::If chosen
    ev.value({"Fn::Sub": "${AWS::StackName}-hook"})

Supported: Ref (parameters, pseudo parameters, AWS::NoValue, and resources whose physical value is given
as `known`), Fn::Sub, Fn::GetAtt (known values only), Fn::If, Fn::Join, Fn::Select, Fn::Split,
Fn::FindInMap, and the condition functions Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition. Anything
that needs a deployed stack raises `Unresolved` naming what is missing; so does a malformed intrinsic.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "INTRINSICS",
    "NO_VALUE",
    "Evaluation",
    "ParameterError",
    "Unresolved",
    "evaluate_template",
    "is_intrinsic",
    "pseudo_parameters",
    "references",
    "resolve_ifs",
]

logger = logging.getLogger(__name__)

INTRINSICS = frozenset(
    {
        "Ref", "Condition", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::GetAtt",
        "Fn::FindInMap", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Condition", "Fn::ImportValue",
        "Fn::GetAZs", "Fn::Base64", "Fn::Cidr", "Fn::Transform", "Fn::Length", "Fn::ToJsonString",
        "Fn::Contains", "Fn::EachMemberIn", "Fn::ValueOf", "Fn::ValueOfAll", "Fn::RefAll",
    }
)  # fmt: skip
_CONDITION_FUNCTIONS = frozenset({"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition", "Fn::Condition"})
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class _NoValue:
    """AWS::NoValue: the property that holds it is dropped."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


class Unresolved(Exception):
    """A value that cannot be known before the stack exists, or an intrinsic that is malformed."""


class ParameterError(ValueError):
    """A parameter value the template refuses: not declared, not allowed, or missing."""


def is_intrinsic(node: Any) -> bool:
    """True for a one-key mapping whose key is an intrinsic function (`{"Ref": ...}`, `{"Fn::Sub": ...}`)."""
    return isinstance(node, dict) and len(node) == 1 and next(iter(node)) in INTRINSICS


def pseudo_parameters(
    *, stack_name: str = "greenlight", region: str = "us-east-1", account_id: str = "123456789012"
) -> dict[str, str]:
    """The pseudo parameters of a stack as it would be named, where, and in which account."""
    return {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
    }


class Evaluation:
    """A template under one set of parameter values, in one stack (name, region, account).

    `known` gives values for `Ref Logical` and `GetAtt Logical.Attr` (keys `Logical`, `Logical.Attr`)
    that only a deployment would know. `strict` refuses parameters the template does not declare and
    parameters without a value; otherwise those are logged and a Ref to a missing one is Unresolved.
    A given value outside the parameter's AllowedValues is always refused.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, Any] | None = None,
        *,
        stack_name: str = "greenlight",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        known: Mapping[str, Any] | None = None,
        strict: bool = True,
        where: str = "template",
    ) -> None:
        self.template = template
        self.where = where
        self.known = dict(known or {})
        self.mappings = template.get("Mappings") or {}
        self.raw_conditions: Mapping[str, Any] = template.get("Conditions") or {}
        self.pseudo = pseudo_parameters(stack_name=stack_name, region=region, account_id=account_id)
        self.params: dict[str, Any] = {}
        self.missing_params: dict[str, str] = {}
        self._condition_values: dict[str, bool] = {}
        self._read_parameters(dict(parameters or {}), strict)

    def _read_parameters(self, given: dict[str, Any], strict: bool) -> None:
        declared = self.template.get("Parameters") or {}
        unknown = sorted(set(given) - set(declared))
        if unknown and strict:
            raise ParameterError(f"{self.where}: no such parameters: {', '.join(unknown)}")
        for name in unknown:
            logger.warning("%s: parameter %r is not declared in the template; ignored", self.where, name)
        for name, spec in declared.items():
            spec = spec or {}
            if name in given:
                value: Any = given[name]
            elif "Default" in spec:
                value = spec["Default"]
            elif strict:
                raise ParameterError(f"{self.where}: parameter {name} has no Default and no value was given")
            else:
                self.missing_params[name] = "has no Default and no value was given"
                continue
            allowed = spec.get("AllowedValues")
            if name in given and allowed and _text(value) not in {_text(a) for a in allowed}:
                raise ParameterError(f"{self.where}: parameter {name}={value!r} is not one of {allowed}")
            kind = str(spec.get("Type", "String"))
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                if isinstance(value, str):
                    value = [] if value == "" else [item.strip() for item in value.split(",")]
                value = [_text(item) for item in value]
            else:
                value = _text(value)
            self.params[name] = value

    # -- what CloudFormation would create ----------------------------------------------------------
    @property
    def conditions(self) -> dict[str, bool]:
        """Every condition of the template, evaluated (Unresolved if one needs a deployed stack)."""
        return {name: self.condition(name) for name in self.raw_conditions}

    @property
    def resources(self) -> dict[str, Any]:
        """The resources whose Condition holds, with Fn::If resolved and AWS::NoValue dropped in them."""
        return self._created(self.template.get("Resources") or {})

    @property
    def outputs(self) -> dict[str, Any]:
        """The outputs whose Condition holds, resolved as `resources` are."""
        return self._created(self.template.get("Outputs") or {})

    def _created(self, section: Mapping[str, Any]) -> dict[str, Any]:
        conditions = self.conditions
        return {
            name: resolve_ifs(item, conditions)
            for name, item in section.items()
            if "Condition" not in item or conditions[str(item["Condition"])]
        }

    # -- values -----------------------------------------------------------------------------------
    def value(self, node: Any) -> Any:
        """The node's value (NO_VALUE for AWS::NoValue); Unresolved when it needs a deployment or is malformed."""
        try:
            return self._value(node)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            raise Unresolved(f"malformed {_describe(node)}: {exc}") from exc

    def _value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self.value(x) for x in node) if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if not is_intrinsic(node):
            out = {}
            for key, item in node.items():
                resolved = self.value(item)
                if resolved is not NO_VALUE:
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
                raise Unresolved(f"Fn::If needs [condition, value_if_true, value_if_false], got {arg!r}")
            return self.value(arg[1] if self.condition(str(arg[0])) else arg[2])
        if key == "Fn::Join":
            delimiter, items = _pair(key, arg)
            values = self.value(items)
            if not isinstance(values, list):
                raise Unresolved(f"Fn::Join needs a list, got {values!r}")
            return str(delimiter).join(self.text(v) for v in values)
        if key == "Fn::Select":
            index, items = _pair(key, arg)
            values = self.value(items)
            position = int(self.value(index))
            if not isinstance(values, list) or not 0 <= position < len(values):
                raise Unresolved(f"Fn::Select index {position} is out of range of {values!r}")
            return values[position]
        if key == "Fn::Split":
            delimiter, text = _pair(key, arg)
            return self.text(self.value(text)).split(str(delimiter))
        if key == "Fn::FindInMap":
            if not isinstance(arg, list) or len(arg) < 3:
                raise Unresolved(f"Fn::FindInMap needs [map, top key, second key], got {arg!r}")
            name, top, second = (self.text(self.value(x)) for x in arg[:3])
            try:
                return self.mappings[name][top][second]
            except (KeyError, TypeError) as exc:
                raise Unresolved(f"Fn::FindInMap: Mappings has no {name}.{top}.{second}") from exc
        if key in _CONDITION_FUNCTIONS:
            return self.test(node)
        raise Unresolved(f"{key} is not supported before deployment")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            return self.params[name]
        if name in self.missing_params:
            raise Unresolved(f"!Ref {name}: the parameter {self.missing_params[name]}")
        if name in self.known:
            return self.known[name]
        raise Unresolved(f"!Ref {name}: a resource's physical id is not known before deployment")

    def get_att(self, arg: Any) -> Any:
        parts = arg.split(".", 1) if isinstance(arg, str) else [self.text(self.value(x)) for x in arg]
        key = ".".join(parts)
        if key in self.known:
            return self.known[key]
        raise Unresolved(f"!GetAtt {key}: a resource attribute is not known before deployment")

    def sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], dict):
                raise Unresolved(f"Fn::Sub needs a string or [string, {{variables}}], got {arg!r}")
            text, variables = str(arg[0]), arg[1]
        else:
            text, variables = str(arg), {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is the escape for a literal ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return self.text(self.value(variables[name]))
            if "." in name and name.split(".", 1)[0] not in self.pseudo:
                return self.text(self.get_att(name))
            return self.text(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def text(self, value: Any) -> str:
        """A resolved scalar as CloudFormation renders it in a string (booleans lower case)."""
        if value is NO_VALUE:
            raise Unresolved("AWS::NoValue used where a value is needed")
        if isinstance(value, bool | str | int | float):
            return _text(value)
        raise Unresolved(f"expected a string, got {value!r}")

    # -- conditions -------------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.raw_conditions:
            raise Unresolved(f"condition {name!r} is not in the template's Conditions")
        self._condition_values[name] = False  # a cycle evaluates as false instead of recursing forever
        try:
            result = self.test(self.raw_conditions[name])
        except Unresolved as exc:
            del self._condition_values[name]
            raise Unresolved(f"condition {name!r} cannot be evaluated before deployment (unsupported: {exc})") from exc
        self._condition_values[name] = result
        return result

    def test(self, node: Any) -> bool:
        """A condition function's truth value."""
        try:
            return self._test(node)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            raise Unresolved(f"malformed {_describe(node)}: {exc}") from exc

    def _test(self, node: Any) -> bool:
        if isinstance(node, bool):
            return node
        if not is_intrinsic(node):
            raise Unresolved(f"not a condition: {node!r}")
        ((key, arg),) = node.items()
        if key in {"Condition", "Fn::Condition"}:
            return self.condition(str(arg))
        if key == "Fn::Equals":
            left, right = _pair(key, arg)
            return self._comparable(self.value(left)) == self._comparable(self.value(right))
        if key == "Fn::Not":
            inner = arg[0] if isinstance(arg, list) and len(arg) == 1 else arg
            return not self.test(inner)
        if key == "Fn::And":
            return all(self.test(item) for item in arg)
        if key == "Fn::Or":
            return any(self.test(item) for item in arg)
        raise Unresolved(f"{key} is not a condition function")

    def _comparable(self, value: Any) -> Any:
        return value if isinstance(value, list) else self.text(value)


def evaluate_template(
    template: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    *,
    stack_name: str = "greenlight",
    region: str = "us-east-1",
    account_id: str = "123456789012",
) -> Evaluation:
    """The template under `parameters` (the others at their Default), every condition evaluated up front."""
    evaluation = Evaluation(template, parameters, stack_name=stack_name, region=region, account_id=account_id)
    evaluation.conditions  # noqa: B018 - a condition that cannot be evaluated fails here, not at first use
    return evaluation


def resolve_ifs(node: Any, conditions: Mapping[str, bool]) -> Any:
    """`node` with every Fn::If replaced by its chosen branch and AWS::NoValue dropped; nothing else resolved."""
    if isinstance(node, list):
        items = [resolve_ifs(n, conditions) for n in node]
        return [i for i in items if i is not NO_VALUE]
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            cond, yes, no = node["Fn::If"]
            return resolve_ifs(yes if conditions[cond] else no, conditions)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        out = {k: resolve_ifs(v, conditions) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}
    return node


def references(node: Any) -> set[str]:
    """Logical ids named by Ref, Fn::GetAtt and ${...} in Fn::Sub strings (parameters included)."""
    found: set[str] = set()
    if isinstance(node, list):
        for n in node:
            found |= references(n)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
                found |= {m.split(".")[0] for m in _SUB_VARIABLE.findall(text) if m not in variables and m[0] != "!"}
                found |= references(variables)
            else:
                found |= references(value)
    return found


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pair(key: str, arg: Any) -> tuple[Any, Any]:
    if not isinstance(arg, list) or len(arg) != 2:
        raise Unresolved(f"{key} needs two arguments, got {arg!r}")
    return arg[0], arg[1]


def _describe(node: Any) -> str:
    if is_intrinsic(node):
        return f"{next(iter(node))} {node[next(iter(node))]!r}"[:200]
    return repr(node)[:200]
