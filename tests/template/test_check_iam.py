"""The template's IAM grants against the check kinds' declared `iam_actions`: a kind's new action is caught."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from test_template import declared_actions, granted

from greenlight.checks import KINDS, Check, CheckContext
from greenlight.engine.model import Measurement, passed
from greenlight.spec.schema import Obj


class QueueDepthCheck(Check):
    """A kind that reads an SQS queue, which the template's roles are not granted."""

    kind = "queue_depth"
    schema = Obj({})
    iam_actions: ClassVar[tuple[str, ...]] = ("sqs:GetQueueAttributes",)

    def measure(self, ctx: CheckContext) -> Measurement:
        return passed()


@pytest.mark.parametrize("role", ["CodeDeployHookRole", "EcsHookRole"])
def test_template_cross_check_names_the_action_a_new_kind_declares(
    template: dict[str, Any], role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a kind registered with one line that declares an action the template does not grant
    monkeypatch.setitem(KINDS, "queue_depth", f"{__name__}:QueueDepthCheck")

    # WHEN the declared actions are compared with the role's grants
    missing = declared_actions() - granted(template, role)

    # THEN exactly that action is missing: the kind's class attribute is all the cross-check reads
    assert missing == {"sqs:GetQueueAttributes"}


def test_template_grants_every_kinds_actions_to_both_hook_roles(template: dict[str, Any]) -> None:
    # GIVEN every registered kind's declared actions (nothing else)
    from greenlight.checks import iam_actions

    per_kind = iam_actions()
    assert set(per_kind) == set(KINDS)

    # WHEN / THEN each hook role may call each of them, naming the kind that would be denied
    for role in ("CodeDeployHookRole", "EcsHookRole"):
        allowed = granted(template, role)
        denied = {kind: sorted(set(actions) - allowed) for kind, actions in per_kind.items() if set(actions) - allowed}
        assert denied == {}, f"{role} lacks actions of: {denied}"
