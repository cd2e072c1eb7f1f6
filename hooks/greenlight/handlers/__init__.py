"""Lambda entry points: parse the event and environment, run the validation, hand the outcome to reporting."""
