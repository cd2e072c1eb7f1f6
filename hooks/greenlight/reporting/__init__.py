"""Reporting: one module per deployment controller, the only code that tells a controller the outcome."""
