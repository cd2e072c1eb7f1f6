"""Validates an AWS API answer against botocore's model of the operation's output.

botocore's parsers are lenient: they drop members the model does not know, accept any string where an
enum is expected and never check `required`. So a twin that answers wrongly still parses. This walks the
output shape recursively over either form of an answer:

- `raw=True`: the JSON body of a JSON-protocol service (ecs, codedeploy) as it went over the wire:
  unknown members, types, enums, required members, nested structures, timestamps (epoch seconds or
  ISO 8601 text, as the JSON protocol allows);
- `raw=False`: what a botocore client returned (any protocol, e.g. elbv2's XML): types after parsing
  (timestamps are datetimes), enums, required members, nested structures.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from functools import cache
from typing import Any


@cache
def _model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def output_shape(service: str, operation: str) -> Any:
    shape = _model(service).operation_model(operation).output_shape
    if shape is None:
        raise ValueError(f"{service} {operation} has no output shape")
    return shape


def problems_with_output(service: str, operation: str, answer: Any, *, raw: bool) -> list[str]:
    """Every difference between `answer` and the output shape of `service`'s `operation`."""
    problems: list[str] = []
    value = answer
    if not raw and isinstance(answer, Mapping):
        value = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    _check(output_shape(service, operation), value, operation, problems, raw)
    return problems


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check(shape: Any, value: Any, path: str, problems: list[str], raw: bool) -> None:
    kind = shape.type_name
    if value is None:
        problems.append(f"{path}: null where the model has a {kind} ({shape.name})")
        return
    if shape.metadata.get("document"):
        return  # any JSON value
    if kind == "structure":
        _structure(shape, value, path, problems, raw)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list ({shape.name}), got {_type_name(value)}")
            return
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}[{i}]", problems, raw)
    elif kind == "map":
        if not isinstance(value, Mapping):
            problems.append(f"{path}: expected a map ({shape.name}), got {_type_name(value)}")
            return
        for key, item in value.items():
            _check(shape.key, key, f"{path} key {key!r}", problems, raw)
            _check(shape.value, item, f"{path}[{key!r}]", problems, raw)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string ({shape.name}), got {_type_name(value)} {value!r:.60}")
        elif shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.name}'s values {list(shape.enum)}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer ({shape.name}), got {_type_name(value)} {value!r:.60}")
    elif kind in ("double", "float"):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok:
            problems.append(f"{path}: expected a number ({shape.name}), got {_type_name(value)} {value!r:.60}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean ({shape.name}), got {_type_name(value)} {value!r:.60}")
    elif kind == "timestamp":
        _timestamp(shape, value, path, problems, raw)
    elif kind == "blob":
        if not isinstance(value, str if raw else bytes | bytearray):
            problems.append(f"{path}: expected a blob ({shape.name}), got {_type_name(value)}")
    else:
        problems.append(f"{path}: the validator does not know shape type {kind!r}")


def _structure(shape: Any, value: Any, path: str, problems: list[str], raw: bool) -> None:
    if not isinstance(value, Mapping):
        problems.append(f"{path}: expected an object ({shape.name}), got {_type_name(value)}")
        return
    members = shape.members
    wire = {m.serialization.get("name", name): name for name, m in members.items()} if raw else {n: n for n in members}
    for name in shape.required_members:
        key = members[name].serialization.get("name", name) if raw else name
        if key not in value:
            problems.append(f"{path}: required member {key} ({shape.name}) is missing")
    for key, item in value.items():
        member = wire.get(key)
        if member is None:
            problems.append(f"{path}: {key!r} is not a member of {shape.name}")
            continue
        _check(members[member], item, f"{path}.{key}", problems, raw)


def _timestamp(shape: Any, value: Any, path: str, problems: list[str], raw: bool) -> None:
    if not raw:
        if not isinstance(value, datetime.datetime):
            problems.append(f"{path}: expected a timestamp ({shape.name}), got {_type_name(value)} {value!r:.60}")
        return
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return
    if isinstance(value, str):
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return
        except ValueError:
            pass
    problems.append(f"{path}: {value!r:.60} is not a timestamp ({shape.name}: epoch seconds or ISO 8601)")


def problems_with_shape(service: str, shape_name: str, value: Any, *, raw: bool) -> list[str]:
    """Every difference between `value` and the named shape of `service`'s model (e.g. a structure an event repeats)."""
    problems: list[str] = []
    _check(_model(service).shape_for(shape_name), value, shape_name, problems, raw)
    return problems
