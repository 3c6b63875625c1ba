"""Leader election over a Kubernetes Lease, decided as client-go decides it: the pure part.

Several replicas of the controller may run, so that a node drain or a crash does not stop
reconciliation, but only one may write to Lambda. They agree through one
``coordination.k8s.io/v1`` Lease: the candidate that holds it leads, for as long as it renews
it. This module decides, from the Lease as read and from what this candidate saw before, what
to write and whether the Lease is free; ``engine.leader`` reads and writes it and keeps the
time. Nothing here reads a clock: every time is given.

The rules are client-go's (``tools/leaderelection``), so that the Lease reads the same to
``kubectl`` and to anyone who knows Kubernetes' own controllers:

- **compare-and-set**: every write names the ``resourceVersion`` it read; a 409 means another
  candidate wrote first, and nothing was taken;
- **expiry by local observation**: a holder's lease runs out ``leaseDurationSeconds`` after
  this candidate last saw the record *change*, by its own monotonic clock. The holder's
  ``renewTime`` is never compared with this machine's clock, so clock skew between nodes cannot
  hand the lease to two candidates (a holder whose clock runs ahead does not keep it longer);
- ``leaseTransitions`` counts the writes that change the holder; ``acquireTime`` is when the
  holder took the lease, ``renewTime`` when it last renewed it;
- **release**: a leader that stops cleanly writes an empty holder and a duration of one second,
  so a follower takes over at its next try rather than after a whole lease duration;
- a leader whose renewals have failed for ``renew_deadline`` stops leading. The deadline is
  shorter than the lease duration, and it counts from when the last successful renewal was
  *sent*, so the leader has stopped before any follower can have seen the lease run out.

Only the record (holder, duration, times, transitions) counts as a change: a follower that
writes the fetch-request annotation (``FETCH_REQUEST``) changes the ``resourceVersion`` but not
the record, and so never extends the lease of a holder that has died.

Where client-go cannot help, because anyone with ``kubectl edit`` (or a proxy, or another
version) can leave a record it would misread, this module takes the safe side:

- a record with a holder but no usable duration (none, not above 0, or beyond the wire's int32:
  ``lease_duration_seconds`` 0) is judged by this candidate's own lease duration. client-go
  reads it as run out at once, which would let a follower take the lease from a leader that is
  still renewing; every candidate of one installation declares the same duration anyway;
- ``leaseTransitions`` stops at the largest int32 (``MAX_TRANSITIONS``) rather than overflow
  into a value the API server refuses, which would keep every candidate from ever taking over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

JITTER_FACTOR = 1.2
"""client-go's: the renew deadline must exceed the retry period by this factor, because a
follower's retries are spread over up to this much more than the period."""

FETCH_REQUEST = "lambda-gitops.io/fetch-requested"
"""The Lease annotation a follower writes when it receives the Git webhook: the leader sees the
Lease change at its next renewal and fetches at once. Its value is when the push arrived."""


MAX_TRANSITIONS = 2**31 - 1
"""The largest ``leaseTransitions`` (an int32 on the wire): the count stops there."""


def timing_problem(lease_duration: float, renew_deadline: float, retry_period: float) -> str | None:
    """What is wrong with these timings, as client-go checks them, or ``None``.

    The lease duration is whole seconds, as ``leaseDurationSeconds`` is on the wire."""
    if lease_duration < 1 or lease_duration != int(lease_duration):
        return f"lease_duration {lease_duration:g} must be a whole number of seconds, 1 or more"
    if retry_period <= 0:
        return f"retry_period {retry_period:g} must be above 0"
    if lease_duration <= renew_deadline:
        return (
            f"lease_duration {lease_duration:g} must be greater than renew_deadline "
            f"{renew_deadline:g}: a leader must stop writing before a follower may take over"
        )
    if renew_deadline <= JITTER_FACTOR * retry_period:
        return (
            f"renew_deadline {renew_deadline:g} must be greater than {JITTER_FACTOR:g} x "
            f"retry_period {retry_period:g}, so that a leader gets more than one try to renew"
        )
    return None


