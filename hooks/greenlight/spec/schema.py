"""A small declarative schema: validates plain data, fills defaults and reports every problem with its path."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from greenlight.spec.errors import Problem

_MISSING = object()


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key == "":
        return f'{path}[""]'  # an empty key must still show in the path, or the problem names no place
    return f"{path}.{key}" if path else key


class Type:
    """Validates one value; appends problems and returns the cleaned value (or None when invalid)."""

    description = "a value"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        raise NotImplementedError

    def fail(self, value: Any, path: str, problems: list[Problem], expected: str | None = None) -> None:
        problems.append(Problem(path, f"expected {expected or self.description}, got {_describe(value)}"))


class AnyValue(Type):
    description = "any value"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        return value


@dataclass
class Str(Type):
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    pattern_doc: str = ""
    min_len: int = 0

    @property
    def description(self) -> str:  # type: ignore[override]
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        return self.pattern_doc or "a string"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, str):
            self.fail(value, path, problems)
            return None
        if self.choices and value not in self.choices:
            hint = difflib.get_close_matches(value, self.choices, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            problems.append(Problem(path, f"expected {self.description}, got {value!r}{extra}"))
            return None
        if self.pattern and not re.fullmatch(self.pattern, value):
            problems.append(Problem(path, f"expected {self.description}, got {value!r}"))
            return None
        if len(value) < self.min_len:
            problems.append(Problem(path, "must not be empty"))
            return None
        return value


@dataclass
class Int(Type):
    min: int | None = None
    max: int | None = None

    @property
    def description(self) -> str:  # type: ignore[override]
        if self.min is not None and self.max is not None:
            return f"a whole number from {self.min} to {self.max}"
        if self.min is not None:
            return f"a whole number of at least {self.min}"
        return "a whole number"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(value, path, problems)
            return None
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            problems.append(Problem(path, f"expected {self.description}, got {value}"))
            return None
        return value


@dataclass
class Number(Type):
    min: float | None = None
    max: float | None = None
    description = "a number"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(value, path, problems)
            return None
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            problems.append(Problem(path, f"expected a number from {self.min} to {self.max}, got {value}"))
            return None
        return float(value)


class Bool(Type):
    description = "true or false"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, bool):
            self.fail(value, path, problems)
            return None
        return value


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> float | None:
    """Seconds from `250ms`, `5s`, `2m`, `1h` or a plain number of seconds; None if it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return float(m.group(1)) * _UNIT[m.group(2)]
    return None


@dataclass
class Duration(Type):
    min: float = 0.0
    max: float | None = None
    description = "a duration such as 250ms, 5s, 2m or a number of seconds"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        seconds = parse_duration(value)
        if seconds is None:
            problems.append(Problem(path, f"expected {self.description}, got {value!r}"))
            return None
        if seconds < self.min or (self.max is not None and seconds > self.max):
            bound = f"from {self.min:g}s" + (f" to {self.max:g}s" if self.max is not None else "")
            problems.append(Problem(path, f"expected a duration {bound}, got {value!r}"))
            return None
        return seconds


@dataclass
class ListOf(Type):
    item: Type
    min_len: int = 0
    scalar_ok: bool = False  # a single item may stand for a one-item list

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"a list of {self.item.description}"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if self.scalar_ok and not isinstance(value, list):
            value = [value]
        if not isinstance(value, list):
            self.fail(value, path, problems)
            return None
        if len(value) < self.min_len:
            problems.append(Problem(path, f"expected at least {self.min_len} item(s)"))
            return None
        return [self.item.validate(v, join(path, i), problems) for i, v in enumerate(value)]


@dataclass
class MapOf(Type):
    value: Type
    key: Type = field(default_factory=lambda: Str(min_len=1))

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"a mapping of {self.key.description} to {self.value.description}"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            self.fail(value, path, problems)
            return None
        out = {}
        for k, v in value.items():
            kk = self.key.validate(k, join(path, str(k)), problems)
            out[kk] = self.value.validate(v, join(path, str(k)), problems)
        return out


@dataclass
class Field:
    type: Type
    required: bool = False
    default: Any = _MISSING
    doc: str = ""

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING


@dataclass
class Obj(Type):
    """A mapping with known keys; unknown keys are mistakes, with a did-you-mean hint."""

    fields: Mapping[str, Field]
    check: Callable[[dict[str, Any], str, list[Problem]], None] | None = None
    description = "a mapping"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            self.fail(value, path, problems)
            return None
        out: dict[str, Any] = {}
        for key in value:
            if key not in self.fields:
                hint = difflib.get_close_matches(str(key), list(self.fields), n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else f" (expected one of: {', '.join(self.fields)})"
                problems.append(Problem(join(path, str(key)), f"unknown field{extra}"))
        for name, f in self.fields.items():
            if name in value:
                out[name] = f.type.validate(value[name], join(path, name), problems)
            elif f.required:
                problems.append(Problem(join(path, name), f"required field is missing ({f.type.description})"))
            elif f.default is not _MISSING:
                default = f.default() if callable(f.default) else f.default
                if isinstance(f.type, Obj) and isinstance(default, dict):
                    default = f.type.validate(default, join(path, name), problems)  # fill nested defaults
                out[name] = default
        if self.check is not None:
            before = len(problems)
            self.check(out, path, problems)
            if len(problems) > before:
                return None
        return out


@dataclass
class OneOf(Type):
    """Any of several types; the first that accepts the value wins."""

    options: tuple[Type, ...]

    @property
    def description(self) -> str:  # type: ignore[override]
        return " or ".join(o.description for o in self.options)

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        attempts: list[list[Problem]] = []
        for option in self.options:
            trial: list[Problem] = []
            out = option.validate(value, path, trial)
            if not trial:
                return out
            attempts.append(trial)
        # Report the attempt that got furthest (deepest path), which is usually what was meant.
        best = max(attempts, key=lambda ps: max(len(p.path) for p in ps))
        if all(p.path == path for p in best):
            problems.append(Problem(path, f"expected {self.description}, got {_describe(value)}"))
        else:
            problems.extend(best)
        return None
