"""Network probes: the bounded HTTP client every HTTP-based check uses, and secret masking."""
