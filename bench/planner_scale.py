"""Benchmark: the pure planner over a large fleet.

Builds 10,000 functions, each with five published versions and three aliases (one with weighted
routing), half of them in sync and half drifted (an alias on an old version, a changed weight, a
missing alias, a version to publish, and a managed alias to prune), then times ``plan()`` and
measures the memory it allocates.

The planner runs on every pass of the loop and on every ``lambda-gitops plan``, so it must stay
well under the time a pass spends talking to Lambda: the targets are under 1 s and under 300 MB.

Usage: ``python bench/planner_scale.py [--functions N] [--repeat R]``. Prints its figures;
asserts nothing, since the machines are shared and timings are noisy.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from controller.core.model import (
    Alias,
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionRef,
    FunctionState,
    ObservedFunction,
    PublishedVersion,
    RepoZip,
    weight,
)
from controller.core.ownership import describe
from controller.core.plan import Plan
from controller.core.planner import plan

REVISION = "3f2c9a1b7d4e8f6a0b1c2d3e4f5a6b7c8d9e0f1a"
"""The commit every plan is made at (no repository: the planner only writes it down)."""
OLD_REVISION = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
"""The commit the live aliases' descriptions name, as a pass before this one left them."""
PUBLISHED = 5


def release_code(function: int, release: int) -> str:
    """A made-up CodeSha256, one for each function and release, that says which it is; the
    planner only compares them. Shared with ``retention_cost``, which plans such fleets too."""
    return f"{function:08d}-{release:02d}-sha256-of-the-deployment-package="


def desired_function(index: int) -> DesiredFunction:
    """Declares releases 1..6 (6 is the one a drifted function lacks) and three aliases."""
    name = f"service-{index:05d}"
    versions = {
        f"r{release}": DesiredVersion(
            f"r{release}",
            release_code(index, release),
            description=f"release {release}",
            code=RepoZip(f"artifacts/{name}-r{release}.zip"),
        )
        for release in range(1, PUBLISHED + 2)
    }
    aliases = {
        "live": DesiredAlias("live", "r5", description="production"),
        "canary": DesiredAlias("canary", "r5", {"r6": Decimal("0.1")}, "10% to r6"),
        "beta": DesiredAlias("beta", "r6"),
    }
    return DesiredFunction(
        name=name,
        ref=FunctionRef(name, "eu-west-1"),
        versions=versions,
        aliases=aliases,
        prune=True,
    )


def observed_function(desired: DesiredFunction, index: int, *, in_sync: bool) -> ObservedFunction:
    """The live function: converged to ``desired``, or drifted in every way the planner knows."""
    releases = PUBLISHED + 1 if in_sync else PUBLISHED
    versions = tuple(
        PublishedVersion(release, release_code(index, release), f"release {release}", f"v{release}")
        for release in range(1, releases + 1)
    )
    latest = FunctionState(
        name=desired.ref.name,
        arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{desired.ref.name}",
        code_sha256=release_code(index, releases),
        revision_id="latest",
        state="Active",
        last_update_status="Successful",
    )
    if in_sync:
        aliases = (
            _alias("live", "5", {}, "production"),
            _alias("canary", "5", {"6": 0.1}, "10% to r6"),
            _alias("beta", "6", {}, ""),
        )
    else:
        aliases = (
            _alias("live", "4", {}, "production"),
            _alias("canary", "4", {"5": 0.25}, "10% to r6"),
            _alias("retired", "3", {}, ""),
        )
    return ObservedFunction(desired.ref, latest, versions, aliases)


def _alias(name: str, version: str, routing: dict[str, float], declared: str) -> Alias:
    return Alias(
        name,
        version,
        {key: weight(value) for key, value in routing.items()},
        describe(declared, OLD_REVISION),
        revision_id=f"{name}-rev",
    )


def fleet(size: int) -> tuple[list[DesiredFunction], dict[FunctionRef, ObservedFunction | None]]:
    desired = [desired_function(index) for index in range(size)]
    observed: dict[FunctionRef, ObservedFunction | None] = {
        function.ref: observed_function(function, index, in_sync=index % 2 == 0)
        for index, function in enumerate(desired)
    }
    return desired, observed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()

    desired, observed = fleet(arguments.functions)
    timings = []
    result: Plan | None = None
    for _ in range(arguments.repeat):
        started = time.perf_counter()
        result = plan(desired, observed, REVISION)
        timings.append(time.perf_counter() - started)
    assert result is not None
    _report_plan(result)
    print(
        f"plan() over {len(desired)} functions: best {min(timings):.3f} s, "
        f"median {sorted(timings)[len(timings) // 2]:.3f} s, of {arguments.repeat} runs"
    )

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    plan(desired, observed, REVISION)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory allocated by plan(): {peak / 2**20:.1f} MiB (tracemalloc)")
    print(
        f"process peak RSS: {rss_after / 1024:.1f} MiB "
        f"(inputs built: {rss_before / 1024:.1f} MiB; includes tracemalloc's own overhead)"
    )


def _report_plan(result: Plan) -> None:
    actions = sum(len(function.actions) for function in result.functions)
    drifted = sum(not function.in_sync for function in result.functions)
    aliases = sum(len(function.drift) for function in result.functions)
    print(f"functions drifted: {drifted}, aliases drifted: {aliases}, actions planned: {actions}")


if __name__ == "__main__":
    main()
