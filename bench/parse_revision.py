"""Benchmark: reading a revision's declarations, cold and after a one-file change.

A repository of ``--functions`` files (default 10,000, one function each) is read with
``load_commit`` as the controller reads a revision, through a ``ParseCache``: first cold (every
file listed, read and parsed), then ``--changes`` times (default 5) after a commit that changes
one file, warm (ten thousand files listed, one read and parsed, the checks across files run over
all). Prints the wall time of each, the files parsed, and the peak memory traced while reading
cold, against the goal of a warm read under 50 ms.

Usage: ``python bench/parse_revision.py [--functions N] [--changes C]``. Prints its figures;
asserts nothing, since the machines are shared and timings are noisy.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.fleet import FOLDER, REGION, make_repository, peak_rss_mib
from controller.adapters.git.reader import load_commit
from controller.core.declarations.parser import ParseCache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        repository = make_repository(Path(folder) / "declarations", arguments.functions)
        cache = ParseCache()
        revision = repository.repo.head.commit.hexsha

        started = time.perf_counter()
        cold = load_commit(repository.path, revision, FOLDER, default_region=REGION, cache=cache)
        cold_seconds = time.perf_counter() - started
        tracemalloc.start()  # a second cold read, traced: tracing slows it, so it is not timed
        load_commit(repository.path, revision, FOLDER, default_region=REGION, cache=ParseCache())
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        gc.freeze()  # as the controller does after a read that parsed many files
        print(
            f"cold: {arguments.functions} files, {len(cold.functions)} functions, "
            f"{cache.parsed} parsed in {cold_seconds:.2f} s "
            f"({1000 * cold_seconds / arguments.functions:.2f} ms/file); peak traced "
            f"{traced_peak:.0f} MiB, process peak RSS {peak_rss_mib():.0f} MiB"
        )

        warm = []
        for change in range(arguments.changes):
            index = (change * 7919) % arguments.functions
            repository.write(index, "r2")  # every function is declared at r1 to begin with
            revision = repository.commit(f"change {index}")
            parsed_before = cache.parsed
            started = time.perf_counter()
            declarations = load_commit(
                repository.path, revision, FOLDER, default_region=REGION, cache=cache
            )
            warm.append(time.perf_counter() - started)
            assert len(declarations.functions) == arguments.functions
            assert cache.parsed - parsed_before == 1
        print(
            f"warm, one file changed: best {1000 * min(warm):.1f} ms, median "
            f"{1000 * statistics.median(warm):.1f} ms of {len(warm)} changes, 1 file parsed "
            "each (goal: under 50 ms)"
        )


if __name__ == "__main__":
    main()
