"""Change events in: a function changed outside Git is reconciled seconds later, not at resync.

The leader long-polls each configured SQS queue, into which an EventBridge rule sends Lambda's
calls as CloudTrail records them (``core.events`` reads them; ``deploy/events/`` makes the rule
and the queue). Each message gets a verdict and is counted once per receipt:

- **matched**: someone other than the controller changed a managed function. After a merge
  window (``merge_window``, 1 s), every function with events in it is requested from the loop
  at once (``Controller.request``): a targeted reconcile of that function alone, ahead of any
  full pass, which reads it from Lambda and heals (``enforce``) or reports (``detect``). Repeats
  merge: events for one function within the window make one request, and an event that comes
  while its function's requested reconcile has not yet begun joins it (that reconcile reads
  Lambda after the event arrived). The message is deleted once a reconcile begun after its
  request has finished, whatever its outcome: the event was a wake-up and it has been answered
  by a read of the truth. A failure is the loop's to report (``/status``, the function's
  ``error`` series and its alert) and the resync's to retry; leaving the message would only
  bring it back until the redrive policy parked it in the dead-letter queue, beside the
  malformed ones, where it would mean nothing. A message whose reconcile has not finished
  within the queue's visibility timeout is left (its receipt handle would be stale): it comes
  back and is judged again.
- **self**: the controller's own write, recognised by the caller CloudTrail names (the principal
  ARN STS gave at start, or the access key id the registry signs with): deleted at once, at no
  Lambda read. A write not recognised so (another replica's, before a failover) is matched and
  costs one read, which finds live equal to desired and writes nothing.
- **unmanaged**: a function no valid declaration names, or a call that changed nothing:
  deleted at once, at no Lambda read.
- **malformed**: not a Lambda event: never deleted, so that the queue's redrive policy moves it
  to the dead-letter queue after ``maxReceiveCount`` receipts; each receipt counts and logs it.

Events are best effort (CloudTrail may deliver late, or not at all), so the periodic resync stays
as the backstop. A queue that fails (gone, unreachable, access denied) is retried with a
backoff of up to ``backoff_max`` seconds, logged at each failure and once when it answers again;
the loop goes on meanwhile. The consumer runs only where the loop runs: ``beside`` starts it with
the loop and stops it with the loop, so with leader election only the leader consumes, from the
moment it leads until it stops leading.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from controller.adapters.events.port import EventQueue, QueueAttributes, QueueMessage
from controller.adapters.logging import get_logger
from controller.core.events import (
    ChangeEvent,
    ManagedFunctions,
    Verdict,
    WriterIdentity,
    event_lag,
    judge,
    parse_event,
)
from controller.core.model import FunctionId
from controller.engine.status import optional_rfc3339
from controller.errors import QueueError

REASON = "event"
"""The reason of the targeted passes that change events ask for, in the pass's log line."""

SETTLE_POLL = 0.05
"""Seconds between two looks at whether requested reconciles have finished."""

LOGGED_NAMES = 10
"""Functions a request's log line names, at most; it counts them all."""

KNOWN_KEYS = 16
"""Access key ids of the controller's own credentials remembered: temporary credentials get a
new one at each renewal, and an event may arrive some minutes after the write it records."""


class Reconciles(Protocol):
    """What the consumer asks of the loop (``engine.loop.Controller`` has it)."""

    def managed_functions(self) -> ManagedFunctions | None: ...

    def request(self, functions: Iterable[FunctionId], reason: str) -> int: ...

    def reconciled_since(self, function: FunctionId, ticket: int) -> bool: ...

    def claimed_since(self, function: FunctionId, ticket: int) -> bool: ...


