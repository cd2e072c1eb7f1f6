"""Functions run through the real Lambda Runtime Interface Emulator, and SAM templates read into them."""

from __future__ import annotations

import shutil
import socket
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from greenlight_twin.functions import (
    FunctionConfig,
    FunctionError,
    HandlerImportError,
    LambdaFleet,
    LambdaRuntime,
    LambdaStartError,
    PortInUseError,
    RieNotFoundError,
    TemplateError,
    find_rie,
    functions_from_template,
    rie_arch,
)
from greenlight_twin.functions import process as process_module
from greenlight_twin.processes import process_is_running

MakeConfig = Callable[..., FunctionConfig]
# The same folder and module the conftest's make_config points at.
CODE_DIR = Path(__file__).parent / "lambda_code"
HANDLERS = "twin_test_handlers"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
  HookTimeout: {Type: Number, Default: 4}
  Controller: {Type: String, Default: CODE_DEPLOY, AllowedValues: [CODE_DEPLOY, ECS]}
  Subnets: {Type: CommaDelimitedList, Default: ""}
Conditions:
  UseCodeDeploy: !Equals [!Ref Controller, CODE_DEPLOY]
  UseEcs: !Not [!Condition UseCodeDeploy]
  HasSubnets: !Not [!Equals [!Join ["", !Ref Subnets], ""]]
  QueueIsSpecial: !Equals [!GetAtt Queue.Arn, "special"]
Globals:
  Function:
    CodeUri: code/
    Runtime: python3.13
    Timeout: !Ref HookTimeout
    MemorySize: 256
    Environment:
      Variables:
        STAGE: !Ref Stage
        SERVICE: greenlight
        WHERE: !Sub "${AWS::Region}/${AWS::AccountId}"
Resources:
  Queue:
    Type: AWS::SQS::Queue
  AfterInstallHook:
    Type: AWS::Serverless::Function
    Condition: UseCodeDeploy
    Properties:
      FunctionName: !Sub CodeDeployHook_${AWS::StackName}-AfterInstall
      Handler: HANDLERS.environment
      MemorySize: 512
      Environment:
        Variables:
          GREENLIGHT_HOOK: AfterInstall
          SERVICE: overridden
          STACK_STAGE: !Sub "${AWS::StackName}-${Stage}"
          SUBNET_MODE: !If [HasSubnets, vpc, public]
          OPTIONAL: !If [HasSubnets, set, !Ref AWS::NoValue]
          QUEUE_ARN: !GetAtt Queue.Arn
          SPECIAL: !If [QueueIsSpecial, "yes", "no"]
  EcsHook:
    Type: AWS::Serverless::Function
    Condition: UseEcs
    Properties:
      Handler: HANDLERS.echo
      Timeout: 7
""".replace("HANDLERS", HANDLERS)


@pytest.fixture
def template_path(tmp_path: Path) -> Path:
    """A SAM template shaped like greenlight's, with its CodeUri holding the test handlers."""
    code = tmp_path / "code"
    code.mkdir()
    shutil.copy(CODE_DIR / f"{HANDLERS}.py", code / f"{HANDLERS}.py")
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


# --------------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------------
def test_functions_from_template_resolves_globals_sub_and_ref(template_path: Path) -> None:
    # GIVEN a template with Globals, !Sub names, !Ref parameters and conditions, at its defaults
    # WHEN its functions are read for stack "blue" in eu-west-1
    functions = functions_from_template(template_path, stack_name="blue", region="eu-west-1")

    # THEN only the CodeDeploy function exists (UseEcs is false), with Globals merged under its own values
    assert [f.logical_id for f in functions] == ["AfterInstallHook"]
    (hook,) = functions
    assert hook.function_name == "CodeDeployHook_blue-AfterInstall"
    assert hook.handler == f"{HANDLERS}.environment"
    assert hook.code_dir == (template_path.parent / "code").resolve()
    assert hook.code_dir.is_absolute()
    assert (hook.runtime, hook.timeout, hook.memory) == ("python3.13", 4, 512)
    assert hook.environment == {
        "STAGE": "dev",
        "SERVICE": "overridden",
        "WHERE": "eu-west-1/123456789012",
        "GREENLIGHT_HOOK": "AfterInstall",
        "STACK_STAGE": "blue-dev",
        "SUBNET_MODE": "public",
    }
    # AND what needs a deployed stack is left out with a note naming where and why
    assert any("Variables.QUEUE_ARN" in note and "GetAtt Queue.Arn" in note for note in hook.notes)
    assert any("Variables.SPECIAL" in note and "unsupported" in note for note in hook.notes)
    assert len(hook.notes) == 2


