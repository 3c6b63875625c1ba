"""Benchmark: from ``git commit`` to the alias at its new version, with ``lambda-gitops run``,
at any fleet size, with a full pass running at the same time.

A local repository declares ``--functions`` functions (10, 1,000 or 10,000), already converged
in the emulated registry, which runs in this process as AWS answers: ``--latency-ms`` per call
(default 20) and a quota of ``--quota`` requests a second per account and region (default 15,
Lambda's control-plane quota), past which it answers 429. The controller is ``run_controller``,
what ``lambda-gitops run --repo PATH`` runs, on a thread with its settings at their defaults
(the Git folder watched with watchfiles, the client limiter at 10 requests/s, 8 functions at
once) except the resync interval, ``--resync`` seconds (default 1), so that a full pass over the
whole fleet is always running, or about to: at 10,000 functions the start-up pass alone takes
about half an hour at the quota, and every commit lands in the middle of it.

Then ``--commits`` commits (default 10) each move one function's ``live`` alias between r1 and
r2. Each is timed from the moment ``git commit`` returns until the emulator's store, read
directly (polling over HTTP would add requests to what is measured), has the alias on the new
version; and the requests naming that function are counted from the commit until shortly after
it converged (the concurrent full pass, if it reaches the same function then, adds its own).
Prints p50 and p95 of the latency and of the requests, against the goal of p50 under 1 s and at
most 3 requests for a one-alias promotion.

Usage: ``python bench/commit_latency.py [--functions N] [--commits C] [--interval S]
[--latency-ms MS] [--quota RPS] [--resync S]``. Prints its figures; asserts nothing, since the
machines are shared and timings are noisy.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.fleet import (
    CALLER,
    FOLDER,
    REGION,
    Repository,
    emulator,
    make_repository,
    name_of,
    use_placeholder_credentials,
)
from controller.bootstrap import run_controller
from controller.settings import load_settings
from lambda_emulator import EmulatorServer, Faults

VERSION_OF = {"r1": "1", "r2": "2"}
"""The version number the seed gave each label."""
POLL_SECONDS = 0.002
TIMEOUT_SECONDS = 60.0
SETTLE_SECONDS = 0.3
"""How long after convergence the function's requests are still counted: a targeted pass that
wrote and then read again would show it here."""
STARTED_FUNCTIONS = 10
"""Functions the start-up pass must have read before the first commit: the controller has then
read the declarations (some 25 s at 10,000 files, cold) and the full pass is under way."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=10)
    parser.add_argument("--commits", type=int, default=10)
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between convergence and next commit"
    )
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--quota", type=float, default=15.0, help="emulator requests/s")
    parser.add_argument("--resync", type=float, default=1.0, help="controller resync interval")
    arguments = parser.parse_args()
    use_placeholder_credentials()

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        repository = make_repository(root / "declarations", arguments.functions)
        faults = Faults(latency_ms=arguments.latency_ms, rate_limit=arguments.quota)
        with emulator(root / "registry.sqlite", arguments.functions, faults) as server:
            print(
                f"set up {arguments.functions} functions in Git and the emulator in "
                f"{time.perf_counter() - started:.1f} s"
            )
            settings = load_settings(
                repo=str(repository.path),
                path=FOLDER,
                registry="aws",
                endpoint_url=server.endpoint_url,
                region=REGION,
                listen="127.0.0.1:0",
                log_format="json",
                log_level="warning",
                resync_interval=arguments.resync,
            )
            stop = threading.Event()
            controller = threading.Thread(
                target=run_controller, args=(settings, stop), name="bench-controller"
            )
            controller.start()
            try:
                ready = wait_for_start(server, arguments.functions, controller)
                print(f"controller reading the fleet {ready:.1f} s after it started")
                results = measure(server, repository, arguments)
                throttled = sum(server.throttled_counts().values())
            finally:
                stop.set()
                controller.join(timeout=settings.shutdown_grace + 5)
    report(results, throttled, arguments)


def wait_for_start(server: EmulatorServer, functions: int, controller: threading.Thread) -> float:
    """Seconds until the start-up pass has read its first functions' aliases."""
    started = time.monotonic()
    deadline = started + TIMEOUT_SECONDS + functions / 100
    wanted = min(functions, STARTED_FUNCTIONS)
    while Counter(server.request_counts())["ListAliases"] < wanted:
        if not controller.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the controller did not start: {server.request_counts()}")
        time.sleep(0.05)
    # The watch announces itself within a second (its first, empty, batch).
    time.sleep(1.5)
    return time.monotonic() - started


def measure(
    server: EmulatorServer, repository: Repository, arguments: argparse.Namespace
) -> list[tuple[float, int]]:
    """``(seconds, requests)`` per commit."""
    live: dict[int, str] = {}
    results = []
    for commit in range(arguments.commits):
        # Spread over the fleet, so that the full pass has not just read the function.
        index = (commit * 7919) % arguments.functions
        live[index] = "r2" if live.get(index, "r1") == "r1" else "r1"
        repository.write(index, live[index])
        before = server.function_request_counts().get(name_of(index), 0)
        repository.commit(f"move {name_of(index)} live to {live[index]}")
        started = time.perf_counter()
        seconds = wait_for_alias(server, index, VERSION_OF[live[index]], started)
        time.sleep(SETTLE_SECONDS)
        requests = server.function_request_counts().get(name_of(index), 0) - before
        results.append((seconds, requests))
        time.sleep(arguments.interval)
    return results


def wait_for_alias(server: EmulatorServer, index: int, version: str, started: float) -> float:
    """Seconds from ``started`` until the function's ``live`` alias is on ``version``."""
    store, name = server.store, name_of(index)
    while True:
        if store.get_alias(CALLER, name, "live").function_version == version:
            return time.perf_counter() - started
        if time.perf_counter() - started > TIMEOUT_SECONDS:
            print(f"{name}: live never reached version {version}", file=sys.stderr)
            return math.inf
        time.sleep(POLL_SECONDS)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with ``fraction`` of them at or below."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def report(results: list[tuple[float, int]], throttled: int, arguments: argparse.Namespace) -> None:
    latencies = [seconds for seconds, _ in results]
    requests = [float(count) for _, count in results]
    print(
        f"{len(results)} commits, {arguments.functions} functions, emulator at "
        f"{arguments.latency_ms:g} ms and {arguments.quota:g} requests/s, a full pass every "
        f"{arguments.resync:g} s; commit to converged: p50 {percentile(latencies, 0.5):.3f} s, "
        f"p95 {percentile(latencies, 0.95):.3f} s, max {max(latencies):.3f} s "
        "(goal: p50 under 1 s)"
    )
    print(
        f"requests for the promoted function per commit: p50 {percentile(requests, 0.5):g}, "
        f"p95 {percentile(requests, 0.95):g}, max {max(requests):g} (goal: at most 3); "
        f"{throttled} requests throttled by the emulator in all"
    )
    missed = sum(math.isinf(latency) for latency in latencies)
    print(f"converged: {len(results) - missed} of {len(results)} commits")


if __name__ == "__main__":
    main()
