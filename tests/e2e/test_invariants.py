"""The end-to-end tests' invariant checkers on made-up histories, with no process started: each
fails on the history it exists to catch (two writers at once, a write past the lease, a write
by a process that did not hold it) and passes a clean one, so that their passing after a real
scenario means something.

Times are seconds on the Lease server's clock; the lease lasts 3 s, as in the e2e tests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from controller.core.sharding import Pair, owner
from lambda_emulator.store import WriteRecord
from tests.e2e.invariants import (
    Tenure,
    check_writers,
    check_writes_came_from_the_leader,
    key_of,
    tenures,
)
from tests.kube_lease_server import LeaseWrite

LEASE_DURATION = 3.0
LEASE = "lambda-gitops"
PODS = ("pod-0", "pod-1", "pod-2")
ORDERS = Pair("123456789012", "us-east-1")


def lease_write(
    at: float, holder: str, *, by: str | None = None, lease: str = LEASE, verb: str = "replace"
) -> LeaseWrite:
    """A Lease write that the server applied: by ``holder`` itself unless ``by`` says who (a
    release is written by the holder with no holder left)."""
    return LeaseWrite(
        at=at,
        verb=verb,
        namespace="gitops",
        name=lease,
        resource_version=str(int(at * 1000)),
        holder=holder,
        lease_duration_seconds=int(LEASE_DURATION),
        renew_time=None,
        transitions=None,
        token=by if by is not None else holder,
    )


def write(at: float, pod: str, pair: Pair = ORDERS, function: str = "orders") -> WriteRecord:
    """An UpdateAlias of ``function``'s ``live`` by ``pod``, as the emulator's write log has it."""
    return WriteRecord(
        sequence=int(at * 1000),
        at=at,
        operation="UpdateAlias",
        account=pair.account,
        region=pair.region,
        function_name=function,
        qualifier="live",
        access_key_id=key_of(pod),
    )


# -- one Lease: every write from the leader ------------------------------------------------------

ELECTION = [
    lease_write(10.0, "pod-0", verb="create"),
    lease_write(11.0, "pod-0"),
    lease_write(12.0, "pod-0"),
    lease_write(15.5, "pod-1"),  # taken over once pod-0's last renewal ran out, at 15.0
    lease_write(16.5, "pod-1"),
]
FROM_THE_LEADERS = [write(10.5, "pod-0"), write(14.9, "pod-0"), write(16.0, "pod-1")]


def test_writes_by_each_leader_within_its_lease_pass() -> None:
    """Writes with no access key (the seed) or another's (someone on call) are not checked."""
    seed = replace(write(1.0, "pod-0"), access_key_id=None)
    someone = replace(write(13.0, "pod-0"), access_key_id="AKIAONCALL")
    check_writes_came_from_the_leader(
        [seed, *FROM_THE_LEADERS, someone], ELECTION, PODS, LEASE_DURATION
    )


@pytest.mark.parametrize(
    ("history", "writes", "complaint"),
    [
        pytest.param(
            ELECTION,
            [*FROM_THE_LEADERS, write(15.2, "pod-0")],
            r"pod-0 wrote 3\.200 s after its last renewal, past the lease",
            id="a write after the last renewal plus the lease duration",
        ),
        pytest.param(
            ELECTION,
            [*FROM_THE_LEADERS, write(11.5, "pod-2")],
            "pod-2 wrote UpdateAlias orders:live while pod-0 held the lease",
            id="a write by a replica that never held the lease",
        ),
        pytest.param(
            [*ELECTION[:3], lease_write(13.0, "pod-1"), lease_write(14.0, "pod-1")],
            [write(10.5, "pod-0"), write(13.5, "pod-0"), write(14.5, "pod-1")],
            "pod-0 wrote UpdateAlias orders:live while pod-1 held the lease",
            id="a former leader writing after a takeover, two writers at once",
        ),
        pytest.param(
            ELECTION,
            [write(9.0, "pod-0")],
            "pod-0 wrote before any lease existed",
            id="a write before the lease was first taken",
        ),
        pytest.param(
            ELECTION,
            [],
            "no write came from a controller",
            id="no write at all",
        ),
    ],
)
def test_a_write_outside_its_replicas_lease_fails_the_check(
    history: list[LeaseWrite], writes: list[WriteRecord], complaint: str
) -> None:
    with pytest.raises(AssertionError, match=complaint):
        check_writes_came_from_the_leader(writes, history, PODS, LEASE_DURATION)


# -- shards: every pair written by its owner, one tenure at a time --------------------------------

MOVES = Pair("100000000003", "us-east-1")
"""Shard 0's of 3, shard 3's of 4: from three shards to four, it moves."""
STAYS = Pair("100000000000", "us-east-1")
"""Shard 0's of 3 and of 4."""
ELSEWHERE = Pair("100000000000", "ap-southeast-2")
"""Shard 2's of 3."""