def test_functions_from_template_applies_parameters_and_resources(template_path: Path) -> None:
    # GIVEN parameter values and a known physical value for the queue
    params = {"Controller": "CODE_DEPLOY", "Subnets": "subnet-1,subnet-2", "HookTimeout": 9, "Stage": "prod"}
    resources = {"Queue.Arn": "special"}

    # WHEN the template is read with them
    (hook,) = functions_from_template(template_path, stack_name="g", parameters=params, resources=resources)

    # THEN the parameters and the resource value flow into conditions, !If, !Sub and the timeout
    assert hook.timeout == 9
    assert hook.environment["STACK_STAGE"] == "g-prod"
    assert hook.environment["SUBNET_MODE"] == "vpc"
    assert hook.environment["OPTIONAL"] == "set"
    assert hook.environment["QUEUE_ARN"] == "special"
    assert hook.environment["SPECIAL"] == "yes"
    assert hook.notes == ()


def test_functions_from_template_ecs_controller_uses_default_name_and_own_timeout(template_path: Path) -> None:
    # GIVEN the ECS controller chosen
    # WHEN the template is read
    functions = functions_from_template(template_path, stack_name="blue", parameters={"Controller": "ECS"})

    # THEN only the ECS hook exists, named after the stack (no FunctionName), with its own Timeout
    assert [(f.logical_id, f.function_name, f.timeout, f.memory) for f in functions] == [
        ("EcsHook", "blue-EcsHook", 7, 256)
    ]


def test_functions_from_template_code_dir_replaces_every_code_uri(template_path: Path, tmp_path: Path) -> None:
    # GIVEN a folder other than the template's CodeUri
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # WHEN the template is read with it as the code folder, for both controllers
    functions = [
        *functions_from_template(template_path, code_dir=elsewhere),
        *functions_from_template(template_path, code_dir=elsewhere, parameters={"Controller": "ECS"}),
    ]

    # THEN every function's code comes from it, whatever its CodeUri says
    assert [f.logical_id for f in functions] == ["AfterInstallHook", "EcsHook"]
    assert {f.code_dir for f in functions} == {elsewhere.resolve()}


def test_functions_from_template_bad_input_names_what_and_where(template_path: Path, tmp_path: Path) -> None:
    # GIVEN a parameter value the template does not allow, and a template that does not exist
    # WHEN / THEN each is refused, naming the parameter or the file
    with pytest.raises(TemplateError, match=r"template.yaml: parameter Controller='LAMBDA' is not one of"):
        functions_from_template(template_path, parameters={"Controller": "LAMBDA"})
    with pytest.raises(TemplateError, match=r"missing.yaml: cannot be read as a template"):
        functions_from_template(tmp_path / "missing.yaml")


def test_functions_from_template_malformed_value_is_left_out_with_note(tmp_path: Path) -> None:
    # GIVEN a function whose environment holds one malformed intrinsic among good values
    (tmp_path / "template.yaml").write_text(
        textwrap.dedent("""\
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: .
                  Handler: app.handler
                  Environment:
                    Variables:
                      GOOD: !Join ["-", [a, b]]
                      BAD: !Select [first, [a, b]]
            """)
    )

    # WHEN the template is read
    (config,) = functions_from_template(tmp_path / "template.yaml")

    # THEN the good value is there, the bad one is left out with a note, and Lambda's defaults apply
    assert config.environment == {"GOOD": "a-b"}
    assert len(config.notes) == 1 and "Variables.BAD: malformed Fn::Select" in config.notes[0]
    assert (config.function_name, config.timeout, config.memory) == ("greenlight-Fn", 3, 128)


# --------------------------------------------------------------------------------------------------
# Finding the emulator
# --------------------------------------------------------------------------------------------------
def test_find_rie_env_pointing_nowhere_names_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN GREENLIGHT_RIE set to a file that does not exist
    missing = tmp_path / "no-rie"
    monkeypatch.setenv("GREENLIGHT_RIE", str(missing))

    # WHEN / THEN finding the emulator fails naming the variable and the path
    with pytest.raises(RieNotFoundError, match=r"GREENLIGHT_RIE=.*no-rie: does not exist"):
        find_rie()


