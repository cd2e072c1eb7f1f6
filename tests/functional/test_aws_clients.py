"""AwsClients: clients reused across warm invocations, and never across a change of region, endpoint or config.

Every client talks to the twin's moto server (or a recording HTTP server) on 127.0.0.1, so a client that
kept an old endpoint would show in where its request lands, not only in its attributes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from greenlight.aws import AwsClients
from greenlight.aws.clients import clear_shared_clients, settings_key
from support.servers import Reply


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear_shared_clients()
    yield
    clear_shared_clients()


def test_aws_clients_reuse_one_client_across_invocations(aws_env: Any) -> None:
    # GIVEN two invocations in one warm process, each with its own AwsClients
    first, second = AwsClients(), AwsClients()

    # WHEN both ask for the ECS client
    a, b = first.client("ecs"), second.ecs

    # THEN they get the same client, and it works against the endpoint of the environment
    assert a is b
    assert a.meta.endpoint_url == aws_env.endpoint_url
    assert a.list_clusters()["clusterArns"] == []
    # AND each service has a client of its own
    assert first.client("elbv2") is not a


def test_aws_clients_region_gets_its_own_client(aws_env: Any) -> None:
    # GIVEN the default region and an explicit other one
    default, other = AwsClients().client("ecs"), AwsClients(region="eu-south-1").client("ecs")

    # THEN the clients differ and each is in its own region
    assert default is not other
    assert (default.meta.region_name, other.meta.region_name) == ("us-east-1", "eu-south-1")
    assert AwsClients(region="eu-south-1").client("ecs") is other


def test_aws_clients_changed_endpoint_gets_a_new_client(
    aws_env: Any, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a client made while AWS_ENDPOINT_URL pointed at the moto server
    before = AwsClients().client("ecs")
    other = serve(Reply(json={"clusterArns": ["arn:aws:ecs:us-east-1:123456789012:cluster/elsewhere"]}))

    # WHEN the endpoint changes (another test, another twin)
    monkeypatch.setenv("AWS_ENDPOINT_URL", other.url)
    after = AwsClients().client("ecs")

    # THEN a new client is made, and its calls reach the new endpoint only
    assert after is not before
    assert after.list_clusters()["clusterArns"] == ["arn:aws:ecs:us-east-1:123456789012:cluster/elsewhere"]
    assert [r.path for r in other.requests] == ["/"]
    assert before.list_clusters()["clusterArns"] == []  # the old one still talks to moto


def test_aws_clients_service_endpoint_variable_is_part_of_the_key(
    aws_env: Any, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN clients made with only AWS_ENDPOINT_URL set
    ecs_before = AwsClients().client("ecs")

    # WHEN a per-service endpoint is set for ECS (boto3 honours AWS_ENDPOINT_URL_<SERVICE>)
    other = serve(Reply(json={"clusterArns": []}))
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", other.url)
    ecs_after = AwsClients().client("ecs")

    # THEN ECS gets a new client on that endpoint
    assert ecs_after is not ecs_before
    assert ecs_after.meta.endpoint_url == other.url
    ecs_after.list_clusters()
    assert len(other.requests) == 1


def test_aws_clients_credentials_are_part_of_the_key(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a client made with one access key
    before = AwsClients().client("ecs")

    # WHEN the access key changes
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOTHERKEY0000TEST")
    after = AwsClients().client("ecs")

    # THEN the new client signs with the new key, the old one with the old key
    assert after is not before
    assert after._request_signer._credentials.access_key == "AKIAOTHERKEY0000TEST"
    assert before._request_signer._credentials.access_key != "AKIAOTHERKEY0000TEST"


def test_aws_clients_settings_key_holds_no_secret() -> None:
    # GIVEN an environment with a secret key
    env = {"AWS_SECRET_ACCESS_KEY": "very-secret-value", "AWS_REGION": "us-east-1", "HOME": "/root"}

    # WHEN it is turned into a cache key
    key = settings_key(env)

    # THEN the key is a digest that changes with any AWS_* value but not with other variables
    assert "very-secret-value" not in key
    assert key != settings_key({**env, "AWS_SECRET_ACCESS_KEY": "another"})
    assert key == settings_key({**env, "HOME": "/elsewhere"})


def test_aws_clients_config_gets_its_own_client(aws_env: Any) -> None:
    # GIVEN default clients and clients with a shorter read timeout
    default = AwsClients().client("ecs")
    short = AwsClients(read_timeout=1).client("ecs")

    # THEN the config is part of the key, and applied
    assert short is not default
    assert short.meta.config.read_timeout == 1
    assert default.meta.config.read_timeout == 10
    assert AwsClients(read_timeout=1).client("ecs") is short


def test_aws_clients_explicit_session_is_never_shared(aws_env: Any) -> None:
    # GIVEN a caller's own session (tests, the twin)
    session = aws_env.session()

    # WHEN two AwsClients use it, and one uses the defaults
    own_a, own_b = AwsClients(session=session).client("ecs"), AwsClients(session=session).client("ecs")
    shared = AwsClients().client("ecs")

    # THEN the session's clients stay with their AwsClients: nothing leaks into or out of the shared cache
    assert own_a is not own_b
    assert shared is not own_a and shared is not own_b
    assert own_a.list_clusters()["clusterArns"] == []


def test_aws_clients_one_invocation_keeps_its_clients(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an invocation's AwsClients that already made its ECS client
    aws = AwsClients()
    first = aws.client("ecs")

    # WHEN the environment changes mid-invocation
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")

    # THEN that invocation keeps talking to the same client; the next invocation gets a new one
    assert aws.client("ecs") is first
    assert AwsClients().client("ecs") is not first
    assert AwsClients().client("ecs").meta.region_name == "eu-west-1"


def test_aws_clients_threads_share_one_client(aws_env: Any) -> None:
    # GIVEN many threads that ask for the same client at once, each through its own AwsClients
    start = threading.Barrier(8)
    got: list[Any] = []
    lock = threading.Lock()

    def ask() -> None:
        start.wait(timeout=10)
        made = AwsClients().client("cloudwatch")
        with lock:
            got.append(made)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # THEN exactly one client was made, and all of them hold it
    assert len(got) == 8
    assert len({id(c) for c in got}) == 1
    assert got[0].describe_alarms()["MetricAlarms"] == []
