"""User regular expressions: compiled by RE2 when the spec is read, matched in time linear in the text.

Python's `re` backtracks: `(a+)+$` against 'a' * 5000 + '!' runs for longer than the universe, and
holds the GIL while it does, so no watchdog, deadline or reporter thread of the hook can run. RE2
(google-re2, a wheel for both Lambda architectures) matches in time linear in the text and bounded
memory, whatever the pattern. What only a backtracking engine can do (backreferences such as `\\1`,
lookarounds such as `(?=...)`, possessive quantifiers) is refused when the spec is read, with what to
use instead; so is a pattern RE2 would need more than MAX_MEM bytes to compile, or repeats above 1000.

Syntax: https://github.com/google/re2/wiki/Syntax. Differences from `re` a spec author may meet: `$`
matches only at the very end of the text (not before a final newline) unless `(?m)` is set, and `\\Z`
is written `\\z`.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

from greenlight.spec.errors import Problem
from greenlight.spec.schema import Type, show

# Memory RE2 may use for one compiled pattern (and its DFA cache). RE2's own default, stated so the
# bound is ours: a pattern needing more is refused at spec time rather than slowed down at match time.
MAX_MEM = 8 << 20
# A spec pattern longer than this is a mistake (or an attack on the spec validator), not a check.
MAX_PATTERN = 4096

_HINTS = (
    ("invalid escape sequence: \\1", "backreferences (\\1, (?P=name)) are not supported"),
    ("invalid perl operator: (?P", "backreferences (?P=name) are not supported"),
    ("invalid perl operator: (?=", "lookahead (?=...) is not supported"),
    ("invalid perl operator: (?!", "negative lookahead (?!...) is not supported; add a body_not_contains"),
    ("invalid perl operator: (?<", "lookbehind is not supported"),
    ("invalid repetition size", "repeat counts are at most 1000"),
    ("bad repetition operator", "possessive (a*+) and nested (a**) quantifiers are not supported"),
    ("pattern too large", f"the compiled pattern would need more than {MAX_MEM >> 20} MiB"),
)
_ADVICE = (
    "greenlight matches with RE2 (linear time, https://github.com/google/re2/wiki/Syntax): "
    "match the text itself, or split the condition into body_contains / body_not_contains"
)


class RegexError(ValueError):
    """A pattern RE2 cannot take; the message says why and what to write instead."""


def _options() -> Any:
    options = re2.Options()
    options.max_mem = MAX_MEM
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    return options


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """The compiled RE2 pattern, or RegexError saying why it is refused and what to use instead."""
    if len(pattern) > MAX_PATTERN:
        raise RegexError(f"a pattern of {len(pattern)} characters is longer than {MAX_PATTERN}")
    try:
        return re2.compile(pattern, _options())
    except UnicodeEncodeError:
        raise RegexError("the pattern holds a lone surrogate (such as \\ud800), which RE2 cannot take") from None
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = next((h for marker, h in _HINTS if marker in detail), "")
        raise RegexError(f"{detail}{f' ({hint})' if hint else ''}; {_ADVICE}") from None


def search(pattern: str, text: str) -> Any:
    """The first match of `pattern` in `text` (or None), in time linear in len(text)."""
    return compile_pattern(pattern).search(text)


class Regex(Type):
    """A regular expression RE2 compiles; anything else is a spec error naming the pattern and the reason."""

    description = "a regular expression (RE2 syntax)"

    def validate(self, value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, str) or not value:
            self.fail(value, path, problems)
            return None
        try:
            compile_pattern(value)
        except RegexError as exc:
            problems.append(Problem(path, f"cannot use the regular expression {show(value)}: {exc}"))
            return None
        return value
