"""`per_target`: the `http` check sent to each registered green target directly (its IP and port).

Round-robin through a listener hides one bad task among healthy ones; this probes every target, so
the bad one fails the check by name. The body is the `http` body (without `url`/`listener`), judged
the same way; the targets' addresses are added to the hosts probes may reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from greenlight.checks.http import SCHEMA as HTTP_SCHEMA
from greenlight.checks.http import HttpCheck
from greenlight.checks.support import TARGET_GROUP_REF, call, show_target, target_group
from greenlight.engine.check import CheckContext, Needs, Target
from greenlight.engine.model import Measurement, Status, errored, failed, passed
from greenlight.spec.schema import Field, Int, Obj, Str

ACTION = "elasticloadbalancing:DescribeTargetHealth"
_MAX_PARALLEL = 32

SCHEMA = Obj(
    {
        **{k: v for k, v in HTTP_SCHEMA.fields.items() if k not in ("url", "listener")},
        "target_group": Field(
            TARGET_GROUP_REF, default="green", doc="whose targets: `green`, `blue`, or a target group ARN"
        ),
        "scheme": Field(
            Str(choices=("http", "https")),
            doc="how to talk to the targets (default: the target group's protocol, else `http`); for https to an IP, "
            "set `target.tls.server_name` or `insecure`",
        ),
        "port": Field(
            Int(min=1, max=65535),
            doc="probe this port instead of each target's registered port (e.g. a management port)",
        ),
    },
    check=HTTP_SCHEMA.check,
)


class PerTargetCheck(HttpCheck):
    """Each registered target (IP targets, as Fargate's) answers the request as `expect` says."""

    kind = "per_target"
    schema = SCHEMA
    iam_actions = (*HttpCheck.iam_actions, ACTION)

    def prepare(self, ctx: CheckContext) -> None:
        from greenlight.secrets import resolve_headers

        self._headers, self._secrets = resolve_headers(self.body["headers"], ctx)
        self._arn, self._shown = target_group(ctx, self.body["target_group"], self.kind)
        scheme = self.body.get("scheme")
        if scheme is None:
            ref = self.body["target_group"]
            side = ctx.deployment.side(ref) if ctx.deployment is not None and not ref.startswith("arn:") else None
            protocol = (side.target_group_protocol if side else None) or "HTTP"
            scheme = "https" if protocol.upper() == "HTTPS" else "http"
        self._scheme = scheme

    def url_for(self, target: Target, base: str | None = None) -> str:
        assert base is not None, "per_target always probes a target's own address"
        return base.rstrip("/") + (self.body.get("path") or "/")

    def measure(self, ctx: CheckContext) -> Measurement:
        answer = call(ctx, "elbv2", "describe_target_health", ACTION, TargetGroupArn=self._arn)
        targets = [
            d
            for d in answer.get("TargetHealthDescriptions") or []
            if (d.get("TargetHealth") or {}).get("State") != "draining"
        ]
        if not targets:
            return failed(f"no targets registered in {self._shown}", target_group=self._arn)
        addresses = []
        for d in targets:
            target_id = str((d.get("Target") or {}).get("Id", ""))
            port = self.body.get("port") or (d.get("Target") or {}).get("Port")
            if not _is_ip(target_id):
                raise ValueError(
                    f"{self._shown} has a target {target_id!r} that is not an IP address; per_target probes IP "
                    "targets (awsvpc network mode, as Fargate uses)"
                )
            if not port:
                raise ValueError(f"target {target_id} in {self._shown} has no port; set per_target.port")
            host = f"[{target_id}]" if ":" in target_id else target_id
            addresses.append((show_target(d), target_id, f"{self._scheme}://{host}:{port}"))

        def probe_one(item: tuple[str, str, str]) -> Measurement:
            _, ip, base = item
            return self.probe(ctx, self.url_for(ctx.target, base), extra_hosts=(ip,))

        with ThreadPoolExecutor(max_workers=min(len(addresses), _MAX_PARALLEL)) as pool:
            results = list(pool.map(probe_one, addresses))
        per_target = {
            shown: f"{m.status.value}: {m.reason}" for (shown, _, _), m in zip(addresses, results, strict=True)
        }
        details: dict[str, Any] = {"target_group": self._arn, "targets": per_target}
        bad = [(shown, m) for (shown, _, _), m in zip(addresses, results, strict=True) if m.status is not Status.PASS]
        if not bad:
            return passed(f"all {len(results)} target(s) of {self._shown} answered as expected", **details)
        listed = "; ".join(f"{shown}: {m.reason}" for shown, m in bad)
        if len(bad) == len(results) and all(m.status is Status.ERROR for _, m in bad):
            # Nothing answered at all: more likely no network path to the tasks than every task being bad.
            return errored(
                f"no target of {self._shown} could be reached ({listed}); the function needs a network path "
                "to the tasks (VPC, security group allowing its traffic on the container port)",
                **details,
            )
        return failed(f"{len(bad)} of {len(results)} target(s) of {self._shown} failed: {listed}", **details)

    @classmethod
    def needs(cls, body: Mapping[str, Any]) -> Needs:
        """The deployment, unless the target group is given as an ARN; no listener (targets are probed directly)."""
        return Needs(deployment=not str(body.get("target_group", "green")).startswith("arn:"))


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
