"""Benchmark: the controller's steady pass over a converged fleet, under Lambda's quota.

``--functions`` functions (default 1,000), three aliases each, are declared in a real Git
repository and already converged in the emulated registry, which adds ``--latency-ms`` (20) to
every call and answers past ``--quota`` (15 requests/s, Lambda's control-plane quota) with 429.
The controller is built as ``lambda-gitops run`` builds it (the boto3 adapter with its
client-side limiter and retries, behind the version cache, the metrics observer, the local Git
source) and driven through ``Controller.run_pass``: one warm-up pass, which fills the version
cache, then ``--passes`` steady passes. For each steady pass it prints:

- requests per function, from the emulator's own request counters (429s included), against
  the target of at most 1.05: a converged function should cost one ListAliases;
- the pass time, the quota floor (requests / quota: no client can be faster) and their ratio,
  against the target of at most 1.15;
- whether the pass succeeded: every function synced, the pass recorded as a success, and how
  many 429s the retries absorbed.

The client limiter runs at ``--client-rate`` requests/s, by default the quota itself (15/s),
not ``run``'s default of 10/s: at 10/s a pass takes quota/10 = 1.5 times the floor by design
(the default leaves a third of the quota to the console and other tools), so the ratio would
measure that choice rather than the controller. Pass ``--client-rate 10`` to see it.

Usage: ``python bench/controller_steady_state.py [--functions N] [--passes P] [--client-rate R]``.
Prints its figures; asserts nothing, since the machines are shared and timings are noisy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.fleet import FOLDER, REGION, emulator, make_repository, use_placeholder_credentials
from controller.adapters.git import open_source
from controller.adapters.logging import configure as configure_logging
from controller.adapters.metrics import Metrics
from controller.adapters.registry.cache import CachingRegistry
from controller.bootstrap import MetricsObserver, registry_for
from controller.engine.loop import Controller
from controller.settings import load_settings
from lambda_emulator import EmulatorServer, Faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=3, help="steady passes after the warm-up")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--quota", type=float, default=15.0, help="the emulator's requests/s")
    parser.add_argument("--client-rate", type=float, default=15.0, help="the client limiter's")
    parser.add_argument("--concurrency", type=int, default=8, help="run's --concurrency")
    arguments = parser.parse_args()
    use_placeholder_credentials()
    # Warnings only: a function in error is worth seeing; the pass lines are printed below.
    configure_logging("json", level=30)

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        repository = make_repository(root / "declarations", arguments.functions)
        faults = Faults(latency_ms=arguments.latency_ms, rate_limit=arguments.quota)
        with emulator(root / "registry.sqlite", arguments.functions, faults) as server:
            print(
                f"{arguments.functions} functions x 3 aliases; emulator: {arguments.latency_ms:g} "
                f"ms latency, {arguments.quota:g} requests/s quota; client limiter "
                f"{arguments.client_rate:g}/s, concurrency {arguments.concurrency}"
            )
            measure(server, repository.path, arguments)


def measure(server: EmulatorServer, repo: Path, arguments: argparse.Namespace) -> None:
    settings = load_settings(
        repo=str(repo),
        path=FOLDER,
        registry="aws",
        endpoint_url=server.endpoint_url,
        region=REGION,
        requests_per_second=arguments.client_rate,
        concurrency=arguments.concurrency,
    )
    # What ``run_controller`` builds, minus the HTTP server and the loop's thread: the passes
    # are started here, one after the other, instead of by triggers.
    metrics = Metrics()
    source = open_source(settings.repo, settings.ref, cache_dir=settings.cache_dir)
    with registry_for(settings, observer=MetricsObserver(metrics)) as aws:
        registry = CachingRegistry(aws, version_resync_seconds=settings.version_resync_interval)
        controller = Controller(settings.loop, source, registry, metrics)
        controller.state.revision = source.sync()

        for index in range(arguments.passes + 1):
            kind = "warm-up" if index == 0 else f"steady {index}"
            # Both buckets, the emulator's and the client's, refill while idle; a real resync
            # comes minutes after the last pass, so every pass starts with full buckets.
            time.sleep(1.0 + 1.0 / min(arguments.quota, arguments.client_rate))
            requests_before = Counter(server.request_counts())
            throttled_before = Counter(server.throttled_counts())
            started = time.perf_counter()
            controller.run_pass({"resync"})
            seconds = time.perf_counter() - started
            requests = Counter(server.request_counts()) - requests_before
            throttled = Counter(server.throttled_counts()) - throttled_before
            report(
                kind, controller, arguments, requests=requests, throttled=throttled, seconds=seconds
            )


def report(
    kind: str,
    controller: Controller,
    arguments: argparse.Namespace,
    *,
    requests: Counter[str],
    throttled: Counter[str],
    seconds: float,
) -> None:
    total = sum(requests.values())
    floor = total / arguments.quota
    statuses: Counter[str] = Counter(r.status for r in controller.state.records.values())
    succeeded = (
        statuses["synced"] == arguments.functions
        and len(controller.state.records) == arguments.functions
        and not controller.state.declaration_errors
    )
    by_operation = ", ".join(f"{name} {count}" for name, count in sorted(requests.items()))
    print(
        f"{kind:>9} pass: {total / arguments.functions:.3f} requests/function ({by_operation}); "
        f"{seconds:.2f} s, quota floor {floor:.2f} s, time/floor {seconds / floor:.3f}; "
        f"{'succeeded' if succeeded else 'FAILED'} ({_statuses(statuses)}; "
        f"{sum(throttled.values())} 429s absorbed)"
    )


def _statuses(statuses: Counter[str]) -> str:
    return ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))


if __name__ == "__main__":
    main()
