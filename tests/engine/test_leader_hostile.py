"""The elector against what others may do to its Lease or answer about it, try by try on an
injected clock, through the real ``kubernetes`` client and the Lease server: a person with
``kubectl edit`` or ``kubectl delete``, a proxy that answers what it likes, a controller of
another version. The elector never dies of an answer, never takes a Lease it cannot write back
at the version it read, waits out a holder whose Lease declares no usable duration by its own,
and can always take over a Lease that has run out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.adapters.kube.leases import KubeLeases, api_client
from controller.adapters.kube.port import LeaseStore
from controller.core.election import FETCH_REQUEST, MAX_TRANSITIONS, ElectionTimings, Lease
from controller.engine.leader import Candidate
from tests.engine.conftest import ElectionClock, ForwardingStore, Replica, replica
from tests.kube_lease_server import LeaseServer

NAMESPACE = "gitops"
NAME = "lambda-gitops"
TIMINGS = ElectionTimings(lease_duration=15, renew_deadline=10, retry_period=2)
STATUS_OK = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Success"}).encode()
GARBAGE = [
    (200, b"<html>proxy</html>"),
    (200, STATUS_OK),
    (200, b"[]"),
    (200, b'{"kind": "Lease", "metadata": {"name": "lambda-gitops"}, "spec": {}}'),
    # A free Lease at a version that is not the current one: the take is refused (409).
    (200, b'{"kind": "Lease", "metadata": {"resourceVersion": "99"}, "spec": {"renewTime": 5}}'),
    (500, b"oops"),
    (503, b""),
    (429, b"{}"),
    (401, b""),
    (403, b'{"kind": "Status", "message": "forbidden"}'),
]


def elector_of(server: LeaseServer, tmp_path: Path, clock: ElectionClock, name: str) -> Replica:
    kubeconfig = server.kubeconfig(tmp_path / f"{name}.kubeconfig", name)
    leases = KubeLeases(api_client(kubeconfig, {}), NAME, NAMESPACE)
    return replica(leases, Candidate(name, NAME, NAMESPACE, TIMINGS), clock)


def holder(server: LeaseServer) -> object:
    lease = server.lease(NAMESPACE, NAME)
    assert lease is not None
    return lease["spec"].get("holderIdentity")


@pytest.mark.parametrize(("code", "body"), GARBAGE)
def test_an_answer_that_is_not_a_lease_never_kills_the_elector_nor_takes_the_lease(
    lease_server: LeaseServer, tmp_path: Path, code: int, body: bytes
) -> None:
    """Before: the client's models raised on the body and the elector's thread died with a
    traceback; a Status or a Lease without resourceVersion read as a free Lease, and the
    follower replaced the leader's Lease unconditionally: two leaders."""
    clock = ElectionClock()
    a = elector_of(lease_server, tmp_path, clock, "pod-a")
    b = elector_of(lease_server, tmp_path, clock, "pod-b")
    a.elector.try_once()
    lease_server.answer("pod-b", code, body, count=3)
    lease_server.answer("pod-a", code, body)
    for _ in range(3):
        clock.advance(1)
        b.elector.try_once()
        assert not b.leading()
        assert not b.fence.is_open()
    a.elector.try_once()  # its renewal is answered with the garbage: it fails, within deadline
    assert a.leading()
    clock.advance(2)
    a.elector.try_once()  # and the next one goes through
    assert a.leading()
    assert holder(lease_server) == "pod-a"
    assert [write.token for write in lease_server.history()] == ["pod-a", "pod-a"]


