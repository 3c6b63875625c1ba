"""Benchmark: ``lambda-gitops import --all`` of a live fleet, under Lambda's quota.

``--functions`` functions (default 1,000), each with two versions and three aliases (``live``,
``beta``, and ``canary`` with 10% routing, none of them marked: a fleet the controller has
never seen), are seeded into the emulated registry as ``bench/fleet.py`` seeds its fleet. The
emulator adds ``--latency-ms`` (20) to every call and answers past ``--quota`` (15 requests/s,
Lambda's control-plane quota) with 429. The import is built as the command builds it (the
boto3 adapter with its client-side limiter and retries, the settings, the folder on disk) and
reads the whole region into an empty folder. It prints:

- requests per function, by operation, from the emulator's own counters (429s included): the
  region's ListFunctions pages (``FunctionVersion=ALL``, 50 versions a page, a function's
  ``$LATEST`` included), then one ListAliases per function: about 1.06 for this fleet, where
  reading each function's versions on its own would cost just over 2;
- the time to read, the quota floor (requests / the client's rate: no client can read faster)
  and their ratio, against the goal of at most 1.15;
- the time to write and check the declarations (each parsed and planned against what was read,
  then the whole folder), the wall time in all, and whether every function was written and the
  folder validates.

With ``--merge`` the folder already declares every function, in part: its first version and the
``live`` alias on it, as an import of that much would write them. The import then adds to each
file what it lacks (version 2, and ``beta`` and ``canary``, which use it) with the splice edits
of ``add-version``, each checked before it stands: the time to write and check is the cost of
merging into a folder that declares the whole fleet, and the last line counts functions merged.

The client limiter runs at ``--client-rate`` requests/s, by default the quota itself (15/s), not
the commands' default of 10/s, which leaves a third of the quota to other tools by design and
would make the ratio 1.5 (pass ``--client-rate 10`` to see it).

Usage: ``python bench/import_fleet.py [--functions N] [--client-rate R] [--concurrency C]
[--merge]``.
Prints its figures; asserts nothing, since the machines are shared and timings are noisy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.fleet import FOLDER, REGION, emulator, use_placeholder_credentials
from controller.adapters.git.reader import load_folder
from controller.adapters.logging import configure as configure_logging
from controller.bootstrap import registry_for
from controller.review import files, imports
from controller.settings import load_settings
from lambda_emulator import EmulatorServer, Faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--quota", type=float, default=15.0, help="the emulator's requests/s")
    parser.add_argument("--client-rate", type=float, default=15.0, help="the client limiter's")
    parser.add_argument("--concurrency", type=int, default=8, help="functions read at once")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="import into a folder that already declares each function's first version and live",
    )
    arguments = parser.parse_args()
    use_placeholder_credentials()
    configure_logging("json", level=30)  # warnings only

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        faults = Faults(latency_ms=arguments.latency_ms, rate_limit=arguments.quota)
        with emulator(root / "registry.sqlite", arguments.functions, faults) as server:
            declared = ""
            if arguments.merge:
                declared = "; into a folder declaring version 1 and live of each"
            print(
                f"{arguments.functions} functions x 2 versions x 3 aliases; emulator: "
                f"{arguments.latency_ms:g} ms latency, {arguments.quota:g} requests/s quota; "
                f"client limiter {arguments.client_rate:g}/s, concurrency {arguments.concurrency}"
                f"{declared}"
            )
            measure(server, root / "declarations" / FOLDER, arguments)


def measure(server: EmulatorServer, into: Path, arguments: argparse.Namespace) -> None:
    settings = load_settings(
        registry="aws",
        endpoint_url=server.endpoint_url,
        region=REGION,
        requests_per_second=arguments.client_rate,
        concurrency=arguments.concurrency,
    )
    # Both buckets, the emulator's and the client's, start full, as after any idle time.
    time.sleep(1.0 + 1.0 / min(arguments.quota, arguments.client_rate))
    requests_before = Counter(server.request_counts())
    throttled_before = Counter(server.throttled_counts())
    started = time.perf_counter()
    with registry_for(settings) as registry:
        account = registry.caller_account()
        readings = imports.read_functions(
            registry,
            REGION,
            None,
            in_scope=settings.scope.allows,
            concurrency=settings.concurrency,
        )
    read = time.perf_counter()
    if arguments.merge:
        declare_in_part(readings, into, account)
    merging = time.perf_counter()
    root, folder = files.import_folder(into)
    plan = imports.plan_import(
        folder,
        readings,
        imports.ImportOptions(),
        imported_at=datetime.now(UTC),
        default_region=settings.region,
        by_region=False,
        account=account,
    )
    files.write_all(root, plan.writes)
    written = time.perf_counter()
    requests = Counter(server.request_counts()) - requests_before
    throttled = Counter(server.throttled_counts()) - throttled_before
    loaded = load_folder(into, default_region=REGION)
    report(
        arguments,
        requests=requests,
        throttled=sum(throttled.values()),
        read_seconds=read - started,
        write_seconds=written - merging,
        written=plan.count("merged" if arguments.merge else "written"),
        valid=not loaded.errors and len(loaded.functions) == arguments.functions,
    )


def declare_in_part(readings: Iterable[imports.Reading], into: Path, account: str | None) -> None:
    """Declare each function as an import of its first version and the aliases on that version
    alone would: the version the others route to, and those aliases, are left for the merge.
    Not timed: it stands for a folder that was there before."""
    into.mkdir(parents=True, exist_ok=True)
    for reading in readings:
        assert isinstance(reading, imports.LiveFunction), reading.reason
        first = min(reading.versions, key=lambda version: version.number)
        aliases = tuple(
            alias
            for alias in reading.aliases
            if alias.function_version == first.version and not alias.effective_routing
        )
        part = replace(reading, versions=(first,), aliases=aliases)
        generated = imports.declaration_text(
            part, imports.ImportOptions(), imported_at=datetime.now(UTC), account=account
        )
        (into / f"{reading.name}.yaml").write_text(generated.text)


def report(
    arguments: argparse.Namespace,
    *,
    requests: Counter[str],
    throttled: int,
    read_seconds: float,
    write_seconds: float,
    written: int,
    valid: bool,
) -> None:
    functions = arguments.functions
    total = sum(requests.values())
    floor = total / arguments.client_rate
    by_operation = ", ".join(
        f"{name} {count / functions:.3f}" for name, count in sorted(requests.items())
    )
    print(f"requests per function: {total / functions:.3f} ({by_operation}); {throttled} 429s")
    print(
        f"read: {read_seconds:.2f} s, quota floor {floor:.2f} s ({total} requests / "
        f"{arguments.client_rate:g} per s), time/floor {read_seconds / floor:.3f}"
    )
    done = "merged" if arguments.merge else "written"
    print(
        f"declarations {done} and checked: {write_seconds:.2f} s; wall time "
        f"{read_seconds + write_seconds:.2f} s"
    )
    print(f"{done}: {written} of {functions}; the folder validates: {valid}")


if __name__ == "__main__":
    main()
