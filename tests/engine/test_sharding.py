"""Sharding's elections, try by try, on an injected clock, through the real ``kubernetes`` client
against the Lease server: a shard of a new topology waits until every Lease of the old one is
released or has run out, a candidate that finds one only after taking its own gives it back
without ever opening its fence, a leader is never stopped by a newcomer, a push reaches every
shard's leader, and a shard sees, counts and shows only its own functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kubernetes import client

from controller.adapters.kube.leases import KubeLeaseDirectory, KubeLeases, api_client
from controller.adapters.kube.port import LeaseDirectory
from controller.adapters.metrics import Metrics
from controller.core.declarations import Declarations
from controller.core.election import FETCH_REQUEST, ElectionTimings, Lease
from controller.core.model import DesiredFunction, FunctionRef
from controller.core.sharding import Sharding, lease_labels, lease_name
from controller.engine.fence import WriteFence
from controller.engine.leader import Candidate
from controller.engine.sharding import (
    FetchRelay,
    OwnedDeclarations,
    TopologyGate,
    sharded_status,
)
from controller.errors import LeaseError
from tests.engine.conftest import ElectionClock, Replica, replica
from tests.kube_lease_server import LeaseServer

NAMESPACE = "gitops"
BASE = "lg"
TIMINGS = ElectionTimings(lease_duration=15, renew_deadline=10, retry_period=2)
ACCOUNT = "123456789012"


class Interleaved:
    """A directory that lets something happen just after its ``at``-th listing is answered."""

    def __init__(self, directory: LeaseDirectory, at: int, meanwhile: Callable[[], None]) -> None:
        self._directory = directory
        self._at = at
        self._meanwhile = meanwhile
        self.calls = 0
        self.where = directory.where

    def list(self, *, timeout: float) -> list[Lease]:
        self.calls += 1
        listed = self._directory.list(timeout=timeout)
        if self.calls == self._at:
            self._meanwhile()
        return listed


class RecordingFence(WriteFence):
    """A write fence that keeps every deadline it was opened until, however briefly."""

    def __init__(self, lease: str, *, monotonic: Callable[[], float]) -> None:
        super().__init__(lease, monotonic=monotonic)
        self.opened: list[float] = []

    def open_until(self, deadline: float) -> None:
        self.opened.append(deadline)
        super().open_until(deadline)


class FailingSecond:
    """A directory whose second listing fails, as a request cut off would."""

    def __init__(self, directory: LeaseDirectory) -> None:
        self._directory = directory
        self.calls = 0
        self.where = directory.where

    def list(self, *, timeout: float) -> list[Lease]:
        self.calls += 1
        if self.calls == 2:
            raise LeaseError("cannot list the Leases: the request failed")
        return self._directory.list(timeout=timeout)


@dataclass
class Installation:
    server: LeaseServer
    tmp_path: Path
    clock: ElectionClock = field(default_factory=ElectionClock)

    def api(self, pod: str) -> client.ApiClient:
        return api_client(self.server.kubeconfig(self.tmp_path / f"{pod}.kubeconfig", pod), {})

    def shard(
        self,
        pod: str,
        index: int,
        shards: int,
        *,
        directory: Callable[[LeaseDirectory], LeaseDirectory] = lambda d: d,
        fence: WriteFence | None = None,
    ) -> Replica:
        """``pod`` standing for shard ``index`` of ``shards``, with the topology rule as its gate
        (over the Leases ``directory`` wraps), and ``fence`` as its write fence if given."""
        api = self.api(pod)
        name = lease_name(BASE, index, shards)
        labels = lease_labels(BASE, shards)
        leases = KubeLeases(api, name, NAMESPACE, labels=labels)
        listing = KubeLeaseDirectory(api, NAMESPACE, {"lambda-gitops.io/election": BASE})
        gate = TopologyGate(
            directory(listing), shards, lease_duration=15, monotonic=self.clock.monotonic
        )
        candidate = Candidate(pod, name, NAMESPACE, TIMINGS, shard=str(index))
        return replica(leases, candidate, self.clock, gate=gate, fence=fence)

    def holder(self, name: str) -> str | None:
        stored = self.server.lease(NAMESPACE, name)
        return None if stored is None else stored["spec"].get("holderIdentity", "")

    def writes_to(self, name: str) -> int:
        return sum(1 for write in self.server.history() if write.name == name)


@pytest.fixture
def installation(lease_server: LeaseServer, tmp_path: Path) -> Installation:
    return Installation(lease_server, tmp_path)


def test_a_new_topology_waits_without_writing_until_the_old_shards_release_their_leases(
    installation: Installation,
) -> None:
    old = [installation.shard(f"old-{i}", i, 3) for i in range(3)]
    for shard in old:
        shard.elector.try_once()
        assert shard.leading()
    new = installation.shard("new-3", 3, 4)
    for _ in range(5):
        installation.clock.advance(2)
        for shard in old:
            shard.elector.try_once()
        new.elector.try_once()
        assert not new.leading()
        assert not new.fence.is_open()
    # It never even took its own Lease: no write to spare.
    assert installation.writes_to(new.lease) == 0
    waiting = new.elector.status()["waitingFor"]
    assert "lg-0-of-3 (3 shards) held by old-0" in waiting
    assert new.metrics.registry.get_sample_value("lambda_gitops_leader", {"shard": "3"}) == 0
    for shard in old[:2]:
        assert shard.elector.release()
    installation.clock.advance(2)
    new.elector.try_once()
    assert not new.leading(), "one old shard still leads"
    assert old[2].elector.release()
    installation.clock.advance(2)
    new.elector.try_once()
    assert new.leading()
    assert new.fence.is_open()
    assert new.elector.status()["waitingFor"] is None
    assert installation.holder(new.lease) == "new-3"


def test_the_lease_of_a_crashed_old_shard_is_waited_out_from_when_it_was_first_seen(
    installation: Installation,
) -> None:
    crashed = installation.shard("old-1", 1, 3)
    crashed.elector.try_once()  # it leads, then dies without releasing
    new = installation.shard("new-1", 1, 4)
    new.elector.try_once()
    installation.clock.advance(14.9)
    new.elector.try_once()
    assert not new.leading()
    installation.clock.advance(0.1)
    new.elector.try_once()
    assert new.leading()


def test_a_candidate_that_finds_another_topology_only_after_taking_its_lease_gives_it_back(
    installation: Installation,
) -> None:
    """new-0 lists (nothing), old-0 takes its Lease and leads, then new-0 takes its own and
    lists again: it sees old-0 and releases at once; its fence never opened."""
    old = installation.shard("old-0", 0, 3)
    fence = RecordingFence(lease_name(BASE, 0, 4), monotonic=installation.clock.monotonic)
    new = installation.shard(
        "new-0", 0, 4, directory=lambda d: Interleaved(d, 1, old.elector.try_once), fence=fence
    )
    new.elector.try_once()
    assert old.leading()
    assert not new.leading()
    assert fence.opened == [], "the fence was opened, if only for a moment"
    history = [(w.name, w.holder) for w in installation.server.history()]
    assert history == [("lg-0-of-3", "old-0"), ("lg-0-of-4", "new-0"), ("lg-0-of-4", "")]
    assert (
        new.metrics.registry.get_sample_value(
            "lambda_gitops_leader_transitions_total", {"shard": "0"}
        )
        == 0
    )
    # Given back with a one-second lease, so that the topology rule lets nobody wait on it.
    stored = installation.server.lease(NAMESPACE, new.lease)
    assert stored is not None
    assert stored["spec"]["leaseDurationSeconds"] == 1
    # Once the old shard is gone, the same fence is opened: the recording sees an open.
    assert old.elector.release()
    installation.clock.advance(2)
    new.elector.try_once()
    assert new.leading()
    assert len(fence.opened) == 1


def test_a_candidate_whose_second_listing_fails_does_not_lead(installation: Installation) -> None:
    new = installation.shard("new-0", 0, 4, directory=FailingSecond)
    new.elector.try_once()
    assert not new.leading()
    assert installation.holder(new.lease) == ""
    installation.clock.advance(2)
    new.elector.try_once()
    assert new.leading()


def test_a_leader_is_never_stopped_by_a_newcomer_of_another_topology(
    installation: Installation,
) -> None:
    """Once leading it renews in one request, never listing: a newcomer waits for it."""
    old = installation.shard("old-0", 0, 3)
    old.elector.try_once()
    installation.server.put_lease(NAMESPACE, "lg-0-of-4", {"holderIdentity": "intruder"})
    stored = installation.server.lease(NAMESPACE, "lg-0-of-4")
    assert stored is not None
    stored["metadata"]["labels"] = lease_labels(BASE, 4)
    installation.server.put_lease(NAMESPACE, "lg-0-of-4", stored["spec"])
    before = len(installation.server.requests())
    for _ in range(10):
        installation.clock.advance(2)
        old.elector.try_once()
        assert old.leading()
        assert old.fence.is_open()
    methods = {method for method, _, _ in installation.server.requests()[before:]}
    assert methods == {"PUT"}


def test_one_shard_without_sharding_follows_the_same_rule(installation: Installation) -> None:
    """A plain election (one shard) is a topology too: it waits for the shards of a sharded
    installation being scaled back to one, and its Lease keeps the plain name."""
    sharded = installation.shard("old-1", 1, 2)
    sharded.elector.try_once()
    single = installation.shard("pod-a", 0, 1)
    assert single.lease == BASE
    single.elector.try_once()
    assert not single.leading()
    assert sharded.elector.release()
    installation.clock.advance(2)
    single.elector.try_once()
    assert single.leading()
    labels = (installation.server.lease(NAMESPACE, BASE) or {})["metadata"]["labels"]
    assert labels == {"lambda-gitops.io/election": BASE, "lambda-gitops.io/shards": "1"}


# -- a push reaches every shard -----------------------------------------------------------------


def test_a_push_passed_on_reaches_the_leader_of_every_other_shard(
    installation: Installation,
) -> None:
    shards = [installation.shard(f"pod-{i}", i, 3) for i in range(3)]
    for shard in shards:
        shard.elector.try_once()
    api = installation.api("pod-0")
    relay = FetchRelay(
        [
            KubeLeases(api, lease_name(BASE, i, 3), NAMESPACE, labels=lease_labels(BASE, 3))
            for i in (1, 2)
        ],
        timeout=2,
        wall=installation.clock.wall,
    )
    relay.relay()
    relay.wait(timeout=10)
    for i in (1, 2):
        stored = installation.server.lease(NAMESPACE, lease_name(BASE, i, 3))
        assert stored is not None
        assert FETCH_REQUEST in stored["metadata"]["annotations"]
        assert stored["spec"]["holderIdentity"] == f"pod-{i}"
    installation.clock.advance(2)
    for shard in shards:
        shard.elector.try_once()
    assert [shard.fetches for shard in shards] == [[], ["pod-1"], ["pod-2"]]


def test_a_push_to_a_shard_that_has_no_lease_yet_is_dropped(installation: Installation) -> None:
    api = installation.api("pod-0")
    leases = KubeLeases(api, "lg-1-of-2", NAMESPACE)
    relay = FetchRelay([leases], timeout=2)
    assert relay.pass_on(leases, "2026-05-01T12:00:00+00:00") is False
    assert installation.server.history() == []


# -- what a shard sees and shows -----------------------------------------------------------------


def declared(name: str, account: str, region: str) -> DesiredFunction:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return DesiredFunction(name, FunctionRef(arn, region, ACCOUNT), {}, {})


def test_a_shard_reads_only_its_own_functions_and_counts_them() -> None:
    functions = tuple(
        declared(f"f{i}", f"1000000000{i:02d}", region)
        for i in range(10)
        for region in ("us-east-1", "eu-west-1")
    )
    sharding = Sharding(3, ACCOUNT, "us-east-1")
    metrics = Metrics()
    view = OwnedDeclarations(sharding, 1, metrics)
    assert metrics.registry.get_sample_value("lambda_gitops_shard_functions", {"shard": "1"}) == 0
    owned = view(Declarations("abc", functions=functions))
    assert owned.functions
    assert all(sharding.owner_of(f.ref.identity) == 1 for f in owned.functions)
    assert metrics.registry.get_sample_value(
        "lambda_gitops_shard_functions", {"shard": "1"}
    ) == len(owned.functions)


def test_a_shards_status_says_which_shard_it_is_and_marks_each_function() -> None:
    sharding = Sharding(4, ACCOUNT, "us-east-1")
    document = sharded_status(
        lambda: {"revision": "abc", "functions": {"orders": {"status": "synced"}}}, sharding, 2
    )()
    assert document["sharding"] == {"shards": 4, "shard": 2, "functions": 1}
    assert document["functions"] == {"orders": {"status": "synced", "shard": 2}}
    assert document["revision"] == "abc"
