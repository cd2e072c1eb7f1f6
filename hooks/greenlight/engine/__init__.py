"""The check engine: knows checks, budgets and verdicts, and nothing about deployment controllers.

`run` (the entry point: one round of a run, resumable), `runner` (runs checks side by side), `policy` (the pure
verdict rules), `model` (results and check states), `deadline` and `clock` (time, injectable), `check` (what a
check is).
"""