def test_find_rie_without_fetch_lists_what_it_tried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN two folders without a .venv-sam, an empty cache, and no override
    monkeypatch.delenv("GREENLIGHT_RIE", raising=False)
    here, beside = tmp_path / "project", tmp_path / "elsewhere"
    here.mkdir()
    beside.mkdir()

    # WHEN / THEN the error lists each .venv-sam and the cache it looked at
    with pytest.raises(RieNotFoundError) as caught:
        find_rie(places=[here, beside], cache=tmp_path / "cache", fetch=False)
    for place in (here, beside):
        assert f"{place.resolve()}/.venv-sam/lib/python*/site-packages/samcli/local/rapid/" in str(caught.value)
    assert f"{tmp_path / 'cache'}/aws-lambda-rie-" in str(caught.value)


def test_find_rie_takes_venv_sam_of_the_current_folder_then_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Stand-in binaries (executable files): finding one is all this test asks of them."""
    # GIVEN a .venv-sam in the current folder and a cached binary, no override
    monkeypatch.delenv("GREENLIGHT_RIE", raising=False)
    arch = rie_arch()
    project = tmp_path / "project"
    in_venv = project / ".venv-sam" / "lib" / "python3.13" / "site-packages" / "samcli" / "local" / "rapid"
    in_venv.mkdir(parents=True)
    (in_venv / f"aws-lambda-rie-{arch}").write_text("#!/bin/sh\n")
    (in_venv / f"aws-lambda-rie-{arch}").chmod(0o755)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f"aws-lambda-rie-{arch}").write_text("#!/bin/sh\n")
    (cache / f"aws-lambda-rie-{arch}").chmod(0o755)
    monkeypatch.chdir(project)

    # WHEN the emulator is looked for from there (the default places), and again once the .venv-sam is gone
    found = find_rie(cache=cache, fetch=False)
    shutil.rmtree(project / ".venv-sam")
    then = find_rie(places=[project], cache=cache, fetch=False)

    # THEN the .venv-sam's binary wins, and the cache serves when there is none
    assert found == in_venv / f"aws-lambda-rie-{arch}"
    assert then == cache / f"aws-lambda-rie-{arch}"


# --------------------------------------------------------------------------------------------------
# Invocations through the emulator
# --------------------------------------------------------------------------------------------------
def test_invoke_echo_returns_event_and_remaining_time(lambda_runtime: LambdaRuntime, make_config: MakeConfig) -> None:
    # GIVEN a function with a 5 s timeout
    process = lambda_runtime.start(make_config("echo", timeout=5, memory=256))
    event = {"DeploymentId": "d-ABC", "LifecycleEventHookExecutionId": "exec-1", "nested": [1, {"a": None}]}

    # WHEN it is invoked
    result = process.invoke(event)

    # THEN the event comes back whole, with the time left out of the 5 s and the function's identity
    assert result.ok and not result.timed_out and result.error_type is None
    assert result.payload["event"] == event
    assert 0 < result.payload["remaining_ms"] <= 5000
    assert result.payload["function_name"] == "twin-test-echo"
    assert str(result.payload["memory_limit_in_mb"]) == "256"
    assert result.payload["aws_request_id"] == result.request_id
    assert result.payload["invoked_function_arn"].endswith(":function:twin-test-echo")
    assert result.duration_ms > 0
    print(f"echo cold invocation: {result.duration_ms:.1f} ms")


def test_invoke_handler_exception_returns_error_type_and_message(
    lambda_runtime: LambdaRuntime, make_config: MakeConfig
) -> None:
    # GIVEN a handler that raises ValueError
    process = lambda_runtime.start(make_config("fail"))

    # WHEN it is invoked
    result = process.invoke({"message": "green answered 503"})

    # THEN the error type and message come back, as Lambda's error document
    assert not result.ok and not result.timed_out and not result.init_error
    assert result.error_type == "ValueError"
    assert result.error_message == "green answered 503"
    assert result.payload["errorType"] == "ValueError"
    assert any("twin_test_handlers.py" in line for line in result.stack_trace)
    with pytest.raises(FunctionError, match="twin-test-fail: ValueError: green answered 503"):
        result.raise_for_error()
    # AND the traceback is in the function's log
    assert "ValueError" in process.log_path.read_text()


def test_invoke_past_timeout_reports_timed_out_then_cold_starts(
    lambda_runtime: LambdaRuntime, make_config: MakeConfig
) -> None:
    # GIVEN a function with a 2 s timeout
    process = lambda_runtime.start(make_config("sleep", timeout=2))

    # WHEN it sleeps for 5 s
    result = process.invoke({"seconds": 5})

    # THEN the invocation is reported as timed out after 2 s
    assert result.timed_out and not result.ok
    assert result.error_type == "Sandbox.Timedout"
    assert result.error_message == "Task timed out after 2.00 seconds"
    with pytest.raises(FunctionError, match="timed out"):
        result.raise_for_error()
    # AND the next invocation runs in a fresh runtime
    again = process.invoke({"seconds": 0})
    assert again.ok and again.payload == {"slept": 0}
    print(f"timed-out invocation: {result.duration_ms:.0f} ms; next (cold) one: {again.duration_ms:.0f} ms")


def test_invoke_template_environment_reaches_function(
    lambda_runtime: LambdaRuntime, template_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the template's function started with the twin's endpoint and one override
    monkeypatch.setenv("GREENLIGHT_HOST_ONLY", "must not leak")
    (config,) = functions_from_template(template_path, stack_name="blue")
    process = lambda_runtime.start(config, endpoint_url=moto_endpoint, env_overrides={"EXTRA": "1"})
    names = [
        *config.environment, "EXTRA", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_TIMEOUT",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID", "PYTHONPATH", "GREENLIGHT_HOST_ONLY",
    ]  # fmt: skip

    # WHEN it reports its environment
    seen = process.invoke({"names": names}).raise_for_error().payload

    # THEN the template's variables, Lambda's own and the override are there, and the host's are not
    assert {name: seen[name] for name in config.environment} == dict(config.environment)
    assert seen["SERVICE"] == "overridden" and seen["STACK_STAGE"] == "blue-dev"
    assert seen["EXTRA"] == "1"
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == "CodeDeployHook_blue-AfterInstall"
    assert (seen["AWS_LAMBDA_FUNCTION_TIMEOUT"], seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]) == ("4", "512")
    assert seen["AWS_REGION"] == seen["AWS_DEFAULT_REGION"] == "us-east-1"
    assert seen["AWS_ENDPOINT_URL"] == moto_endpoint
    assert seen["AWS_ACCESS_KEY_ID"] == "testing"
    assert seen["PYTHONPATH"] == str(config.code_dir)
    assert seen["GREENLIGHT_HOST_ONLY"] is None


def test_invoke_function_reaches_moto_through_endpoint(
    lambda_runtime: LambdaRuntime, make_config: MakeConfig, moto_endpoint: str
) -> None:
    # GIVEN an SSM parameter in the twin's moto server
    import boto3

    ssm = boto3.client(
        "ssm",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ssm.put_parameter(Name="/greenlight/twin-test", Value="from-moto", Type="String", Overwrite=True)
    process = lambda_runtime.start(make_config("ssm_parameter", timeout=20), endpoint_url=moto_endpoint)

    # WHEN the function reads it with plain boto3 (no endpoint, region or credentials in its code)
    result = process.invoke({"name": "/greenlight/twin-test"})

    # THEN it got the value from moto
    assert result.raise_for_error().payload == "from-moto"


# --------------------------------------------------------------------------------------------------
# Errors and cleanup
# --------------------------------------------------------------------------------------------------
def test_start_handler_module_missing_raises_handler_import_error(
    lambda_runtime: LambdaRuntime, make_config: MakeConfig
) -> None:
    # GIVEN a handler whose module is not in the code folder
    config = make_config("no_such_module.handler")

    # WHEN / THEN starting fails before any process runs, naming the file looked for
    with pytest.raises(HandlerImportError, match=r"'no_such_module.handler': no no_such_module\.py"):
        lambda_runtime.start(config)
    assert lambda_runtime.processes == []


def test_invoke_handler_not_importable_reports_init_error(
    lambda_runtime: LambdaRuntime, make_config: MakeConfig
) -> None:
    # GIVEN a missing function in an existing module, and a missing module with the start check off
    missing_function = lambda_runtime.start(make_config(f"{HANDLERS}.no_such_function"))
    missing_module = lambda_runtime.start(make_config("no_such_module.handler"), check_handler=False)

    # WHEN each is invoked
    no_function = missing_function.invoke({})
    no_module = missing_module.invoke({})

    # THEN Lambda's init errors come back, and raise_for_error names them as import errors
    assert no_function.init_error and no_function.error_type == "Runtime.HandlerNotFound"
    assert no_module.init_error and no_module.error_type == "Runtime.ImportModuleError"
    assert "No module named 'no_such_module'" in (no_module.error_message or "")
    with pytest.raises(HandlerImportError, match="no_such_function"):
        no_function.raise_for_error()


def test_start_port_in_use_raises_port_in_use_error(lambda_runtime: LambdaRuntime, make_config: MakeConfig) -> None:
    # GIVEN a port already listening on 127.0.0.1
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        # WHEN / THEN starting a function on it fails naming the port
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port} is already in use"):
            lambda_runtime.start(make_config("echo"), port=port)


def test_start_emulator_bind_failure_raises_port_in_use_error(
    lambda_runtime: LambdaRuntime, make_config: MakeConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real emulator meets a taken port: the free-port check is patched to say yes, as it would
    when another process grabs the port between the check and the emulator's bind."""
    # GIVEN a taken port that the pre-start check does not see
    monkeypatch.setattr(process_module, "port_is_free", lambda port: True)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        # WHEN / THEN the emulator's own bind failure is reported as the port being in use
        with pytest.raises(PortInUseError, match="address already in use"):
            lambda_runtime.start(make_config("echo"), port=port)
    assert all(not process_is_running(p.pid or 0) for p in lambda_runtime.processes)


