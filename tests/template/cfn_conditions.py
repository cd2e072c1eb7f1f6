"""The template tests' stand-in stack (its name, region and account) over the twin's CloudFormation evaluator.

One evaluator serves the twin and these tests (greenlight_twin.cfn); this module only fixes where the
stack under test would live, so expected ARNs can be written out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from greenlight_twin import cfn
from greenlight_twin.cfn import Evaluation, Unresolved, references, resolve_ifs

__all__ = ["PSEUDO", "Evaluation", "Unresolved", "evaluate_template", "references", "resolve_ifs"]

STACK = {"stack_name": "greenlight", "region": "eu-south-1", "account_id": "123456789012"}
PSEUDO = cfn.pseudo_parameters(**STACK)


def evaluate_template(template: Mapping[str, Any], **parameters: Any) -> Evaluation:
    """template.yaml under `parameters` (the others at their Default) in the stand-in stack."""
    return cfn.evaluate_template(template, parameters, **STACK)
