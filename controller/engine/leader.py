"""Leader election: which replica runs the loop and writes to Lambda, and when it must stop.

With leader election on (``leader_election.enabled``), every replica is a candidate for one
Lease. ``LeaderElector`` tries every retry period, as client-go's elector does, with the
decisions of ``core.election``: it takes the Lease when it is free or has run out, renews it
while it holds it, and follows otherwise. What it adds to client-go's, because the Python
client's own ``leaderelection`` module lacks it: every request has a timeout (shorter than what
is left of the renew deadline), a leader that misses its renew deadline shuts the write fence at
once (``engine.fence``) and says it lost the lease, and a leader that stops cleanly releases it.

``run_elected`` is what ``run`` does with it: the loop (Git, passes, writes) runs only while
this replica leads; followers serve the HTTP endpoints and wait. On SIGTERM the leader lets
in-flight calls finish (``shutdown_grace``), shuts the fence, releases the Lease so that a
follower takes over at its next try, and exits 0. A leader that loses the lease stops writing at
once, and ``run_elected`` raises ``NotLeader`` so that the process exits non-zero and Kubernetes
restarts it, as a fresh follower.

With sharding (``core.sharding``) each shard elects its leader over a Lease of its own, and a
candidate takes one more step: the ``LeadershipGate`` it is given (``engine.sharding``'s topology
rule) is asked before it takes its Lease, and again after, before the fence opens; when the
gate says that the shards of another topology may still be writing, the candidate does not take
the Lease, or gives it back at once, and stays a follower until they have stopped. A leader is
never asked again: it leads as long as it renews.

A Git push may reach any replica (the Service sends the webhook to any ready pod). The leader
fetches at once; a follower passes the push on by writing the time into an annotation of the
Lease (``core.election.FETCH_REQUEST``). That write changes the Lease's ``resourceVersion``, so
the leader's next renewal, which names the version it last wrote, is refused with a 409; it then
reads the Lease, sees the annotation, and fetches: within one retry period, at no request beyond
the one it makes anyway. The annotation is not part of the record, so it never extends a lease.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from controller.adapters.kube.port import LeaseStore
from controller.adapters.logging import get_logger
from controller.core.election import (
    ElectionTimings,
    Lease,
    LeaseRecord,
    Observed,
    Take,
    Wait,
    decide,
    observe,
    released,
    renewal_overdue,
    renewed,
)
from controller.engine.fence import WriteFence
from controller.errors import (
    ConfigurationError,
    LeaseConflict,
    LeaseError,
    LeaseGone,
    NotLeader,
)

SHARD = "0"
"""The shard of a controller without sharding: the label of its leader metrics. With sharding
each shard runs an election of its own, labelled with its index (``Candidate.shard``)."""

RETRY_JITTER = 0.2
"""A follower's tries are spread over up to this fraction more than the retry period, so that
candidates started together do not ask in step; a takeover after a release then comes within
1.2 retry periods."""

HOLDER_SHOWN = 253
"""Characters of a holder's identity a message shows: a pod's name is at most 253."""

MINIMUM_TIMEOUT = 0.05
"""Seconds: a request with less time than this left before the renew deadline is not sent."""


class LeaderMetrics(Protocol):
    """What the elector tells the metrics (``adapters.metrics.Metrics`` has both)."""

    def leadership(self, shard: str, *, leading: bool) -> None: ...

    def leadership_acquired(self, shard: str) -> None: ...


class LeadershipGate(Protocol):
    """What, besides the Lease, may keep a candidate from leading (``engine.sharding``)."""

    def blocked(self, *, timeout: float) -> str | None:
        """Why this candidate must not lead now, or ``None``; a ``LeaseError`` when that cannot
        be told within ``timeout`` seconds."""
        ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """This replica in the election: who it is, which Lease, and the timings."""

    identity: str
    """``holderIdentity`` when it leads: the pod's name, or the host's and a random suffix."""
    lease_name: str
    namespace: str
    timings: ElectionTimings = field(default_factory=ElectionTimings)
    shard: str = SHARD

    @property
    def lease(self) -> str:
        return f"{self.namespace}/{self.lease_name}"


def utc_now() -> datetime:
    return datetime.now(UTC)


class LeaderElector:
    """One candidate's side of the election; ``run`` on a thread of its own.

    Thread-safe: the HTTP server asks ``status``, ``leading`` and ``request_fetch`` from its
    threads, and the fence is asked from the passes' workers. ``try_once`` is one try, for
    tests that drive the clock themselves.
    """

    def __init__(
        self,
        leases: LeaseStore,
        candidate: Candidate,
        fence: WriteFence,
        *,
        metrics: LeaderMetrics | None = None,
        on_fetch_requested: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        gate: LeadershipGate | None = None,
    ) -> None:
        self._leases = leases
        self._gate = gate
        self.candidate = candidate
        self._fence = fence
        self._metrics = metrics
        self.on_fetch_requested = on_fetch_requested
        self._monotonic = monotonic
        self._wall = wall
        self._random = rng or random.Random()
        self._log = get_logger("controller.engine.leader")
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stopping = False
        self._lease: Lease | None = None
        """The Lease as last read or written: what a renewal or a follower's write replaces."""
        self._observed: Observed | None = None
        self._leading = False
        self._renewed_at: float | None = None
        """When the last successful renewal (or the acquisition) was sent, monotonic."""
        self._lost: str | None = None
        self._reached = False
        self._failing = False
        self._last_try: float | None = None
        self._fetch_pending: str | None = None
        self._fetch_seen: str | None = None
        self._waiting: str | None = None
        """Why the gate keeps this candidate from leading, while it does."""
        if metrics is not None:
            metrics.leadership(candidate.shard, leading=False)

    # -- what the rest of the process asks ------------------------------------------------------

    @property
    def leading(self) -> bool:
        with self._lock:
            return self._leading

    @property
    def lost(self) -> str | None:
        """Why this replica stopped leading when it did not mean to; ``None`` while it has not."""
        with self._lock:
            return self._lost

    def reached(self) -> bool:
        """The Lease has been read or written at least once: this replica knows who leads."""
        with self._lock:
            return self._reached

    def alive(self, now: float | None = None) -> bool:
        """The elector has tried recently (for ``/healthz`` on a follower)."""
        limit = max(10 * self.candidate.timings.retry_period, 60.0)
        with self._lock:
            last = self._last_try
        moment = self._monotonic() if now is None else now
        return last is not None and moment - last < limit

    def wait_for_change(self, timeout: float) -> None:
        """Return when this replica starts or stops leading, or after ``timeout`` seconds."""
        with self._changed:
            self._changed.wait(timeout=timeout)

    def request_fetch(self) -> None:
        """A Git push reached this follower: pass it on to the leader through the Lease."""
        with self._lock:
            self._fetch_pending = self._wall().isoformat()
        self._wake.set()

    def status(self) -> dict[str, Any]:
        """What ``/status`` says of the election: the Lease, who leads and since when."""
        with self._lock:
            record = self._lease.record if self._lease is not None else LeaseRecord()
            leading, waiting = self._leading, self._waiting
        since = record.acquire_time if record.holder else None
        status: dict[str, Any] = {
            "lease": self.candidate.lease,
            "identity": self.candidate.identity,
            "leading": leading,
            "leader": record.holder or None,
            "leaderSince": _rfc3339(since) if since is not None else None,
            "transitions": record.transitions,
        }
        if self._gate is not None:
            status["waitingFor"] = waiting
        return status

    # -- the elector's thread -------------------------------------------------------------------

    def run(self) -> None:
        """Try, then wait a retry period, until ``stop`` is called or the lease is lost."""
        while True:
            started = self._monotonic()
            self.try_once()
            with self._lock:
                if self._stopping or self._lost is not None:
                    return
                leading = self._leading
            period = self.candidate.timings.retry_period
            if not leading:
                period *= 1 + self._random.uniform(0, RETRY_JITTER)
            self._wake.wait(timeout=max(period - (self._monotonic() - started), 0.0))
            self._wake.clear()

    def stop(self) -> None:
        """End ``run`` after its current try; the lease is kept until ``release``."""
        with self._lock:
            self._stopping = True
        self._wake.set()

    def try_once(self) -> None:
        """One try to acquire or renew the lease (client-go's ``tryAcquireOrRenew``), then the
        check of the renew deadline. Never raises for a failed request: it is tried again."""
        started = self._monotonic()
        with self._lock:
            self._last_try = started
            leading = self._leading
        try:
            if leading:
                self._renew()
            else:
                self._read_and_decide()
        except LeaseConflict:
            pass  # another candidate wrote first: read again at the next try
        except LeaseError as error:
            self._failed(str(error), leading)
        else:
            with self._lock:
                self._failing = False
        self._check_deadline()

    def release(self) -> bool:
        """Stop writing, then give the lease up, as client-go's ``ReleaseOnCancel``: an empty
        holder and a one-second duration, so that the next candidate need not wait out the
        lease. True when released (or never held)."""
        self._fence.shut()
        with self._lock:
            held, lease = self._leading, self._lease
            self._leading = False
            self._changed.notify_all()
        if not held or lease is None:
            return True
        self._set_metric(leading=False)
        record = released(lease.record, self._wall())
        try:
            # One retry period at most: the pod's termination grace is counted, and a release
            # that cannot be made only means that the followers wait the lease out.
            written = self._leases.replace(
                lease, record, timeout=self.candidate.timings.retry_period
            )
        except LeaseError as error:
            self._log.warning(
                "could not release the lease", lease=self._leases.where, error=str(error)
            )
            return False
        with self._lock:
            self._lease = written
        self._log.info("released the lease", lease=self._leases.where)
        return True

    # -- one try --------------------------------------------------------------------------------

    def _timeout(self) -> float:
        """A request's timeout: the retry period, or less when the renew deadline comes first,
        so that a leader knows it has lost before any follower can take over."""
        period = self.candidate.timings.retry_period
        with self._lock:
            renewed_at, leading = self._renewed_at, self._leading
        if not leading or renewed_at is None:
            return period
        left = renewed_at + self.candidate.timings.renew_deadline - self._monotonic()
        return min(period, left) if left > 0 else 0.0

    def _renew(self) -> None:
        """The leader's try: first the record it wrote last, at the version it got back
        (client-go's optimistic path, one request); when another wrote the Lease since (a
        follower's fetch request lands here as a 409) or deleted it (a 404: it is created
        again), read it and decide again."""
        with self._lock:
            lease = self._lease
        timeout = self._timeout()
        if timeout < MINIMUM_TIMEOUT:
            return
        if lease is not None:
            sent = self._monotonic()
            try:
                written = self._leases.replace(
                    lease, renewed(lease.record, self._wall()), timeout=timeout
                )
            except (LeaseConflict, LeaseGone):
                pass  # written by another since, or deleted: read it and decide again
            else:
                self._renewal_succeeded(written, sent)
                return
        self._read_and_decide()

    def _read_and_decide(self) -> None:
        timeout = self._timeout()
        if timeout < MINIMUM_TIMEOUT:
            return
        lease = self._leases.get(timeout=timeout)
        now = self._monotonic()
        with self._lock:
            self._reached = True
            if lease is not None:
                self._observed = observe(self._observed, lease.record, now)
            observed = self._observed if lease is not None else None
            self._lease = lease if lease is not None else self._lease
            leading = self._leading
        if lease is not None:
            self._notice_fetch_request(lease, leading)
        decision = decide(
            self.candidate.identity,
            observed,
            now=now,
            wall=self._wall(),
            lease_duration=self.candidate.timings.lease_duration,
        )
        if isinstance(decision, Wait):
            if leading:
                self._lose(
                    f"the Lease {self._leases.where} is now held by {_shown(decision.holder)}"
                )
            elif lease is not None:
                self._pass_fetch_on(lease)
            return
        # A take that would begin a tenure is asked of the gate first, sparing a write that
        # would be given back at once; the check that counts comes after the take (_take).
        acquiring = not (decision.renewal and leading)
        if acquiring and self._gate is not None and self._gated():
            return
        self._take(decision, lease, acquiring=acquiring)

    def _take(self, decision: Take, lease: Lease | None, *, acquiring: bool) -> None:
        timeout = self._timeout()
        if timeout < MINIMUM_TIMEOUT:
            return
        sent = self._monotonic()
        if lease is None:
            written = self._leases.create(decision.record, timeout=timeout)
        else:
            written = self._leases.replace(lease, decision.record, timeout=timeout)
        if acquiring and self._gate is not None:
            # Asked again now that the Lease is ours: whoever takes a Lease of another
            # topology from here on sees this one held (core.sharding says why that suffices).
            try:
                blocked = self._gated()
            except LeaseError as error:
                self._failed(str(error), leading=False)
                blocked = True
            if blocked:
                self._give_back(written)
                return
        if decision.renewal:
            self._renewal_succeeded(written, sent)
        else:
            self._acquired(written, sent)

    def _renewal_succeeded(self, written: Lease, sent: float) -> None:
        with self._lock:
            self._lease = written
            self._reached = True
            self._renewed_at = sent
            if not self._leading:  # this replica held it before it restarted: it leads again
                self._leading = True
                self._changed.notify_all()
                became = True
            else:
                became = False
        self._fence.open_until(sent + self.candidate.timings.renew_deadline)
        if became:
            self._started_leading(written)

    def _acquired(self, written: Lease, sent: float) -> None:
        with self._lock:
            self._lease = written
            self._reached = True
            self._renewed_at = sent
            self._leading = True
            self._fetch_pending = None  # the new leader fetches at start-up anyway
            self._fetch_seen = written.fetch_requested
            self._changed.notify_all()
        self._fence.open_until(sent + self.candidate.timings.renew_deadline)
        self._started_leading(written)

    def _started_leading(self, written: Lease) -> None:
        self._set_metric(leading=True)
        if self._metrics is not None:
            self._metrics.leadership_acquired(self.candidate.shard)
        self._log.info(
            "became the leader",
            lease=self._leases.where,
            identity=self.candidate.identity,
            transitions=written.record.transitions,
        )

    def _gated(self) -> bool:
        """Whether the gate keeps this candidate from leading now; said once per wait."""
        assert self._gate is not None
        timeout = self._timeout()
        if timeout < MINIMUM_TIMEOUT:
            return True
        why = self._gate.blocked(timeout=timeout)
        with self._lock:
            first = why is not None and self._waiting is None
            self._waiting = why
        if first:
            self._log.info(
                "waiting for the shards of another topology to stop",
                lease=self._leases.where,
                blockers=why,
            )
        return why is not None

    def _give_back(self, written: Lease) -> None:
        """Release a Lease just taken and stay a follower: the fence never opened. Should the
        release fail, the next try finds the Lease still ours and asks the gate again."""
        with self._lock:
            self._lease = written
        try:
            released_lease = self._leases.replace(
                written,
                released(written.record, self._wall()),
                timeout=max(self._timeout(), MINIMUM_TIMEOUT),
            )
        except LeaseError as error:
            self._failed(str(error), leading=False)
            return
        with self._lock:
            self._lease = released_lease
        self._log.info(
            "gave the lease back: another topology may be writing", lease=self._leases.where
        )

    def _check_deadline(self) -> None:
        with self._lock:
            renewed_at, leading = self._renewed_at, self._leading
        deadline = self.candidate.timings.renew_deadline
        if (
            leading
            and renewed_at is not None
            and renewal_overdue(renewed_at, self._monotonic(), deadline)
        ):
            self._lose(
                f"the Lease {self._leases.where} was not renewed within the renew deadline "
                f"({self.candidate.timings.renew_deadline:g} s)"
            )

    def _lose(self, why: str) -> None:
        self._fence.shut()
        with self._lock:
            if not self._leading:
                return
            self._leading = False
            self._lost = why
            self._changed.notify_all()
        self._set_metric(leading=False)
        self._log.error("lost the lease; writes stopped", lease=self._leases.where, reason=why)

    def _failed(self, error: str, leading: bool) -> None:
        with self._lock:
            first, self._failing = not self._failing, True
        if first:  # one line per run of failures, not one per retry period
            log = self._log.warning if leading else self._log.info
            log("lease request failed", lease=self._leases.where, leading=leading, error=error)

    def _set_metric(self, *, leading: bool) -> None:
        if self._metrics is not None:
            self._metrics.leadership(self.candidate.shard, leading=leading)

    # -- the Git webhook, passed from a follower to the leader ----------------------------------

    def _notice_fetch_request(self, lease: Lease, leading: bool) -> None:
        """As the leader, fetch when a follower has passed a push on since the last look."""
        requested = lease.fetch_requested
        with self._lock:
            new = requested is not None and requested != self._fetch_seen
            self._fetch_seen = requested
        if new and leading and self.on_fetch_requested is not None:
            self._log.info("a follower passed a webhook on; fetching", requested=requested)
            self.on_fetch_requested()

    def _pass_fetch_on(self, lease: Lease) -> None:
        """As a follower, write the pending fetch request into the Lease, record untouched; a
        409 keeps it pending for the next try."""
        with self._lock:
            pending = self._fetch_pending
        if pending is None:
            return
        written = self._leases.replace(
            lease,
            lease.record,
            timeout=self._timeout(),
            annotations=lease.requesting_fetch(pending),
        )
        with self._lock:
            self._lease = written
            self._fetch_seen = pending
            if self._fetch_pending == pending:
                self._fetch_pending = None
        self._log.info("passed a webhook on to the leader", lease=self._leases.where)