@dataclass(frozen=True, slots=True)
class ElectionTimings:
    """How long a lease lasts, how long a leader keeps trying to renew it, and how often a
    candidate tries; controller-runtime's defaults (15/10/2 s)."""

    lease_duration: int = 15
    """Seconds a follower waits, from the last change it saw, before taking the lease over."""
    renew_deadline: float = 10.0
    """Seconds a leader keeps trying to renew before it stops leading."""
    retry_period: float = 2.0
    """Seconds between two tries, to acquire or to renew."""

    def __post_init__(self) -> None:
        problem = timing_problem(self.lease_duration, self.renew_deadline, self.retry_period)
        if problem is not None:
            raise ValueError(problem)


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """What the Lease's spec says of its holder, as client-go's ``LeaderElectionRecord``."""

    holder: str = ""
    """``holderIdentity``; empty when nobody holds the lease (never taken, or released)."""
    lease_duration_seconds: int = 0
    """0 when the Lease declares no usable duration (see the module's docstring)."""
    acquire_time: datetime | None = None
    renew_time: datetime | None = None
    transitions: int = 0
    """``leaseTransitions``: how many times the holder has changed."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A Lease as read from the API server: its record, and what a write must carry back."""

    record: LeaseRecord
    resource_version: str
    """The version a replace must name: the compare-and-set."""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    """Kept as read, so that a replace does not drop what someone else put there."""
    name: str = ""
    """``metadata.name``: which Lease of a listing this is (``core.sharding``)."""

    @property
    def fetch_requested(self) -> str | None:
        """When a follower last passed a Git push on (``FETCH_REQUEST``), if one has."""
        return self.annotations.get(FETCH_REQUEST)

    def requesting_fetch(self, when: str) -> dict[str, str]:
        """The annotations with a fetch request at ``when``, the others kept: what a follower,
        or another shard, writes to pass a Git push on to the Lease's holder."""
        return {**self.annotations, FETCH_REQUEST: when}


@dataclass(frozen=True, slots=True)
class Observed:
    """A record, and when this candidate first saw it as it is (its own monotonic clock)."""

    record: LeaseRecord
    at: float


def observe(previous: Observed | None, record: LeaseRecord, now: float) -> Observed:
    """What this candidate knows after reading ``record`` at ``now``: the time of observation
    moves only when the record changed, which is how a holder's renewals are seen."""
    if previous is not None and previous.record == record:
        return previous
    return Observed(record, now)


def expired(observed: Observed, now: float, *, undeclared: float = 0.0) -> bool:
    """Whether the lease seen in ``observed`` has run out at ``now``, judged by how long ago
    this candidate saw it change, against the duration its holder declared; ``undeclared`` when
    the record declares none that can be used (the candidate's own lease duration)."""
    declared = observed.record.lease_duration_seconds
    return now >= observed.at + (declared if declared > 0 else undeclared)


@dataclass(frozen=True, slots=True)
class Take:
    """Write ``record``: create the Lease (none exists), or replace it at the version read."""

    record: LeaseRecord
    renewal: bool
    """True when this candidate held the lease already; False when it takes it."""


@dataclass(frozen=True, slots=True)
class Wait:
    """Another candidate holds a lease that has not run out: follow it, and try again later."""

    holder: str


Decision = Take | Wait


def decide(
    identity: str,
    observed: Observed | None,
    *,
    now: float,
    wall: datetime,
    lease_duration: int,
) -> Decision:
    """What candidate ``identity`` does after reading the Lease (``observed``; ``None`` when no
    Lease exists): take it, renew it, or wait. ``now`` is its monotonic clock, ``wall`` the time
    written into the record (UTC)."""
    if observed is None:
        return Take(LeaseRecord(identity, lease_duration, wall, wall, 0), renewal=False)
    held = observed.record
    if held.holder == identity:
        renewal = LeaseRecord(identity, lease_duration, held.acquire_time, wall, held.transitions)
        return Take(renewal, renewal=True)
    if held.holder and not expired(observed, now, undeclared=lease_duration):
        return Wait(held.holder)
    transitions = min(max(held.transitions, 0) + 1, MAX_TRANSITIONS)
    taken = LeaseRecord(identity, lease_duration, wall, wall, transitions)
    return Take(taken, renewal=False)


def renewed(record: LeaseRecord, wall: datetime) -> LeaseRecord:
    """The leader's own last record, renewed at ``wall``: what it writes, without reading the
    Lease first, when it assumes nobody else wrote since (a 409 says otherwise)."""
    return replace(record, renew_time=wall)


def released(record: LeaseRecord, wall: datetime) -> LeaseRecord:
    """The record a leader writes when it stops cleanly: no holder, a one-second duration, so
    that the next candidate takes over at its next try."""
    return LeaseRecord("", 1, wall, wall, record.transitions)


def renewal_overdue(renewed_at: float, now: float, renew_deadline: float) -> bool:
    """Whether a leader whose last successful renewal was sent at ``renewed_at`` must stop
    leading at ``now``: it may no longer assume that no follower has taken over."""
    return now >= renewed_at + renew_deadline
