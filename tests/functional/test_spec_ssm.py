"""A spec kept in SSM Parameter Store (`ssm:/name`), read through Powertools Parameters.

SSM is the twin's moto server, in server mode on 127.0.0.1 (the session's, from tests/functional/conftest.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from greenlight.spec import SpecError, SpecSourceError, load

SPEC = {"version": 1, "hooks": {"AfterAllowTestTraffic": [{"name": "health", "http": {"path": "/health"}}]}}


@pytest.fixture
def ssm(aws_env: Any) -> Any:
    """An SSM client of the emptied moto server (this process's boto3 points there too)."""
    return aws_env.session().client("ssm")


def test_spec_ssm_with_injected_client(ssm: Any) -> None:
    # GIVEN a spec stored as a String parameter
    ssm.put_parameter(Name="/greenlight/spec", Value=json.dumps(SPEC), Type="String")
    # WHEN it is loaded with an SSM client
    spec = load("ssm:/greenlight/spec", ssm_client=ssm, env={})
    # THEN the spec is the parameter's, and its source says where it came from
    assert spec.source == "ssm:/greenlight/spec"
    assert [c.name for c in spec.checks_for("AfterAllowTestTraffic")] == ["health"]


def test_spec_ssm_named_by_environment_with_default_client(ssm: Any) -> None:
    # GIVEN a spec stored as a SecureString, named by GREENLIGHT_SPEC
    ssm.put_parameter(Name="/greenlight/secure-spec", Value=json.dumps(SPEC), Type="SecureString")
    # WHEN it is loaded with no location and no client (Powertools' default provider)
    spec = load(env={"GREENLIGHT_SPEC": "ssm:/greenlight/secure-spec"})
    # THEN the value was decrypted and parsed
    assert spec.source == "ssm:/greenlight/secure-spec"
    assert spec.checks_for("AfterAllowTestTraffic")[0].body["path"] == "/health"


def test_spec_ssm_yaml_with_variables(ssm: Any) -> None:
    # GIVEN a YAML spec in SSM that uses an environment variable
    text = 'version: 1\nhooks:\n  AfterInstall:\n    - {name: h, http: {path: "/${HEALTH_PATH}"}}\n'
    ssm.put_parameter(Name="/greenlight/yaml-spec", Value=text, Type="String")
    # WHEN it is loaded with that variable set
    spec = load("ssm:/greenlight/yaml-spec", ssm_client=ssm, env={"HEALTH_PATH": "ready"})
    # THEN the variable was expanded as for a file
    assert spec.checks_for("AfterInstall")[0].body["path"] == "/ready"


def test_spec_ssm_missing_parameter(ssm: Any) -> None:
    # GIVEN no such parameter
    # WHEN it is loaded
    with pytest.raises(SpecSourceError) as caught:
        load("ssm:/greenlight/absent", ssm_client=ssm, env={})
    # THEN the error names the parameter and what SSM said
    message = str(caught.value)
    assert message.startswith("cannot read spec from SSM parameter /greenlight/absent: ")
    assert "ParameterNotFound" in message


def test_spec_ssm_without_a_name() -> None:
    # GIVEN a location that names no parameter
    # WHEN it is loaded
    with pytest.raises(SpecSourceError) as caught:
        load("ssm:", env={})
    # THEN the error says so
    assert str(caught.value) == "GREENLIGHT_SPEC 'ssm:' names no SSM parameter"


def test_spec_ssm_invalid_spec_names_the_parameter(ssm: Any) -> None:
    # GIVEN an invalid spec in SSM
    ssm.put_parameter(Name="/greenlight/bad-spec", Value='{"version": 1, "hooks": {"AfterInstal": []}}', Type="String")
    # WHEN it is loaded
    with pytest.raises(SpecError) as caught:
        load("ssm:/greenlight/bad-spec", ssm_client=ssm, env={})
    # THEN the problems come with the parameter as their source
    assert caught.value.source == "ssm:/greenlight/bad-spec"
    assert [str(p) for p in caught.value.problems] == [
        "hooks.AfterInstal: unknown field (did you mean 'AfterInstall'?)"
    ]
