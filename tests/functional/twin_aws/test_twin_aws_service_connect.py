"""Discovery of an ECS Service Connect revision: the client alias and its test traffic header rule.

Shapes from the botocore ecs model: ServiceConnectConfiguration.services[].clientAliases[] with
testTrafficRules.header (name, value.exact) (ServiceConnectTestTrafficRules,
ServiceConnectTestTrafficHeaderRules, ServiceConnectTestTrafficHeaderMatchRules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from greenlight.discovery import ecs as ecs_discovery
from greenlight_twin import aws as twin_aws


class _Clients:
    def __init__(self, session: Any) -> None:
        self.session = session

    def client(self, service: str) -> Any:
        return self.session.client(service)


def _service_connect(alias: dict[str, Any]) -> dict[str, Any]:
    return {
        "enabled": True,
        "namespace": "shop.local",
        "services": [{"portName": "web", "discoveryName": "orders", "clientAliases": [alias]}],
    }


def _discover(aws_session: Any, name: str, service_connect: dict[str, Any]) -> Any:
    world = twin_aws.seed_bluegreen(aws_session, name=name, controller="ECS", deployment=False)
    green = twin_aws.register_service_revision(
        world.service_arn, load_balancers=[], resolved_load_balancers=[], service_connect_configuration=service_connect
    )
    assert world.blue_revision_arn
    deployment = twin_aws.start_service_deployment(
        world.service_arn, target_revision=green, source_revisions=[world.blue_revision_arn]
    )
    return ecs_discovery.EcsDiscovery(
        service_deployment_arn=deployment,
        service_arn=world.service_arn,
        target_revision_arn=green,
        aws=_Clients(aws_session),
    ).discover(require=("test", "prod"))


def test_service_connect_header_rule_and_alias_are_discovered(
    aws_session: Any, unique_name: Callable[[str], str]
) -> None:
    # GIVEN a green revision whose client alias routes test traffic by x-canary: yes
    rule = {"header": {"name": "x-canary", "value": {"exact": "yes"}}}
    found = _discover(
        aws_session,
        unique_name("scd"),
        _service_connect({"port": 8080, "dnsName": "orders.internal", "testTrafficRules": rule}),
    )

    # THEN probes of the test listener send the header, to the alias (no load balancer)
    assert found.test_headers == {"x-canary": "yes"}
    assert found.test_url == found.prod_url == "http://orders.internal:8080"
    assert found.load_balancer_arn is None


def test_service_connect_alias_without_dns_name_is_discovery_name_in_namespace(
    aws_session: Any, unique_name: Callable[[str], str]
) -> None:
    found = _discover(aws_session, unique_name("scn"), _service_connect({"port": 80}))
    assert found.test_url == "http://orders.shop.local"
    assert found.test_headers == {}
