"""Benchmark: from ``git commit`` to the alias at its new version, with ``lambda-gitops run``.

A local repository declares ``--functions`` functions (default 10), already converged in the
emulated registry, which runs in this process with no injected fault (no latency, no quota).
The controller is ``run_controller``, what ``lambda-gitops run --repo PATH`` runs, on a thread
with its HTTP endpoints on a free port and every setting at its default: the Git folder is
watched with watchfiles, the client limiter paces 10 requests/s.

Then ``--commits`` commits (default 20) each move one function's ``live`` alias between r1 and
r2. Each is timed from the moment ``git commit`` returns until the emulator's store, read
directly (polling over HTTP would add requests to the pass being measured), has the alias on
the new version. Prints p50, p95 and the maximum, against the target of p50 under 0.5 s.

Every commit starts a full pass, which lists every function's aliases under the limiter: past
its burst of 10 requests, each 10 more functions add about a second. The default fleet fits in
the burst, so the figure is the controller's own latency (watch, resolve, read the commit,
observe, plan, write); ``--functions 100`` shows the pacing.

Usage: ``python bench/commit_latency.py [--functions N] [--commits C] [--interval S]``. Prints
its figures; asserts nothing, since the machines are shared and timings are noisy.
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
from lambda_emulator import EmulatorServer

VERSION_OF = {"r1": "1", "r2": "2"}
"""The version number the seed gave each label."""
POLL_SECONDS = 0.002
TIMEOUT_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=10)
    parser.add_argument("--commits", type=int, default=20)
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between convergence and next commit"
    )
    arguments = parser.parse_args()
    use_placeholder_credentials()

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        repository = make_repository(root / "declarations", arguments.functions)
        with emulator(root / "registry.sqlite", arguments.functions) as server:
            settings = load_settings(
                repo=str(repository.path),
                path=FOLDER,
                registry="aws",
                endpoint_url=server.endpoint_url,
                region=REGION,
                listen="127.0.0.1:0",
                log_format="json",
            )
            stop = threading.Event()
            controller = threading.Thread(
                target=run_controller, args=(settings, stop), name="bench-controller"
            )
            controller.start()
            try:
                wait_for_first_pass(server, arguments.functions, controller)
                latencies = measure(server, repository, arguments)
            finally:
                stop.set()
                controller.join(timeout=settings.shutdown_grace + 5)
    report(latencies, arguments)


def wait_for_first_pass(
    server: EmulatorServer, functions: int, controller: threading.Thread
) -> None:
    """Until the start-up pass has read every function (aliases, and versions for the cache)."""
    deadline = time.monotonic() + TIMEOUT_SECONDS + functions
    while True:
        counts = Counter(server.request_counts())
        if min(counts["ListAliases"], counts["ListVersionsByFunction"]) >= functions:
            break
        if not controller.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the controller did not finish its first pass: {dict(counts)}")
        time.sleep(0.05)
    # The watch announces itself within a second (its first, empty, batch); and the limiter's
    # burst refills.
    time.sleep(1.5)


def measure(
    server: EmulatorServer, repository: Repository, arguments: argparse.Namespace
) -> list[float]:
    live = dict.fromkeys(range(arguments.functions), "r1")
    latencies = []
    for commit in range(arguments.commits):
        index = commit % arguments.functions
        live[index] = "r2" if live[index] == "r1" else "r1"
        repository.write(index, live[index])
        repository.commit(f"move {name_of(index)} live to {live[index]}")
        started = time.perf_counter()
        latencies.append(wait_for_alias(server, index, VERSION_OF[live[index]], started))
        time.sleep(arguments.interval)
    return latencies


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


def report(latencies: list[float], arguments: argparse.Namespace) -> None:
    print(
        f"{len(latencies)} commits, {arguments.functions} functions, no injected latency; "
        f"commit to converged: p50 {percentile(latencies, 0.5):.3f} s, "
        f"p95 {percentile(latencies, 0.95):.3f} s, max {max(latencies):.3f} s, "
        f"min {min(latencies):.3f} s"
    )
    missed = sum(math.isinf(latency) for latency in latencies)
    print(f"converged: {len(latencies) - missed} of {len(latencies)} commits")


if __name__ == "__main__":
    main()
