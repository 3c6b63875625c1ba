"""The elector, try by try, on an injected clock (no sleeps), through the real ``kubernetes``
client against the Lease server: it acquires an empty lease, renews it in one request, takes
over only what has run out by its own observation, loses a race without harm, releases, passes
a webhook on, and stops writing the moment its renewal is overdue."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from controller.adapters.kube.leases import KubeLeases, api_client
from controller.adapters.kube.port import LeaseStore
from controller.core.election import FETCH_REQUEST, ElectionTimings, Lease
from controller.engine.leader import Candidate, LeaderElector
from controller.errors import NotLeader
from tests.engine.conftest import ElectionClock, ForwardingStore, Replica, replica
from tests.kube_lease_server import LeaseServer

NAMESPACE = "gitops"
NAME = "lambda-gitops"
TIMINGS = ElectionTimings(lease_duration=15, renew_deadline=10, retry_period=2)


@dataclass
class Election:
    server: LeaseServer
    tmp_path: Path
    clock: ElectionClock = field(default_factory=ElectionClock)

    def store(self, name: str) -> KubeLeases:
        kubeconfig = self.server.kubeconfig(self.tmp_path / f"{name}.kubeconfig", name)
        return KubeLeases(api_client(kubeconfig, {}), NAME, NAMESPACE)

    def replica(self, name: str, store: LeaseStore | None = None) -> Replica:
        candidate = Candidate(name, NAME, NAMESPACE, TIMINGS)
        return replica(store or self.store(name), candidate, self.clock)

    def record(self) -> dict[str, object]:
        lease = self.server.lease(NAMESPACE, NAME)
        assert lease is not None
        spec: dict[str, object] = lease["spec"]
        return spec


@pytest.fixture
def election(lease_server: LeaseServer, tmp_path: Path) -> Election:
    return Election(lease_server, tmp_path)


def test_the_first_candidate_creates_the_lease_and_leads(election: Election) -> None:
    a = election.replica("pod-a")
    assert a.leader_metric() == 0
    assert not a.fence.is_open()
    a.elector.try_once()
    assert a.leading()
    assert a.fence.is_open()
    assert (a.leader_metric(), a.acquisitions()) == (1, 1)
    assert election.record() == {
        "holderIdentity": "pod-a",
        "leaseDurationSeconds": 15,
        "acquireTime": "2026-05-01T12:00:00.500000Z",
        "renewTime": "2026-05-01T12:00:00.500000Z",
        "leaseTransitions": 0,
    }
    status = a.elector.status()
    assert status["leader"] == "pod-a"
    assert status["leaderSince"] == "2026-05-01T12:00:00.500000Z"


def test_the_leader_renews_in_one_request_keeping_its_acquire_time(election: Election) -> None:
    a = election.replica("pod-a")
    a.elector.try_once()
    before = len(election.server.requests())
    election.clock.advance(2)
    a.elector.try_once()
    assert [method for method, _, _ in election.server.requests()[before:]] == ["PUT"]
    record = election.record()
    assert record["renewTime"] == "2026-05-01T12:00:02.500000Z"
    assert record["acquireTime"] == "2026-05-01T12:00:00.500000Z"
    assert record["leaseTransitions"] == 0


def test_a_follower_waits_while_renewals_come_and_takes_over_once_they_stop(
    election: Election,
) -> None:
    a, b = election.replica("pod-a"), election.replica("pod-b")
    a.elector.try_once()
    for _ in range(10):  # 20 s of renewals: longer than the lease, never expired
        election.clock.advance(2)
        a.elector.try_once()
        b.elector.try_once()
        assert a.leading()
        assert not b.leading()
        assert not b.fence.is_open()
    assert b.elector.status()["leader"] == "pod-a"
    # pod-a dies: pod-b saw the last renewal now, and takes over 15 s later, not before.
    election.clock.advance(14.9)
    b.elector.try_once()
    assert not b.leading()
    election.clock.advance(0.1)
    b.elector.try_once()
    assert b.leading()
    assert b.fence.is_open()
    record = election.record()
    assert (record["holderIdentity"], record["leaseTransitions"]) == ("pod-b", 1)
    assert record["acquireTime"] == record["renewTime"]


def test_a_holders_renew_time_in_the_future_does_not_keep_the_lease(election: Election) -> None:
    """The holder's clock is a day ahead; only the time since pod-b saw the record counts."""
    election.server.put_lease(
        NAMESPACE,
        NAME,
        {
            "holderIdentity": "pod-z",
            "leaseDurationSeconds": 15,
            "renewTime": "2026-05-02T12:00:00.000000Z",
            "acquireTime": "2026-05-02T12:00:00.000000Z",
            "leaseTransitions": 5,
        },
    )
    b = election.replica("pod-b")
    b.elector.try_once()
    assert not b.leading()
    election.clock.advance(15)
    b.elector.try_once()
    assert b.leading()
    assert election.record()["leaseTransitions"] == 6


class Racing(ForwardingStore):
    """A store that lets another candidate write between this one's read and its write."""

    def __init__(self, store: KubeLeases, rival: LeaderElector) -> None:
        super().__init__(store)
        self._rival = rival

    def get(self, *, timeout: float) -> Lease | None:
        read = super().get(timeout=timeout)
        self._rival.try_once()
        return read


