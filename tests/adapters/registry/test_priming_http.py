"""ListFunctions pages and priming over HTTP, against the emulated registry and a moto server.

The boto3 adapter reads a region's versions a page at a time (rule L26: the emulator answers 50
items a page, moto everything in one), one logical call each, and what the pages say of a
function is what ListVersionsByFunction says of it. Requests are counted by the adapter's
observer, as the metrics count them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.port import observe
from controller.adapters.registry.priming import read_region
from controller.core.model import FunctionId, FunctionRef
from tests.backends import ACCOUNT, REGION, Backend, moto_breaks

FUNCTIONS = {"alpha": 0, **{f"fn-{index:02d}": 5 for index in range(11)}}
"""One function with only ``$LATEST`` and eleven with five versions: 67 items, 2 pages."""


@dataclass
class Requests:
    """The registry observer of a test: logical calls by operation, and their outcomes."""

    calls: Counter[str] = field(default_factory=Counter)
    outcomes: list[tuple[str, str]] = field(default_factory=list)

    def request(self, operation: str, outcome: str, seconds: float) -> None:
        self.calls[operation] += 1
        self.outcomes.append((operation, outcome))

    def throttled(self, operation: str) -> None:
        pass


def registry_for(backend: Backend, requests: Requests) -> AwsRegistry:
    settings = AwsSettings(endpoint_url=backend.endpoint_url, requests_per_second=None)
    return AwsRegistry(settings, observer=requests)


@pytest.fixture
def region(lambda_backend: Backend) -> Backend:
    for name, count in FUNCTIONS.items():
        lambda_backend.function_with_versions(name, count)
    return lambda_backend


def ref(name: str) -> FunctionRef:
    return FunctionRef(name, REGION)


def test_the_pages_of_a_region_hold_each_function_once_with_its_versions(region: Backend) -> None:
    requests = Requests()
    registry = registry_for(region, requests)

    listing = read_region(registry, REGION)

    assert listing.complete
    assert requests.calls == {"ListFunctions": listing.pages}
    assert listing.pages == (2 if region.kind == "emulator" else 1)
    assert listing.functions == tuple(FunctionId(ACCOUNT, REGION, name) for name in FUNCTIONS)
    for function, versions in listing.by_function().items():
        assert list(versions) == registry.list_versions(ref(function.name))
    assert [v.number for v in listing.versions_of(FunctionId(ACCOUNT, REGION, "fn-03"))] == [
        1,
        2,
        3,
        4,
        5,
    ]


@moto_breaks("answers every item of ListFunctions on one page, whatever the count (rule L26)")
def test_each_page_is_one_request_and_names_where_the_next_starts(region: Backend) -> None:
    registry = registry_for(region, Requests())
    first = registry.list_region_versions_page(REGION)
    assert len(first.versions) + len(first.functions) == 50
    assert first.next_marker is not None
    second = registry.list_region_versions_page(REGION, marker=first.next_marker)
    assert len(second.versions) + len(second.functions) == 17
    assert second.next_marker is None


def test_a_primed_region_is_observed_with_one_request_a_function(region: Backend) -> None:
    requests = Requests()
    cache = CachingRegistry(registry_for(region, requests))
    functions = [ref(name) for name in FUNCTIONS]

    [report] = cache.prime(functions)

    assert (report.way, report.primed) == ("all-versions", len(FUNCTIONS))
    requests.calls.clear()
    observed = [
        observe(cache, function, need_latest=lambda versions: False) for function in functions
    ]
    assert requests.calls == {"ListAliases": len(FUNCTIONS)}
    fresh = registry_for(region, Requests())
    assert [o.versions for o in observed] == [
        tuple(fresh.list_versions(function)) for function in functions
    ]


def test_a_version_published_out_of_band_after_priming_is_still_seen(region: Backend) -> None:
    """Someone publishes version 6 and moves live to it after the region was listed: the alias
    names a version the primed listing lacks, so ``observe`` reads the listing again."""
    requests = Requests()
    cache = CachingRegistry(registry_for(region, requests))
    cache.prime([ref(name) for name in FUNCTIONS])
    number = region.publish("fn-04", "# fn-04 6\n")
    region.wait_active("fn-04", number)
    region.client().create_alias(FunctionName="fn-04", Name="live", FunctionVersion=number)
    requests.calls.clear()

    observed = observe(cache, ref("fn-04"), need_latest=lambda versions: False)

    assert [v.number for v in observed.versions] == [1, 2, 3, 4, 5, 6]
    assert requests.calls == {"ListAliases": 1, "ListVersionsByFunction": 1}
