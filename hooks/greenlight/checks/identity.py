"""`identity`: the answer comes from green, not blue: a version the service reports must be green's.

The request is the `http` check's (through the test listener by default). From the answer, a header
(`header: X-App-Version`) or a JSON field (`json: version`, JMESPath) must equal a value taken from
green's task definition (its container image tag, or a container environment variable) or given
literally. When the answer carries blue's value instead, the reason says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from greenlight.checks.http import SCHEMA as HTTP_SCHEMA
from greenlight.checks.http import HttpCheck, jmespath_problem
from greenlight.checks.support import NoDeploymentError, call, side_of, task_definition_name
from greenlight.engine.check import CheckContext, Needs
from greenlight.probe.http import Response
from greenlight.spec.errors import Problem
from greenlight.spec.schema import Bool, Field, Obj, Str, join

ACTION = "ecs:DescribeTaskDefinition"

log = logging.getLogger("greenlight.checks.identity")


def _one_expected(body: dict[str, Any], path: str, problems: list[Problem]) -> None:
    given = [k for k in ("image_tag", "env", "value") if body.get(k) not in (None, False)]
    if len(given) != 1:
        problems.append(Problem(path, "give exactly one of 'image_tag: true', 'env: VARIABLE' or 'value: TEXT'"))
    elif body.get("value") is not None and body.get("container"):
        problems.append(Problem(join(path, "container"), "'container' goes with image_tag or env, not value"))


EXPECTED = Obj(
    {
        "image_tag": Field(Bool(), doc="`true`: the tag of the container's image (its digest when pinned by digest)"),
        "env": Field(
            Str(min_len=1),
            doc="the value of this environment variable of the container (`environment` only, not secrets or files)",
        ),
        "value": Field(Str(), doc="a literal value (needs no deployment)"),
        "container": Field(
            Str(min_len=1),
            doc="which container (default: the one behind the load balancer, or the only one)",
        ),
    },
    check=_one_expected,
)


def _check_body(body: dict[str, Any], path: str, problems: list[Problem]) -> None:
    http_check = HTTP_SCHEMA.check
    assert http_check is not None
    http_check(body, path, problems)
    if bool(body.get("header")) == bool(body.get("json")):
        problems.append(Problem(join(path, "header"), "give either 'header' or 'json' (exactly one of them)"))
    if body.get("json"):
        why = jmespath_problem(body["json"])
        if why:
            problems.append(Problem(join(path, "json"), why))


SCHEMA = Obj(
    {
        **HTTP_SCHEMA.fields,
        "header": Field(Str(min_len=1), doc="the response header that carries the version, e.g. `X-App-Version`"),
        "json": Field(Str(min_len=1), doc="JMESPath of the version in a JSON body, e.g. `version` or `build.version`"),
        "expected": Field(
            EXPECTED,
            required=True,
            doc="where the expected value comes from: exactly one of `image_tag`, `env` and `value`",
        ),
    },
    check=_check_body,
)


def image_tag(image: str) -> str:
    """The tag of an image reference (its digest when pinned by digest; 'latest' when it has neither)."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def pick_container(
    task_definition: Mapping[str, Any], wanted: str | None, default: str | None, env: str | None
) -> Mapping[str, Any]:
    """The container the expected value is read from, or LookupError naming the choices."""
    containers = task_definition.get("containerDefinitions") or []
    name = task_definition_name(task_definition.get("taskDefinitionArn"))
    names = ", ".join(str(c.get("name")) for c in containers) or "none"
    if wanted:
        for c in containers:
            if c.get("name") == wanted:
                return c
        raise LookupError(f"task definition {name} has no container {wanted!r} (it has: {names})")
    for c in containers:
        if default and c.get("name") == default:
            return c
    if len(containers) == 1:
        return containers[0]
    if env:
        having = [c for c in containers if any(e.get("name") == env for e in c.get("environment") or [])]
        if len(having) == 1:
            return having[0]
    raise LookupError(f"task definition {name} has {len(containers)} containers ({names}): set expected.container")