def test_of_two_candidates_racing_for_a_free_lease_only_one_wins(election: Election) -> None:
    election.server.put_lease(NAMESPACE, NAME, {"holderIdentity": "", "leaseDurationSeconds": 1})
    b = election.replica("pod-b")
    a = election.replica("pod-a", store=Racing(election.store("pod-a"), b.elector))
    a.elector.try_once()  # a read the free lease, b took it, a's write is refused with a 409
    assert b.leading()
    assert not a.leading()
    assert not a.fence.is_open()
    assert a.acquisitions() == 0
    assert election.record()["holderIdentity"] == "pod-b"


def test_a_released_lease_is_taken_at_the_followers_next_try(election: Election) -> None:
    a, b = election.replica("pod-a"), election.replica("pod-b")
    a.elector.try_once()
    b.elector.try_once()
    assert a.elector.release()
    assert not a.fence.is_open()
    assert a.leader_metric() == 0
    record = election.record()
    assert (record["holderIdentity"], record["leaseDurationSeconds"]) == ("", 1)
    election.clock.advance(2)  # one retry period, far less than the lease duration
    b.elector.try_once()
    assert b.leading()
    assert election.record()["leaseTransitions"] == 1


def test_a_leader_whose_renewals_fail_stops_writing_at_the_renew_deadline(
    election: Election,
) -> None:
    a = election.replica("pod-a")
    a.elector.try_once()
    a.fence.check()
    for _ in range(4):  # 8 s of failed renewals: still within the 10 s deadline
        election.clock.advance(2)
        election.server.drop("pod-a", count=2)
        a.elector.try_once()
        assert a.leading()
        a.fence.check()
    election.clock.advance(2)
    election.server.drop("pod-a", count=2)
    a.elector.try_once()
    assert not a.leading()
    assert a.elector.lost is not None
    assert "not renewed within the renew deadline (10 s)" in a.elector.lost
    with pytest.raises(NotLeader, match="gitops/lambda-gitops"):
        a.fence.check()
    assert a.leader_metric() == 0


def test_the_fence_shuts_at_the_deadline_even_before_the_elector_notices(
    election: Election,
) -> None:
    a = election.replica("pod-a")
    a.elector.try_once()
    election.clock.advance(9.999)
    a.fence.check()
    election.clock.advance(0.001)
    with pytest.raises(NotLeader):
        a.fence.check()


def test_a_leader_that_finds_another_holder_loses_at_once(election: Election) -> None:
    a = election.replica("pod-a")
    a.elector.try_once()
    election.server.put_lease(
        NAMESPACE, NAME, {"holderIdentity": "pod-z", "leaseDurationSeconds": 15}
    )
    election.clock.advance(2)
    a.elector.try_once()  # its optimistic renewal gets a 409; it reads and finds pod-z
    assert not a.fence.is_open()
    assert a.elector.lost is not None
    assert "held by pod-z" in a.elector.lost


class Recording(ForwardingStore):
    """A store that remembers the timeout of each request."""

    def __init__(self, store: KubeLeases) -> None:
        super().__init__(store)
        self.timeouts: list[float] = []

    def sending(self, timeout: float) -> None:
        self.timeouts.append(timeout)


def test_every_request_ends_before_the_renew_deadline(election: Election) -> None:
    store = Recording(election.store("pod-a"))
    a = election.replica("pod-a", store=store)
    a.elector.try_once()
    assert store.timeouts == [2.0, 2.0]  # read, create
    election.clock.advance(8.5)  # renewals failed meanwhile: 1.5 s left of the deadline
    store.timeouts.clear()
    a.elector.try_once()
    assert store.timeouts == [1.5]
    election.clock.advance(9.96)
    store.timeouts.clear()
    a.elector.try_once()
    assert store.timeouts == []  # too little time left to send anything


def test_a_follower_passes_a_webhook_on_and_the_leader_fetches_at_its_next_renewal(
    election: Election,
) -> None:
    a, b = election.replica("pod-a"), election.replica("pod-b")
    a.elector.try_once()
    b.elector.try_once()
    b.elector.request_fetch()
    b.elector.try_once()
    annotations = (election.server.lease(NAMESPACE, NAME) or {})["metadata"]["annotations"]
    assert FETCH_REQUEST in annotations
    assert election.record()["holderIdentity"] == "pod-a"
    assert a.fetches == []
    election.clock.advance(2)
    a.elector.try_once()
    assert a.fetches == ["pod-a"]
    assert a.leading()
    election.clock.advance(2)
    a.elector.try_once()
    assert a.fetches == ["pod-a"], "one push, one fetch"


def test_a_followers_webhook_does_not_extend_a_dead_leaders_lease(election: Election) -> None:
    a, b, c = (election.replica(name) for name in ("pod-a", "pod-b", "pod-c"))
    a.elector.try_once()
    b.elector.try_once()
    c.elector.try_once()  # c saw pod-a's record at t=0; pod-a dies now
    election.clock.advance(10)
    b.elector.request_fetch()
    b.elector.try_once()  # the Lease changes (an annotation), its record does not
    election.clock.advance(5)
    c.elector.try_once()
    assert c.leading()


def test_a_candidate_restarted_under_the_same_name_leads_again_at_once(
    election: Election,
) -> None:
    """A container restarted in its pod keeps the pod's name: the lease it held is its own."""
    a = election.replica("pod-a")
    a.elector.try_once()
    restarted = election.replica("pod-a")
    election.clock.advance(1)
    restarted.elector.try_once()
    assert restarted.leading()
    assert election.record()["leaseTransitions"] == 0
