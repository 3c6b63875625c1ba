"""End to end: three ``lambda-gitops run`` processes, one emulated Lambda, one Lease server.

Each replica is a real process with its own pod name, its own token for the Lease server (a
kubeconfig of its own) and its own AWS access key id, which the emulator's write log records
with every write: so the checker can tell who wrote what, and when, against who held the lease
then. Timings are short (a 3 s lease, a 2 s renew deadline, a 0.5 s retry period) to keep the
tests quick; the proportions are those of the defaults.

The invariant, checked after every scenario over the whole write log and the Lease server's
history: every write to Lambda came from the replica that held the lease at that moment, and
none came later than its last successful renewal plus the lease duration, which is the
earliest a follower may take over (``invariants.py``, where ``test_invariants.py`` shows it
failing on made-up histories).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambda_emulator import EmulatorServer
from lambda_emulator.store import WriteRecord
from tests.e2e.conftest import (
    ControllerFactory,
    ControllerProcess,
    DeclarationsRepo,
    OutOfBand,
    ServedEmulator,
    bare_remote,
    github_signature,
    http_request,
    lambda_client,
    sample,
)
from tests.e2e.invariants import check_writes_came_from_the_leader, key_of
from tests.kube_lease_server import LeaseServer
from tests.polling import wait_until

NAMESPACE = "gitops"
LEASE = "lambda-gitops"
FAST = {"LEASE_DURATION": "3", "RENEW_DEADLINE": "2", "RETRY_PERIOD": "0.5"}
SECRET = b"webhook-secret-for-the-election"
PROMOTE = ("orders-api.yaml", "live:\n      version: r42", "live:\n      version: r41")
BETA = ("billing-worker.yaml", "beta:\n      version: r8", "beta:\n      version: r7")


def election_env(
    server: LeaseServer, tmp_path: Path, pod: str, timings: dict[str, str]
) -> dict[str, str]:
    """What the chart gives a pod (its name and namespace from the downward API), a kubeconfig
    of its own, and an access key id of its own for the write log."""
    kubeconfig = server.kubeconfig(tmp_path / f"{pod}.kubeconfig", pod)
    return {
        "POD_NAME": pod,
        "POD_NAMESPACE": NAMESPACE,
        "KUBECONFIG": str(kubeconfig),
        "AWS_ACCESS_KEY_ID": key_of(pod),
        "LAMBDA_GITOPS_LEADER_ELECTION__ENABLED": "true",
        "LAMBDA_GITOPS_CACHE_DIR": str(tmp_path / f"cache-{pod}"),
        **{f"LAMBDA_GITOPS_LEADER_ELECTION__{name}": value for name, value in timings.items()},
    }


@dataclass
class Replicas:
    """The replicas of one installation, by pod name."""

    processes: dict[str, ControllerProcess]

    def election(self, pod: str) -> dict[str, object]:
        election: dict[str, object] = self.processes[pod].status()["leaderElection"]
        return election

    def leaders(self) -> list[str]:
        return [pod for pod, p in self.live().items() if self.election(pod)["leading"]]

    def live(self) -> dict[str, ControllerProcess]:
        return {pod: p for pod, p in self.processes.items() if p.process.poll() is None}

    def wait_for_one_leader(self, timeout: float = 20.0, *, not_: str | None = None) -> str:
        def one() -> str | None:
            leaders = self.leaders()
            return leaders[0] if len(leaders) == 1 and leaders[0] != not_ else None

        return wait_until(one, timeout, "exactly one leader", diagnostics=self.logs)

    def logs(self) -> str:
        return "\n".join(f"--- {pod}\n{p.log()[-4000:]}" for pod, p in self.processes.items())


@pytest.fixture
def emulator(serve_emulator: Callable[..., ServedEmulator], seeded_state: Path) -> ServedEmulator:
    """The one emulated Lambda every replica writes to, over the seeded example fleet."""
    return serve_emulator(seeded_state)


@pytest.fixture
def start_replicas(
    start_controller: ControllerFactory,
    lease_server: LeaseServer,
    emulator: ServedEmulator,
    declarations_repo: DeclarationsRepo,
    tmp_path: Path,
) -> Callable[..., Replicas]:
    """Start ``count`` replicas against the emulator, reading ``repo`` (the declarations
    repository unless told otherwise), with ``arguments`` after those, all ready."""

    def start(
        *arguments: str,
        repo: str | None = None,
        count: int = 3,
        timings: dict[str, str] = FAST,
        **options: float,
    ) -> Replicas:
        pods = [f"pod-{index}" for index in range(count)]
        source = repo or str(declarations_repo.path)
        processes = {
            pod: start_controller(
                *("--registry", "aws", "--endpoint-url", emulator.endpoint_url, "--repo", source),
                *arguments,
                env=election_env(lease_server, tmp_path, pod, timings),
                wait="none",
                **options,
            )
            for pod in pods
        }
        for process in processes.values():
            process.wait_ready()
        return Replicas(processes)

    return start


def writes_of(state: Path) -> list[WriteRecord]:
    with EmulatorServer(state) as server:
        return server.store.write_log()


def promote(repo: DeclarationsRepo, change: tuple[str, str, str], message: str) -> str:
    repo.edit(*change)
    return repo.commit(message)


def lambda_alias(emulator: ServedEmulator, function: str, alias: str) -> str:
    client = lambda_client(emulator.endpoint_url)
    try:
        return client.get_alias(FunctionName=function, Name=alias)["FunctionVersion"]
    finally:
        client.close()


def test_one_leader_writes_and_a_killed_leader_is_replaced_after_the_lease(
    start_replicas: Callable[..., Replicas],
    emulator: ServedEmulator,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    lease_server: LeaseServer,
) -> None:
    replicas = start_replicas()
    leader = replicas.wait_for_one_leader()
    # A replica that lost the race to create the Lease learns who won at its next try.
    wait_until(
        lambda: all(replicas.election(pod)["leader"] == leader for pod in replicas.processes),
        5,
        "every replica to read who leads",
    )
    for pod, process in replicas.processes.items():
        samples = process.metrics()
        assert sample(samples, "lambda_gitops_leader", shard="0") == (pod == leader)
    wait_until(lambda: lambda_alias(emulator, "orders-api", "live") == "2", 20, "the first pass")
    followers = [pod for pod in replicas.processes if pod != leader]
    for pod in followers:  # a follower runs no pass: it has read neither Git nor Lambda
        status = replicas.processes[pod].status()
        assert status["revision"] is None
        assert status["functions"] == {}

    promote(declarations_repo, PROMOTE, "roll live back to r41")
    wait_until(lambda: lambda_alias(emulator, "orders-api", "live") == "1", 20, "the promotion")

    replicas.processes[leader].kill()
    successor = replicas.wait_for_one_leader(not_=leader)
    assert successor in followers
    promote(declarations_repo, BETA, "beta to r7")
    wait_until(
        lambda: lambda_alias(emulator, "billing-worker", "beta") == "1",
        20,
        "the new leader to converge the next commit",
        diagnostics=replicas.logs,
    )
    writes = writes_of(seeded_state)
    keys = {w.access_key_id for w in writes if w.access_key_id is not None}  # None: the seed
    assert keys == {key_of(leader), key_of(successor)}
    history = lease_server.history()
    holders = [entry.holder for entry in history]
    assert holders[0] == leader
    assert holders[-1] == successor
    assert max(entry.transitions or 0 for entry in history) == 1
    check_writes_came_from_the_leader(writes, history, replicas.processes, lease_duration=3)


def test_a_partitioned_leader_stops_writing_before_a_follower_can_take_over(
    start_replicas: Callable[..., Replicas],
    emulator: ServedEmulator,
    seeded_state: Path,
    lease_server: LeaseServer,
) -> None:
    replicas = start_replicas(resync_interval=0.5)
    leader = replicas.wait_for_one_leader()
    with OutOfBand(emulator.endpoint_url, [("billing-worker", "beta")]):
        wait_until(
            lambda: (
                sum(1 for w in writes_of(seeded_state) if w.access_key_id == key_of(leader)) >= 4
            ),
            20,
            "the leader to put the alias back a few times",
            diagnostics=replicas.logs,
        )
        lease_server.partition(leader)
        try:
            cut_off = replicas.processes[leader]
            code = wait_until(
                cut_off.process.poll,
                20,
                "the cut-off leader to exit",
                diagnostics=cut_off.log,
            )
            successor = replicas.wait_for_one_leader(not_=leader)
            wait_until(
                lambda: any(w.access_key_id == key_of(successor) for w in writes_of(seeded_state)),
                20,
                "the new leader to write",
            )
        finally:
            lease_server.heal(leader)
    cut_off.stopped = True
    cut_off.log_file.close()
    assert code == 1, cut_off.log()
    assert cut_off.events("lost the lease; writes stopped")
    assert "error: lost the leadership" in cut_off.log()
    writes = writes_of(seeded_state)
    history = lease_server.history()
    check_writes_came_from_the_leader(writes, history, replicas.processes, lease_duration=3)
    taken = next(entry.at for entry in history if entry.holder == successor)
    last_of_leader = max(w.at for w in writes if w.access_key_id == key_of(leader))
    assert last_of_leader < taken, "the cut-off leader wrote after the follower took over"


def test_sigterm_releases_the_lease_so_a_follower_leads_without_waiting_it_out(
    start_replicas: Callable[..., Replicas],
    emulator: ServedEmulator,
    declarations_repo: DeclarationsRepo,
    lease_server: LeaseServer,
) -> None:
    """The lease lasts 60 s here: a follower that leads within 20 s took a released lease."""
    replicas = start_replicas(
        count=2, timings={"LEASE_DURATION": "60", "RENEW_DEADLINE": "10", "RETRY_PERIOD": "0.5"}
    )
    leader = replicas.wait_for_one_leader()
    replicas.processes[leader].stop()  # SIGTERM: must exit 0
    successor = replicas.wait_for_one_leader(20, not_=leader)
    history = lease_server.history()
    release = next(i for i, entry in enumerate(history) if entry.holder == "")
    assert history[release].lease_duration_seconds == 1
    assert history[release + 1].holder == successor
    assert replicas.processes[leader].events("released the lease")
    promote(declarations_repo, PROMOTE, "roll live back to r41")
    wait_until(lambda: lambda_alias(emulator, "orders-api", "live") == "1", 20, "the promotion")


def test_a_push_sent_to_a_follower_reaches_the_leader_through_the_lease(
    start_replicas: Callable[..., Replicas],
    emulator: ServedEmulator,
    declarations_repo: DeclarationsRepo,
    tmp_path: Path,
) -> None:
    remote = bare_remote(declarations_repo, tmp_path / "remote.git")
    secret = tmp_path / "webhook-secret"
    secret.write_bytes(SECRET)
    replicas = start_replicas(
        "--ref", "main", "--webhook-secret-file", str(secret),
        repo=f"file://{remote}",
        count=2,
        poll_interval=3600,
    )  # fmt: skip
    leader = replicas.wait_for_one_leader()
    follower = next(pod for pod in replicas.processes if pod != leader)
    wait_until(lambda: lambda_alias(emulator, "orders-api", "live") == "2", 20, "the first pass")
    promote(declarations_repo, PROMOTE, "roll live back to r41")
    declarations_repo.push()
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    code, _ = http_request(
        replicas.processes[follower].url + "/webhook",
        method="POST",
        body=body,
        headers={"X-Hub-Signature-256": github_signature(SECRET, body)},
    )
    assert code == 202
    wait_until(
        lambda: lambda_alias(emulator, "orders-api", "live") == "1",
        20,
        "the leader to fetch the push a follower received",
        diagnostics=replicas.logs,
    )
    assert replicas.processes[follower].events("passed a webhook on to the leader")
    assert replicas.processes[leader].events("a follower passed a webhook on; fetching")
