"""End to end: shards of ``lambda-gitops run`` as real processes over 30 (account, region) pairs,
one emulated Lambda and one Lease server.

Every process has its pod name, its token for the Lease server (a kubeconfig of its own) and
its AWS access key id, which the emulator's write log records with every write. The account is
not the access key here: every function is declared by ARN, and the emulator acts in the
account the ARN names, so a process of any shard can reach any pair, and only the sharding
keeps it to its own. Timings are short (a 3 s lease, a 2 s renew deadline, a 0.5 s retry
period), in the defaults' proportions.

The invariant checker reads the write log and the Lease server's history: each process's
tenures of its Lease (from the write that took it to the one that released it, or to its last
renewal plus the lease duration), and each write. Every write lies in a tenure of its writer,
every pair is written only by a shard that owns it in its writer's topology, and of two
tenures that hold writes to one pair, one ends before the other begins (``invariants.py``,
where ``test_invariants.py`` shows it failing on made-up histories).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambda_emulator import EmulatorServer
from lambda_emulator.store import WriteRecord
from tests.e2e.conftest import (
    ControllerFactory,
    ControllerProcess,
    OutOfBand,
    ServedEmulator,
    sample,
)
from tests.e2e.invariants import Tenure, check_writers, key_of, tenures
from tests.kube_lease_server import LeaseServer
from tests.polling import wait_until
from tests.sharded_fleet import CONTROLLER_ACCOUNT, FLEET, FleetFunction, declare, seed

NAMESPACE = "gitops"
BASE = "lambda-gitops"
LEASE_DURATION = 3.0
FAST = {"LEASE_DURATION": "3", "RENEW_DEADLINE": "2", "RETRY_PERIOD": "0.5"}


@dataclass
class ShardProcess:
    pod: str
    shard: int
    shards: int
    process: ControllerProcess

    @property
    def key(self) -> str:
        return key_of(self.pod)

    @property
    def lease(self) -> str:
        return f"{BASE}-{self.shard}-of-{self.shards}"

    def election(self) -> dict[str, object]:
        election: dict[str, object] = self.process.status()["leaderElection"]
        return election

    def leading(self) -> bool:
        return self.process.process.poll() is None and bool(self.election()["leading"])


@dataclass
class Fleet:
    """The 30-pair fleet on an emulator of its own, and a way to start shards over it."""

    state: Path
    repo: Path
    emulator: ServedEmulator
    start_controller: ControllerFactory
    lease_server: LeaseServer
    tmp_path: Path

    def start(self, shards: int, prefix: str) -> list[ShardProcess]:
        """One process of each shard of ``shards``, named ``PREFIX-SHARD``, all ready."""
        lease_server, tmp_path = self.lease_server, self.tmp_path
        started = []
        for shard in range(shards):
            pod = f"{prefix}-{shard}"
            env = {
                "POD_NAME": pod,
                "POD_NAMESPACE": NAMESPACE,
                "KUBECONFIG": str(lease_server.kubeconfig(tmp_path / f"{pod}.kubeconfig", pod)),
                "AWS_ACCESS_KEY_ID": key_of(pod),
                "LAMBDA_GITOPS_ACCOUNT": CONTROLLER_ACCOUNT,
                "LAMBDA_GITOPS_SHARDS": str(shards),
                "LAMBDA_GITOPS_SHARD_INDEX": str(shard),
                "LAMBDA_GITOPS_LEADER_ELECTION__ENABLED": "true",
                "LAMBDA_GITOPS_LEADER_ELECTION__LEASE_NAME": BASE,
                "LAMBDA_GITOPS_CACHE_DIR": str(tmp_path / f"cache-{pod}"),
                **{f"LAMBDA_GITOPS_LEADER_ELECTION__{k}": v for k, v in FAST.items()},
            }
            process = self.start_controller(
                "--registry", "aws", "--endpoint-url", self.emulator.endpoint_url,
                "--repo", str(self.repo),
                env=env, wait="none", resync_interval=0.5,
            )  # fmt: skip
            started.append(ShardProcess(pod, shard, shards, process))
        for each in started:
            each.process.wait_ready()
        return started

    def writes(self) -> list[WriteRecord]:
        with EmulatorServer(self.state) as server:
            return server.store.write_log()

    def written_by(self, keys: set[str] | None = None) -> set[tuple[str, str]]:
        """The pairs a controller (one of ``keys``, or any) has written to."""
        return {
            (w.account, w.region)
            for w in self.writes()
            if w.access_key_id is not None and (keys is None or w.access_key_id in keys)
        }


@pytest.fixture
def fleet(
    start_controller: ControllerFactory,
    lease_server: LeaseServer,
    serve_emulator: Callable[..., ServedEmulator],
    tmp_path: Path,
) -> Fleet:
    state = tmp_path / "registry.sqlite"
    seed(state)
    repo = declare(tmp_path / "declarations")
    return Fleet(state, repo, serve_emulator(state), start_controller, lease_server, tmp_path)


def pair_of(function: FleetFunction) -> tuple[str, str]:
    return function.pair.account, function.pair.region


def converged(fleet: Fleet) -> bool:
    """Every function's ``live`` was moved to 2 by a controller (the write log says so)."""
    return fleet.written_by() >= {pair_of(function) for function in FLEET}


