"""Deployments behind a Network Load Balancer, under both controllers.

The twin's load balancer has TCP listeners and TCP health checks; moto holds a `network` load balancer with
TCP listeners and target groups; ECS native names the listeners themselves in advancedConfiguration (not
listener rules: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/nlb-resources-for-blue-green.html).
The probes are plain HTTP to the listener's port: the service speaks HTTP over TCP.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenlight_twin.controller import Twin, TwinConfig
from greenlight_twin.progress import invocations

pytestmark = pytest.mark.e2e

DEMO = Path(__file__).resolve().parents[2] / "examples" / "twin" / "demo.yaml"
TEST_TRAFFIC_HOOK = {"CODE_DEPLOY": "AfterAllowTestTraffic", "ECS": "POST_TEST_TRAFFIC_SHIFT"}


@pytest.fixture(scope="module", params=["CODE_DEPLOY", "ECS"])
def nlb_twin(
    request: pytest.FixtureRequest, rie_binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Twin]:
    from e2e_support import E2E_TWIN, TEMPLATE, start_twin

    config = TwinConfig(
        controller=request.param,
        load_balancer="network",
        template=TEMPLATE,
        rie=rie_binary,
        workdir=tmp_path_factory.mktemp(f"twin-nlb-{request.param.lower()}"),
        **E2E_TWIN,  # type: ignore[arg-type]
    )
    yield from start_twin(config)


def production_version(twin: Twin) -> str | None:
    with urllib.request.urlopen(twin.prod_url + "/", timeout=5) as response:  # noqa: S310 (127.0.0.1 only)
        return response.headers.get("X-App-Version")


def test_nlb_good_green_promoted(nlb_twin: Twin, version: str) -> None:
    twin = nlb_twin
    # GIVEN production on blue behind an NLB
    lb = twin.client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert any(item["Type"] == "network" for item in lb)

    # WHEN a healthy green is deployed with the demo spec
    outcome = twin.deploy(DEMO, version=version)

    # THEN the checks reached green through the TCP test listener, and production moved to green
    assert outcome.promoted, outcome.summary()
    checks = {c.name: c.status for c in outcome.hook(TEST_TRAFFIC_HOOK[twin.controller]).checks}
    assert checks == {"health": "PASS", "answered-by-green": "PASS", "green-targets-healthy": "PASS"}
    assert production_version(twin) == version
    assert all(call["status"] in ("SUCCEEDED", "Succeeded") for call in invocations(outcome.events))


def test_nlb_unhealthy_green_caught_by_the_spec(nlb_twin: Twin, version: str) -> None:
    twin = nlb_twin
    blue = twin.live_version
    # WHEN a green whose /health answers 503 is deployed (an NLB's TCP health check would pass it: the port is
    # open; tests/functional/twin/test_lb_tcp.py) ...
    outcome = twin.deploy(DEMO, version=version, env={"FAULT_UNHEALTHY": "true"})

    # THEN ... but the spec's HTTP check through the test listener fails it, and production stays on blue
    assert outcome.rolled_back and not outcome.promoted, outcome.summary()
    assert outcome.check("health").status == "FAIL"
    assert production_version(twin) == blue
