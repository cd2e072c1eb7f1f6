"""An ECS Service Connect service through the twin: test traffic is routed by the revision's header rule.

The service revision's serviceConnectConfiguration carries clientAliases[].testTrafficRules.header (botocore
ecs model: ServiceConnectTestTrafficRules / ServiceConnectTestTrafficHeaderRules; ECS Developer Guide,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-blue-green.html). Discovery reads
it, the probes send the header to the client alias, and the twin's proxy routes requests that carry it to
green, the others to blue, until production moves.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenlight_twin.config import SERVICE_CONNECT_TEST_HEADER
from greenlight_twin.controller import Twin, TwinConfig

pytestmark = pytest.mark.e2e

SPEC = Path(__file__).resolve().parents[2] / "examples" / "twin" / "service-connect.yaml"


@pytest.fixture(scope="module")
def sc_twin(rie_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    from e2e_support import E2E_TWIN, TEMPLATE, start_twin

    config = TwinConfig(
        controller="ECS",
        service_connect=True,
        template=TEMPLATE,
        rie=rie_binary,
        workdir=tmp_path_factory.mktemp("twin-sc"),
        **E2E_TWIN,  # type: ignore[arg-type]
    )
    yield from start_twin(config)


def version_at(url: str, headers: dict[str, str] | None = None) -> str | None:
    request = urllib.request.Request(url + "/", headers=headers or {})  # noqa: S310 (127.0.0.1 only)
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.headers.get("X-App-Version")


def test_service_connect_good_green_promoted_through_the_test_header(sc_twin: Twin, version: str) -> None:
    twin = sc_twin
    blue = twin.live_version
    name, value = SERVICE_CONNECT_TEST_HEADER
    seen: dict[str, str | None] = {}

    def look_at_test_traffic(event: object) -> None:
        # Once test traffic is on green, the alias answers blue without the header and green with it.
        data = getattr(event, "data", {})
        if getattr(event, "kind", "") == "step" and data.get("stage") == "POST_TEST_TRAFFIC_SHIFT":
            seen["plain"] = version_at(twin.prod_url)
            seen["marked"] = version_at(twin.prod_url, {name: value})
        if twin.progress is not None:
            twin.progress(event)  # type: ignore[arg-type]

    # WHEN a healthy green is deployed to the Service Connect service
    outcome = twin.deploy(SPEC, version=version, progress=look_at_test_traffic)

    # THEN the probes reached green only through the header, and production moved to green at the end
    assert outcome.promoted, outcome.summary()
    assert seen == {"plain": blue, "marked": version}
    assert outcome.check("answered-by-green").status == "PASS"
    assert version_at(twin.prod_url) == version
    revision_arn = twin.client("ecs").describe_service_deployments(serviceDeploymentArns=[outcome.deployment_id])[
        "serviceDeployments"
    ][0]["targetServiceRevision"]["arn"]
    revision = twin.client("ecs").describe_service_revisions(serviceRevisionArns=[revision_arn])["serviceRevisions"][0]
    alias = revision["serviceConnectConfiguration"]["services"][0]["clientAliases"][0]
    assert alias["testTrafficRules"] == {"header": {"name": name, "value": {"exact": value}}}


def test_service_connect_wrong_version_rolled_back(sc_twin: Twin, version: str) -> None:
    twin = sc_twin
    blue = twin.live_version
    # WHEN a green that claims blue's version is deployed
    outcome = twin.deploy(SPEC, version=version, env={"FAULT_WRONG_VERSION": blue})

    # THEN identity, probing through the header, catches it, and production stays on blue
    assert outcome.rolled_back and not outcome.promoted, outcome.summary()
    assert outcome.check("answered-by-green").status == "FAIL"
    assert version_at(twin.prod_url) == blue
