"""What the elector's tests share (``test_leader``, ``test_sharding``): one clock the test moves,
a replica built on it as the bootstrap builds one, and a Lease store a test can step into.

The elector, its fence and its topology gate all read the same injected clock, so a test drives
an election try by try without sleeping; the wall time a Lease records moves with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from controller.adapters.kube.port import LeaseStore
from controller.adapters.metrics import Metrics
from controller.core.election import Lease, LeaseRecord
from controller.engine.fence import WriteFence
from controller.engine.leader import Candidate, LeaderElector, LeadershipGate

T0 = datetime(2026, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)
"""The wall time at the clock's start: Lease records written then read ``12:00:00.500000Z``."""


@dataclass
class ElectionClock:
    """One clock for the whole test: monotonic seconds, and the wall time they stand for."""

    now: float = 1000.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.now - 1000.0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Replica:
    """One candidate for one Lease: its elector, fence and metrics, and the fetches it was
    asked for (by its own identity), on the shared clock."""

    elector: LeaderElector
    fence: WriteFence
    metrics: Metrics
    lease: str
    fetches: list[str]

    def leading(self) -> bool:
        return self.elector.leading

    def leader_metric(self) -> float | None:
        return self.metrics.registry.get_sample_value(
            "lambda_gitops_leader", {"shard": self.elector.candidate.shard}
        )

    def acquisitions(self) -> float | None:
        return self.metrics.registry.get_sample_value(
            "lambda_gitops_leader_transitions_total", {"shard": self.elector.candidate.shard}
        )


def replica(
    leases: LeaseStore,
    candidate: Candidate,
    clock: ElectionClock,
    *,
    gate: LeadershipGate | None = None,
    fence: WriteFence | None = None,
) -> Replica:
    """A replica standing as ``candidate`` through ``leases``, with a fence on its Lease (a new
    one on ``clock`` unless given) and metrics of its own, all on ``clock``."""
    if fence is None:
        fence = WriteFence(candidate.lease, monotonic=clock.monotonic)
    metrics = Metrics()
    fetches: list[str] = []
    elector = LeaderElector(
        leases,
        candidate,
        fence,
        metrics=metrics,
        on_fetch_requested=lambda: fetches.append(candidate.identity),
        monotonic=clock.monotonic,
        wall=clock.wall,
        gate=gate,
    )
    return Replica(elector, fence, metrics, candidate.lease_name, fetches)


class ForwardingStore:
    """A Lease store that passes every request on to ``store``; a test overrides ``sending``
    (called with each request's timeout before it goes) or a request to step in."""

    def __init__(self, store: LeaseStore) -> None:
        self._store = store
        self.where = store.where

    def sending(self, timeout: float) -> None:
        """Nothing by default."""

    def get(self, *, timeout: float) -> Lease | None:
        self.sending(timeout)
        return self._store.get(timeout=timeout)

    def create(self, record: LeaseRecord, *, timeout: float) -> Lease:
        self.sending(timeout)
        return self._store.create(record, timeout=timeout)

    def replace(
        self,
        lease: Lease,
        record: LeaseRecord,
        *,
        timeout: float,
        annotations: Mapping[str, str] | None = None,
    ) -> Lease:
        self.sending(timeout)
        return self._store.replace(lease, record, timeout=timeout, annotations=annotations)
