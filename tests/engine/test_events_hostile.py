"""The consumer given whatever anyone with ``sqs:SendMessage`` (or a misrouted rule) may put on the
queue: it never raises, counts each message once, deletes exactly the ones it should, logs and
shows nothing of a message but a function identity it has validated, and observes only a lag an
event in the queue can have.

A pure unit test of ``engine.events``: the queue is a plain recorder of deletes and the loop a
plain recorder of requests, so that hypothesis can drive thousands of messages through the
consumer's own handling in seconds; ``test_events.py`` drives the same consumer against moto's
SQS and the emulated registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from bench.cloudtrail import cloudtrail_record, eventbridge_body
from controller.adapters.events.port import QueueAttributes, QueueMessage
from controller.adapters.metrics import Metrics
from controller.core.events import (
    MAX_EVENT_AGE,
    ManagedFunctions,
    WriterIdentity,
    judge,
    parse_event,
)
from controller.core.model import FunctionId
from controller.engine.events import ConsumerSettings, EventConsumer
from tests.core.events.forging import fields, forge

ACCOUNT = "123456789012"
REGION = "us-east-1"
DECLARED = FunctionId(ACCOUNT, REGION, "orders-api")
OWN_KEY = "AKIAOWNWRITES"
NOW = 1714564805.0
"""The consumer's wall clock: five seconds after the records' eventTime."""
SECRET = "hunter2 PASSWORD!"
"""No function name nor qualifier: a valid function identity is all the consumer may log."""
PROPERTIES = settings(max_examples=150, deadline=None)


class RecordingQueue:
    """The queue port: what the consumer deleted, in order."""

    url = "https://sqs.us-east-1.amazonaws.com/123456789012/lambda-gitops-events"

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def attributes(self) -> QueueAttributes:
        return QueueAttributes(visibility_timeout=60.0, dead_letter_queue="arn:dlq")

    def receive(self) -> list[QueueMessage]:
        return []

    def delete(self, messages: Sequence[QueueMessage]) -> list[QueueMessage]:
        self.deleted += [message.message_id for message in messages]
        return []


class RecordingLoop:
    """The loop: requests are numbered, and ``serve`` reconciles every function requested."""

    def __init__(self) -> None:
        self.requested: list[set[FunctionId]] = []
        self.served = 0

    def managed_functions(self) -> ManagedFunctions:
        return ManagedFunctions([DECLARED])

    def request(self, functions: Iterable[FunctionId], reason: str) -> int:
        self.requested.append(set(functions))
        return len(self.requested)

    def reconciled_since(self, function: FunctionId, ticket: int) -> bool:
        return ticket <= self.served

    def claimed_since(self, function: FunctionId, ticket: int) -> bool:
        return ticket <= self.served

    def serve(self) -> None:
        self.served = len(self.requested)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Consumed:
    """One consumer run over ``bodies``: what it deleted, requested, counted and logged."""

    def __init__(self, bodies: Sequence[str]) -> None:
        self.queue = RecordingQueue()
        self.loop = RecordingLoop()
        self.metrics = Metrics()
        clock = Clock()
        consumer = EventConsumer(
            [self.queue],
            self.loop,
            self.metrics,
            writer=lambda: WriterIdentity(access_key_ids=frozenset({OWN_KEY})),
            settings=ConsumerSettings(merge_window=1.0),
            clock=lambda: NOW,
            monotonic=clock,
        )
        self.messages = [
            QueueMessage(f"m{index}", f"h{index}", body) for index, body in enumerate(bodies)
        ]
        with capture_logs() as self.logs:
            for start in range(0, len(self.messages), 10):
                batch = self.messages[start : start + 10]
                consumer.take(self.queue, self.queue.attributes(), batch)
            self.deleted_at_once = list(self.queue.deleted)
            clock.now += 1.0
            consumer.dispatch()
            self.loop.serve()
            consumer.dispatch()
        self.status = consumer.status()

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float:
        value = self.metrics.registry.get_sample_value(name, labels or {})
        assert value is not None, name
        return value


def verdicts(bodies: Sequence[str]) -> list[str]:
    """Each body's verdict, as the pure core gives it."""
    managed = ManagedFunctions([DECLARED])
    writer = WriterIdentity(access_key_ids=frozenset({OWN_KEY}))
    return [judge(parse_event(body), managed, writer).result for body in bodies]


def real_body(**detail: Any) -> dict[str, Any]:
    record = cloudtrail_record(
        "UpdateAlias", DECLARED.name, qualifier="live", access_key_id="AKIASOMEONE", at=NOW - 5
    )
    record.update(detail)
    return json.loads(eventbridge_body(record))  # type: ignore[no-any-return]


