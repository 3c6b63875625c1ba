"""The CloudWatch adapter of a rollout's analysis: Lambda metrics of the target version, and
alarms that went to ALARM after the step began.

A metric check reads ``AWS/Lambda`` with the three dimensions Lambda publishes per alias and
version (``FunctionName``, ``Resource`` = ``function:alias``, ``ExecutedVersion``), so that the
old version's errors never count against the new one. It asks GetMetricData for plain
``MetricStat`` queries and does any division itself, rather than sending metric math: moto does
not compute metric math, and the same code path must run against both. Lambda's metrics arrive
about a minute late, so the window is read ``metric_delay`` seconds in the past; reading the
present would judge a step on the part of its traffic that has been reported so far.

An alarm check fails only for a transition to ALARM at or after the step's start, read from the
alarm's history: the alarm's current state cannot tell an alarm that fired for the old version
before the step began (which must not block a hotfix) from one that fired since, and it misses
one that fired and recovered between two evaluations.

Every call is bounded (at most ``MAX_PAGES`` pages) and every botocore failure becomes an
``error`` outcome with the AWS error code and message, masked by ``controller.redaction``: an
analysis source that cannot be asked holds a step, it never rolls one back.

What moto 5.2 does differently, found by trying it (the tests work around each):

- DescribeAlarmHistory is not implemented (moto answers HTTP 500, "not implemented"), though
  moto keeps each alarm's past states; the tests serve the action from those states, in the
  shape AWS documents (``HistoryData`` with ``oldState`` and ``newState``).
- DescribeAlarms has no ``StateTransitionedTimestamp``, only ``StateUpdatedTimestamp``.
- Percentile statistics (``p99``) make GetMetricData fail with HTTP 500.
- A datum matches a query only when the dimensions are given in the order they were put in,
  and the namespace is not compared once dimensions are given; real CloudWatch matches the set
  of dimensions within the namespace.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from controller.adapters.registry.aws import code_and_message
from controller.core.analysis import AlarmCheck, CheckResult, CloudWatchCheck, Window
from controller.redaction import mask_text

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import (
        AlarmHistoryItemTypeDef,
        DimensionTypeDef,
        MetricDataQueryTypeDef,
    )

ClientFor = Callable[[str | None, str], "CloudWatchClient"]
"""The CloudWatch client for an account (``None``: the default one) and a region."""

NAMESPACE = "AWS/Lambda"
MAX_PAGES = 10
"""Pages of GetMetricData or DescribeAlarmHistory read per evaluation, at most: an evaluation
runs every ``interval`` of every step, and must not turn into an unbounded scan."""

_VALUE_ID = "value"
_TOTAL_ID = "total"


def cloudwatch_clients(endpoint_url: str | None = None) -> ClientFor:
    """A ``ClientFor`` that makes one client per account and region and keeps it.

    Credentials come from the default chain for every account: assuming a role per account, as
    the registry does, is the composition root's to add. Timeouts and retries are short, since
    an evaluation that waits long only delays the step; the next evaluation asks again.
    """
    config = Config(
        connect_timeout=10,
        read_timeout=10,
        retries={"mode": "standard", "max_attempts": 3},
    )
    clients: dict[tuple[str | None, str], CloudWatchClient] = {}
    lock = threading.Lock()

    def client_for(account: str | None, region: str) -> CloudWatchClient:
        with lock:
            client = clients.get((account, region))
            if client is None:
                client = boto3.client(
                    "cloudwatch", region_name=region, endpoint_url=endpoint_url, config=config
                )
                clients[(account, region)] = client
        return client

    return client_for


class CloudWatchAnalysis:
    """Evaluates ``CloudWatchCheck`` and ``AlarmCheck`` against CloudWatch."""

    def __init__(
        self, client_for: ClientFor, *, metric_delay: float = 60.0, period: int = 60
    ) -> None:
        self._client_for = client_for
        self._metric_delay = metric_delay
        self._period = period

    def evaluate(self, check: CloudWatchCheck | AlarmCheck, window: Window) -> CheckResult:
        """What ``check`` concludes over ``window``; a failure to ask CloudWatch is an
        ``error`` result, never an exception."""
        try:
            client = self._client_for(window.account, window.region)
            if isinstance(check, AlarmCheck):
                return _evaluate_alarm(client, check, window)
            return self._evaluate_metric(client, check, window)
        except ClientError as error:
            code, message = code_and_message(error)
            return _error(
                f"CloudWatch {error.operation_name} failed: {code or 'unknown error'}: {message}"
            )
        except BotoCoreError as error:
            return _error(f"CloudWatch could not be asked: {type(error).__name__}: {error}")

    def _evaluate_metric(
        self, client: CloudWatchClient, check: CloudWatchCheck, window: Window
    ) -> CheckResult:
        span = _Span(window.start - self._metric_delay, window.end - self._metric_delay)
        scope = f"{window.function}:{window.alias} version {window.version}, {span}"
        if span.start >= span.end:
            return CheckResult("inconclusive", None, f"an empty window: {scope}")
        queries = [self._query(_VALUE_ID, check.metric, check.stat, window)]
        if check.ratio_to is not None:
            queries.append(self._query(_TOTAL_ID, check.ratio_to, "Sum", window))
        series, complete = _metric_data(client, queries, span)
        note = "" if complete else f" (the first {MAX_PAGES} pages of datapoints only)"
        values = series.get(_VALUE_ID, [])
        name = f"{check.metric} ({check.stat})"

        if check.ratio_to is None:
            if not values:
                return CheckResult("inconclusive", None, f"no data for {name}: {scope}{note}")
            value = combine(check.stat, values)
        else:
            total = math.fsum(series.get(_TOTAL_ID, []))
            if total == 0 or total < window.min_invocations:
                counted = f"{total:g} {check.ratio_to}"
                if window.min_invocations > total:
                    counted += f", fewer than the {window.min_invocations} required"
                return CheckResult("inconclusive", None, f"{counted}: {scope}{note}")
            # CloudWatch leaves out the periods in which a metric was not published; Lambda
            # publishes Errors with every invocation, so none at all where there were
            # invocations means none happened.
            value = (combine(check.stat, values) if values else 0.0) / total
            name = f"{check.metric} ({check.stat}) / {check.ratio_to} (Sum)"

        outcome = check.bounds.judge(value)
        detail = f"{name} = {value:g}, bounds {check.bounds.describe()}: {scope}{note}"
        return CheckResult(outcome, value, detail)

    def _query(
        self, query_id: str, metric: str, stat: str, window: Window
    ) -> MetricDataQueryTypeDef:
        # The order matters to moto (see the module's docstring); AWS ignores it.
        dimensions: list[DimensionTypeDef] = [
            {"Name": "FunctionName", "Value": window.function},
            {"Name": "Resource", "Value": f"{window.function}:{window.alias}"},
            {"Name": "ExecutedVersion", "Value": window.version},
        ]
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
                "Period": self._period,
                "Stat": stat,
            },
            "ReturnData": True,
        }


def combine(stat: str, values: Sequence[float]) -> float:
    """One value for the window from its per-period datapoints (at least one).

    Sums and counts add up; a minimum or maximum is the smallest or largest. A percentile is
    the largest of the periods' percentiles: the window's own cannot be rebuilt from them, but
    it is never above the largest, so a ``max`` bound is judged safely. An average (or a
    trimmed mean) is the mean of the periods' values, each period weighing the same whatever
    its sample count: close enough for a check, and one query instead of two.
    """
    if stat in ("Sum", "SampleCount"):
        return math.fsum(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Maximum" or (stat[:1] == "p" and stat[1:].replace(".", "", 1).isdigit()):
        return max(values)
    return math.fsum(values) / len(values)


def _metric_data(
    client: CloudWatchClient, queries: list[MetricDataQueryTypeDef], span: _Span
) -> tuple[dict[str, list[float]], bool]:
    """The values of each query over ``span``, across pages, and whether all pages were read."""
    series: dict[str, list[float]] = {}
    arguments: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": span.start_time,
        "EndTime": span.end_time,
        "ScanBy": "TimestampAscending",
    }
    for _ in range(MAX_PAGES):
        page = client.get_metric_data(**arguments)
        for result in page["MetricDataResults"]:
            series.setdefault(result.get("Id", ""), []).extend(result.get("Values", []))
        token = page.get("NextToken")
        if not token:
            return series, True
        arguments["NextToken"] = token
    return series, False


def _evaluate_alarm(client: CloudWatchClient, check: AlarmCheck, window: Window) -> CheckResult:
    described = client.describe_alarms(
        AlarmNames=[check.name], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    alarms = [*described.get("MetricAlarms", []), *described.get("CompositeAlarms", [])]
    if not alarms:
        return _error(f"no alarm named {check.name} in {window.region}")
    began = _utc(window.start)
    since = f"since the step began at {_text(began)}"

    fired, complete = _first_transition_to_alarm(client, check.name, began)
    if fired is not None:
        return CheckResult(
            "fail", None, f"alarm {check.name} went to ALARM at {_text(fired)}, {since}"
        )
    if not complete:
        return CheckResult(
            "inconclusive",
            None,
            f"alarm {check.name}: no transition to ALARM in the first {MAX_PAGES} pages of its "
            f"history {since}",
        )
    state = alarms[0].get("StateValue", "")
    if state == "ALARM":
        detail = f"alarm {check.name} was in ALARM before the step began and has not gone to it "
        detail += f"again {since}"
    else:
        detail = f"alarm {check.name} has not gone to ALARM {since} (it is {state})"
    return CheckResult("pass", None, detail)


def _first_transition_to_alarm(
    client: CloudWatchClient, name: str, began: datetime
) -> tuple[datetime | None, bool]:
    """When the alarm first went to ALARM at or after ``began``, and whether all the history
    pages were read (when none was found)."""
    arguments: dict[str, Any] = {
        "AlarmName": name,
        "HistoryItemType": "StateUpdate",
        "StartDate": began,
        "ScanBy": "TimestampAscending",
    }
    for _ in range(MAX_PAGES):
        page = client.describe_alarm_history(**arguments)
        for item in page.get("AlarmHistoryItems", []):
            timestamp = item.get("Timestamp")
            if timestamp is not None and timestamp >= began and _went_to_alarm(item):
                return timestamp, True
        token = page.get("NextToken")
        if not token:
            return None, True
        arguments["NextToken"] = token
    return None, False


def _went_to_alarm(item: AlarmHistoryItemTypeDef) -> bool:
    """Whether a state update is a transition to ALARM: from ``HistoryData``'s
    ``newState.stateValue``, or, when that cannot be read, from the summary ("Alarm updated
    from OK to ALARM")."""
    try:
        data = json.loads(item.get("HistoryData", ""))
    except (ValueError, RecursionError):
        data = None
    new_state = data.get("newState") if isinstance(data, dict) else None
    state = new_state.get("stateValue") if isinstance(new_state, dict) else None
    if isinstance(state, str):
        return state == "ALARM"
    return item.get("HistorySummary", "").endswith(" to ALARM")


def _error(detail: str) -> CheckResult:
    return CheckResult("error", None, mask_text(detail))


@dataclass(frozen=True, slots=True)
class _Span:
    """The seconds (since the epoch) that a metric check reads."""

    start: float
    end: float

    @property
    def start_time(self) -> datetime:
        return _utc(self.start)

    @property
    def end_time(self) -> datetime:
        return _utc(self.end)

    def __str__(self) -> str:
        return f"from {_text(self.start_time)} to {_text(self.end_time)}"


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
