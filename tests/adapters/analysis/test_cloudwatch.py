"""The CloudWatch adapter against a real moto server: metrics put with ``put_metric_data`` and
alarms driven with ``set_alarm_state``, read back through ``CloudWatchAnalysis``.

moto 5.2 does not implement DescribeAlarmHistory, though it keeps each alarm's past states; the
``alarm_history`` fixture serves the action from those states, in the shape AWS documents, in
the moto server of this process. Everything else is moto's own.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from controller.adapters.analysis.cloudwatch import CloudWatchAnalysis, cloudwatch_clients
from controller.core.analysis import AlarmCheck, Bounds, CloudWatchCheck, Window

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

REGION = "us-east-1"
DELAY = 60.0
# A step that began on a whole minute an hour ago and has run for five minutes: its metrics are
# read from a minute earlier (the delay), so from START - 60 to START + 240.
START = float(int(time.time()) // 60 * 60 - 3600)
WINDOW = Window(
    function="orders",
    region=REGION,
    alias="live",
    version="7",
    start=START,
    end=START + 300,
    min_invocations=100,
)
ERROR_RATE = CloudWatchCheck(
    metric="Errors", stat="Sum", bounds=Bounds(max=0.05), ratio_to="Invocations"
)


@pytest.fixture
def cloudwatch(moto_endpoint: str) -> CloudWatchClient:
    return boto3.client("cloudwatch", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def analysis(moto_endpoint: str) -> CloudWatchAnalysis:
    return CloudWatchAnalysis(cloudwatch_clients(moto_endpoint), metric_delay=DELAY)


def put(
    cloudwatch: CloudWatchClient,
    metric: str,
    value: float,
    *,
    at: float,
    version: str = WINDOW.version,
) -> None:
    """One datum of a Lambda metric, with the dimensions Lambda gives it for an alias."""
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "FunctionName", "Value": WINDOW.function},
                    {"Name": "Resource", "Value": f"{WINDOW.function}:{WINDOW.alias}"},
                    {"Name": "ExecutedVersion", "Value": version},
                ],
                "Timestamp": datetime.fromtimestamp(at, UTC),
                "Value": value,
                "Unit": "Count",
            }
        ],
    )


def put_traffic(
    cloudwatch: CloudWatchClient, invocations: float, errors: float, *, at: float
) -> None:
    put(cloudwatch, "Invocations", invocations, at=at)
    put(cloudwatch, "Errors", errors, at=at)


# -- metrics --------------------------------------------------------------------------------------


def test_an_error_rate_within_its_bound_passes(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis
) -> None:
    put_traffic(cloudwatch, 100, 1, at=START - 30)
    put_traffic(cloudwatch, 100, 3, at=START + 30)

    result = analysis.evaluate(ERROR_RATE, WINDOW)

    assert result.outcome == "pass"
    assert result.value == pytest.approx(0.02)
    assert "<= 0.05" in result.detail
    assert "orders:live version 7" in result.detail


def test_an_error_rate_above_its_bound_fails(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis
) -> None:
    put_traffic(cloudwatch, 100, 4, at=START - 30)
    put_traffic(cloudwatch, 100, 16, at=START + 90)

    result = analysis.evaluate(ERROR_RATE, WINDOW)

    assert result.outcome == "fail"
    assert result.value == pytest.approx(0.1)


def test_fewer_invocations_than_required_is_inconclusive_however_many_errors(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis
) -> None:
    put_traffic(cloudwatch, 12, 12, at=START)

    result = analysis.evaluate(ERROR_RATE, WINDOW)

    assert result.outcome == "inconclusive"
    assert result.value is None
    assert "12 Invocations, fewer than the 100 required" in result.detail


def test_no_data_at_all_is_inconclusive(analysis: CloudWatchAnalysis) -> None:
    latency = CloudWatchCheck(metric="Duration", stat="Maximum", bounds=Bounds(max=500))

    result = analysis.evaluate(latency, WINDOW)

    assert result.outcome == "inconclusive"
    assert "no data for Duration (Maximum)" in result.detail


def test_invocations_without_any_errors_are_an_error_rate_of_zero(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis
) -> None:
    put(cloudwatch, "Invocations", 500, at=START)

    result = analysis.evaluate(ERROR_RATE, WINDOW)

    assert (result.outcome, result.value) == ("pass", 0.0)


def test_only_the_target_version_counts(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis
) -> None:
    """The old version's errors, under the same alias, do not fail the new one."""
    put_traffic(cloudwatch, 200, 0, at=START)
    put(cloudwatch, "Invocations", 1000, at=START, version="6")
    put(cloudwatch, "Errors", 900, at=START, version="6")

    result = analysis.evaluate(ERROR_RATE, WINDOW)

    assert (result.outcome, result.value) == ("pass", 0.0)


def test_the_window_is_read_a_metric_delay_in_the_past(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis
) -> None:
    """A datum in the window's last minute belongs to the next evaluation, once CloudWatch has
    all of that minute; one from the minute before the step began is in this one."""
    put_traffic(cloudwatch, 100, 1, at=START - 50)
    put_traffic(cloudwatch, 100, 90, at=WINDOW.end - 30)

    result = analysis.evaluate(ERROR_RATE, WINDOW)

    assert (result.outcome, result.value) == ("pass", 0.01)


