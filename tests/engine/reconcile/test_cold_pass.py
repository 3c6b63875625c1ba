"""A cold pass reads the region's versions from ListFunctions pages, and plans what it would have
planned reading them function by function.

``plan`` and ``reconcile --once`` start with nothing cached: each pass primes its version
listings (``reconciler.primed``). Every test runs against the emulated registry and a moto
server over HTTP, and counts requests by operation with the adapter's observer, as the
metrics do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import cast

import pytest
import structlog

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.port import RegionVersionsPage, Registry
from controller.core.declarations import Declarations
from controller.core.model import (
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionRef,
    RepoZip,
)
from controller.engine.reconciler import plan_pass, prime_listings, reconcile_pass
from tests.backends import Backend, code_sha256, make_zip
from tests.engine.reconcile.support import ANYWHERE, REGION, RepoFiles

REVISION = "d" * 40
FUNCTIONS = 8
VERSIONS = 3


@dataclass
class Requests:
    """The registry observer of a test: logical calls by operation."""

    calls: Counter[str] = field(default_factory=Counter)

    def request(self, operation: str, outcome: str, seconds: float) -> None:
        self.calls[operation] += 1

    def throttled(self, operation: str) -> None:
        pass


def name_of(index: int) -> str:
    return f"cold-{index:02d}"


def declared(index: int, live: int = 1) -> DesiredFunction:
    """The function as ``Backend.function_with_versions`` publishes it: versions r1..r3 by
    their code, ``live`` on r``live`` (the aliases are created to match, with no marker)."""
    name = name_of(index)
    versions = {
        f"r{n}": DesiredVersion(f"r{n}", code_sha256(make_zip(f"# {name} {n}\n")))
        for n in range(1, VERSIONS + 1)
    }
    return DesiredFunction(
        name=name,
        ref=FunctionRef(name, REGION),
        versions=versions,
        aliases={"live": DesiredAlias("live", f"r{live}")},
    )


@pytest.fixture
def fleet(lambda_backend: Backend) -> Backend:
    for index in range(FUNCTIONS):
        lambda_backend.function_with_versions(name_of(index), VERSIONS)
        lambda_backend.client().create_alias(
            FunctionName=name_of(index), Name="live", FunctionVersion="1"
        )
    return lambda_backend


def registry(backend: Backend, requests: Requests) -> AwsRegistry:
    settings = AwsSettings(endpoint_url=backend.endpoint_url, requests_per_second=None)
    return AwsRegistry(settings, observer=requests)


def declarations(*functions: DesiredFunction) -> Declarations:
    return Declarations(REVISION, functions)


def test_a_cold_plan_reads_pages_and_aliases_and_plans_as_the_per_function_way(
    fleet: Backend,
) -> None:
    """Two functions drift (live declared on r2 and r3): the plan is the same either way, and
    so is every observation, versions and their RevisionIds included."""
    drifted = {3: 2, 5: 3}
    desired = declarations(*(declared(i, live=drifted.get(i, 1)) for i in range(FUNCTIONS)))
    primed_requests, per_function_requests = Requests(), Requests()

    primed = plan_pass(registry(fleet, primed_requests), desired, in_scope=ANYWHERE)
    per_function = plan_pass(
        registry(fleet, per_function_requests), desired, in_scope=ANYWHERE, prime=False
    )

    assert primed_requests.calls == {"ListFunctions": 1, "ListAliases": FUNCTIONS}
    assert per_function_requests.calls == {
        "ListAliases": FUNCTIONS,
        "ListVersionsByFunction": FUNCTIONS,
    }
    assert [str(report) for report in primed.version_listing] == ["all-versions, 1 page"]
    assert per_function.version_listing == ()
    assert primed.plan == per_function.plan
    assert primed.observations == per_function.observations
    assert sum(len(f.actions) for f in primed.plan.functions) == 2


def test_a_cold_reconcile_primes_then_converges_listing_no_function_on_its_own(
    fleet: Backend,
) -> None:
    """r4 is declared with its code for one function: it is uploaded and published and live
    moved to it, from the primed listing; the next plan finds everything in sync."""
    package = make_zip(f"# {name_of(0)} 4\n")
    first = declared(0)
    first = DesiredFunction(
        name=first.name,
        ref=first.ref,
        versions={
            **first.versions,
            "r4": DesiredVersion("r4", code_sha256(package), code=RepoZip("artifacts/r4.zip")),
        },
        aliases={"live": DesiredAlias("live", "r4")},
    )
    desired = declarations(first, *(declared(i) for i in range(1, FUNCTIONS)))
    requests = Requests()

    result = reconcile_pass(
        registry(fleet, requests),
        desired,
        RepoFiles({"artifacts/r4.zip": package}),
        in_scope=ANYWHERE,
    )

    assert result.converged, [r.error for r in result.results]
    assert requests.calls["ListFunctions"] == 1
    assert requests.calls["ListAliases"] == FUNCTIONS
    assert requests.calls["PublishVersion"] == 1
    assert requests.calls["ListVersionsByFunction"] == 0
    again = Requests()
    assert plan_pass(registry(fleet, again), desired, in_scope=ANYWHERE).plan.in_sync


def test_a_pass_given_a_version_cache_primes_that_cache(fleet: Backend) -> None:
    """``diff --live`` plans twice over one cache: the second plan lists nothing."""
    requests = Requests()
    cache = CachingRegistry(registry(fleet, requests))
    desired = declarations(*(declared(i) for i in range(FUNCTIONS)))
    plan_pass(cache, desired, in_scope=ANYWHERE)
    requests.calls.clear()

    second = plan_pass(cache, desired, in_scope=ANYWHERE)

    assert [str(report) for report in second.version_listing] == ["cached"]
    assert requests.calls == {"ListAliases": FUNCTIONS}


class UnreadablePages:
    """A registry whose ListFunctions answer this version of the code cannot read (a bug)."""

    def list_region_versions_page(
        self, region: str, account: str | None = None, *, marker: str | None = None
    ) -> RegionVersionsPage:
        raise KeyError("FunctionArn")


def test_not_even_a_bug_in_priming_fails_a_pass() -> None:
    cache = CachingRegistry(cast("Registry", UnreadablePages()))
    with structlog.testing.capture_logs() as logs:
        assert prime_listings(cache, [declared(0), declared(1)]) == ()
    [line] = logs
    assert line["event"] == "version listing failed unexpectedly; versions are listed per function"
    assert line["error"] == "KeyError: 'FunctionArn'"
    assert line["log_level"] == "error"
