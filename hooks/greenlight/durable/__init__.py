"""Validations longer than one Lambda invocation, run by a Lambda durable function.

A hook whose checks need more time than its function can hold hands the validation to the durable
worker (`greenlight.durable.worker`): `start` begins one durable execution per hook execution, under a
name derived from the hook's ids, and the worker runs the engine in rounds, checkpointing the tallies
between them, and reports exactly once. ECS PAUSE hooks are handed over the same way by
`greenlight.durable.pause`, on the hook's EventBridge event.
"""
