"""The check engine: knows checks, deadlines and verdicts, and nothing about deployment controllers.

`model` (results), `policy` (the pure verdict rules), `deadline`, `runner` (runs checks side by side).
"""
