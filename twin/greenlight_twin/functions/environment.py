"""The environment a function runs with: built from scratch, as Lambda builds it, never inherited from the host."""

from __future__ import annotations

import os
from collections.abc import Mapping

from greenlight_twin.functions.template import FunctionConfig

__all__ = ["FAKE_CREDENTIALS", "lambda_environment"]

# Credentials moto accepts; nothing here can reach a real account with them.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def lambda_environment(
    config: FunctionConfig,
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    env_overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment a function's emulator runs with (the emulator forwards all of it).

    Built from scratch rather than inherited, as in Lambda: the host's variables (proxies, profiles,
    real credentials) never reach the function. Order: base, the template's variables, the variables
    Lambda itself sets (a template cannot override those in Lambda either), then `env_overrides`.
    """
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(config.code_dir),
    }
    env.update({str(k): str(v) for k, v in config.environment.items()})
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(config.timeout)),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(int(config.memory)),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]twin",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            **FAKE_CREDENTIALS,
            # No shared config/credentials files and no instance metadata: nothing outside the twin.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": str(config.code_dir),
            # Lambda ships each line to CloudWatch as it is written; buffered output would reach the
            # log file only when the runtime exits (or never, when it is killed on a timeout).
            "PYTHONUNBUFFERED": "1",
        }
    )
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    env.update({str(k): str(v) for k, v in (env_overrides or {}).items()})
    return env
