"""The errors raised while running functions locally: one base class, one subclass per thing that went wrong."""

from __future__ import annotations

__all__ = [
    "FunctionError",
    "HandlerImportError",
    "LambdaInvokeError",
    "LambdaStartError",
    "LambdaTwinError",
    "PortInUseError",
    "RieNotFoundError",
    "TemplateError",
]


class LambdaTwinError(Exception):
    """Base of every error raised while running functions locally."""


class RieNotFoundError(LambdaTwinError):
    """The Runtime Interface Emulator binary could not be found nor fetched."""


class TemplateError(LambdaTwinError):
    """The template cannot be read as a SAM template at all."""


class PortInUseError(LambdaTwinError):
    """The emulator could not listen on its port because something else holds it."""


class LambdaStartError(LambdaTwinError):
    """The emulator died or never listened while starting."""


class HandlerImportError(LambdaTwinError):
    """The function's handler cannot be imported (missing module, missing function, syntax error)."""


class LambdaInvokeError(LambdaTwinError):
    """The emulator could not carry out an invocation (not running, died, no answer in time)."""


class FunctionError(LambdaTwinError):
    """The function raised or timed out (from `InvocationResult.raise_for_error`)."""
