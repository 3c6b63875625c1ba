"""The port of a queue of change events: receive, delete, and what the queue is configured with.

``sqs.SqsQueue`` implements it over boto3; tests may wrap it to count or fail calls. Every
failure is a ``QueueError``, so that the consumer backs off the same way whatever went wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """One message as received: its body, and the receipt handle that deletes it."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int = 1
    """How many times the queue has handed this message out, this time included."""


@dataclass(frozen=True, slots=True)
class QueueAttributes:
    """What the consumer needs to know of a queue's configuration."""

    visibility_timeout: float
    """Seconds a received message stays hidden; past them it is received again, so a message
    must be deleted within them (with the receipt handle of its last receipt)."""
    dead_letter_queue: str | None
    """The ARN of the queue's dead-letter queue (its redrive policy); ``None`` without one."""
    max_receive_count: int | None = None
    """Receipts after which the queue moves a message to its dead-letter queue."""


class EventQueue(Protocol):
    """One SQS queue of change events."""

    @property
    def url(self) -> str:
        """The queue's URL, for the log (it holds no secret)."""
        ...

    def attributes(self) -> QueueAttributes:
        """The queue's configuration, as the queue says it now."""
        ...

    def receive(self) -> list[QueueMessage]:
        """Up to the configured number of messages, waiting up to the configured long-poll
        time for the first; an empty list when none came."""
        ...

    def delete(self, messages: Sequence[QueueMessage]) -> list[QueueMessage]:
        """Delete ``messages``; returns those the queue did not delete."""
        ...
