"""Benchmark: what version retention costs, in planning time and in Lambda requests.

Two figures. The planner: 10,000 functions with 50 published versions and three aliases each,
``retainVersions: 10``, planned without and with retention (the difference is what deciding
which versions go costs) twice: as they stand, a plan that deletes, and as its deletions leave
them, which is what every pass after that one plans. The registry: a fleet on the
emulated registry, each function with 30 published versions, reconciled with
``retainVersions: 5`` three times; a line a pass says how many requests per function it made,
and how many DeleteFunction, ListVersionsByFunction and ListFunctions calls in all. The first
pass deletes: one DeleteFunction a deleted version, and one ListVersionsByFunction a function
afresh before deleting (a cached listing may be stale), besides reading the versions to observe
them: from the region's ListFunctions pages, or, with the defaults, one ListVersionsByFunction a
function once those pages are projected to pass their budget of half a page a function
(functions of 30 versions fill more): after 3 pages. A deletion makes the version cache forget
the function, so the second pass reads the versions again the same way; the third reads the
aliases only.
Calls are paced at the controller's default 10 requests a second.

Usage: ``python bench/retention_cost.py [--functions N] [--versions V] [--fleet F]
[--published P] [--latency-ms MS]``. Prints its figures; asserts nothing, since the machines are
shared and timings are noisy.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.fleet import (
    CALLER,
    REGION,
    code_sha256,
    published_function,
    use_placeholder_credentials,
)
from bench.planner_scale import OLD_REVISION, REVISION, release_code
from controller.adapters.logging import configure as configure_logging
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.core.declarations import Declarations
from controller.core.model import (
    Alias,
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionRef,
    FunctionState,
    ObservedFunction,
    PublishedVersion,
)
from controller.core.ownership import describe
from controller.core.plan import DeleteVersion, FunctionPlan, Plan
from controller.core.planner import plan
from controller.core.retention import Retention
from controller.engine.reconciler import reconcile_pass
from lambda_emulator import EmulatorServer, Faults
from lambda_emulator.store import EmulatorStore


def declared(
    index: int, published: int, keep: int, code: Callable[[int, int], str] = release_code
) -> DesiredFunction:
    """The newest release declared, live on it, and the one before it for the canary; ``code``
    gives a release's CodeSha256 (the planner's made-up ones, or the emulator's real ones)."""
    name = f"service-{index:05d}"
    newest, previous = published, published - 1
    versions = {
        f"r{release}": DesiredVersion(f"r{release}", code(index, release))
        for release in (previous, newest)
    }
    return DesiredFunction(
        name=name,
        ref=FunctionRef(name, REGION),
        versions=versions,
        aliases={
            "live": DesiredAlias("live", f"r{newest}"),
            "canary": DesiredAlias("canary", f"r{previous}"),
        },
        retain_versions=keep,
    )


def observed(desired: DesiredFunction, index: int, published: int) -> ObservedFunction:
    """Converged, with a hand-made alias on an old version (which retention keeps)."""
    versions = tuple(
        PublishedVersion(release, release_code(index, release), "", f"v{release}")
        for release in range(1, published + 1)
    )
    marker = describe("", OLD_REVISION)
    aliases = (
        Alias("live", str(published), {}, marker, "live-rev"),
        Alias("canary", str(published - 1), {}, marker, "canary-rev"),
        Alias("pinned", "3", {}, "by hand", "pinned-rev"),
    )
    latest = FunctionState(
        desired.ref.name, "", release_code(index, published), "latest", "Active", "Successful"
    )
    return ObservedFunction(desired.ref, latest, versions, aliases)


def planner_figures(functions: int, published: int, keep: int, repeat: int = 3) -> None:
    """Plan the fleet as it stands, then as the deletions planned leave it: the first is what
    the deleting pass plans, the second what every pass after it plans."""
    desired = [declared(index, published, keep) for index in range(functions)]
    live: dict[FunctionRef, ObservedFunction | None] = {
        function.ref: observed(function, index, published) for index, function in enumerate(desired)
    }
    first = _time_plans(desired, live, keep, repeat)
    print(f"plan() over {functions} functions of {published} versions: {first.figures}")
    converged = _after_deletions(live, first.plan)
    left = {len(function.versions) for function in converged.values() if function is not None}
    after = _time_plans(desired, converged, keep, repeat)
    print(
        f"plan() over {functions} functions down to {', '.join(map(str, sorted(left)))} versions: "
        f"{after.figures}"
    )


@dataclass(frozen=True, slots=True)
class _Timed:
    plan: Plan
    """The plan made with retention."""
    figures: str
    """The best times without and with retention, and the deletions planned, as printed."""