@pytest.mark.parametrize(
    ("stat", "expected"),
    [("Sum", 600.0), ("Maximum", 400.0), ("Minimum", 200.0), ("Average", 300.0)],
)
def test_the_periods_of_a_statistic_are_combined_over_the_window(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis, stat: str, expected: float
) -> None:
    put(cloudwatch, "Duration", 200, at=START)
    put(cloudwatch, "Duration", 400, at=START + 60)

    result = analysis.evaluate(
        CloudWatchCheck(metric="Duration", stat=stat, bounds=Bounds(max=1000)), WINDOW
    )

    assert (result.outcome, result.value) == ("pass", expected)


def test_a_source_that_cannot_be_reached_is_an_error_not_an_exception() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = boto3.client(
        "cloudwatch",
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        region_name=REGION,
        config=Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1}),
    )
    analysis = CloudWatchAnalysis(lambda account, region: client)

    for check in (ERROR_RATE, AlarmCheck(name="orders-errors")):
        result = analysis.evaluate(check, WINDOW)

        assert result.outcome == "error"
        assert "EndpointConnectionError" in result.detail


# -- alarms ---------------------------------------------------------------------------------------


@pytest.fixture
def alarm_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """DescribeAlarmHistory for moto, built from the past states moto keeps for each alarm.

    moto records ``(kind, reason, reason data, state, since)`` for the state an alarm leaves;
    with its current state, consecutive pairs are the transitions AWS reports, newest last.
    """
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    def describe_alarm_history(self: Any) -> ActionResult:
        name = self._get_param("AlarmName")
        start = _naive_utc(self._get_param("StartDate"))
        alarm = self.cloudwatch_backend.alarms[name]
        states = [(state, since) for _, _, _, state, since in alarm.history]
        states.append((alarm.state_value, alarm.state_updated_timestamp))
        items = [
            {
                "AlarmName": name,
                "AlarmType": "MetricAlarm",
                "Timestamp": at,
                "HistoryItemType": "StateUpdate",
                "HistorySummary": f"Alarm updated from {old} to {new}",
                "HistoryData": json.dumps(
                    {
                        "version": "1.0",
                        "oldState": {"stateValue": old},
                        "newState": {"stateValue": new},
                    }
                ),
            }
            for (old, _), (new, at) in pairwise(states)
            if old != new and at >= start
        ]
        return ActionResult({"AlarmHistoryItems": items})

    monkeypatch.setattr(
        CloudWatchResponse, "describe_alarm_history", describe_alarm_history, raising=False
    )


def _naive_utc(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.astimezone(UTC).replace(tzinfo=None)


@pytest.fixture
def alarm(cloudwatch: CloudWatchClient) -> AlarmCheck:
    cloudwatch.put_metric_alarm(
        AlarmName="orders-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    return AlarmCheck(name="orders-errors")


def step_that_began(seconds_ago: float = 0.0) -> Window:
    """A window whose step began ``seconds_ago`` (alarms read only its start). A second ago
    is well before anything the test does next, whatever the precision of moto's timestamps."""
    start = time.time() - seconds_ago
    return replace(WINDOW, start=start, end=start + 300)


@pytest.mark.usefixtures("alarm_history")
def test_an_alarm_that_goes_to_alarm_after_the_step_began_fails(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis, alarm: AlarmCheck
) -> None:
    window = step_that_began(1.0)
    cloudwatch.set_alarm_state(AlarmName=alarm.name, StateValue="ALARM", StateReason="errors")

    result = analysis.evaluate(alarm, window)

    assert result.outcome == "fail"
    assert "went to ALARM" in result.detail


@pytest.mark.usefixtures("alarm_history")
def test_an_alarm_that_fired_and_recovered_since_the_step_began_still_fails(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis, alarm: AlarmCheck
) -> None:
    window = step_that_began(1.0)
    cloudwatch.set_alarm_state(AlarmName=alarm.name, StateValue="ALARM", StateReason="errors")
    cloudwatch.set_alarm_state(AlarmName=alarm.name, StateValue="OK", StateReason="recovered")

    assert analysis.evaluate(alarm, window).outcome == "fail"


@pytest.mark.usefixtures("alarm_history")
def test_an_alarm_already_firing_when_the_step_began_does_not_block_it(
    cloudwatch: CloudWatchClient, analysis: CloudWatchAnalysis, alarm: AlarmCheck
) -> None:
    """An alarm that fired for the old version must not hold back a hotfix."""
    cloudwatch.set_alarm_state(AlarmName=alarm.name, StateValue="ALARM", StateReason="old bug")
    window = step_that_began()

    result = analysis.evaluate(alarm, window)

    assert result.outcome == "pass"
    assert "was in ALARM before the step began" in result.detail


@pytest.mark.usefixtures("alarm_history")
def test_an_alarm_that_stays_ok_passes(analysis: CloudWatchAnalysis, alarm: AlarmCheck) -> None:
    result = analysis.evaluate(alarm, step_that_began())

    assert result.outcome == "pass"
    assert "(it is OK)" in result.detail


def test_an_unknown_alarm_is_an_error(analysis: CloudWatchAnalysis) -> None:
    result = analysis.evaluate(AlarmCheck(name="no-such-alarm"), WINDOW)

    assert result.outcome == "error"
    assert result.detail == f"no alarm named no-such-alarm in {REGION}"


def test_an_alarm_history_that_cannot_be_read_is_an_error_with_its_code(
    moto_endpoint: str, alarm: AlarmCheck
) -> None:
    """moto's own answer to DescribeAlarmHistory, an HTTP 500, stands for any failure of it."""
    client = boto3.client(
        "cloudwatch",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}),
    )
    analysis = CloudWatchAnalysis(lambda account, region: client)

    result = analysis.evaluate(alarm, WINDOW)

    assert result.outcome == "error"
    assert result.detail.startswith("CloudWatch DescribeAlarmHistory failed: 500: ")
