"""CloudFormation templates before deployment: read them (`loader`) and evaluate what they resolve to (`evaluator`).

One evaluator for the twin (which functions a SAM template defines, and their settings) and for the
template tests (which resources each combination of parameters creates).
"""

from __future__ import annotations

from greenlight_twin.cfn.evaluator import (
    INTRINSICS,
    NO_VALUE,
    Evaluation,
    ParameterError,
    Unresolved,
    evaluate_template,
    is_intrinsic,
    pseudo_parameters,
    references,
    resolve_ifs,
)
from greenlight_twin.cfn.loader import load_template, parse_template

__all__ = [
    "INTRINSICS",
    "NO_VALUE",
    "Evaluation",
    "ParameterError",
    "Unresolved",
    "evaluate_template",
    "is_intrinsic",
    "load_template",
    "parse_template",
    "pseudo_parameters",
    "references",
    "resolve_ifs",
]
