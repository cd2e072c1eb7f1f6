"""`alarms`: the named CloudWatch alarms (or all whose names start with a prefix) are not in ALARM.

A named alarm that does not exist is an error naming it (a typo must not pass quietly), found when the
check prepares. INSUFFICIENT_DATA is what an alarm says right after green starts; what it means is the
spec's choice (`on_insufficient_data`), an error unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from greenlight.checks.support import paginate
from greenlight.engine.check import Check, CheckContext
from greenlight.engine.model import Measurement, errored, failed, passed
from greenlight.spec.errors import Problem
from greenlight.spec.schema import Field, ListOf, Obj, Str, join

ACTION = "cloudwatch:DescribeAlarms"
_BATCH = 100  # DescribeAlarms takes at most 100 names per call


def _one_selector(body: dict[str, Any], path: str, problems: list[Problem]) -> None:
    if bool(body.get("names")) == bool(body.get("prefix")):
        problems.append(Problem(join(path, "names"), "give either 'names' or 'prefix' (exactly one of them)"))


SCHEMA = Obj(
    {
        "names": Field(
            ListOf(Str(min_len=1), min_len=1, scalar_ok=True),
            doc="alarm names (metric or composite alarms); one name or a list",
        ),
        "prefix": Field(Str(min_len=1), doc="every alarm whose name starts with this; at least one must exist"),
        "on_insufficient_data": Field(
            Str(choices=("error", "pass", "fail")),
            default="error",
            doc="what an alarm in `INSUFFICIENT_DATA` counts as: an error, a pass or a failure",
        ),
    },
    check=_one_selector,
)


def _reason(alarm: Mapping[str, Any]) -> str:
    why = str(alarm.get("StateReason") or "").strip()
    return f"{alarm['AlarmName']} ({why[:200]})" if why else str(alarm["AlarmName"])


class AlarmsCheck(Check):
    """No selected alarm is in ALARM; INSUFFICIENT_DATA counts as `on_insufficient_data` says."""

    kind = "alarms"
    schema = SCHEMA
    iam_actions = (ACTION,)

    def _select(self, ctx: CheckContext) -> list[dict[str, Any]]:
        """The selected alarms, metric and composite, as DescribeAlarms returns them."""
        params: dict[str, Any] = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
        keys = ("MetricAlarms", "CompositeAlarms")
        if self.body.get("prefix"):
            return paginate(
                ctx, "cloudwatch", "describe_alarms", ACTION, keys, AlarmNamePrefix=self.body["prefix"], **params
            )
        names: list[str] = list(dict.fromkeys(self.body["names"]))
        alarms: list[dict[str, Any]] = []
        for start in range(0, len(names), _BATCH):
            batch = names[start : start + _BATCH]
            alarms.extend(paginate(ctx, "cloudwatch", "describe_alarms", ACTION, keys, AlarmNames=batch, **params))
        return alarms

    def prepare(self, ctx: CheckContext) -> None:
        self._check_exist(self._select(ctx))

    def _check_exist(self, alarms: list[dict[str, Any]]) -> None:
        if self.body.get("prefix"):
            if not alarms:
                raise LookupError(f"no CloudWatch alarm's name starts with {self.body['prefix']!r}")
            return
        found = {a["AlarmName"] for a in alarms}
        missing = [n for n in self.body["names"] if n not in found]
        if missing:
            raise LookupError(
                f"CloudWatch alarm(s) not found: {', '.join(missing)} (names are case-sensitive; "
                "the alarm must be in the region greenlight runs in)"
            )

    def measure(self, ctx: CheckContext) -> Measurement:
        alarms = self._select(ctx)
        self._check_exist(alarms)  # an alarm deleted since prepare is an error, not a pass
        states = {a["AlarmName"]: a.get("StateValue", "?") for a in alarms}
        in_alarm = [a for a in alarms if a.get("StateValue") == "ALARM"]
        no_data = [a for a in alarms if a.get("StateValue") == "INSUFFICIENT_DATA"]
        policy = self.body["on_insufficient_data"]
        details = {"alarms": states}
        if in_alarm:
            more = f"; {len(no_data)} in INSUFFICIENT_DATA" if no_data else ""
            return failed(
                f"{len(in_alarm)} of {len(alarms)} alarm(s) in ALARM: " + "; ".join(map(_reason, in_alarm)) + more,
                **details,
            )
        if no_data and policy != "pass":
            text = (
                f"{len(no_data)} of {len(alarms)} alarm(s) in INSUFFICIENT_DATA: "
                + ", ".join(a["AlarmName"] for a in no_data)
                + f" (on_insufficient_data: {policy})"
            )
            return failed(text, **details) if policy == "fail" else errored(text, **details)
        note = f" ({len(no_data)} in INSUFFICIENT_DATA, counted as pass)" if no_data else ""
        return passed(f"{len(alarms)} alarm(s) not in ALARM{note}", **details)
