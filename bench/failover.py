"""Benchmark: how long a failover takes, and what the followers cost in Lambda requests.

``--replicas`` (default 3) ``lambda-gitops run`` processes with leader election, on one
emulated registry (in this process, seeded with ``--functions`` converged functions) and the
Lease server of the tests, each with its own pod name, token and AWS access key id, so that the
emulator's write log says which replica wrote. Timings default to controller-runtime's
(``--lease 15 --deadline 10 --retry 2``).

Prints, for a leader killed with SIGKILL (a crashed node) and then for the next one stopped with
SIGTERM (a drain, a rolling update): the time from the signal to the first write to Lambda by
the new leader, which heals an alias moved out of band just after the signal. Then the steady
cost: Lambda requests per resync pass with all the replicas running, against one replica
without leader election on the same fleet (the followers should add none). Asserts nothing.

Usage: ``python bench/failover.py [--functions N] [--replicas R] [--lease S] [--deadline S]
[--retry S] [--resync S] [--passes P]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.fleet import CALLER, FOLDER, emulator, make_repository, name_of
from lambda_emulator import EmulatorServer
from tests.kube_lease_server import LeaseServer
from tests.polling import free_port

NAMESPACE = "gitops"


@dataclass
class Replica:
    pod: str
    process: subprocess.Popen[bytes]
    url: str
    log: IO[bytes]
    log_path: Path

    @property
    def key(self) -> str:
        return key_of(self.pod)

    def status(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(self.url + "/status", timeout=2) as answer:
                document: dict[str, Any] = json.loads(answer.read())
                return document
        except OSError:
            return None

    def leading(self) -> bool:
        status = self.status()
        return bool(status and status.get("leaderElection", {}).get("leading"))

    def passes(self) -> float:
        try:
            with urllib.request.urlopen(self.url + "/metrics", timeout=2) as answer:
                text = answer.read().decode()
        except OSError:
            return 0.0
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("lambda_gitops_reconcile_total{")
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def key_of(pod: str) -> str:
    return f"AKIA{pod.upper().replace('-', '')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--lease", type=int, default=15, help="lease duration, seconds")
    parser.add_argument("--deadline", type=float, default=10.0, help="renew deadline, seconds")
    parser.add_argument("--retry", type=float, default=2.0, help="retry period, seconds")
    parser.add_argument("--resync", type=float, default=2.0, help="resync interval, seconds")
    parser.add_argument("--passes", type=int, default=3, help="steady passes measured")
    arguments = parser.parse_args()
    if arguments.replicas < 3:
        parser.error("--replicas must be 3 or more: one is killed, the next stopped")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        repository = make_repository(root / "declarations", arguments.functions)
        with (
            emulator(root / "registry.sqlite", arguments.functions) as server,
            LeaseServer() as leases,
        ):
            print(
                f"{arguments.functions} functions, {arguments.replicas} replicas; lease "
                f"{arguments.lease} s, renew deadline {arguments.deadline:g} s, retry "
                f"{arguments.retry:g} s, resync {arguments.resync:g} s"
            )
            measure(server, leases, repository.path, root, arguments)


def measure(
    server: EmulatorServer,
    leases: LeaseServer,
    repo: Path,
    root: Path,
    arguments: argparse.Namespace,
) -> None:
    def start(pod: str, election: bool) -> Replica:
        return start_replica(
            server, leases, repo=repo, root=root, pod=pod, arguments=arguments, election=election
        )

    replicas = [start(f"pod-{index}", True) for index in range(arguments.replicas)]
    try:
        wait(lambda: sum(r.leading() for r in replicas) == 1, 60, "one leader")
        leader = next(r for r in replicas if r.leading())
        wait(lambda: leader.passes() >= 1, 60, "the leader's first pass")
        per_pass = steady_cost(server, leader, arguments.passes)

        for how, stop in (("kill -9", "kill"), ("SIGTERM", "term")):
            seconds = failover(server, replicas, leader, stop)
            print(
                f"failover after {how}: {seconds:.2f} s from the signal to the new leader's "
                f"first write (lease {arguments.lease} s, retry {arguments.retry:g} s)"
            )
            leader = next(r for r in replicas if r.process.poll() is None and r.leading())
    finally:
        for replica in replicas:
            replica.stop()
    alone = start("alone", False)
    try:
        wait(lambda: alone.passes() >= 1, 60, "the single replica's first pass")
        single = steady_cost(server, alone, arguments.passes)
    finally:
        alone.stop()
    print(
        f"steady pass, {arguments.replicas} replicas: {per_pass:.2f} Lambda requests per pass "
        f"({per_pass / arguments.functions:.2f} per function); 1 replica without election: "
        f"{single:.2f} ({single / arguments.functions:.2f} per function)"
    )


def start_replica(
    server: EmulatorServer,
    leases: LeaseServer,
    *,
    repo: Path,
    root: Path,
    pod: str,
    arguments: argparse.Namespace,
    election: bool,
) -> Replica:
    port = free_port()
    log_path = root / f"{pod}.log"
    log = log_path.open("wb")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_GITOPS_")},
        "AWS_ACCESS_KEY_ID": key_of(pod),
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": CALLER.region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "LAMBDA_GITOPS_CACHE_DIR": str(root / f"cache-{pod}"),
        "LAMBDA_GITOPS_SHUTDOWN_GRACE": "10",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    if election:
        env |= {
            "POD_NAME": pod,
            "POD_NAMESPACE": NAMESPACE,
            "KUBECONFIG": str(leases.kubeconfig(root / f"{pod}.kubeconfig", pod)),
            "LAMBDA_GITOPS_LEADER_ELECTION__ENABLED": "true",
            "LAMBDA_GITOPS_LEADER_ELECTION__LEASE_DURATION": str(arguments.lease),
            "LAMBDA_GITOPS_LEADER_ELECTION__RENEW_DEADLINE": str(arguments.deadline),
            "LAMBDA_GITOPS_LEADER_ELECTION__RETRY_PERIOD": str(arguments.retry),
        }
    command = [
        sys.executable, "-m", "controller", "run",
        "--repo", str(repo), "--path", FOLDER,
        "--registry", "aws", "--endpoint-url", server.endpoint_url,
        "--region", CALLER.region,
        "--listen", f"127.0.0.1:{port}",
        "--resync-interval", str(arguments.resync),
        "--log-format", "json",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=root
    )
    return Replica(pod, process, f"http://127.0.0.1:{port}", log, log_path)


def steady_cost(server: EmulatorServer, leader: Replica, passes: int) -> float:
    """Lambda requests per pass over ``passes`` whole passes of ``leader``, every replica's
    requests counted (the emulator counts them all)."""
    start = leader.passes()
    wait(lambda: leader.passes() > start, 60, "a pass to end")
    before, first = sum(server.request_counts().values()), leader.passes()
    wait(lambda: leader.passes() >= first + passes, 60 + 10 * passes, f"{passes} passes")
    done = leader.passes() - first
    return (sum(server.request_counts().values()) - before) / done


def failover(server: EmulatorServer, replicas: list[Replica], leader: Replica, how: str) -> float:
    """Seconds from stopping ``leader`` (``kill`` or ``term``) to the first write to Lambda by
    another replica: it heals the alias moved here just after the signal."""
    since = max((record.sequence for record in server.store.write_log()), default=0)
    started = time.monotonic()
    if how == "kill":
        leader.process.kill()
    else:
        leader.process.send_signal(signal.SIGTERM)
    server.store.update_alias(CALLER, name_of(0), "live", function_version="2")  # out of band
    others = {r.key for r in replicas if r is not leader}

    def new_write() -> bool:
        return any(record.access_key_id in others for record in server.store.write_log(since))

    wait(new_write, 120, "the new leader's first write")
    seconds = time.monotonic() - started
    leader.process.wait(timeout=30)
    return seconds


def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