def expected_value(task_definition: Mapping[str, Any], expected: Mapping[str, Any], default: str | None) -> str:
    """The value `expected` names in a task definition (image tag or environment variable)."""
    container = pick_container(task_definition, expected.get("container"), default, expected.get("env"))
    if expected.get("image_tag"):
        return image_tag(str(container.get("image", "")))
    for item in container.get("environment") or []:
        if item.get("name") == expected["env"]:
            return str(item.get("value", ""))
    raise LookupError(
        f"container {container.get('name')} of task definition "
        f"{task_definition_name(task_definition.get('taskDefinitionArn'))} has no environment variable "
        f"{expected['env']} (only `environment` is visible, not environmentFiles or secrets)"
    )


class IdentityCheck(HttpCheck):
    """The version in the answer equals the one green's task definition (or the spec) gives."""

    kind = "identity"
    schema = SCHEMA
    iam_actions = (*HttpCheck.iam_actions, ACTION)

    def prepare(self, ctx: CheckContext) -> None:
        super().prepare(ctx)
        expected = self.body["expected"]
        self._blue: str | None = None
        if expected.get("value") is not None:
            self._expected, self._source = str(expected["value"]), "the spec"
            return
        green = side_of(ctx, "green", self.kind)
        if not green.task_definition_arn:
            raise NoDeploymentError(f"{self.kind}: green's task definition is not known (no green task set found)")
        task_def = self._task_definition(ctx, green.task_definition_arn)
        self._expected = expected_value(task_def, expected, green.container_name)
        what = "image tag" if expected.get("image_tag") else expected["env"]
        self._source = f"green task definition {task_definition_name(green.task_definition_arn)} ({what})"
        blue = ctx.deployment.side("blue") if ctx.deployment is not None else None
        if blue is not None and blue.task_definition_arn:
            # Only to say "(blue's)" in a failure; not knowing blue's value must not stop the check.
            try:
                blue_def = self._task_definition(ctx, blue.task_definition_arn)
                self._blue = expected_value(blue_def, expected, blue.container_name)
            except Exception as exc:
                log.info("blue's %s is unknown: %s", what, exc)

    @staticmethod
    def _task_definition(ctx: CheckContext, arn: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = call(ctx, "ecs", "describe_task_definition", ACTION, taskDefinition=arn)[
            "taskDefinition"
        ]
        return found

    def _answered(self, resp: Response) -> tuple[str | None, str | None]:
        """(value the answer carries, or None; why there is none)."""
        if self.body.get("header"):
            value = resp.headers.get(self.body["header"].lower())
            return (value, None) if value is not None else (None, f"no {self.body['header']} header in the answer")
        import jmespath

        if resp.truncated:
            return None, "body is larger than target.max_body_bytes; cannot read it as JSON"
        try:
            doc = resp.json()
        except ValueError as exc:
            return None, f"body is not valid JSON ({type(exc).__name__}), cannot read {self.body['json']}"
        except RecursionError:
            return None, f"body is JSON nested too deeply to read, cannot read {self.body['json']}"
        seen = jmespath.search(self.body["json"], doc)
        if seen is None:
            return None, f"no JSON {self.body['json']} in the answer"
        return (seen if isinstance(seen, str) else _json_text(seen)), None

    def judge(self, resp: Response, details: dict[str, Any]) -> list[str]:
        problems = super().judge(resp, details)
        seen, missing = self._answered(resp)
        label = f"header {self.body['header']}" if self.body.get("header") else f"JSON {self.body['json']}"
        details.update(answered=seen, expected=self._expected)
        if missing:
            problems.append(f"{missing}; expected {self._expected!r} from {self._source}")
        elif seen != self._expected:
            whose = " (blue's)" if self._blue is not None and seen == self._blue else ""
            problems.append(f"answered {label} {seen!r}{whose}, expected {self._expected!r} from {self._source}")
        return problems

    def summary(self, resp: Response, details: dict[str, Any]) -> str:
        return f"answered {details.get('answered')!r} as expected from {self._source} ({resp.status})"

    @classmethod
    def needs(cls, body: Mapping[str, Any]) -> Needs:
        """The http request's listener, and the deployment unless the expected value is a literal."""
        listeners = HttpCheck.needs(body)
        return listeners | Needs(deployment=(body.get("expected") or {}).get("value") is None)


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value)  # 2 -> "2", true -> "true": what the spec would write