class EventMetrics(Protocol):
    """What the consumer tells the metrics (``adapters.metrics.Metrics`` has it)."""

    def event_received(self, result: str, *, lag: float | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """How the consumer merges events and backs off; ``Settings.events`` builds it."""

    merge_window: float = 1.0
    """Seconds the first event of a function waits for others of the same function."""
    backoff_initial: float = 1.0
    """Seconds before the first retry of a queue that failed; doubled at each failure."""
    backoff_max: float = 60.0


@dataclass(eq=False)
class _Held:
    """A message of managed functions, held until a reconcile of each has covered it."""

    queue: EventQueue
    message: QueueMessage
    deadline: float
    """Monotonic time after which its receipt handle may be stale: it is then left alone."""
    pending: set[FunctionId] = field(default_factory=set)
    abandoned: bool = False
    """Past its deadline: never deleted with this receipt."""


@dataclass
class _Waiting:
    """A function in its merge window: the messages that will make its request."""

    due: float
    held: list[_Held] = field(default_factory=list)


@dataclass
class _QueueState:
    """How a queue stands, for ``/status``."""

    state: str = "idle"
    """``idle`` (not receiving: a follower, or no revision read yet), ``receiving`` or
    ``unavailable``."""
    error: str | None = None
    """Why it is unavailable: the last error, as AWS gave it."""
    since: float | None = None
    """When it last changed state (Unix time)."""
    last_received_at: float | None = None


@dataclass
class _Requested:
    """A request made for a function, and the messages waiting for it to be reconciled."""

    ticket: int
    held: list[_Held] = field(default_factory=list)


class EventConsumer:
    """Receives the change events of ``queues`` and asks ``controller`` to reconcile the
    functions they name; ``writer`` says who the controller's own writes come from."""

    def __init__(
        self,
        queues: Sequence[EventQueue],
        controller: Reconciles,
        metrics: EventMetrics,
        *,
        writer: Callable[[], WriterIdentity] = WriterIdentity,
        settings: ConsumerSettings | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._queues = tuple(queues)
        self._controller = controller
        self._metrics = metrics
        self._writer = writer
        self._settings = settings or ConsumerSettings()
        self._clock = clock
        self._monotonic = monotonic
        self._random = rng or random.Random()
        self._log = get_logger("controller.engine.events")
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._waiting: dict[FunctionId, _Waiting] = {}
        self._requested: dict[FunctionId, list[_Requested]] = {}
        self._writer_arns: set[str] = set()
        self._writer_keys: deque[str] = deque(maxlen=KNOWN_KEYS)
        self._states = {queue.url: _QueueState() for queue in self._queues}

    @property
    def queues(self) -> tuple[EventQueue, ...]:
        return self._queues

    def status(self) -> dict[str, Any]:
        """``/status``'s ``changeEvents``: each queue's state (receiving, or unavailable and
        why, since when) and when it last delivered a message; the merge window's functions
        and the requests waiting for their reconcile."""
        with self._lock:
            return {
                "queues": [
                    {
                        "url": url,
                        "state": state.state,
                        "error": state.error,
                        "since": optional_rfc3339(state.since),
                        "lastReceivedAt": optional_rfc3339(state.last_received_at),
                    }
                    for url, state in self._states.items()
                ],
                "waiting": len(self._waiting),
                "requested": len(self._requested),
            }

    def beside(self, loop: Callable[[threading.Event], None]) -> Callable[[threading.Event], None]:
        """``loop`` with this consumer running beside it on the same stop event: it starts when
        the loop starts (with leader election: when this replica leads) and stops when the loop
        stops (or stops leading). Messages held then are not deleted: they come back to whoever
        leads next, whose start-up pass reconciles everything anyway."""

        def run(stop: threading.Event) -> None:
            consumer = threading.Thread(
                target=self.run, args=(stop,), name="change-events", daemon=True
            )
            consumer.start()
            try:
                loop(stop)
            finally:
                stop.set()
                self._wake.set()
                consumer.join(timeout=1.0)

        return run

    def run(self, stop: threading.Event) -> None:
        """Receive from every queue and dispatch until ``stop`` is set.

        A receiver in the middle of a long poll is not waited for (its thread is a daemon):
        what it receives after ``stop`` is left in the queue for the next receipt.
        """
        for index, queue in enumerate(self._queues):
            threading.Thread(
                target=self._receive_from,
                args=(queue, stop),
                name=f"change-events-{index}",
                daemon=True,
            ).start()
        while not stop.is_set():
            with self._lock:
                busy = bool(self._waiting or self._requested)
            self._wake.wait(timeout=SETTLE_POLL if busy else 1.0)
            self._wake.clear()
            try:
                self.dispatch()
            except Exception as error:  # noqa: BLE001 - the consumer must outlive a bug
                self._log.exception(
                    "change events: dispatch failed unexpectedly",
                    error=f"{type(error).__name__}: {error}",
                )
                stop.wait(1.0)
        for queue in self._queues:
            self._set_state(queue, "idle")

    # -- receiving ------------------------------------------------------------------------------

    def _receive_from(self, queue: EventQueue, stop: threading.Event) -> None:
        attributes: QueueAttributes | None = None
        failures = 0
        while not stop.is_set():
            if self._controller.managed_functions() is None:
                stop.wait(0.2)  # no revision read yet: an event could not be judged
                continue
            try:
                if attributes is None:
                    attributes = queue.attributes()
                    self._set_state(queue, "receiving")
                    self._announce(queue, attributes, recovered=failures > 0)
                    failures = 0
                messages = queue.receive()
            except QueueError as error:
                attributes = None
                failures += 1
                self._set_state(queue, "unavailable", str(error))
                delay = self._backoff(failures)
                self._log.warning(
                    "change events: queue unavailable",
                    queue=queue.url,
                    error=str(error),
                    failures=failures,
                    retry_in=round(delay, 1),
                )
                stop.wait(delay)
                continue
            except Exception as error:  # noqa: BLE001 - a receiver must outlive a bug
                attributes = None
                failures += 1
                self._log.exception(
                    "change events: receive failed unexpectedly",
                    queue=queue.url,
                    error=f"{type(error).__name__}: {error}",
                )
                stop.wait(self._backoff(failures))
                continue
            if messages and not stop.is_set():
                self.take(queue, attributes, messages)

    def _set_state(self, queue: EventQueue, state: str, error: str | None = None) -> None:
        with self._lock:
            current = self._states[queue.url]
            if current.state != state:
                current.since = self._clock()
            current.state, current.error = state, error

    def _announce(self, queue: EventQueue, attributes: QueueAttributes, *, recovered: bool) -> None:
        self._log.info(
            "change events: queue available again" if recovered else "change events: receiving",
            queue=queue.url,
            visibility_timeout=attributes.visibility_timeout,
            dead_letter_queue=attributes.dead_letter_queue or "none",
        )
        if attributes.dead_letter_queue is None:
            self._log.warning(
                "change events: the queue has no dead-letter queue; a malformed message is "
                "received again and again until it expires: give it a redrive policy",
                queue=queue.url,
            )

    def _backoff(self, failures: int) -> float:
        settings = self._settings
        doubled = settings.backoff_initial * 2.0 ** min(failures - 1, 30)
        return min(settings.backoff_max, doubled) * self._random.uniform(0.5, 1.0)

    def take(
        self, queue: EventQueue, attributes: QueueAttributes, messages: Sequence[QueueMessage]
    ) -> None:
        """Judge and count each received message: hold the matched ones for their functions'
        reconciles, delete the unmanaged and own ones at once, leave the malformed ones."""
        received = self._monotonic()
        now = self._clock()
        # A message must be deleted before its visibility timeout runs out; a few seconds of
        # margin keep the delete clear of the redelivery.
        margin = min(5.0, attributes.visibility_timeout / 5)
        deadline = received + attributes.visibility_timeout - margin
        managed = self._controller.managed_functions() or ManagedFunctions()
        current = self._writer()  # outside the lock: it may ask STS, or renew credentials
        done: list[QueueMessage] = []
        with self._lock:
            if queue.url in self._states:
                self._states[queue.url].last_received_at = now
            writer = self._writer_now(current)
            for message in messages:
                event = parse_event(message.body)
                verdict = judge(event, managed, writer)
                lag = event_lag(event.happened_at, now) if isinstance(event, ChangeEvent) else None
                self._metrics.event_received(verdict.result, lag=lag)
                self._log_event(queue, message, event, verdict, lag)
                if verdict.result in ("unmanaged", "self"):
                    done.append(message)
                elif verdict.result == "matched":
                    held = _Held(queue, message, deadline, set(verdict.functions))
                    for function in verdict.functions:
                        self._hold(function, held, received)
        self._wake.set()
        self._delete(queue, done)

    def _writer_now(self, current: WriterIdentity) -> WriterIdentity:
        """The controller's own identity: every ARN seen and the last access key ids, since a
        renewal changes the key the next writes are signed with."""
        self._writer_arns |= current.arns
        for key in current.access_key_ids:
            if key not in self._writer_keys:
                self._writer_keys.append(key)
        return WriterIdentity(frozenset(self._writer_arns), frozenset(self._writer_keys))

    def _hold(self, function: FunctionId, held: _Held, received: float) -> None:
        requests = self._requested.get(function)
        if requests and not self._controller.claimed_since(function, requests[-1].ticket):
            requests[-1].held.append(held)  # its reconcile has not begun: it will read after this
            return
        waiting = self._waiting.get(function)
        if waiting is None:
            self._waiting[function] = _Waiting(received + self._settings.merge_window, [held])
        else:
            waiting.held.append(held)

    def _log_event(
        self,
        queue: EventQueue,
        message: QueueMessage,
        event: object,
        verdict: Verdict,
        lag: float | None,
    ) -> None:
        if verdict.result == "malformed":
            self._log.warning(
                "change events: malformed message left for the dead-letter queue",
                queue=queue.url,
                message_id=message.message_id,
                receive_count=message.receive_count,
                reason=verdict.reason,
            )
            return
        fields: dict[str, object] = {"result": verdict.result, "message_id": message.message_id}
        if isinstance(event, ChangeEvent):
            fields |= {"function": str(event.function), "operation": event.operation}
        if lag is not None:
            fields["lag"] = round(lag, 3)
        if verdict.reason:
            fields["reason"] = verdict.reason
        self._log.debug("change event", **fields)

    # -- dispatching ----------------------------------------------------------------------------

    def dispatch(self) -> None:
        """Request the functions whose merge window is over, and delete the messages whose
        reconciles have finished (for callers that drive the consumer step by step)."""
        self._request_due()
        self._settle()

    def _request_due(self) -> None:
        now = self._monotonic()
        with self._lock:
            due = {f: waiting for f, waiting in self._waiting.items() if waiting.due <= now}
            if not due:
                return
            for function in due:
                del self._waiting[function]
            ticket = self._controller.request(due, REASON)
            for function, waiting in due.items():
                self._requested.setdefault(function, []).append(_Requested(ticket, waiting.held))
        names = sorted(str(function) for function in due)
        self._log.info(
            "change events: reconcile requested",
            functions=len(names),
            names=names[:LOGGED_NAMES] + (["..."] if len(names) > LOGGED_NAMES else []),
            events=len({id(held) for waiting in due.values() for held in waiting.held}),
        )

    def _settle(self) -> None:
        now = self._monotonic()
        finished: list[_Held] = []
        expired: list[_Held] = []
        with self._lock:
            for function, requests in list(self._requested.items()):
                kept = []
                for request in requests:
                    if self._controller.reconciled_since(function, request.ticket):
                        for held in request.held:
                            held.pending.discard(function)
                            if not held.pending and not held.abandoned:
                                finished.append(held)
                        continue
                    expired += _expire(request.held, now)
                    request.held = [held for held in request.held if not held.abandoned]
                    if request.held:
                        kept.append(request)
                if kept:
                    self._requested[function] = kept
                else:
                    del self._requested[function]
            for waiting in self._waiting.values():
                expired += _expire(waiting.held, now)
                waiting.held = [held for held in waiting.held if not held.abandoned]
        for held in expired:
            self._log.warning(
                "change events: reconcile not finished within the visibility timeout; the "
                "message is left to come back",
                queue=held.queue.url,
                message_id=held.message.message_id,
                functions=sorted(str(function) for function in held.pending),
            )
        by_queue: dict[int, tuple[EventQueue, list[QueueMessage]]] = {}
        for held in finished:
            by_queue.setdefault(id(held.queue), (held.queue, []))[1].append(held.message)
        for queue, messages in by_queue.values():
            self._delete(queue, messages)

    def _delete(self, queue: EventQueue, messages: Sequence[QueueMessage]) -> None:
        if not messages:
            return
        try:
            left = queue.delete(messages)
        except QueueError as error:
            left = list(messages)
            self._log.warning(
                "change events: cannot delete messages; they will be received again",
                queue=queue.url,
                error=str(error),
                messages=len(left),
            )
            return
        if left:
            self._log.warning(
                "change events: the queue did not delete some messages; they will be received "
                "again",
                queue=queue.url,
                messages=len(left),
            )


def _expire(held: Iterable[_Held], now: float) -> list[_Held]:
    """Mark the messages past their deadline as abandoned; the ones newly so."""
    expired = []
    for message in held:
        if not message.abandoned and message.deadline <= now:
            message.abandoned = True
            expired.append(message)
    return expired
