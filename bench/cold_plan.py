"""Benchmark: what a cold ``plan`` costs in Lambda requests, by region pages or per function.

``--functions`` functions (default 1,000) with ``--versions`` published versions each (5) and
three aliases are declared in a real Git repository and already converged in the emulated
registry, with ``--undeclared`` more functions in the region that no declaration names (0),
spread among the declared ones by name. The registry adds ``--latency-ms`` (20) to every call
and answers past ``--quota`` (15 requests/s, Lambda's control-plane quota) with 429.

A cold ``plan`` is run twice, as the command runs it (``registry_for``, the caller's account,
the declarations at the ref, ``plan_pass``), each with a new adapter and so nothing cached:

- **primed**: the version listings are read first the cheaper way for the region, here its
  ListFunctions pages (rule L26, 50 items a page), then one ListAliases per function;
- **per-function**: priming switched off, as before: ListAliases and ListVersionsByFunction
  per function.

For each it prints the requests per function by operation, from the emulator's own counters
(429s included; the command's STS GetCallerIdentity, which reaches the emulator here but costs
no Lambda quota, is left out), the time of the pass (the declarations are read before the
clock starts) and its floor: requests / ``--client-rate``, the client limiter's pace (by
default the quota itself), which no client can beat for long. The target: at most 1.2
requests per function primed, for the default fleet (1,000 ListAliases and about 120 pages),
against 2.0 per function. Last, it says whether both plans are the same and in sync.

Usage: ``python bench/cold_plan.py [--functions N] [--versions V] [--undeclared K]
[--latency-ms MS] [--quota RPS] [--client-rate RPS]``.
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
from controller.adapters.logging import configure as configure_logging
from controller.adapters.registry.priming import log_field
from controller.bootstrap import declarations_for, registry_for
from controller.engine.reconciler import PassResult, plan_pass
from controller.settings import load_settings
from lambda_emulator import EmulatorServer, Faults

NOT_LAMBDA = "Unknown"
"""How the emulator counts a request that is no Lambda operation: the command's STS call."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=5, help="published versions each (2+)")
    parser.add_argument("--undeclared", type=int, default=0, help="functions no one declares")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--quota", type=float, default=15.0, help="the emulator's requests/s")
    parser.add_argument("--client-rate", type=float, default=15.0, help="the client limiter's")
    arguments = parser.parse_args()
    use_placeholder_credentials()
    configure_logging("json", level=30)  # warnings only: the figures are printed below

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        repository = make_repository(
            root / "declarations", arguments.functions, versions=arguments.versions
        )
        faults = Faults(latency_ms=arguments.latency_ms, rate_limit=arguments.quota)
        with emulator(
            root / "registry.sqlite",
            arguments.functions,
            faults,
            versions=arguments.versions,
            undeclared=arguments.undeclared,
        ) as server:
            print(
                f"{arguments.functions} functions x {arguments.versions} versions, "
                f"{arguments.undeclared} undeclared; emulator: {arguments.latency_ms:g} ms "
                f"latency, {arguments.quota:g} requests/s quota; client limiter "
                f"{arguments.client_rate:g}/s"
            )
            primed = cold_plan(server, repository.path, arguments, prime=True)
            per_function = cold_plan(server, repository.path, arguments, prime=False)
            same = primed.plan == per_function.plan
            print(
                f"plans equal: {same}; in sync: {primed.plan.in_sync}; "
                f"{len(primed.plan.functions)} functions planned"
            )


def cold_plan(
    server: EmulatorServer, repo: Path, arguments: argparse.Namespace, *, prime: bool
) -> PassResult:
    """One ``plan`` with nothing cached, as the command runs it; prints its figures."""
    settings = load_settings(
        repo=str(repo),
        path=FOLDER,
        registry="aws",
        endpoint_url=server.endpoint_url,
        region=REGION,
        requests_per_second=arguments.client_rate,
    )
    # Both buckets, the emulator's and the client's, refill while idle, as between two runs.
    time.sleep(1.0 + 1.0 / min(arguments.quota, arguments.client_rate))
    requests_before = Counter(server.request_counts())
    throttled_before = Counter(server.throttled_counts())
    with registry_for(settings) as registry:
        declarations, _ = declarations_for(settings, account=registry.caller_account())
        started = time.perf_counter()
        result = plan_pass(registry, declarations, in_scope=settings.scope.allows, prime=prime)
        seconds = time.perf_counter() - started
    requests = Counter(server.request_counts()) - requests_before
    del requests[NOT_LAMBDA]
    throttled = sum((Counter(server.throttled_counts()) - throttled_before).values())
    way = (
        "primed (" + "; ".join(f"{k}: {v}" for k, v in log_field(result.version_listing).items())
        if prime
        else "per-function (priming off"
    )
    functions = arguments.functions
    total = sum(requests.values())
    by_operation = ", ".join(
        f"{operation} {count / functions:.2f}" for operation, count in sorted(requests.items())
    )
    print(
        f"cold plan, {way}): {total / functions:.2f} requests/function ({by_operation}); "
        f"{seconds:.1f} s, floor {total / arguments.client_rate:.1f} s; {throttled} 429s absorbed"
    )
    return result


if __name__ == "__main__":
    main()
