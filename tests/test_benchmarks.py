"""The controller benchmarks keep working: each script, run small, exits 0 and prints its figures.

The figures themselves are not checked: timings on shared machines are noisy, and the targets
are for the full sizes, which take minutes. This only keeps the scripts from rotting as the
controller changes under them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

CASES = {
    # A case is named by the script, then any option that makes it a case of its own.
    "controller_steady_state.py": (
        ["--functions", "20", "--passes", "1"],
        [
            r"warm-up pass: [\d.]+ requests/function .*time/floor [\d.]+; succeeded",
            r"steady 1 pass: [\d.]+ requests/function .*time/floor [\d.]+; succeeded",
        ],
    ),
    "commit_latency.py": (
        ["--functions", "3", "--commits", "3", "--interval", "0.2"],
        [
            r"commit to converged: p50 [\d.]+ s, p95 [\d.]+ s, max [\d.]+ s",
            r"requests for the promoted function per commit: p50 \d+, p95 \d+, max \d+",
            r"converged: 3 of 3 commits",
        ],
    ),
    "hostile_input.py": (
        ["--megabytes", "2"],
        [
            r"a 2 MB file \(\d+ bytes\): [\d.]+ s, peak RSS \d+ MiB; valid function kept: True",
            r"an alias bomb, 9 levels .*valid function kept: True; error: hostile.yaml:1",
        ],
    ),
    "parse_revision.py": (
        ["--functions", "50", "--changes", "2"],
        [
            r"cold: 50 files, 50 functions, 50 parsed in [\d.]+ s .*peak traced \d+ MiB",
            r"warm, one file changed: best [\d.]+ ms, median [\d.]+ ms of 2 changes, 1 file parsed",
        ],
    ),
    "rollout_cost.py": (
        ["--functions", "3", "--steps", "2", "--hold", "120", "--interval", "60"],
        [
            r"rollouts complete: 3/3; analysis check runs: \d+",
            r"per function, start-up pass included: 3.00 writes .* Lambda reads after the "
            r"start-up pass: [\d.]+",
        ],
    ),
    "import_fleet.py": (
        ["--functions", "20", "--latency-ms", "0", "--quota", "200", "--client-rate", "200"],
        [
            r"requests per function: [\d.]+ \(ListAliases [\d.]+, ListFunctions [\d.]+",
            r"read: [\d.]+ s, quota floor [\d.]+ s .*time/floor [\d.]+",
            r"written: 20 of 20; the folder validates: True",
        ],
    ),
    "import_fleet.py --merge": (
        ["--functions", "20", "--latency-ms", "0", "--quota", "200", "--client-rate", "200"],
        [
            r"declarations merged and checked: [\d.]+ s; wall time [\d.]+ s",
            r"merged: 20 of 20; the folder validates: True",
        ],
    ),
    "cold_plan.py": (
        ["--functions", "20", "--versions", "3", "--undeclared", "5"],
        [
            r"cold plan, primed \(us-east-1: all-versions, 2 pages\): [\d.]+ requests/function "
            r"\(ListAliases [\d.]+, ListFunctions [\d.]+\); [\d.]+ s, floor [\d.]+ s",
            r"cold plan, per-function \(priming off\): [\d.]+ requests/function "
            r"\(ListAliases [\d.]+, ListVersionsByFunction [\d.]+\); [\d.]+ s, floor [\d.]+ s",
            r"plans equal: True; in sync: True; 20 functions planned",
        ],
    ),
    "retention_cost.py": (
        ["--functions", "50", "--versions", "20", "--fleet", "2", "--published", "8"],
        [
            r"plan\(\) over 50 functions of 20 versions: best [\d.]+ s without retention, "
            r"[\d.]+ s with retainVersions 10 \(450 deletions planned\)",
            r"plan\(\) over 50 functions down to 11 versions: best [\d.]+ s without retention, "
            r"[\d.]+ s with retainVersions 10 \(0 deletions planned\)",
            r"pass 1: [\d.]+ requests/function \(4 DeleteFunction, 2 ListVersionsByFunction, "
            r"\d+ ListFunctions\)",
            r"pass 2: [\d.]+ requests/function \(0 DeleteFunction, \d+ ListVersionsByFunction, "
            r"\d+ ListFunctions\)",
            r"pass 3: 1.00 requests/function \(0 DeleteFunction, 0 ListVersionsByFunction, "
            r"0 ListFunctions\)",
            r"versions left per function: 6 \(retainVersions 5, one pinned by hand\)",
        ],
    ),
    "failover.py": (
        [
            "--functions",
            "5",
            "--lease",
            "3",
            "--deadline",
            "2",
            "--retry",
            "0.5",
            "--resync",
            "1",
            "--passes",
            "2",
        ],
        [
            r"failover after kill -9: [\d.]+ s from the signal to the new leader's first write",
            r"failover after SIGTERM: [\d.]+ s from the signal to the new leader's first write",
            r"steady pass, 3 replicas: [\d.]+ Lambda requests per pass .*; 1 replica without "
            r"election: [\d.]+",
        ],
    ),
    "shard_balance.py": (
        ["--pairs", "30", "--shards", "3"],
        [
            r"30 pairs over 3 shards: busiest [\d.]+x even \(\d+ pairs\), emptiest [\d.]+x "
            r"\(\d+\); to 4 shards moves \d+% \(ideal 25%\)",
        ],
    ),
    "event_latency.py": (
        ["--functions", "5", "--changes", "2", "--unmanaged", "3", "--latency-ms", "0"],
        [
            r"2 out-of-band changes, message arrival to healed: p50 [\d.]+ s, p95 [\d.]+ s",
            r"Lambda reads per event, managed function: mean [\d.]+, p50 \d+, max \d+",
            r"Lambda requests for 3 events of an unmanaged function: \d+",
            r"healed: 2 of 2 changes",
        ],
    ),
    "controller_memory.py": (
        ["--functions", "200"],
        [
            r"peak RSS before .*: [\d.]+ MiB",
            r"pass 1: [\d.]+ s, 200 synced",
            r"peak RSS after \(200 functions.*: [\d.]+ MiB",
        ],
    ),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(CASES))
def test_benchmark_runs_and_prints_its_figures(case: str) -> None:
    arguments, figures = CASES[case]
    script, *options = case.split()
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *options, *arguments],
        capture_output=True,
        text=True,
        timeout=55,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for figure in figures:
        assert re.search(figure, result.stdout), f"no line matching {figure!r} in:\n{result.stdout}"
