"""The spec: what to check, per hook. Read it with `load()`; every mistake comes back in one SpecError."""

from greenlight.spec.errors import Problem, SpecError, SpecSourceError
from greenlight.spec.loader import load, load_text
from greenlight.spec.model import AUTO, CheckSpec, Spec, build_spec

__all__ = [
    "AUTO",
    "CheckSpec",
    "Problem",
    "Spec",
    "SpecError",
    "SpecSourceError",
    "build_spec",
    "load",
    "load_text",
]