@dataclass(frozen=True)
class Shard:
    """A process of one shard, as ``check_writers`` knows it: no process behind it."""

    pod: str
    shard: int
    shards: int

    @property
    def key(self) -> str:
        return key_of(self.pod)

    @property
    def lease(self) -> str:
        return f"{LEASE}-{self.shard}-of-{self.shards}"


OLD = Shard("old-0", 0, 3)
NEW = Shard("new-3", 3, 4)
NEW_ZERO, NEW_ZERO_TOO = Shard("new-0", 0, 4), Shard("new-0-too", 0, 4)
SHARDS = [OLD, NEW, NEW_ZERO, NEW_ZERO_TOO]


def held(shard: Shard, at: float, *, until: float, renewals: int = 2) -> list[LeaseWrite]:
    """``shard`` takes its Lease at ``at``, renews it every second ``renewals`` times, and
    releases it at ``until`` (or, with ``until`` at 0, never: a crash)."""
    writes = [lease_write(at, shard.pod, lease=shard.lease, verb="create")]
    writes += [lease_write(at + n, shard.pod, lease=shard.lease) for n in range(1, renewals + 1)]
    if until:
        writes.append(lease_write(until, "", by=shard.pod, lease=shard.lease))
    return writes


def test_the_owners_of_the_made_up_pairs_are_those_the_histories_assume() -> None:
    assert (owner(MOVES, 3), owner(MOVES, 4)) == (0, 3)
    assert (owner(STAYS, 3), owner(STAYS, 4)) == (0, 0)
    assert owner(ELSEWHERE, 3) == 2


def test_a_tenure_ends_at_its_release_or_at_its_last_renewal_plus_the_lease_duration() -> None:
    history = [
        *held(OLD, 10.0, until=13.0),
        *held(NEW, 14.0, until=0),
        lease_write(16.5, "", by="someone-else", lease=NEW.lease),  # not the holder's release
    ]
    assert tenures(history, LEASE_DURATION) == [
        Tenure(OLD.lease, "old-0", 10.0, 13.0),
        Tenure(NEW.lease, "new-3", 14.0, 16.5),
    ]
    crashed = held(NEW, 14.0, until=0)
    assert tenures(crashed, LEASE_DURATION) == [Tenure(NEW.lease, "new-3", 14.0, 19.0)]


def test_a_pair_written_by_its_owner_of_each_topology_in_turn_passes() -> None:
    """The old shard releases its Lease before the new one takes its own."""
    history = [*held(OLD, 10.0, until=13.0), *held(NEW, 14.0, until=0)]
    writes = [write(11.5, "old-0", MOVES), write(12.0, "old-0", STAYS), write(14.5, "new-3", MOVES)]
    per_pair = check_writers(writes, history, SHARDS, LEASE_DURATION)
    assert {where: [w.at for _, w in entries] for where, entries in per_pair.items()} == {
        str(MOVES): [11.5, 14.5],
        str(STAYS): [12.0],
    }


@pytest.mark.parametrize(
    ("history", "writes", "complaint"),
    [
        pytest.param(
            [*held(OLD, 10.0, until=0), *held(NEW, 13.0, until=0)],
            [write(11.5, "old-0", MOVES), write(14.5, "new-3", MOVES)],
            rf"{MOVES}: old-0 \({OLD.lease}\) and new-3 \({NEW.lease}\) held their Leases at "
            "once, both writing it",
            id="overlapping tenures of one pair under two topologies",
        ),
        pytest.param(
            held(OLD, 10.0, until=0),
            [write(11.5, "old-0", MOVES), write(15.5, "old-0", MOVES)],
            "old-0 wrote .* outside any tenure of its Lease",
            id="a write after the last renewal plus the lease duration",
        ),
        pytest.param(
            held(OLD, 10.0, until=13.0),
            [write(13.5, "old-0", MOVES)],
            "old-0 wrote .* outside any tenure of its Lease",
            id="a write after releasing the lease",
        ),
        pytest.param(
            held(NEW_ZERO_TOO, 10.0, until=0),
            [write(11.0, "new-0-too", STAYS), write(11.5, "new-0", STAYS)],
            "new-0 wrote .* outside any tenure of its Lease",
            id="a write by a replica of the shard that did not hold the lease",
        ),
        pytest.param(
            held(OLD, 10.0, until=0),
            [write(11.5, "old-0", ELSEWHERE, "billing")],
            rf"old-0 \(shard 0 of 3\) wrote billing of {ELSEWHERE}, which shard 2 owns",
            id="a write to a pair another shard owns",
        ),
    ],
)
def test_a_write_outside_its_shards_tenure_or_pairs_fails_the_check(
    history: list[LeaseWrite], writes: list[WriteRecord], complaint: str
) -> None:
    with pytest.raises(AssertionError, match=complaint):
        check_writers(writes, history, SHARDS, LEASE_DURATION)
