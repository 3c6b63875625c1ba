"""Benchmark: the controller's resident memory with a large fleet declared.

``--functions`` functions (default 10,000), three aliases each, are declared in a real Git
repository and converged in the emulated registry, which this process serves. A child process,
whose memory is the one measured, builds the controller as ``lambda-gitops run`` does (settings,
Git source, boto3 adapter behind the version cache, metrics, ``Controller``) and runs
``--passes`` passes (default 1) through ``Controller.run_pass``: the declarations are read from
the commit, every function is observed (its aliases and, for the version cache, its versions),
planned and recorded in the state ``/status`` shows, and the metric series are set. It prints
its peak RSS (``ru_maxrss``) before (imports done, controller built) and after, against the
target of under 250 MB.

A full pass at Lambda's pace would take 10,000 x 2 requests / 10 per s, over half an hour, and
pacing changes nothing that is held in memory: so for this measurement the emulator's quota is
off and the client limiter is off (``requests_per_second`` unset), and the emulator runs in the
parent process so that its own memory is not counted.

Usage: ``python bench/controller_memory.py [--functions N] [--passes P]``. Prints its figures;
asserts nothing, since the machines are shared and timings are noisy.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.fleet import (
    FOLDER,
    REGION,
    emulator,
    make_repository,
    peak_rss_mib,
    use_placeholder_credentials,
)
from controller.adapters.git import open_source
from controller.adapters.logging import configure as configure_logging
from controller.adapters.metrics import Metrics
from controller.adapters.registry.cache import CachingRegistry
from controller.bootstrap import MetricsObserver, registry_for
from controller.engine.loop import Controller
from controller.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("REPO", "ENDPOINT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(Path(arguments.child[0]), arguments.child[1], arguments)
    else:
        parent(arguments)


def parent(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        repository = make_repository(root / "declarations", arguments.functions)
        with emulator(root / "registry.sqlite", arguments.functions) as server:
            print(
                f"{arguments.functions} functions x 3 aliases declared and seeded in "
                f"{time.perf_counter() - started:.1f} s"
            )
            command = [sys.executable, __file__, "--functions", str(arguments.functions)]
            command += ["--passes", str(arguments.passes)]
            command += ["--child", str(repository.path), server.endpoint_url]
            sys.stdout.flush()
            subprocess.run(command, check=True)
            counts = ", ".join(f"{k} {v}" for k, v in sorted(server.request_counts().items()))
            print(f"requests the emulator answered: {counts}")


def child(repo: Path, endpoint: str, arguments: argparse.Namespace) -> None:
    use_placeholder_credentials()
    configure_logging("json", level=30)  # warnings only: a function in error is worth seeing
    settings = load_settings(
        repo=str(repo), path=FOLDER, registry="aws", endpoint_url=endpoint, region=REGION
    )
    # The limiter off: ``load_settings`` reads ``None`` as "flag not given", so it is set here.
    settings = settings.model_copy(update={"requests_per_second": None})
    metrics = Metrics()
    source = open_source(settings.repo, settings.ref, cache_dir=settings.cache_dir)
    with registry_for(settings, observer=MetricsObserver(metrics)) as aws:
        registry = CachingRegistry(aws, version_resync_seconds=settings.version_resync_interval)
        controller = Controller(settings.loop, source, registry, metrics)
        controller.state.revision = source.sync()
        before = peak_rss_mib()
        print(f"peak RSS before (imports done, controller built): {before:.1f} MiB")
        for index in range(arguments.passes):
            started = time.perf_counter()
            controller.run_pass({"start-up" if index == 0 else "resync"})
            seconds = time.perf_counter() - started
            statuses = Counter(record.status for record in controller.state.records.values())
            summary = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
            print(
                f"pass {index + 1}: {seconds:.1f} s, {summary}; "
                f"peak RSS after: {peak_rss_mib():.1f} MiB"
            )
        # The metric series and /status are part of what the controller holds; render both
        # once, as a scrape and a status request would.
        exposition = metrics.registry.collect()
        series = sum(len(family.samples) for family in exposition)
        status = controller.state.as_json()
        after = peak_rss_mib()
        print(
            f"peak RSS after ({arguments.functions} functions, {series} metric samples, "
            f"/status of {len(status['functions'])} functions): {after:.1f} MiB "
            f"(+{after - before:.1f} MiB)"
        )


if __name__ == "__main__":
    main()