def _time_plans(
    desired: list[DesiredFunction],
    live: dict[FunctionRef, ObservedFunction | None],
    keep: int,
    repeat: int,
) -> _Timed:
    timings: dict[str, list[float]] = {"without": [], "with": []}
    result: Plan | None = None
    for _ in range(repeat):
        for kind, retention in (("without", None), ("with", Retention(may_delete=True))):
            started = time.perf_counter()
            result = plan(desired, live, REVISION, retention=retention)
            timings[kind].append(time.perf_counter() - started)
    assert result is not None
    deletions = sum(len(_deleted(function)) for function in result.functions)
    figures = (
        f"best {min(timings['without']):.3f} s without retention, "
        f"{min(timings['with']):.3f} s with retainVersions {keep} "
        f"({deletions} deletions planned)"
    )
    return _Timed(result, figures)


def _after_deletions(
    live: dict[FunctionRef, ObservedFunction | None], made: Plan
) -> dict[FunctionRef, ObservedFunction | None]:
    """The fleet as Lambda holds it once the plan's deletions are done."""
    gone = {function.ref: set(_deleted(function)) for function in made.functions}
    return {
        ref: None
        if function is None
        else replace(
            function,
            versions=tuple(v for v in function.versions if v.number not in gone.get(ref, ())),
        )
        for ref, function in live.items()
    }


def _deleted(function: FunctionPlan) -> list[int]:
    return [action.number for action in function.actions if isinstance(action, DeleteVersion)]


def seed(store: EmulatorStore, functions: int, published: int) -> None:
    """Each function with ``published`` versions; live on the newest, canary on the one before,
    and a hand-made alias on version 3."""
    marker = describe("", OLD_REVISION)
    with store.transaction():
        for index in range(functions):
            name = f"service-{index:05d}"
            published_function(store, name, [_sha(index, r) for r in range(1, published + 1)])
            store.create_alias(
                CALLER, name, "live", function_version=str(published), description=marker
            )
            store.create_alias(
                CALLER, name, "canary", function_version=str(published - 1), description=marker
            )
            store.create_alias(CALLER, name, "pinned", function_version="3")


def _sha(index: int, release: int) -> str:
    """A bare CodeSha256 for the emulator's functions (base64 of 32 bytes)."""
    return code_sha256(index, release, f"service-{index:05d}")


def registry_figures(functions: int, published: int, keep: int, latency_ms: float) -> None:
    desired = tuple(declared(index, published, keep, code=_sha) for index in range(functions))
    declarations = Declarations(REVISION, desired)
    with TemporaryDirectory() as folder, EmulatorServer(Path(folder) / "registry.sqlite") as server:
        seed(server.store, functions, published)
        server.faults = Faults(latency_ms=latency_ms)
        registry = CachingRegistry(AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url)))
        retention = Retention(may_delete=True)
        for number in (1, 2, 3):
            before = dict(server.request_counts())
            started = time.perf_counter()
            result = reconcile_pass(
                registry, declarations, _NoCode(), in_scope=lambda arn: True, retention=retention
            )
            seconds = time.perf_counter() - started
            after = server.request_counts()
            made = {op: after.get(op, 0) - before.get(op, 0) for op in after}
            total = sum(made.values())
            deleted = made.get("DeleteFunction", 0)
            print(
                f"pass {number}: {total / functions:.2f} requests/function "
                f"({deleted} DeleteFunction, {made.get('ListVersionsByFunction', 0)} "
                f"ListVersionsByFunction, {made.get('ListFunctions', 0)} ListFunctions), "
                f"{seconds:.2f} s; converged: {result.converged}"
            )
        left = len(registry.list_versions(desired[0].ref, fresh=True))
        print(f"versions left per function: {left} (retainVersions {keep}, one pinned by hand)")


class _NoCode:
    """Every declared version is published already: nothing is read from the repository."""

    def read(self, path: str) -> bytes:
        raise KeyError(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=10_000, help="planner fleet")
    parser.add_argument("--versions", type=int, default=50, help="versions each, planner")
    parser.add_argument("--fleet", type=int, default=50, help="functions on the emulator")
    parser.add_argument("--published", type=int, default=30, help="versions each, emulator")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    arguments = parser.parse_args()
    use_placeholder_credentials()
    configure_logging("json", level=30)  # warnings only: a function in error is worth seeing
    planner_figures(arguments.functions, arguments.versions, keep=10)
    registry_figures(arguments.fleet, arguments.published, keep=5, latency_ms=arguments.latency_ms)


if __name__ == "__main__":
    main()
