"""A small declarative schema: validates plain data, fills defaults and reports every problem with its path."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from greenlight.spec.errors import Problem

_MISSING = object()


# How much of an offending value a message quotes: enough to recognise it, never a whole document.
_SHOWN = 60


def show(value: Any) -> str:
    """An offending value as a message quotes it: `1.5`, `'abc'`, `true`, `null`, `.nan`, cut short if long."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a {len(str(value))}-digit number"
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _describe(value: Any) -> str:
    """The offending value itself (`1.5`, `'yes'`, `[1, 2]`), or its type for what YAML cannot write."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return show(value)
    return f"{type(value).__name__} {show(value)}"


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
            problems.append(Problem(path, f"expected {self.description}, got {show(value)}{extra}"))
            return None
        if self.pattern and not re.fullmatch(self.pattern, value):
            problems.append(Problem(path, f"expected {self.description}, got {show(value)}"))
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
            problems.append(Problem(path, f"expected {self.description}, got {show(value)}"))
            return None
        return value


@dataclass
class Number(Type):
    """A finite number: NaN compares false with every bound, so a `.nan` limit would let anything pass."""

    min: float | None = None
    max: float | None = None

    @property
    def description(self) -> str:  # type: ignore[override]
        if self.min is not None and self.max is not None:
            return f"a finite number from {self.min:g} to {self.max:g}"
        if self.min is not None:
            return f"a finite number of at least {self.min:g}"
        if self.max is not None:
            return f"a finite number of at most {self.max:g}"
        return "a finite number"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(value, path, problems)
            return None
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            number = math.inf
        if not math.isfinite(number):
            problems.append(Problem(path, f"expected {self.description}, got {show(value)}"))
            return None
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            problems.append(Problem(path, f"expected {self.description}, got {show(value)}"))
            return None
        return number


class Bool(Type):
    description = "true or false"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, bool):
            self.fail(value, path, problems)
            return None
        return value


# A duration is a plain number of seconds, or one or more `<number><unit>` parts, largest unit first and
# each unit at most once: `250ms`, `90s`, `2m`, `1h`, `1m30s`, `1h2m3.5s`. Numbers have at most 9 digits
# before the point, so no string can name a time too large for a float.
_NUM = r"[0-9]{1,9}(?:\.[0-9]{1,9})?"  # ASCII digits only: `\d` would take `１０s` and `٣s`
_DURATION = re.compile(rf"({_NUM}h)?({_NUM}m(?!s))?({_NUM}s)?({_NUM}ms)?")
_PLAIN = re.compile(_NUM)
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
DURATION_GRAMMAR = "a number of seconds, or parts such as 1h, 2m, 90s, 250ms largest first (1m30s, 1h2m3.5s)"


def parse_duration(value: Any) -> float | None:
    """Seconds from `250ms`, `5s`, `2m`, `1h`, `1m30s` or a plain number of seconds; None if it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            return None
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if _PLAIN.fullmatch(text):
            return float(text)
        m = _DURATION.fullmatch(text)
        if m and any(m.groups()):
            total = 0.0
            for part in m.groups():
                if part:
                    unit = "ms" if part.endswith("ms") else part[-1]
                    total += float(part[: -len(unit)]) * _UNIT[unit]
            return total
    return None


@dataclass
class Duration(Type):
    min: float = 0.0
    max: float | None = None
    description = "a duration such as 250ms, 90s, 2m, 1m30s, 1h or a number of seconds"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        seconds = parse_duration(value)
        if seconds is None:
            problems.append(Problem(path, f"expected {self.description}, got {show(value)}"))
            return None
        if seconds < self.min or (self.max is not None and seconds > self.max):
            bound = f"from {self.min:g}s" + (f" to {self.max:g}s" if self.max is not None else "")
            problems.append(Problem(path, f"expected a duration {bound}, got {show(value)}"))
            return None
        return seconds


@dataclass
class ListOf(Type):
    item: Type
    min_len: int = 0
    scalar_ok: bool = False  # a single item may stand for a one-item list
    max_len: int | None = None

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
            problems.append(Problem(path, f"expected at least {self.min_len} item(s), got {show(value)}"))
            return None
        if self.max_len is not None and len(value) > self.max_len:
            problems.append(Problem(path, f"expected at most {self.max_len} item(s), got {len(value)}"))
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
