"""The SQS adapter against a moto server: a queue's address read from its URL, long polling,
batch deletes, the queue's redrive policy, and SQS's errors as ``QueueError``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from controller.adapters.events.port import QueueMessage
from controller.adapters.events.sqs import SqsQueue, queue_address
from controller.core.events import Malformed, parse_event
from controller.errors import QueueError

REGION = "us-east-1"


@pytest.mark.parametrize(
    ("url", "account", "region", "name"),
    [
        (
            "https://sqs.eu-west-1.amazonaws.com/123456789012/lambda-gitops-events",
            "123456789012",
            "eu-west-1",
            "lambda-gitops-events",
        ),
        (
            "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q",
            "123456789012",
            "cn-north-1",
            "q",
        ),
        (
            "https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q",
            "123456789012",
            "us-gov-west-1",
            "q",
        ),
        (
            "https://ap-southeast-2.queue.amazonaws.com/123456789012/q",
            "123456789012",
            "ap-southeast-2",
            "q",
        ),
        (
            "https://vpce-0a1b2c3d-4e5f.sqs.us-west-2.vpce.amazonaws.com/123456789012/q.fifo",
            "123456789012",
            "us-west-2",
            "q.fifo",
        ),
        ("http://127.0.0.1:5000/123456789012/q", "123456789012", "eu-central-1", "q"),
        ("http://localhost:4566/000000000000/q/", "000000000000", "eu-central-1", "q"),
    ],
)
def test_a_queue_url_gives_its_account_and_region(
    url: str, account: str, region: str, name: str
) -> None:
    """The region is a label of the host; a local endpoint's URL names none, and the queue is
    then in the region given (the events' ``region``, else the controller's)."""
    address = queue_address(url, "eu-central-1")
    assert (address.account, address.region, address.name, address.url) == (
        account,
        region,
        name,
        url,
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqs.us-east-1.amazonaws.com/123456789012/q", "is not an SQS queue URL"),
        ("ftp://sqs.us-east-1.amazonaws.com/123456789012/q", "is not an SQS queue URL"),
        ("https://sqs.us-east-1.amazonaws.com/q", "the path must be /ACCOUNT/QUEUE-NAME"),
        ("https://sqs.us-east-1.amazonaws.com/1234/q", "a 12-digit account"),
        ("https://sqs.us-east-1.amazonaws.com/123456789012/", "the path must be"),
        ("https://sqs.us-east-1.amazonaws.com/123456789012/a/b", "the path must be"),
        ("https://sqs.us-east-1.amazonaws.com/123456789012/q?x=1", "no query or fragment"),
        ("https://AKIA:secret@sqs.us-east-1.amazonaws.com/123456789012/q", "holds no credentials"),
    ],
)
def test_a_url_that_names_no_queue_is_refused_saying_why(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as refused:
        queue_address(url, REGION)
    assert "secret" not in str(refused.value)


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)


def queue(moto_endpoint: str, url: str, *, wait_seconds: int = 20) -> SqsQueue:
    return SqsQueue(
        queue_address(url, REGION), endpoint_url=moto_endpoint, wait_seconds=wait_seconds
    )


def test_messages_are_received_ten_at_most_and_deleted_in_batches(
    sqs: Any, moto_endpoint: str
) -> None:
    client = sqs
    url = client.create_queue(QueueName="events")["QueueUrl"]
    for start in range(0, 25, 10):
        client.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, min(start + 10, 25))
            ],
        )
    events = queue(moto_endpoint, url, wait_seconds=1)
    received = []
    while batch := events.receive():
        assert len(batch) <= 10
        received += batch
    assert sorted(message.body for message in received) == sorted(f"m{i}" for i in range(25))
    assert all(message.receive_count == 1 for message in received)
    assert events.delete(received) == []
    attributes = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_the_attributes_say_the_visibility_timeout_and_the_dead_letter_queue(
    sqs: Any, moto_endpoint: str
) -> None:
    client = sqs
    dead = client.create_queue(QueueName="events-dlq")["QueueUrl"]
    dead_arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "5"})
    url = client.create_queue(
        QueueName="events", Attributes={"VisibilityTimeout": "60", "RedrivePolicy": redrive}
    )["QueueUrl"]
    attributes = queue(moto_endpoint, url).attributes()
    assert attributes.visibility_timeout == 60.0
    assert attributes.dead_letter_queue == dead_arn
    assert attributes.max_receive_count == 5
    bare = queue(moto_endpoint, dead).attributes()
    assert (bare.visibility_timeout, bare.dead_letter_queue, bare.max_receive_count) == (
        30.0,
        None,
        None,
    )


def test_a_message_received_again_says_so(sqs: Any, moto_endpoint: str) -> None:
    client = sqs
    url = client.create_queue(QueueName="events", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="again")
    events = queue(moto_endpoint, url, wait_seconds=1)
    assert [m.receive_count for m in events.receive()] == [1]
    assert [m.receive_count for m in events.receive()] == [2]


CALLS: dict[str, Callable[[SqsQueue], object]] = {
    "GetQueueAttributes": lambda events: events.attributes(),
    "ReceiveMessage": lambda events: events.receive(),
    "DeleteMessageBatch": lambda events: events.delete([QueueMessage("m", "handle", "body")]),
}


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_a_queue_that_is_gone_is_a_queue_error_naming_the_call_and_the_code(
    moto_endpoint: str, operation: str
) -> None:
    events = queue(moto_endpoint, f"{moto_endpoint}/123456789012/nowhere", wait_seconds=0)
    with pytest.raises(QueueError) as failed:
        CALLS[operation](events)
    error = failed.value
    assert error.operation == operation
    assert "NonExistentQueue" in error.code or "QueueDoesNotExist" in error.code
    assert str(error).startswith(f"{operation}: ")


def test_an_endpoint_that_does_not_answer_is_a_queue_error() -> None:
    events = SqsQueue(
        queue_address("http://127.0.0.1:9/123456789012/q", REGION),
        endpoint_url="http://127.0.0.1:9",
        wait_seconds=0,
    )
    with pytest.raises(QueueError) as failed:
        events.receive()
    assert failed.value.code == "EndpointConnectionError"


HOSTILE_BODIES = [
    "x" * 262_144,  # SQS's largest message
    '{"a": ' + "[" * 10_000 + "]" * 10_000 + "}",
    '{"detail": ' + "9" * 5_000 + "}",
    '{"source": NaN}',
    "\x01\x02\t\r\n",
    "\U0001f600 é \ufffd",
]


def test_whatever_body_anyone_sends_is_received_as_sent_and_read_as_malformed(
    sqs: Any, moto_endpoint: str
) -> None:
    """What anyone with sqs:SendMessage can put on the queue comes back byte for byte, is read
    without raising, and can be deleted (the consumer never does: its redrive does)."""
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    for body in HOSTILE_BODIES:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    events = queue(moto_endpoint, url, wait_seconds=1)
    received = []
    while batch := events.receive():
        received += batch
    assert sorted(message.body for message in received) == sorted(HOSTILE_BODIES)
    assert all(isinstance(parse_event(message.body), Malformed) for message in received)
    assert events.delete(received) == []


@pytest.mark.parametrize(
    ("attributes", "count"),
    [
        ({"ApproximateReceiveCount": "3"}, 3),
        ({}, 1),
        ({"ApproximateReceiveCount": "many"}, 1),
        ({"ApproximateReceiveCount": "-3"}, 1),
        ({"ApproximateReceiveCount": "0"}, 1),
        ({"ApproximateReceiveCount": "5_0"}, 1),
        ({"ApproximateReceiveCount": "\u0663"}, 1),  # an Arabic-Indic three
        ({"ApproximateReceiveCount": "9" * 5_000}, 1),
    ],
)
def test_a_receive_count_that_is_no_count_is_a_first_receipt(
    attributes: dict[str, str], count: int
) -> None:
    """SQS gives the count as a decimal string; anything else (a proxy's, an emulator's) is not
    taken as a count, nor made into a negative or a crash."""
    events = SqsQueue(
        queue_address("https://sqs.us-east-1.amazonaws.com/123456789012/q", REGION), wait_seconds=0
    )
    with Stubber(events._client) as stubber:  # type: ignore[arg-type]
        stubber.add_response(
            "receive_message",
            {
                "Messages": [
                    {"MessageId": "m", "ReceiptHandle": "h", "Body": "b", "Attributes": attributes}
                ]
            },
        )
        [message] = events.receive()
    assert message.receive_count == count
