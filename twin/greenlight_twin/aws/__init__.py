"""AWS for the local twin and the functional tests: moto in server mode on 127.0.0.1, extended for greenlight.

moto 5 lacks what a blue/green validation reads and writes: CodeDeploy deployment targets and
PutLifecycleEventHookExecutionStatus, target health other than healthy, Fargate task sets, ECS
service revisions and service deployments. This package adds them to moto (monkeypatches applied by
`install()`, which `start()` calls), gives tests backdoors to set what only a live deployment would
produce (task set weights, hook executions, target health), injects faults into any API call
(`deny`, `throttle`, `delay`), and seeds a whole blue/green deployment in progress (`seed_bluegreen`).

    with start() as server:
        world = seed_bluegreen(session(server.endpoint_url))
        ...
"""

from __future__ import annotations

from greenlight_twin.aws._util import UnknownResourceError
from greenlight_twin.aws.codedeploy import (
    ECS_HOOK_EVENTS,
    ECS_LIFECYCLE_EVENTS,
    EcsTaskSet,
    HookExecution,
    forget_deployment,
    hook_execution,
    hook_executions,
    open_hook_execution,
    reported_status,
    set_deployment_status,
    set_ecs_target,
    set_lifecycle_event,
    stop_requested,
    update_ecs_task_set,
)
from greenlight_twin.aws.ecs import (
    RevisionSummary,
    expire_hook,
    hook_action,
    pause_at_hook,
    register_service_revision,
    set_service_counts,
    set_task_set_state,
    start_service_deployment,
    update_service_deployment,
)
from greenlight_twin.aws.elbv2 import (
    clear_target_health,
    set_load_balancer_dns_name,
    set_target_health,
    set_target_health_provider,
)
from greenlight_twin.aws.faults import active_faults, clear_faults, delay, deny, throttle
from greenlight_twin.aws.server import MotoServer, client_env, install, reset, session, start
from greenlight_twin.aws.world import World, seed_bluegreen

__all__ = [
    "ECS_HOOK_EVENTS",
    "ECS_LIFECYCLE_EVENTS",
    "EcsTaskSet",
    "HookExecution",
    "MotoServer",
    "RevisionSummary",
    "UnknownResourceError",
    "World",
    "active_faults",
    "clear_faults",
    "clear_target_health",
    "client_env",
    "delay",
    "deny",
    "forget_deployment",
    "hook_execution",
    "hook_executions",
    "install",
    "open_hook_execution",
    "register_service_revision",
    "reported_status",
    "reset",
    "seed_bluegreen",
    "session",
    "set_deployment_status",
    "set_ecs_target",
    "set_lifecycle_event",
    "set_load_balancer_dns_name",
    "set_target_health",
    "set_service_counts",
    "set_target_health_provider",
    "set_task_set_state",
    "start",
    "start_service_deployment",
    "pause_at_hook",
    "hook_action",
    "expire_hook",
    "stop_requested",
    "throttle",
    "update_ecs_task_set",
    "update_service_deployment",
]