def _shown(holder: str) -> str:
    """A holder's identity as a message may carry it: anyone may write one into the Lease, of
    any length and with control characters; a message stays one short line."""
    text = holder.encode("unicode_escape").decode("ascii")
    return text if len(text) <= HOLDER_SHOWN else text[:HOLDER_SHOWN] + "..."


def _rfc3339(moment: datetime) -> str:
    """``moment`` as ``engine.status.rfc3339`` writes a time, from the datetime itself: by way
    of a Unix time, a time at the end of year 9999 (which anyone may write into the Lease)
    rounds into year 10000, which Python cannot hold."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def run_elected(
    elector: LeaderElector,
    loop: Callable[[threading.Event], None],
    stop: threading.Event,
    *,
    shutdown_grace: float,
    wake_loop: Callable[[], None] = lambda: None,
) -> bool:
    """Be a candidate until ``stop`` is set; run ``loop`` (with an event that stops it) while
    this replica leads. True when everything stopped within the grace period.

    Raises ``NotLeader`` when the lease was lost, once the loop has stopped, so that the
    process exits non-zero; a loop still running after the grace period is not waited for
    (``False``: the caller must not wait for its threads either).
    """
    election = threading.Thread(target=elector.run, name="leader-election", daemon=True)
    election.start()
    loop_stop = threading.Event()
    running: threading.Thread | None = None
    try:
        while not stop.is_set() and elector.lost is None:
            if running is None and elector.leading:
                running = threading.Thread(
                    target=loop, args=(loop_stop,), name="controller-loop", daemon=True
                )
                running.start()
            if running is not None and not running.is_alive():
                if loop_stop.is_set():  # it stopped itself: its writes were refused (NotLeader)
                    break
                raise ConfigurationError("the controller loop ended unexpectedly; see the log")
            if not election.is_alive():
                raise ConfigurationError("the leader election ended unexpectedly; see the log")
            elector.wait_for_change(timeout=0.5)
    finally:
        loop_stop.set()
        wake_loop()
        clean = running is None or _joined(running, shutdown_grace)
        # The elector renews while the loop finishes its in-flight calls; it stops, then the
        # lease is released, so that no renewal of its own can race the release.
        elector.stop()
        election.join(timeout=elector.candidate.timings.renew_deadline)
        lost = elector.lost
        if lost is None:
            elector.release()
    if not clean:
        _stopped(clean=False, shutdown_grace=shutdown_grace)
        return False
    if lost is not None:
        raise NotLeader(f"lost the leadership: {lost}; exiting so that the pod restarts")
    _stopped(clean=True, shutdown_grace=shutdown_grace)
    return True


def run_alone(
    loop: Callable[[threading.Event], None],
    stop: threading.Event,
    *,
    shutdown_grace: float,
    wake_loop: Callable[[], None] = lambda: None,
) -> bool:
    """Run ``loop`` until ``stop`` is set, without leader election: the one replica leads.
    True when it stopped within the grace period; a loop still running after it is not
    waited for (its thread is a daemon, so that a stuck pass cannot keep the process up)."""
    running = threading.Thread(target=loop, args=(stop,), name="controller-loop", daemon=True)
    running.start()
    while not stop.wait(1.0):
        if not running.is_alive():
            raise ConfigurationError("the controller loop ended unexpectedly; see the log")
    wake_loop()  # now rather than at its next tick
    clean = _joined(running, shutdown_grace)
    _stopped(clean=clean, shutdown_grace=shutdown_grace)
    return clean


def _stopped(*, clean: bool, shutdown_grace: float) -> None:
    log = get_logger("controller.engine.leader")
    if clean:
        log.info("controller stopped", clean=True)
    else:
        log.error(
            "controller stopped with a pass still running",
            clean=False,
            shutdown_grace=shutdown_grace,
        )


def _joined(thread: threading.Thread, timeout: float) -> bool:
    thread.join(timeout=timeout)
    return not thread.is_alive()