hostile_values = st.sampled_from(
    [
        SECRET,
        f"https://admin:{SECRET}@example.com/",
        f"{DECLARED.name}:{SECRET}",
        f"arn:aws-iso:lambda:us-east-1:{ACCOUNT}:function:{DECLARED.name}",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{DECLARED.name}:live",
        DECLARED.name,
        "x" * 10_000,
        f"{DECLARED.name}\n{SECRET}",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1970-01-01T00:00:00Z",
        "2024-05-01T12:00:00",
        "UpdateAlias20150331v2",
        "UpdateAlias2015",
        "UpdateAliasX",
        OWN_KEY,
        {"accessKeyId": OWN_KEY},
        {"functionName": SECRET, "environment": {"variables": {"DB_PASSWORD": SECRET}}},
        {"functionName": DECLARED.name, "environment": {"variables": {"DB_PASSWORD": SECRET}}},
        ["a", SECRET],
        10**30,
        -1.5,
        True,
        None,
        {},
    ]
)


@st.composite
def forged_bodies(draw: st.DrawFn) -> str:
    """A real event with a few fields replaced by hostile values, or a body that is no event."""
    kind = draw(st.sampled_from(["forged", "forged", "forged", "text", "json"]))
    if kind == "text":
        return draw(st.text(max_size=80))
    if kind == "json":
        return json.dumps(draw(st.lists(hostile_values, max_size=3)))
    changes = draw(st.lists(st.tuples(fields, hostile_values), max_size=3))
    return json.dumps(forge(real_body(), changes))


@PROPERTIES
@given(st.lists(forged_bodies(), min_size=1, max_size=25))
def test_whatever_the_queue_holds_each_message_gets_its_verdict_and_no_more(
    bodies: list[str],
) -> None:
    """Each message is counted once; the unmanaged and own ones are deleted at once, the matched
    ones once their reconcile has finished, the malformed ones never; a request names only the
    declared function; no log line and no field of the status holds a character run of a secret;
    a lag sample is one an event in the queue can have."""
    consumed = Consumed(bodies)
    results = verdicts(bodies)

    for result in ("matched", "unmanaged", "self", "malformed"):
        counted = consumed.sample("lambda_gitops_events_total", {"result": result})
        assert counted == results.count(result), result
    ids = [message.message_id for message in consumed.messages]
    expected_at_once = [i for i, r in zip(ids, results, strict=True) if r in ("unmanaged", "self")]
    expected = expected_at_once + [i for i, r in zip(ids, results, strict=True) if r == "matched"]
    assert consumed.deleted_at_once == expected_at_once
    assert sorted(consumed.queue.deleted) == sorted(expected), "the malformed ones never"
    assert all(requested == {DECLARED} for requested in consumed.loop.requested)
    assert len(consumed.loop.requested) == (1 if "matched" in results else 0), "merged"

    for entry in consumed.logs:
        text = repr(entry)
        assert "hunter2" not in text, entry
        assert "PASSWORD" not in text, entry
    assert "hunter2" not in json.dumps(consumed.status)

    observed = consumed.sample("lambda_gitops_event_lag_seconds_count")
    total = consumed.sample("lambda_gitops_event_lag_seconds_sum")
    assert observed <= len(bodies) - results.count("malformed")
    assert 0.0 <= total <= observed * MAX_EVENT_AGE


@pytest.mark.parametrize(
    "body",
    [
        real_body(errorCode=f"https://admin:{SECRET}@example.com/"),
        real_body(eventName=f"UpdateAlias{SECRET}"),
        real_body(requestParameters={"functionName": SECRET}),
        {**real_body(), "source": f"https://admin:{SECRET}@example.com/"},
        real_body(eventSource=SECRET),
        real_body(awsRegion=SECRET),
    ],
)
def test_the_log_line_of_a_message_it_does_not_act_on_quotes_nothing_of_it(
    body: dict[str, Any],
) -> None:
    consumed = Consumed([json.dumps(body)])
    assert consumed.logs, "logged"
    assert all("hunter2" not in repr(entry) for entry in consumed.logs)


@pytest.mark.parametrize(
    "event_time", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z"]
)
def test_an_event_time_it_cannot_have_puts_no_lag_in_the_histogram(event_time: str) -> None:
    """The message is still acted on (the time is only for the histogram), but year 1 is not a
    lag of two thousand years, nor year 9999 one of none."""
    message = real_body(eventTime=event_time)
    message["time"] = event_time
    consumed = Consumed([json.dumps(message)])
    assert consumed.sample("lambda_gitops_events_total", {"result": "matched"}) == 1
    assert consumed.queue.deleted == ["m0"]
    assert consumed.sample("lambda_gitops_event_lag_seconds_count") == 0


def test_a_real_event_lag_is_observed() -> None:
    consumed = Consumed([json.dumps(real_body())])
    assert consumed.sample("lambda_gitops_event_lag_seconds_count") == 1
    assert consumed.sample("lambda_gitops_event_lag_seconds_sum") == 5.0
