"""CloudWatch, Secrets Manager and SSM on the twin: the calls greenlight's checks and settings make work as is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def test_cloudwatch_metrics_put_and_read_back(client: Callable[..., Any], unique_name: Callable[[str], str]) -> None:
    # GIVEN 5xx counts put for a green target group
    cloudwatch = client("cloudwatch")
    namespace = unique_name("Greenlight/Test")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    dimensions = [{"Name": "TargetGroup", "Value": "targetgroup/green/0123456789abcdef"}]
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dimensions, "Timestamp": now, "Value": v}
            for v in (2.0, 3.0)
        ],
    )
    window = {"StartTime": now - timedelta(minutes=5), "EndTime": now + timedelta(minutes=1)}

    # WHEN they are read with GetMetricStatistics and GetMetricData
    statistics = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=dimensions,
        Period=60,
        Statistics=["Sum"],
        **window,
    )["Datapoints"]
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "errors",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": "HTTPCode_Target_5XX_Count",
                        "Dimensions": dimensions,
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        **window,
    )["MetricDataResults"][0]

    # THEN both see the sum
    assert [p["Sum"] for p in statistics] == [5.0]
    assert (data["Id"], data["Values"], data["StatusCode"]) == ("errors", [5.0], "Complete")


def test_cloudwatch_alarms_are_described_with_their_state(
    client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN an alarm on green's 5xx count
    cloudwatch = client("cloudwatch")
    name = unique_name("green-5xx-")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="5xx seen")

    # WHEN it is described
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]

    # THEN its state is the one set
    assert (alarm["AlarmName"], alarm["StateValue"], alarm["StateReason"]) == (name, "ALARM", "5xx seen")


def test_secrets_and_parameters_are_read_back(client: Callable[..., Any], unique_name: Callable[[str], str]) -> None:
    # GIVEN a secret and a SecureString parameter
    secrets, ssm = client("secretsmanager"), client("ssm")
    secret, parameter = unique_name("greenlight/token-"), unique_name("/greenlight/spec-")
    secrets.create_secret(Name=secret, SecretString='{"token": "abc"}')
    ssm.put_parameter(Name=parameter, Value="checks: []", Type="SecureString")

    # WHEN they are read
    value = secrets.get_secret_value(SecretId=secret)["SecretString"]
    spec = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]

    # THEN they come back as stored
    assert (value, spec) == ('{"token": "abc"}', "checks: []")
