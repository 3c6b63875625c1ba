"""The boto3 adapter of a change-event queue: SQS long polling, batch deletes, its attributes.

Everything specific to botocore and SQS lives here: the queue's account and region read from its
URL (``queue_address``), the client (timeouts longer than the long poll), and the translation
of botocore's exceptions into ``QueueError`` with the AWS code, so that the consumer reasons in
the project's terms. The calls are the three the IAM additions grant on the queue alone
(``deploy/iam-policy.json``, ``ReceiveChangeEvents``): ``ReceiveMessage``, ``DeleteMessage``
(``DeleteMessageBatch`` needs no other permission) and ``GetQueueAttributes``.

No stubs of boto3's SQS client are installed, so the few calls made are typed by a Protocol of
their own (``_SqsClient``), checked against moto and the documented responses by the tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from controller.adapters.events.port import QueueAttributes, QueueMessage
from controller.adapters.registry.aws import code_and_message
from controller.core.model import REGION_PATTERN
from controller.errors import QueueError

LONG_POLL_SECONDS = 20
"""SQS's longest wait for a message (``WaitTimeSeconds``); it refuses more."""
MAX_MESSAGES = 10
"""SQS's most messages per receive (``MaxNumberOfMessages``), and per batch delete."""

_REGION_LABEL = re.compile(rf"(?:^|\.)(?P<region>{REGION_PATTERN.pattern})\.")
_QUEUE_PATH = re.compile(r"/(?P<account>[0-9]{12})/(?P<name>[A-Za-z0-9_-]{1,80}(?:\.fifo)?)/?")
_COUNT = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True, slots=True)
class QueueAddress:
    """Where a queue is: its URL, and the account and region it belongs to."""

    url: str
    account: str
    region: str
    name: str

    def __str__(self) -> str:
        return self.url


def queue_address(url: str, default_region: str) -> QueueAddress:
    """The queue ``url`` names: ``https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`` (or any other
    host with the region as one of its labels: a VPC endpoint, FIPS, China), or a local
    endpoint's ``http://HOST:PORT/ACCOUNT/NAME`` (moto's), which names no region: the queue is
    then in ``default_region``. Raises ``ValueError`` saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{url!r} is not an SQS queue URL such as "
            "https://sqs.us-east-1.amazonaws.com/123456789012/lambda-gitops-events"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError("a queue URL holds no credentials; the AWS credentials sign the calls")
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r}: a queue URL has no query or fragment")
    path = _QUEUE_PATH.fullmatch(parts.path)
    if path is None:
        raise ValueError(
            f"{url!r}: the path must be /ACCOUNT/QUEUE-NAME, a 12-digit account and the name"
        )
    region = _REGION_LABEL.search(parts.hostname)
    return QueueAddress(
        url=url,
        account=path["account"],
        region=region["region"] if region is not None else default_region,
        name=path["name"],
    )


class _SqsClient(Protocol):
    """The calls of boto3's SQS client this adapter makes, as it answers them."""

    def get_queue_attributes(self, **arguments: Any) -> Mapping[str, Any]: ...

    def receive_message(self, **arguments: Any) -> Mapping[str, Any]: ...

    def delete_message_batch(self, **arguments: Any) -> Mapping[str, Any]: ...


class SqsQueue:
    """One queue of change events, read over boto3 with long polling.

    ``session`` gives the credentials (the default chain when not given), ``endpoint_url``
    another SQS endpoint (moto, in tests). The client is thread-safe: one thread receives while
    another deletes.
    """

    def __init__(
        self,
        address: QueueAddress,
        *,
        endpoint_url: str | None = None,
        session: boto3.Session | None = None,
        wait_seconds: int = LONG_POLL_SECONDS,
        max_messages: int = MAX_MESSAGES,
    ) -> None:
        self._address = address
        self._wait_seconds = min(max(wait_seconds, 0), LONG_POLL_SECONDS)
        self._max_messages = min(max(max_messages, 1), MAX_MESSAGES)
        config = Config(
            retries={"mode": "standard", "total_max_attempts": 3},
            connect_timeout=5,
            # Longer than the long poll, which holds the response back for that long.
            read_timeout=self._wait_seconds + 10,
        )
        self._client = cast(
            _SqsClient,
            (session or boto3.Session()).client(
                "sqs", region_name=address.region, endpoint_url=endpoint_url, config=config
            ),
        )

    @property
    def url(self) -> str:
        return self._address.url

    @property
    def address(self) -> QueueAddress:
        return self._address

    def attributes(self) -> QueueAttributes:
        with translated("GetQueueAttributes"):
            response = self._client.get_queue_attributes(
                QueueUrl=self._address.url,
                AttributeNames=["VisibilityTimeout", "RedrivePolicy"],
            )
        values = response.get("Attributes", {})
        redrive = _redrive_policy(values.get("RedrivePolicy"))
        return QueueAttributes(
            visibility_timeout=float(values.get("VisibilityTimeout", 30)),
            dead_letter_queue=_text(redrive.get("deadLetterTargetArn")),
            max_receive_count=_count(redrive.get("maxReceiveCount")),
        )

    def receive(self) -> list[QueueMessage]:
        with translated("ReceiveMessage"):
            response = self._client.receive_message(
                QueueUrl=self._address.url,
                WaitTimeSeconds=self._wait_seconds,
                MaxNumberOfMessages=self._max_messages,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        return [_message(item) for item in response.get("Messages", [])]

    def delete(self, messages: Sequence[QueueMessage]) -> list[QueueMessage]:
        left: list[QueueMessage] = []
        for start in range(0, len(messages), MAX_MESSAGES):
            batch = messages[start : start + MAX_MESSAGES]
            entries = [
                {"Id": str(index), "ReceiptHandle": message.receipt_handle}
                for index, message in enumerate(batch)
            ]
            with translated("DeleteMessageBatch"):
                response = self._client.delete_message_batch(
                    QueueUrl=self._address.url, Entries=entries
                )
            left += [batch[int(failed["Id"])] for failed in response.get("Failed", [])]
        return left


def _message(item: Mapping[str, Any]) -> QueueMessage:
    attributes = item.get("Attributes", {})
    return QueueMessage(
        message_id=str(item.get("MessageId", "")),
        receipt_handle=str(item["ReceiptHandle"]),
        body=str(item.get("Body", "")),
        receive_count=_count(attributes.get("ApproximateReceiveCount")) or 1,
    )


def _redrive_policy(value: object) -> Mapping[str, Any]:
    """The queue's ``RedrivePolicy`` attribute, a JSON document in a string; empty without one."""
    if not isinstance(value, str) or not value:
        return {}
    try:
        policy = json.loads(value)
    except (ValueError, RecursionError):
        return {}
    return policy if isinstance(policy, dict) else {}


def _count(value: object) -> int | None:
    """A count SQS gives as a decimal string (a JSON number in a redrive policy); ``None`` for
    anything else, and for 0 or less, which no count of receipts is (``int`` alone would take
    ``-3``, ``5_0`` and other digits than ASCII's)."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return None
    if not _COUNT.fullmatch(text) or int(text) < 1:
        return None
    return int(text)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@contextmanager
def translated(operation: str) -> Iterator[None]:
    """Turn whatever botocore raises during ``operation`` into a ``QueueError``."""
    try:
        yield
    except ClientError as error:
        code, message = code_and_message(error)
        raise QueueError(message, code=code or "unknown error", operation=operation) from error
    except BotoCoreError as error:
        raise QueueError(str(error), code=type(error).__name__, operation=operation) from error
