"""Runs Lambda functions on this machine as Lambda runs them: each in its own Runtime Interface Emulator process.

The Lambda Runtime Interface Emulator (RIE) is the Go program AWS ships to run a function outside Lambda:
it serves the Runtime API to a bootstrap (here `python -m awslambdaric <module.function>`) and turns an
HTTP POST on `/2015-03-31/functions/function/invocations` into one invocation. It is a static Linux
binary that ships inside the aws-sam-cli wheel, so no Docker is needed.

What the emulator does, as observed with the build in aws-sam-cli 1.170.0:

- Command line: `aws-lambda-rie [--log-level L] [--runtime-interface-emulator-address H:P]
  [--runtime-api-address H:P] BOOTSTRAP ARGS... HANDLER` (no `--help`: unknown words are taken as the
  bootstrap). The invoke address defaults to 0.0.0.0:8080 and the Runtime API to 127.0.0.1:9001, so
  both are always given here. A port that is taken makes it exit at once with code 2 and
  `[PANIC] ... bind: address already in use` in its output.
- The function starts lazily: the bootstrap runs on the first invocation, not when the emulator starts.
- It reads `AWS_LAMBDA_FUNCTION_TIMEOUT` (whole seconds, default 300) from its own environment at each
  invocation, and forwards its whole environment to the function.
- A handler that raises: HTTP 200 whose body is the error document
  `{"errorMessage", "errorType", "requestId", "stackTrace"}` (no `X-Amz-Function-Error` header).
- A handler that cannot be imported (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, ...):
  HTTP 502 with the same document shape and an empty requestId; every later invocation retries the init.
- A timeout: HTTP 200, plain-text body `Task timed out after N.00 seconds`; the runtime is killed and the
  next invocation starts it again (a cold start), as Lambda does.
- On SIGTERM it SIGKILLs the runtime and exits. The runtime runs in its own process group inside the
  emulator's session, so stopping here signals the whole session.

Linux only (the emulator is a Linux binary).

Modules, one job each: `rie` finds (or fetches) the emulator; `template` reads a SAM template's
functions; `environment` builds what a function's process sees; `process` is one function in one
emulator; `invocation` decodes what an invocation came to; `runtime` starts and stops several.
"""

from __future__ import annotations

from greenlight_twin.functions.environment import FAKE_CREDENTIALS, lambda_environment
from greenlight_twin.functions.errors import (
    FunctionError,
    HandlerImportError,
    LambdaInvokeError,
    LambdaStartError,
    LambdaTwinError,
    PortInUseError,
    RieNotFoundError,
    TemplateError,
)
from greenlight_twin.functions.invocation import InvocationResult
from greenlight_twin.functions.process import INVOKE_PATH, INVOKE_WAIT_MARGIN, LambdaProcess
from greenlight_twin.functions.rie import RIE_ENV, cache_dir, fetch_rie, find_rie, rie_arch
from greenlight_twin.functions.runtime import LambdaFleet, LambdaRuntime
from greenlight_twin.functions.template import DEFAULT_MEMORY, DEFAULT_TIMEOUT, FunctionConfig, functions_from_template

__all__ = [
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "FAKE_CREDENTIALS",
    "INVOKE_PATH",
    "INVOKE_WAIT_MARGIN",
    "RIE_ENV",
    "FunctionConfig",
    "FunctionError",
    "HandlerImportError",
    "InvocationResult",
    "LambdaFleet",
    "LambdaInvokeError",
    "LambdaProcess",
    "LambdaRuntime",
    "LambdaStartError",
    "LambdaTwinError",
    "PortInUseError",
    "RieNotFoundError",
    "TemplateError",
    "cache_dir",
    "fetch_rie",
    "find_rie",
    "functions_from_template",
    "lambda_environment",
    "rie_arch",
]
