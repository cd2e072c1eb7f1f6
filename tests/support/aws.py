"""AWS helpers for tests: forget what Powertools' parameter utility keeps between calls."""

from __future__ import annotations

import contextlib


def drop_parameter_providers() -> None:
    """Clear Powertools' cached parameter values and its default providers (and the clients they hold).

    The default providers keep the boto3 client they were created with, so a provider made while one
    test pointed AWS_ENDPOINT_URL somewhere would keep talking there in the next test.
    """
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters import base

    parameters.clear_caches()
    with contextlib.suppress(AttributeError):
        base.DEFAULT_PROVIDERS.clear()