def test_three_shards_write_each_function_from_exactly_the_shard_that_owns_it(
    fleet: Fleet, lease_server: LeaseServer
) -> None:
    shards = fleet.start(3, "pod")
    wait_until(lambda: all(shard.leading() for shard in shards), 20, "a leader in every shard")
    wait_until(lambda: converged(fleet), 30, "every function converged")
    writes = fleet.writes()
    per_pair = check_writers(writes, lease_server.history(), shards, LEASE_DURATION)
    for function in FLEET:
        writers = {write.access_key_id for _, write in per_pair[str(function.pair)]}
        assert writers == {key_of(f"pod-{function.owner(3)}")}, function.name
    for shard in shards:
        status = shard.process.status()
        mine = {f.name for f in FLEET if f.owner(3) == shard.shard}
        assert set(status["functions"]) == mine
        assert {entry["shard"] for entry in status["functions"].values()} == {shard.shard}
        assert status["sharding"] == {"shards": 3, "shard": shard.shard, "functions": len(mine)}
        samples = shard.process.metrics()
        label = str(shard.shard)
        assert sample(samples, "lambda_gitops_leader", shard=label) == 1
        assert sample(samples, "lambda_gitops_shard_functions", shard=label) == len(mine)
        synced = {
            dict(labels)["function"]
            for (name, labels), value in samples.items()
            if name == "lambda_gitops_function_sync_status" and value == 1
        }
        assert synced == mine, "a shard reports its own functions and no other's"
    for index in range(3):
        stored = lease_server.lease(NAMESPACE, f"{BASE}-{index}-of-3")
        assert stored is not None
        assert stored["metadata"]["labels"] == {
            "lambda-gitops.io/election": BASE,
            "lambda-gitops.io/shards": "3",
        }


def moved_and_kept() -> list[FleetFunction]:
    """Two functions whose pair moves to the new shard from 3 to 4, and two that stay."""
    moved = [f for f in FLEET if f.owner(3) != f.owner(4)]
    kept = [f for f in FLEET if f.owner(3) == f.owner(4)]
    return [*moved[:2], *kept[:2]]


def test_changing_from_three_shards_to_four_never_has_two_writers_of_one_pair(
    fleet: Fleet, lease_server: LeaseServer
) -> None:
    """A rolling change of N: the 4-shard processes start while the 3-shard ones still lead,
    wait without writing, and take over once the last old shard has released its Lease. Some
    aliases are moved by hand throughout, so that whoever owns them keeps writing: the old
    shards before the change, the new ones after it, some of them for pairs that moved."""
    old = fleet.start(3, "old")
    wait_until(lambda: all(shard.leading() for shard in old), 20, "a leader in every old shard")
    wait_until(lambda: converged(fleet), 30, "every function converged")
    watched = moved_and_kept()
    with OutOfBand(
        fleet.emulator.endpoint_url,
        [(function.arn, "live") for function in watched],
        only_from="2",
    ):
        new = fleet.start(4, "new")
        wait_until(
            lambda: all(shard.election()["waitingFor"] for shard in new),
            20,
            "every new shard to see the old ones",
        )
        assert not any(shard.leading() for shard in new)
        for shard in old:  # one by one, as a rolling update replaces them
            shard.process.stop()
        wait_until(lambda: all(s.leading() for s in new), 30, "a leader in every new shard")
        keys = {shard.key for shard in new}
        wait_until(
            lambda: fleet.written_by(keys) >= {pair_of(function) for function in watched},
            30,
            "the new shards to heal the watched functions",
        )
    writes = fleet.writes()
    history = lease_server.history()
    check_writers(writes, history, [*old, *new], LEASE_DURATION)
    held = tenures(history, LEASE_DURATION)

    def writing(processes: list[ShardProcess]) -> set[Tenure]:
        """The tenures of ``processes`` in which they wrote to Lambda."""
        keys = {process.key for process in processes}
        return {
            tenure
            for write in writes
            if write.access_key_id in keys
            for tenure in held
            if key_of(tenure.holder) == write.access_key_id and tenure.holds(write.at)
        }

    # Stronger than per pair: no shard of the new number wrote while any of the old could.
    old_end = max(tenure.end for tenure in writing(old))
    new_start = min(tenure.start for tenure in writing(new))
    assert old_end < new_start, "a new shard wrote while an old one could still write"
    for function in watched:  # each healed by the shard that owns it among four
        assert any(
            w.access_key_id == key_of(f"new-{function.owner(4)}")
            for w in writes
            if (w.account, w.region) == pair_of(function)
        )
