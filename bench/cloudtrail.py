"""CloudTrail, EventBridge and SQS for the emulated registry: what ``deploy/events/`` sets up in
AWS, on a moto server, with a stand-in for CloudTrail.

On these machines there is no CloudTrail. ``Trail`` plays its part for the emulated registry: it
reads the emulator's write log (every write that succeeded, with the access key id that signed
it) and puts, for each write, the event CloudTrail would deliver, shaped as the samples of
``tests/core/events/samples/`` (an "AWS API Call via CloudTrail" event from ``aws.lambda``, the
CloudTrail record in ``detail``), on moto's EventBridge bus. moto accepts ``Source: aws.lambda``
in PutEvents, which AWS refuses from anyone but Lambda: only tests and benchmarks do this.

``event_route`` makes what the CloudFormation template makes: the queue with its dead-letter
queue (redrive after ``max_receive_count`` receipts) and the EventBridge rule, with the
controller's own event pattern (``controller.core.events.event_pattern``), targeting the queue.
moto then delivers every matching event to the queue, and none other.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from controller.core.events import DETAIL_TYPE, EVENT_SOURCE, SOURCE, event_pattern
from lambda_emulator.store import EmulatorStore, WriteRecord

REGION = "us-east-1"
ACCOUNT = "123456789012"
QUEUE = "lambda-gitops-events"
RULE = "lambda-gitops-changes"

EVENT_NAMES = {
    "CreateFunction": "CreateFunction20150331",
    "UpdateFunctionCode": "UpdateFunctionCode20150331v2",
    "UpdateFunctionConfiguration": "UpdateFunctionConfiguration20150331v2",
    "PublishVersion": "PublishVersion20150331",
    "DeleteFunction": "DeleteFunction20150331",
    "CreateAlias": "CreateAlias20150331",
    "UpdateAlias": "UpdateAlias20150331",
    "DeleteAlias": "DeleteAlias20150331",
}
"""Each write of the emulator's log as CloudTrail names its call."""

PUT_EVENTS_BATCH = 10
"""PutEvents takes at most 10 entries."""


@dataclass(frozen=True)
class EventRoute:
    """The queue, its dead-letter queue and the rule that feeds it, on a moto server, with a
    client of each service made once (boto3 makes clients unsafely from several threads; a
    client, once made, is safe to share)."""

    endpoint_url: str
    queue_url: str
    dead_letter_url: str
    region: str = REGION
    clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for service in ("sqs", "events"):
            self.clients[service] = boto3.client(
                service, endpoint_url=self.endpoint_url, region_name=self.region
            )

    def sqs(self) -> Any:
        return self.clients["sqs"]

    def events(self) -> Any:
        return self.clients["events"]

    def visible(self, url: str | None = None) -> int:
        """Messages waiting in the queue (or in ``url``), as SQS counts them: visible ones and
        those received and not yet deleted."""
        attributes = self.sqs().get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


def event_route(
    endpoint_url: str,
    *,
    name: str = QUEUE,
    visibility_timeout: int = 30,
    max_receive_count: int = 3,
    region: str = REGION,
) -> EventRoute:
    """Create the queue, its dead-letter queue and the rule, as ``deploy/events/`` does."""
    sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)
    events = boto3.client("events", endpoint_url=endpoint_url, region_name=region)
    dead_letter = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(max_receive_count)}
    queue = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name=RULE, EventPattern=json.dumps(event_pattern()), State="ENABLED")
    events.put_targets(Rule=RULE, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return EventRoute(endpoint_url, queue, dead_letter, region)


def cloudtrail_record(
    operation: str,
    function_name: str,
    *,
    qualifier: str | None = None,
    access_key_id: str | None = None,
    principal_arn: str | None = None,
    region: str = REGION,
    account: str = ACCOUNT,
    at: float | None = None,
) -> dict[str, Any]:
    """The CloudTrail record of one successful Lambda write, as the samples have it."""
    request: dict[str, Any] = {"functionName": function_name}
    response: dict[str, Any] | None = None
    if operation in ("CreateAlias", "UpdateAlias", "DeleteAlias") and qualifier is not None:
        request["name"] = qualifier
    elif operation == "DeleteFunction" and qualifier is not None:
        request["qualifier"] = qualifier
    elif operation == "PublishVersion":
        arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        response = {"functionName": function_name, "functionArn": f"{arn}:{qualifier}"}
    moment = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "arn": principal_arn or f"arn:aws:iam::{account}:user/{access_key_id or 'someone'}",
            "accountId": account,
            "accessKeyId": access_key_id or "AKIAEXAMPLE",
        },
        "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": EVENT_SOURCE,
        "eventName": EVENT_NAMES[operation],
        "awsRegion": region,
        "sourceIPAddress": "192.0.2.1",
        "userAgent": "Boto3/1.34.0",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


def eventbridge_body(record: Mapping[str, Any]) -> str:
    """The message body EventBridge delivers to the queue for a CloudTrail record."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": DETAIL_TYPE,
            "source": SOURCE,
            "account": record.get("recipientAccountId", ACCOUNT),
            "time": record["eventTime"],
            "region": record["awsRegion"],
            "resources": [],
            "detail": record,
        }
    )


def put_records(route: EventRoute, records: Sequence[Mapping[str, Any]]) -> None:
    """Put CloudTrail records on the bus as EventBridge events, 10 to a call."""
    events = route.events()
    for start in range(0, len(records), PUT_EVENTS_BATCH):
        entries = [
            {"Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(record)}
            for record in records[start : start + PUT_EVENTS_BATCH]
        ]
        answer = events.put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents refused entries: {answer['Entries']}")


def send_bodies(route: EventRoute, bodies: Sequence[str]) -> None:
    """Send raw message bodies straight to the queue, 10 to a call (what a misrouted rule, or
    anyone with sqs:SendMessage, could send)."""
    sqs = route.sqs()
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(index), "MessageBody": body}
            for index, body in enumerate(bodies[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=route.queue_url, Entries=entries)


def record_of(write: WriteRecord) -> dict[str, Any]:
    """The CloudTrail record of a write of the emulator's log."""
    return cloudtrail_record(
        write.operation,
        write.function_name,
        qualifier=write.qualifier,
        access_key_id=write.access_key_id,
        region=write.region,
        account=write.account,
        at=write.at,
    )


class Trail:
    """Delivers every write of an emulated registry's log to the bus, as CloudTrail does.

    ``deliver`` puts what was written since the last call; ``following`` does it on a thread
    every ``interval`` seconds until its block ends, retrying what the bus refused (its queue
    deleted, say) as EventBridge does. ``delivered`` counts the events put.
    """

    def __init__(self, store: EmulatorStore, route: EventRoute, *, since: int | None = None):
        self._store = store
        self.route = route
        log = store.write_log()
        self._since = since if since is not None else (log[-1].sequence if log else 0)
        self.delivered = 0

    def deliver(self) -> list[WriteRecord]:
        writes = self._store.write_log(self._since)
        if writes:
            put_records(self.route, [record_of(write) for write in writes])
            self._since = writes[-1].sequence
            self.delivered += len(writes)
        return writes

    @contextmanager
    def following(self, interval: float = 0.02) -> Iterator[Trail]:
        stop = threading.Event()

        def follow() -> None:
            while not stop.wait(interval):
                try:
                    self.deliver()
                except ClientError:
                    # EventBridge keeps retrying a target it cannot reach (a deleted queue, for
                    # up to a day); so does the trail: the writes stay pending until a call works.
                    continue

        thread = threading.Thread(target=follow, name="cloudtrail", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=5)
