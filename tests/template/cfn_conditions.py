"""A small CloudFormation evaluator for the template tests: conditions, Fn::If, and the string functions.

It answers "with these parameters, which resources exist and what do their properties become?" for
template.yaml as load_template reads it (intrinsics in their long form). Refs and GetAtts to
resources stay as they are; only what CloudFormation resolves before creating anything is resolved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PSEUDO = {
    "AWS::Region": "eu-south-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "greenlight",
    "AWS::URLSuffix": "amazonaws.com",
}
NO_VALUE = object()
_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


class Unresolved(Exception):
    """A value depends on a resource (known only once the stack exists)."""


@dataclass
class Evaluation:
    """The template under one set of parameter values."""

    template: Mapping[str, Any]
    params: dict[str, Any]
    conditions: dict[str, bool]

    @property
    def resources(self) -> dict[str, Any]:
        """Resources CloudFormation would create, with Fn::If resolved in their properties."""
        out = {}
        for name, res in self.template["Resources"].items():
            if self.conditions.get(res.get("Condition", ""), True):
                out[name] = resolve_ifs(res, self.conditions)
        return out

    @property
    def outputs(self) -> dict[str, Any]:
        out = {}
        for name, o in self.template.get("Outputs", {}).items():
            if self.conditions.get(o.get("Condition", ""), True):
                out[name] = resolve_ifs(o, self.conditions)
        return out

    def value(self, node: Any) -> Any:
        """A parameter-only expression's value; Unresolved if it needs a resource."""
        return evaluate(node, self.params, self.conditions)


def evaluate_template(template: Mapping[str, Any], **overrides: Any) -> Evaluation:
    """Parameters from their defaults plus `overrides`, then every condition."""
    params: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        raw = overrides.get(name, spec.get("Default"))
        if raw is None:
            raise KeyError(f"parameter {name} has no default; pass it")
        if spec["Type"] == "CommaDelimitedList" or spec["Type"].startswith("List<"):
            params[name] = raw if isinstance(raw, list) else str(raw).split(",")
        else:
            params[name] = str(raw)
    unknown = set(overrides) - set(params)
    if unknown:
        raise KeyError(f"no such parameters: {sorted(unknown)}")
    conditions: dict[str, bool] = {}
    raw_conditions = template.get("Conditions", {})

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = bool(evaluate(raw_conditions[name], params, conditions, condition))
        return conditions[name]

    for name in raw_conditions:
        condition(name)
    return Evaluation(template=template, params=params, conditions=conditions)


def evaluate(node: Any, params: Mapping[str, Any], conditions: Mapping[str, bool], lookup: Any = None) -> Any:
    def ev(n: Any) -> Any:
        return evaluate(n, params, conditions, lookup)

    if isinstance(node, list):
        return [ev(n) for n in node]
    if not isinstance(node, dict) or len(node) != 1:
        if isinstance(node, dict):
            return {k: ev(v) for k, v in node.items()}
        return node
    ((fn, arg),) = node.items()
    if fn == "Ref":
        if arg in params:
            return params[arg]
        if arg in PSEUDO:
            return PSEUDO[arg]
        if arg == "AWS::NoValue":
            return NO_VALUE
        raise Unresolved(arg)
    if fn in ("Condition", "Fn::Condition"):  # load_template reads `!Condition X` as Fn::Condition
        return lookup(arg) if lookup else conditions[arg]
    if fn == "Fn::Equals":
        return ev(arg[0]) == ev(arg[1])
    if fn == "Fn::And":
        return all(ev(a) for a in arg)
    if fn == "Fn::Or":
        return any(ev(a) for a in arg)
    if fn == "Fn::Not":
        return not ev(arg[0])
    if fn == "Fn::If":
        chosen = lookup(arg[0]) if lookup else conditions[arg[0]]
        return ev(arg[1] if chosen else arg[2])
    if fn == "Fn::Join":
        return str(arg[0]).join(str(v) for v in ev(arg[1]))
    if fn == "Fn::Split":
        return str(ev(arg[1])).split(arg[0])
    if fn == "Fn::Select":
        items = ev(arg[1])
        index = int(ev(arg[0]))
        if index >= len(items):
            raise IndexError(f"Fn::Select index {index} out of range for {items!r}")
        return items[index]
    if fn == "Fn::Sub":
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        values = {k: ev(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match[1]
            if name in values:
                return str(values[name])
            if name in params:
                return str(params[name])
            if name in PSEUDO:
                return PSEUDO[name]
            raise Unresolved(name)

        return _SUB_VAR.sub(replace, text)
    return {fn: ev(arg)}


def resolve_ifs(node: Any, conditions: Mapping[str, bool]) -> Any:
    """`node` with every Fn::If replaced by its chosen branch and AWS::NoValue dropped."""
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
                found |= {m.split(".")[0] for m in _SUB_VAR.findall(text) if m not in variables}
                found |= references(variables)
            else:
                found |= references(value)
    return found
