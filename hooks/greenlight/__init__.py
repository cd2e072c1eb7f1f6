"""greenlight: decide whether the green side of an ECS blue/green deployment may take traffic."""

__version__ = "0.2.0"
USER_AGENT = f"greenlight/{__version__}"

__all__ = ["USER_AGENT", "__version__"]