def test_start_emulator_dies_shows_log_tail(tmp_path: Path, make_config: MakeConfig) -> None:
    """A stand-in script plays an emulator that dies at start: the real one only does so on a taken port."""
    # GIVEN an "emulator" that prints a reason and exits 3
    fake = tmp_path / "fake-rie"
    fake.write_text(
        textwrap.dedent("""\
        #!/bin/sh
        echo "fatal: cannot start the sandbox"
        exit 3
        """)
    )
    fake.chmod(0o755)

    # WHEN / THEN starting fails with the exit code and the log's last lines
    with (
        LambdaRuntime(rie=fake, log_dir=tmp_path / "logs") as runtime,
        pytest.raises(LambdaStartError, match=r"(?s)exited with code 3.*fatal: cannot start the sandbox"),
    ):
        runtime.start(make_config("echo"))


def test_stop_leaves_no_process(lambda_runtime: LambdaRuntime, make_config: MakeConfig) -> None:
    # GIVEN a started and invoked function (so the runtime process exists too)
    process = lambda_runtime.start(make_config("echo"))
    runtime_pid = process.invoke({}).raise_for_error().payload["pid"]
    emulator_pid = process.pid
    assert emulator_pid is not None
    assert {emulator_pid, runtime_pid} <= set(process.pids())

    # WHEN it is stopped
    process.stop()

    # THEN neither the emulator nor the function's runtime is left
    assert not process_is_running(emulator_pid)
    assert not process_is_running(runtime_pid)
    assert process.pids() == []
    assert not process.running


