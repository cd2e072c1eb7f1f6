"""Writes the generated tables of docs/checks.md from the check kinds' schemas and class attributes.

Run `python -m greenlight_cli.checks_doc` from the repository's root after adding or changing a kind;
`--check` only says whether the file is up to date (a test runs it). Everything between a
`<!-- generated: NAME ... -->` line and the next `<!-- end generated -->` is rewritten; the prose
around the blocks is left as it is. A registered kind without a section gets one, added above the
`NEW_KINDS_MARK` line; a section for a kind that is not registered is an error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from greenlight.checks import KINDS, check_class
from greenlight.engine.check import Check
from greenlight.engine.policy import Policy
from greenlight.spec.model import POLICY_FIELDS
from greenlight.spec.schema import (
    AnyValue,
    Bool,
    Duration,
    Field,
    Int,
    ListOf,
    MapOf,
    Number,
    Obj,
    OneOf,
    Str,
    Type,
)

DOC = Path("docs/checks.md")
COMMAND = "python -m greenlight_cli.checks_doc"
NEW_KINDS_MARK = "<!-- new check kinds: the generator adds their sections above this line -->"
_BLOCK = re.compile(
    r"^<!-- generated: (?P<name>[^;>]+?)(?:;[^>]*)? -->\n(?P<body>.*?)^<!-- end generated -->\n", re.M | re.S
)

# Who else calls AWS, beside the check kinds: (what, module); the module declares IAM_ACTIONS or ACTION.
OTHER_CALLERS: tuple[tuple[str, str], ...] = (
    ("discovery (CodeDeploy)", "greenlight.discovery.codedeploy"),
    ("discovery (ECS)", "greenlight.discovery.ecs"),
    ("report (CodeDeploy)", "greenlight.reporting.codedeploy"),
    ("spec from SSM", "greenlight.spec.loader"),
)


class DocError(Exception):
    """docs/checks.md and the registered kinds cannot be matched up."""


# --- cells ------------------------------------------------------------------------------------------------


def cell(text: str) -> str:
    """Text fit for a Markdown table cell: a `|` would end the cell, even inside backticks."""
    return " ".join(text.split()).replace("|", "\\|")


def type_text(t: Type) -> str:
    """A short name of what a field takes."""
    if isinstance(t, Str):
        if t.choices:
            return "one of " + ", ".join(f"`{c}`" for c in t.choices)
        return t.pattern_doc or "text"
    if isinstance(t, Int):
        if t.min is not None and t.max is not None:
            return f"integer, {t.min} to {t.max}"
        return f"integer, at least {t.min}" if t.min is not None else "integer"
    if isinstance(t, Number):
        if t.min is not None and t.max is not None:
            return f"number, {t.min:g} to {t.max:g}"
        return f"number, at least {t.min:g}" if t.min is not None else "number"
    if isinstance(t, Bool):
        return "boolean"
    if isinstance(t, Duration):
        return "duration" + (f", at most {duration_text(t.max)}" if t.max is not None else "")
    if isinstance(t, ListOf):
        item = type_text(t.item)
        return f"{item} (one, or a list)" if t.scalar_ok else f"list of {item}"
    if isinstance(t, MapOf):
        return f"mapping of {type_text(t.key)} to {type_text(t.value)}"
    if isinstance(t, OneOf):
        return " or ".join(type_text(o) for o in t.options)
    if isinstance(t, Obj):
        return "mapping"
    if isinstance(t, AnyValue):
        return "any value"
    return t.description


def duration_text(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def value_text(value: Any, t: Type | None = None) -> str:
    """A default as the spec would write it."""
    if value is None:
        return ""
    if isinstance(t, Duration) and isinstance(value, int | float) and not isinstance(value, bool):
        return f"`{duration_text(value)}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{json.dumps(value)}`"


def default_text(f: Field) -> str:
    if f.required:
        return "(required)"
    if not f.has_default:
        return ""
    return value_text(f.default() if callable(f.default) else f.default, f.type)


# --- tables -----------------------------------------------------------------------------------------------


def field_rows(fields: dict[str, Field], prefix: str = "") -> Iterator[tuple[str, Field]]:
    """(dotted name, field) of every field, nested mappings flattened into their own fields."""
    for name, f in fields.items():
        dotted = f"{prefix}{name}"
        if isinstance(f.type, Obj):
            if f.required:
                yield dotted, f
            yield from field_rows(dict(f.type.fields), f"{dotted}.")
        else:
            yield dotted, f


def fields_table(rows: Sequence[tuple[str, Field]], defaults: dict[str, str] | None = None) -> list[str]:
    lines = ["| field | takes | default | meaning |", "|---|---|---|---|"]
    for name, f in rows:
        default = (defaults or {}).get(name, default_text(f))
        lines.append(f"| `{name}` | {cell(type_text(f.type))} | {cell(default)} | {cell(f.doc)} |")
    return lines


def registered_base(cls: type[Check]) -> str | None:
    """The kind whose class `cls` extends, when that class is itself registered."""
    registered = {c: k for k, c in ((k, check_class(k)) for k in KINDS)}
    for base in cls.__mro__[1:]:
        if base in registered:
            return registered[base]
    return None


def schema_fields(cls: type[Check]) -> dict[str, Field]:
    if not isinstance(cls.schema, Obj):
        raise DocError(f"{cls.kind}: the schema is {type(cls.schema).__name__}, not a mapping (Obj) of fields")
    return dict(cls.schema.fields)


def kind_block(kind: str) -> list[str]:
    """A kind's fields (those of the kind it extends named once, not repeated) and its IAM actions."""
    cls = check_class(kind)
    fields = schema_fields(cls)
    lines: list[str] = []
    base = registered_base(cls)
    if base is not None:
        inherited = schema_fields(check_class(base))
        shared = [n for n, f in inherited.items() if fields.get(n) is f]
        left_out = [n for n in inherited if n not in shared]
        fields = {n: f for n, f in fields.items() if n not in shared}
        but = f" except {' and '.join(f'`{n}`' for n in left_out)}" if left_out else ""
        lines += [f"The fields of [`{base}`](#{base}){but}, and:", ""]
    lines += fields_table(list(field_rows(fields)))
    actions = ", ".join(f"`{a}`" for a in cls.iam_actions) or "none"
    return [*lines, "", f"IAM actions: {actions}."]


