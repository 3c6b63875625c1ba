"""The invariants that the leader-election and sharding end-to-end tests check after a scenario,
over the emulator's write log and the Lease server's history.

They are the point of those tests, and a checker that never fails would pass any scenario: in a
module of their own, so that ``test_invariants.py`` can show each of them failing on a made-up
history, with no process started, as well as passing a clean one.

Every process writes to Lambda with an access key id made from its pod name (``key_of``), and
its token for the Lease server is its pod name, so that a write and a Lease write name the same
process.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from controller.core.sharding import Pair, owner
from lambda_emulator.store import WriteRecord
from tests.kube_lease_server import LeaseWrite


def key_of(pod: str) -> str:
    """The AWS access key id a pod writes with: ``pod-1`` writes as ``AKIAPOD1``."""
    return f"AKIA{pod.upper().replace('-', '')}"


# -- one Lease: every write from the leader ------------------------------------------------------


def check_writes_came_from_the_leader(
    writes: Sequence[WriteRecord],
    history: Sequence[LeaseWrite],
    pods: Iterable[str],
    lease_duration: float,
) -> None:
    """Every write of a replica (one of ``pods``) happened while it held the lease by the Lease
    server's history: the last Lease write before it names that replica, and it is no later
    than that replica's last successful write of the Lease plus the lease duration. The
    replicas are named, not read from the history, so that one that never held the lease is
    checked too."""
    by_key = {key_of(pod): pod for pod in pods}
    controller_writes = [w for w in writes if w.access_key_id in by_key]
    assert controller_writes, "no write came from a controller"
    for write in controller_writes:
        pod = by_key[write.access_key_id or ""]
        before = [entry for entry in history if entry.at <= write.at]
        assert before, f"{pod} wrote before any lease existed: {write}"
        assert before[-1].holder == pod, (
            f"{pod} wrote {write.operation} {write.function_name}:{write.qualifier} while "
            f"{before[-1].holder or 'nobody'} held the lease"
        )
        renewed = max(entry.at for entry in before if entry.holder == pod)
        assert write.at <= renewed + lease_duration, (
            f"{pod} wrote {write.at - renewed:.3f} s after its last renewal, past the lease"
        )


# -- shards: every pair written by its owner, one tenure at a time --------------------------------


@dataclass(frozen=True)
class Tenure:
    """One holder's hold of one Lease: from the write that took it to the release, or to its
    last renewal plus the lease duration (after which nobody may count on it)."""

    lease: str
    holder: str
    start: float
    end: float

    def holds(self, at: float) -> bool:
        return self.start <= at <= self.end


def tenures(history: Sequence[LeaseWrite], lease_duration: float) -> list[Tenure]:
    found: list[Tenure] = []
    by_lease: dict[str, list[LeaseWrite]] = defaultdict(list)
    for write in history:
        by_lease[write.name].append(write)
    for lease, writes in by_lease.items():
        holder, start, renewed = "", 0.0, 0.0
        for write in writes:
            if write.holder == holder:
                if write.token == holder:
                    renewed = write.at
                continue
            if holder:  # the holder changed: a release by the holder, or a takeover
                end = write.at if write.token == holder else min(write.at, renewed + lease_duration)
                found.append(Tenure(lease, holder, start, end))
            holder, start, renewed = write.holder, write.at, write.at
        if holder:
            found.append(Tenure(lease, holder, start, renewed + lease_duration))
    return found


class ShardWriter(Protocol):
    """A process of one shard, as the write log (``key``) and the Lease history name it."""

    @property
    def pod(self) -> str: ...

    @property
    def shard(self) -> int: ...

    @property
    def shards(self) -> int: ...

    @property
    def key(self) -> str: ...

    @property
    def lease(self) -> str: ...


def check_writers(
    writes: Sequence[WriteRecord],
    history: Sequence[LeaseWrite],
    processes: Sequence[ShardWriter],
    lease_duration: float,
) -> dict[str, list[tuple[Tenure, WriteRecord]]]:
    """Every controller write lies in a tenure of its writer's Lease and is to a pair its
    shard owns in its topology; no two tenures holding writes to one pair overlap. Returns
    each pair's writes with their tenures."""
    by_key = {process.key: process for process in processes}
    held = tenures(history, lease_duration)
    per_pair: dict[str, list[tuple[Tenure, WriteRecord]]] = defaultdict(list)
    controller_writes = [w for w in writes if w.access_key_id in by_key]
    assert controller_writes, "no write came from a controller"
    for write in controller_writes:
        writer = by_key[write.access_key_id or ""]
        pair = Pair(write.account, write.region)
        assert owner(pair, writer.shards) == writer.shard, (
            f"{writer.pod} (shard {writer.shard} of {writer.shards}) wrote {write.function_name} "
            f"of {pair}, which shard {owner(pair, writer.shards)} owns"
        )
        tenure = next(
            (
                t
                for t in held
                if t.lease == writer.lease and t.holder == writer.pod and t.holds(write.at)
            ),
            None,
        )
        assert tenure is not None, f"{writer.pod} wrote {write} outside any tenure of its Lease"
        per_pair[str(pair)].append((tenure, write))
    for where, entries in per_pair.items():
        distinct = sorted({tenure for tenure, _ in entries}, key=lambda tenure: tenure.start)
        for before, after in itertools.pairwise(distinct):
            assert before.end < after.start, (
                f"{where}: {before.holder} ({before.lease}) and {after.holder} ({after.lease}) "
                "held their Leases at once, both writing it"
            )
    return per_pair
