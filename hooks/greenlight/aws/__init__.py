"""AWS access for one invocation: bounded clients (`clients`) and the one error vocabulary (`errors`)."""

from greenlight.aws.clients import CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT, AwsClients, client_config

__all__ = ["CONNECT_TIMEOUT", "MAX_ATTEMPTS", "READ_TIMEOUT", "AwsClients", "client_config"]