def needs_text(cls: type[Check]) -> str:
    own = getattr(cls.needs, "__func__", None)
    if own is getattr(Check.needs, "__func__", None):
        return "nothing"
    doc = (own.__doc__ or "").strip() if own is not None else ""
    if not doc:
        raise DocError(f"{cls.kind}: needs() has no docstring; its first line is what the kinds table says")
    return doc.splitlines()[0]


def summary(cls: type[Check]) -> str:
    doc = (cls.__doc__ or "").strip()
    if not doc:
        raise DocError(f"{cls.kind}: {cls.__name__} has no docstring; its first line is what the kinds table says")
    return doc.splitlines()[0]


def kinds_block() -> list[str]:
    lines = ["| kind | what it checks | needs from discovery | IAM actions |", "|---|---|---|---|"]
    for kind in KINDS:
        cls = check_class(kind)
        actions = ", ".join(f"`{a}`" for a in cls.iam_actions) or "none"
        lines.append(f"| [`{kind}`](#{kind}) | {cell(summary(cls))} | {cell(needs_text(cls))} | {actions} |")
    return lines


def policy_block() -> list[str]:
    """The fields every check has, with the built-in defaults (a spec's `defaults:` section changes them)."""
    builtin = Policy()
    defaults = {name: value_text(getattr(builtin, name), f.type) for name, f in POLICY_FIELDS.items()}
    rows = [
        ("name", Field(Str(), required=True, doc="the check's name, unique within the hook")),
        *POLICY_FIELDS.items(),
    ]
    return fields_table(rows, defaults)


def callers() -> dict[str, tuple[str, ...]]:
    """Every AWS caller (each kind, discovery, the report) and the actions it declares."""
    found: dict[str, tuple[str, ...]] = {f"`{k}`": check_class(k).iam_actions for k in KINDS}
    for what, name in OTHER_CALLERS:
        module = importlib.import_module(name)
        declared = getattr(module, "IAM_ACTIONS", None) or (getattr(module, "ACTION", None),)
        actions = tuple(a for a in declared if isinstance(a, str))
        if not actions:
            raise DocError(f"{name} declares neither IAM_ACTIONS nor ACTION")
        found[what] = actions
    return found


def iam_block() -> list[str]:
    users: dict[str, list[str]] = {}
    for who, actions in callers().items():
        for action in actions:
            users.setdefault(action, []).append(who)
    lines = ["| IAM action | called by |", "|---|---|"]
    lines += [f"| `{a}` | {', '.join(users[a])} |" for a in sorted(users)]
    return lines


# --- the document -----------------------------------------------------------------------------------------


def block(name: str) -> list[str]:
    if name == "kinds":
        return kinds_block()
    if name == "policy":
        return policy_block()
    if name == "iam":
        return iam_block()
    if name.startswith("fields "):
        return kind_block(name.removeprefix("fields ").strip())
    raise DocError(f"unknown generated block {name!r}")


def opening(name: str) -> str:
    return f"<!-- generated: {name}; edit the code, then run `{COMMAND}` -->"


END = "<!-- end generated -->"


def generated(name: str) -> str:
    """One whole generated block, its opening and closing lines included."""
    return "\n".join([opening(name), *block(name), END]) + "\n"


def new_section(kind: str) -> str:
    return f"## `{kind}`\n\n{summary(check_class(kind))}\n\n{generated(f'fields {kind}')}\n"


def render(text: str) -> str:
    """`text` with every generated block rewritten, and a section added for each kind that has none."""
    documented = set()
    for m in _BLOCK.finditer(text):
        name = m["name"]
        if name.startswith("fields "):
            kind = name.removeprefix("fields ").strip()
            if kind not in KINDS:
                raise DocError(f"docs/checks.md has a section for kind {kind!r}, which greenlight.checks.KINDS lacks")
            documented.add(kind)
    missing = [k for k in KINDS if k not in documented]
    if missing:
        if NEW_KINDS_MARK not in text:
            raise DocError(f"no line {NEW_KINDS_MARK!r} to add the sections of {', '.join(missing)} above")
        text = text.replace(NEW_KINDS_MARK, "".join(new_section(k) for k in missing) + NEW_KINDS_MARK, 1)
    return _BLOCK.sub(lambda m: generated(m["name"]), text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", nargs="?", type=Path, default=DOC, help=f"the document (default: {DOC})")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the document is out of date")
    args = parser.parse_args(argv)
    try:
        current = args.path.read_text(encoding="utf-8")
        wanted = render(current)
    except (OSError, DocError) as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if wanted != current:
            print(f"{args.path} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        args.path.write_text(wanted, encoding="utf-8")
        print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