def test_fleet_start_failure_stops_the_started_ones(lambda_runtime: LambdaRuntime, make_config: MakeConfig) -> None:
    # GIVEN three functions, the last with a handler that does not exist
    configs = [
        make_config("echo", name="fleet-a"),
        make_config("sleep", name="fleet-b"),
        make_config("no_such_module.handler", name="fleet-c"),
    ]

    # WHEN the fleet starts
    with pytest.raises(HandlerImportError, match="fleet-c"):
        LambdaFleet(configs, runtime=lambda_runtime).start()

    # THEN the two that had started are stopped
    started = lambda_runtime.processes
    assert [p.name for p in started] == ["fleet-a", "fleet-b"]
    assert all(p.pid is not None and not process_is_running(p.pid) for p in started)


def test_fleet_invokes_by_logical_id_or_name_and_stops_all(
    lambda_runtime: LambdaRuntime, make_config: MakeConfig
) -> None:
    # GIVEN a fleet of two functions with a per-function variable
    configs = [make_config("echo", name="fleet-echo"), make_config("environment", name="fleet-env")]
    fleet = LambdaFleet(configs, runtime=lambda_runtime, env_by_function={"fleet-env": {"ONLY_ME": "yes"}})

    # WHEN both are invoked, one by logical id and one by function name
    with fleet:
        echoed = fleet.invoke("EchoFunction", {"n": 1}).raise_for_error().payload
        env = fleet.invoke("fleet-env", {"names": ["ONLY_ME"]}).raise_for_error().payload
        processes = list(fleet)

    # THEN each answered, and leaving the block stopped both
    assert echoed["event"] == {"n": 1} and env == {"ONLY_ME": "yes"}
    assert len(processes) == 2 and all(not p.running for p in processes)