def test_a_lease_deleted_under_the_leader_is_created_again_and_the_leader_keeps_leading(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    """Before: the renewal's 404 was a failure like any other; the leader retried the same
    replace until its renew deadline, lost the lease and exited. client-go creates it again."""
    clock = ElectionClock()
    a = elector_of(lease_server, tmp_path, clock, "pod-a")
    a.elector.try_once()
    lease_server.delete_lease(NAMESPACE, NAME)
    clock.advance(2)
    a.elector.try_once()
    assert a.leading()
    assert a.elector.lost is None
    assert holder(lease_server) == "pod-a"
    assert [write.verb for write in lease_server.history()] == ["create", "create"]
    clock.advance(2)
    a.elector.try_once()
    assert lease_server.history()[-1].verb == "replace"


def test_a_holder_whose_lease_declares_no_duration_is_waited_out_by_the_candidates_own(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    """``kubectl edit`` may remove ``leaseDurationSeconds`` (the API server allows it). client-go
    reads that as run out at once, and would take the Lease from a leader still renewing it."""
    clock = ElectionClock()
    lease_server.put_lease(NAMESPACE, NAME, {"holderIdentity": "pod-z"})
    b = elector_of(lease_server, tmp_path, clock, "pod-b")
    b.elector.try_once()
    assert not b.leading()
    clock.advance(14.9)
    b.elector.try_once()
    assert not b.leading()
    clock.advance(0.1)
    b.elector.try_once()
    assert b.leading()


def test_a_leader_whose_duration_was_edited_away_writes_it_back_and_keeps_the_lease(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    clock = ElectionClock()
    a = elector_of(lease_server, tmp_path, clock, "pod-a")
    b = elector_of(lease_server, tmp_path, clock, "pod-b")
    a.elector.try_once()
    stored = lease_server.lease(NAMESPACE, NAME)
    assert stored is not None
    lease_server.put_lease(
        NAMESPACE,
        NAME,
        {key: value for key, value in stored["spec"].items() if key != "leaseDurationSeconds"},
    )
    for _ in range(10):
        clock.advance(2)
        b.elector.try_once()
        a.elector.try_once()
        assert a.leading()
        assert not b.leading()
    stored = lease_server.lease(NAMESPACE, NAME)
    assert stored is not None
    assert stored["spec"]["leaseDurationSeconds"] == 15


@pytest.mark.parametrize(
    "spec",
    [
        {"leaseTransitions": MAX_TRANSITIONS},
        {"renewTime": "0000-01-01T00:00:00.000000Z", "acquireTime": "0000-01-01T00:00:00.000000Z"},
        {"renewTime": "9999-12-31T23:59:59.999999Z", "acquireTime": "9999-12-31T23:59:59.999999Z"},
        {"renewTime": "0001-01-01T00:00:00.000000Z", "acquireTime": "0001-01-01T00:00:00.000000Z"},
        {"leaseDurationSeconds": 2**31 - 1, "holderIdentity": ""},
        {"holderIdentity": "pod-z\x00\x1b[31m\n" + "x" * 10_000},
    ],
)
def test_a_lease_the_api_server_accepts_from_kubectl_is_taken_over_once_it_has_run_out(
    lease_server: LeaseServer, tmp_path: Path, spec: dict[str, object]
) -> None:
    """Before: a year 0 time (Go takes it, Python's datetime cannot hold it) failed every read;
    the largest int32 of transitions overflowed into a take the API server refused (400): no
    replica could ever lead. A time at the end of year 9999 broke ``/status``."""
    clock = ElectionClock()
    lease_server.put_lease(
        NAMESPACE, NAME, {"holderIdentity": "pod-z", "leaseDurationSeconds": 15, **spec}
    )
    b = elector_of(lease_server, tmp_path, clock, "pod-b")
    b.elector.try_once()
    json.dumps(b.elector.status())
    if spec.get("holderIdentity") != "":
        assert not b.leading()
        clock.advance(15)
        b.elector.try_once()
    assert b.leading()
    stored = lease_server.lease(NAMESPACE, NAME)
    assert stored is not None
    assert stored["spec"]["holderIdentity"] == "pod-b"
    assert 0 <= stored["spec"]["leaseTransitions"] <= MAX_TRANSITIONS
    json.dumps(b.elector.status())


class EditedBetween(ForwardingStore):
    """A store whose Lease a person edits between this candidate's read and its write."""

    def __init__(self, store: LeaseStore, server: LeaseServer) -> None:
        super().__init__(store)
        self._server = server

    def get(self, *, timeout: float) -> Lease | None:
        read = super().get(timeout=timeout)
        self._server.put_lease(
            NAMESPACE, NAME, {"holderIdentity": "by-hand", "leaseDurationSeconds": 15}
        )
        return read


def test_a_lease_edited_by_hand_between_read_and_write_refuses_the_write(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    """The take names the resourceVersion read, so a change made since (here by ``kubectl``)
    is a 409, and nothing is taken."""
    clock = ElectionClock()
    lease_server.put_lease(NAMESPACE, NAME, {"holderIdentity": "", "leaseDurationSeconds": 1})
    kubeconfig = lease_server.kubeconfig(tmp_path / "pod-b.kubeconfig", "pod-b")
    store = EditedBetween(KubeLeases(api_client(kubeconfig, {}), NAME, NAMESPACE), lease_server)
    b = replica(store, Candidate("pod-b", NAME, NAMESPACE, TIMINGS), clock)
    b.elector.try_once()
    assert not b.leading()
    assert holder(lease_server) == "by-hand"
    assert lease_server.history() == []


def test_a_follower_passes_a_webhook_on_through_a_lease_that_declares_no_duration(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    """Before: the follower wrote the record back with ``leaseDurationSeconds: 0``, which the
    API server refuses (422), at every try: the push was never passed on."""
    clock = ElectionClock()
    lease_server.put_lease(NAMESPACE, NAME, {"holderIdentity": "pod-z"})
    b = elector_of(lease_server, tmp_path, clock, "pod-b")
    b.elector.request_fetch()
    b.elector.try_once()
    stored = lease_server.lease(NAMESPACE, NAME)
    assert stored is not None
    assert FETCH_REQUEST in stored["metadata"]["annotations"]
    assert stored["spec"]["holderIdentity"] == "pod-z"
    assert "leaseDurationSeconds" not in stored["spec"]


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["pod-a", "pod-b"]),
            st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 6.0]),
            st.none() | st.sampled_from(GARBAGE),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_whatever_is_answered_two_replicas_never_both_may_write(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[str, float, tuple[int, bytes] | None]],
) -> None:
    """Two candidates try in any order and at any pace, each request possibly answered with
    garbage: no try raises, and at no moment are both fences open."""
    tmp_path = tmp_path_factory.mktemp("election")
    with LeaseServer() as server:
        clock = ElectionClock()
        replicas = {name: elector_of(server, tmp_path, clock, name) for name in ("pod-a", "pod-b")}
        for name, advance, hostile in steps:
            clock.advance(advance)
            current = replicas[name]
            if current.elector.lost is not None:
                continue  # the process exits and restarts as a follower; not modelled here
            if hostile is not None:
                server.answer(name, *hostile)
            current.elector.try_once()
            assert not all(each.fence.is_open() for each in replicas.values())
