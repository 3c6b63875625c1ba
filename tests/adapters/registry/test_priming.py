"""Priming the version cache from a region's ListFunctions pages: cheaper where it pays, never
wrong anywhere.

The region is an in-memory registry (the read side of the port): it answers ListFunctions pages
of 50 items in whatever order a test gives, and ListVersionsByFunction per function, counting
both, so that each rule reads as a number of requests. The same rules against real endpoints
over HTTP are in ``test_priming_http.py``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.port import (
    ListedVersion,
    RegionVersionsPage,
    Registry,
)
from controller.adapters.registry.priming import (
    REMEMBER_SECONDS,
    Budget,
    PrimingReport,
    log_field,
)
from controller.core.model import FunctionId, FunctionRef, PublishedVersion
from controller.errors import (
    AccessDenied,
    InvalidRequest,
    RegistryError,
    Throttled,
    Transient,
)

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "us-east-1"
PAGE = 50


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def published(function: FunctionId, number: int) -> PublishedVersion:
    return PublishedVersion(
        number,
        f"sha-{function.name}-{number}",
        f"release {number}",
        f"rev-{function.name}-{number}",
        arn=f"{function.arn}:{number}",
    )


class InMemoryRegion:
    """One account's functions in one region, read as Lambda answers them.

    ``order`` puts the items (each function's ``$LATEST`` and versions) in the order the pages
    give them; by default by name, as the emulator does. ``fail`` may raise instead of answering
    a page (by its number, from 1); ``before_page`` runs before a page is answered.
    """

    def __init__(
        self,
        versions: dict[str, int],
        *,
        region: str = REGION,
        order: Callable[[list[tuple[FunctionId, int]]], list[tuple[FunctionId, int]]] | None = None,
    ) -> None:
        self.region = region
        self.functions = {name: FunctionId(ACCOUNT, region, name) for name in versions}
        items = [
            (self.functions[name], number)
            for name in sorted(versions)
            for number in range(versions[name] + 1)  # 0 is $LATEST
        ]
        self.items = order(items) if order is not None else items
        self.versions = versions
        self.requests: Counter[str] = Counter()
        self.fail: Callable[[int], None] = lambda page: None
        self.before_page: Callable[[int], None] = lambda page: None

    def list_region_versions_page(
        self, region: str, account: str | None = None, *, marker: str | None = None
    ) -> RegionVersionsPage:
        assert region == self.region
        self.requests["ListFunctions"] += 1
        page_number = self.requests["ListFunctions"]
        self.before_page(page_number)
        self.fail(page_number)
        start = int(marker or 0)
        chunk = self.items[start : start + PAGE]
        end = start + len(chunk)
        return RegionVersionsPage(
            versions=tuple(
                ListedVersion(function, published(function, number))
                for function, number in chunk
                if number
            ),
            functions=tuple(function for function, number in chunk if not number),
            next_marker=str(end) if end < len(self.items) else None,
        )

    def list_versions(
        self, function: FunctionRef, *, fresh: bool = False
    ) -> list[PublishedVersion]:
        self.requests["ListVersionsByFunction"] += 1
        identity = function.identity
        listed = self.functions[identity.name]
        return [published(listed, n) for n in range(1, self.versions[identity.name] + 1)]

    def port(self) -> Registry:
        return cast("Registry", self)


def region_of(count: int, versions: int = 5, *, prefix: str = "fn") -> dict[str, int]:
    return {f"{prefix}-{index:05d}": versions for index in range(count)}


def refs(names: Iterable[str], *, account: str | None = None) -> list[FunctionRef]:
    return [FunctionRef(name, REGION, account) for name in names]


def caching(region: InMemoryRegion, clock: FakeClock | None = None) -> CachingRegistry:
    return CachingRegistry(region.port(), clock=clock or FakeClock())


def listed_per_function(
    cache: CachingRegistry, region: InMemoryRegion, functions: Sequence[FunctionRef]
) -> int:
    """List every function through the cache, as a pass's observations do: each listing is
    the function's own, and the number of them that went to Lambda is returned."""
    before = region.requests["ListVersionsByFunction"]
    for function in functions:
        assert cache.list_versions(function) == region.list_versions(function)
    return region.requests["ListVersionsByFunction"] - before - len(functions)


# -- a complete listing ---------------------------------------------------------------------------


def test_a_region_read_to_its_last_page_primes_every_wanted_function() -> None:
    """1,000 functions with 5 versions each are 6,000 items: 120 pages instead of 1,000
    listings, and the pass then reads no listing at all."""
    region = InMemoryRegion(region_of(1000))
    cache = caching(region)
    wanted = refs(region.versions)

    [report] = cache.prime(wanted)

    assert report == PrimingReport(None, REGION, "all-versions", 1000, pages=120, primed=1000)
    assert str(report) == "all-versions, 120 pages"
    assert region.requests == {"ListFunctions": 120}
    assert listed_per_function(cache, region, wanted) == 0
    assert region.requests["ListVersionsByFunction"] == 1000  # only the test's own comparison


def test_a_function_with_only_latest_is_primed_with_no_versions() -> None:
    region = InMemoryRegion({"fresh": 0, "orders": 3, "billing": 1})
    cache = caching(region)
    [report] = cache.prime(refs(["fresh", "orders", "billing"]))
    assert report.way == "all-versions"
    assert cache.list_versions(FunctionRef("fresh", REGION)) == []
    assert region.requests["ListVersionsByFunction"] == 0


def test_wanted_functions_the_listing_lacks_are_left_to_the_usual_way() -> None:
    region = InMemoryRegion(region_of(4))
    cache = caching(region)
    wanted = refs(["fn-00000", "fn-00001", "ghost"])
    [report] = cache.prime(wanted)
    assert (report.primed, report.wanted) == (2, 3)
    assert str(report) == "all-versions, 1 page, 2 of 3 functions listed"
    cache.list_versions(FunctionRef("fn-00001", REGION))
    assert region.requests["ListVersionsByFunction"] == 0


def by_name_reversed(items: list[tuple[FunctionId, int]]) -> list[tuple[FunctionId, int]]:
    return list(reversed(items))


def shuffled(seed: int) -> Callable[[list[tuple[FunctionId, int]]], list[tuple[FunctionId, int]]]:
    def order(items: list[tuple[FunctionId, int]]) -> list[tuple[FunctionId, int]]:
        copy = list(items)
        random.Random(seed).shuffle(copy)
        return copy

    return order


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    versions=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9-]{0,7}", fullmatch=True),
        st.integers(min_value=0, max_value=60),
        min_size=1,
        max_size=40,
    ),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    wanted_share=st.floats(min_value=0.0, max_value=1.0),
)
def test_whatever_the_order_of_the_pages_a_primed_listing_is_the_function_s_own(
    versions: dict[str, int], seed: int, wanted_share: float
) -> None:
    """Lambda does not document the order of ListFunctions: one function's versions may come
    on several pages, far apart, and the names in any order. Whatever was primed, and whatever
    was not, each listing the cache answers is what ListVersionsByFunction answers."""
    region = InMemoryRegion(versions, order=shuffled(seed))
    names = sorted(versions)
    wanted = refs(random.Random(seed).sample(names, round(len(names) * wanted_share)))
    cache = caching(region)

    [report] = cache.prime(wanted + refs(["not-in-the-region"]))

    listed = region.requests["ListVersionsByFunction"]
    for function in wanted:
        assert cache.list_versions(function) == region.list_versions(function)
    if report.way == "all-versions":
        pages = -(-sum(count + 1 for count in versions.values()) // PAGE)
        assert report.pages == region.requests["ListFunctions"] == pages
        assert region.requests["ListVersionsByFunction"] - listed == len(wanted)


# -- a listing cut short stores nothing -----------------------------------------------------------


def test_a_listing_abandoned_before_its_last_page_stores_nothing() -> None:
    """4 functions with 30 versions each are 3 pages; the budget for 4 functions is 2 pages.
    The pages read held every version of the first functions, but a listing is used only
    whole: the order of the pages is not documented, so a partial one proves nothing."""
    region = InMemoryRegion(region_of(4, versions=30))
    cache = caching(region)
    wanted = refs(region.versions)

    [report] = cache.prime(wanted)

    assert report.way == "per-function"
    assert report.pages == 2
    assert report.reason == "abandoned after 2 pages, the budget for 4 functions"
    assert listed_per_function(cache, region, wanted) == 4


@pytest.mark.parametrize(
    "error",
    [
        Throttled("Rate exceeded", code="TooManyRequestsException", operation="ListFunctions"),
        AccessDenied(
            "User is not authorized to perform: lambda:ListFunctions",
            code="AccessDeniedException",
            operation="ListFunctions",
        ),
        Transient("Service unavailable.", code="ServiceException", operation="ListFunctions"),
        InvalidRequest("bad value", code="ValidationException", operation="ListFunctions"),
    ],
    ids=lambda error: type(error).__name__,
)
@pytest.mark.parametrize("failing_page", [1, 3, 6])
def test_an_error_on_any_page_abandons_the_region_quietly(
    error: RegistryError, failing_page: int
) -> None:
    """A throttle that outlasted the retries, or a role without lambda:ListFunctions: the
    region is listed per function, the pass goes on, and nothing of the pages read is kept."""
    region = InMemoryRegion(region_of(50))  # 300 items: 6 pages

    def fail(page: int) -> None:
        if page == failing_page:
            raise error

    region.fail = fail
    cache = caching(region)
    wanted = refs(region.versions)

    [report] = cache.prime(wanted)

    assert report.way == "per-function"
    assert type(error).__name__ in report.reason
    assert listed_per_function(cache, region, wanted) == 50


def test_a_refusal_is_remembered_for_an_hour_and_a_throttle_is_not() -> None:
    clock = FakeClock()
    region = InMemoryRegion(region_of(10))
    refusal: list[RegistryError] = [
        AccessDenied("not authorized", code="AccessDeniedException", operation="ListFunctions")
    ]

    def fail(page: int) -> None:
        if refusal:
            raise refusal[0]

    region.fail = fail
    cache = caching(region, clock)
    wanted = refs(region.versions)

    assert str(cache.prime(wanted)[0]) == "per-function, ListFunctions refused (AccessDenied)"
    assert region.requests["ListFunctions"] == 1
    clock.now += REMEMBER_SECONDS - 1
    [again] = cache.prime(wanted)
    assert again.reason == "as last time: ListFunctions refused (AccessDenied)"
    assert region.requests["ListFunctions"] == 1, "not asked again within the hour"

    refusal[0] = Throttled("Rate exceeded", code="TooManyRequestsException")
    clock.now += 2
    assert cache.prime(wanted)[0].reason == "ListFunctions failed (Throttled)"
    assert region.requests["ListFunctions"] == 2
    refusal.clear()
    assert cache.prime(wanted)[0].way == "all-versions", "a throttle is tried again at once"


class StuckMarker(InMemoryRegion):
    """An endpoint whose every page says the next one starts at item 50."""

    def list_region_versions_page(
        self, region: str, account: str | None = None, *, marker: str | None = None
    ) -> RegionVersionsPage:
        page = super().list_region_versions_page(region, account, marker=marker)
        return RegionVersionsPage(page.versions, page.functions, str(PAGE))


def test_a_marker_answered_twice_abandons_the_region_rather_than_read_forever() -> None:
    region = StuckMarker(region_of(20))
    [report] = caching(region).prime(refs(region.versions))
    assert (report.way, report.reason) == ("per-function", "ListFunctions failed (Transient)")


def test_a_listing_read_while_a_function_is_forgotten_is_not_stored_for_it() -> None:
    """This controller published a version of fn-00002 while page 2 was being read: what the
    pages say of it may predate the publish."""
    region = InMemoryRegion(region_of(20))  # 120 items: 3 pages
    cache = caching(region)
    published_here = FunctionRef("fn-00002", REGION)
    region.before_page = lambda page: cache.forget(published_here) if page == 2 else None
    wanted = refs(region.versions)

    [report] = cache.prime(wanted)

    assert (report.way, report.primed) == ("all-versions", 19)
    assert listed_per_function(cache, region, wanted) == 1


def test_a_shutdown_cuts_the_listing_short_and_teaches_nothing() -> None:
    region = InMemoryRegion(region_of(50))
    cache = caching(region)
    stopping = {"now": False}
    region.before_page = lambda page: stopping.update(now=page >= 2)
    wanted = refs(region.versions)

    [report] = cache.prime(wanted, should_stop=lambda: stopping["now"])

    assert (report.way, report.pages) == ("per-function", 2)
    assert report.reason == "stopped before the last page"
    stopping["now"] = False
    assert cache.prime(wanted)[0].way == "all-versions", "a shutdown is no reason to skip it"


# -- when the pages cannot pay off ----------------------------------------------------------------


def test_three_functions_among_two_thousand_cost_at_most_two_extra_pages() -> None:
    region = InMemoryRegion(region_of(2000))  # 240 pages
    cache = caching(region)
    wanted = refs(["fn-00007", "fn-01000", "fn-01999"])

    [report] = cache.prime(wanted)

    assert report.way == "per-function"
    assert region.requests["ListFunctions"] <= 2
    assert listed_per_function(cache, region, wanted) == 3


def test_functions_spread_thinly_over_a_large_region_are_abandoned_by_the_projection() -> None:
    """40 wanted functions, one in every 100 of 4,000 (480 pages): the budget would allow 20
    pages, but after 3 pages among the wanted names the progress (1 of 40) projects 120."""
    region = InMemoryRegion(region_of(4000))
    cache = caching(region)
    wanted = refs(f"fn-{index:05d}" for index in range(0, 4000, 100))

    [report] = cache.prime(wanted)

    assert report.way == "per-function"
    assert report.pages == 3
    assert report.reason.startswith("abandoned after 3 pages, projecting ")


def test_undeclared_functions_named_before_the_wanted_ones_do_not_cut_the_listing_short() -> None:
    """400 undeclared functions sort before the 400 wanted ones: the 48 pages before the first
    wanted name say nothing about the rest, and the whole region (96 pages) is still cheaper
    than 400 listings."""
    versions = region_of(400, prefix="a-undeclared") | region_of(400, prefix="b-declared")
    region = InMemoryRegion(versions)
    cache = caching(region)
    wanted = refs(name for name in versions if name.startswith("b-"))

    [report] = cache.prime(wanted)

    assert (report.way, report.pages, report.primed) == ("all-versions", 96, 400)


def test_fewer_than_two_listings_to_read_are_read_per_function() -> None:
    region = InMemoryRegion(region_of(3))
    cache = caching(region)
    [report] = cache.prime(refs(["fn-00001"]))
    assert str(report) == "per-function, 1 listing to read"
    assert region.requests == {}


def test_cached_listings_are_not_wanted_and_a_region_with_none_to_read_says_cached() -> None:
    region = InMemoryRegion(region_of(8))
    cache = caching(region)
    wanted = refs(region.versions)
    cache.prime(wanted)
    cache.forget(wanted[0])

    [report] = cache.prime(wanted)
    assert str(report) == "per-function, 1 listing to read"
    cache.list_versions(wanted[0])
    [report] = cache.prime(wanted)
    assert str(report) == "cached"
    assert region.requests["ListFunctions"] == 1


def test_expired_listings_are_primed_again() -> None:
    clock = FakeClock()
    region = InMemoryRegion(region_of(8))
    cache = CachingRegistry(region.port(), version_resync_seconds=600, clock=clock)
    wanted = refs(region.versions)
    cache.prime(wanted)
    clock.now += 599
    assert cache.prime(wanted)[0].way == "cached"
    clock.now += 2
    assert cache.prime(wanted)[0].way == "all-versions"
    assert region.requests["ListFunctions"] == 2


# -- what the last attempt taught -----------------------------------------------------------------


def test_a_region_whose_last_listing_took_as_many_pages_as_functions_is_not_read_again() -> None:
    clock = FakeClock()
    region = InMemoryRegion(region_of(100))  # 12 pages
    cache = caching(region, clock)
    assert cache.prime(refs(region.versions))[0].pages == 12
    for function in refs(list(region.versions)[:12]):
        cache.forget(function)

    [report] = cache.prime(refs(region.versions))

    assert report.reason == "the last listing took 12 pages for 12 functions"
    assert region.requests["ListFunctions"] == 12


def test_the_pages_of_the_last_listing_raise_the_budget_when_they_were_fewer() -> None:
    """100 functions are 12 pages. With 20 listings to read, the budget of a region not yet
    listed (10 pages) gives up, as soon as the projection sees it will not do; one known to
    take 12 pages is read (up to 19)."""
    region = InMemoryRegion(region_of(100))
    wanted = refs(list(region.versions)[::5])
    assert caching(region).prime(wanted)[0].reason == (
        "abandoned after 3 pages, projecting 12 pages for 20 functions, over the budget of 10"
    )

    cache = caching(region)
    assert cache.prime(refs(region.versions))[0].pages == 12
    for function in wanted:
        cache.forget(function)
    [report] = cache.prime(wanted)
    assert (report.way, report.pages, report.primed) == ("all-versions", 12, 20)


def test_an_abandoned_region_is_tried_again_after_an_hour() -> None:
    clock = FakeClock()
    region = InMemoryRegion(region_of(2000))
    cache = caching(region, clock)
    wanted = refs(["fn-00007", "fn-01000", "fn-01999"])
    cache.prime(wanted)
    assert region.requests["ListFunctions"] == 1

    clock.now += REMEMBER_SECONDS - 1
    [report] = cache.prime(wanted)
    assert report.reason == "as last time: abandoned after 1 page, the budget for 3 functions"
    assert region.requests["ListFunctions"] == 1
    clock.now += 1
    cache.prime(wanted)
    assert region.requests["ListFunctions"] == 2


def test_each_account_and_region_is_decided_on_its_own() -> None:
    small = InMemoryRegion(region_of(10))
    large = InMemoryRegion(region_of(2000), region="eu-west-1")

    class TwoRegions:
        def __getattr__(self, name: str) -> object:
            return getattr(small, name)

        def list_region_versions_page(
            self, region: str, account: str | None = None, *, marker: str | None = None
        ) -> RegionVersionsPage:
            inner = small if region == REGION else large
            return inner.list_region_versions_page(region, account, marker=marker)

    cache = CachingRegistry(cast("Registry", TwoRegions()), clock=FakeClock())
    wanted = [
        *refs(small.versions),
        FunctionRef("fn-00001", "eu-west-1"),
        FunctionRef("fn-00002", "eu-west-1"),
    ]
    reports = cache.prime(wanted)
    assert log_field(reports) == {
        "eu-west-1": "per-function, abandoned after 1 page, the budget for 2 functions",
        "us-east-1": "all-versions, 2 pages",
    }


# -- identity: however a function is spelled ------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "account", "covered"),
    [
        ("orders", None, True),
        ("orders", ACCOUNT, True),
        (f"{ACCOUNT}:function:orders", None, True),
        (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders", None, True),
        (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders", ACCOUNT, True),
        (f"{OTHER_ACCOUNT}:function:orders", None, False),
        (f"arn:aws:lambda:{REGION}:{OTHER_ACCOUNT}:function:orders", None, False),
        (f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders", None, False),
    ],
    ids=[
        "bare name, account unknown",
        "bare name, the caller's account",
        "partial ARN",
        "ARN",
        "ARN, the caller's account",
        "partial ARN of another account",
        "ARN of another account",
        "ARN in another region",
    ],
)
def test_a_function_is_matched_by_identity_however_it_is_spelled(
    spelling: str, account: str | None, covered: bool
) -> None:
    """A listing is one account's (the caller's) in one region: a bare name with no account
    means the caller's; another account's function, or another region's, is not in it."""
    region = InMemoryRegion({"orders": 3, "billing": 2})
    cache = caching(region)
    function = FunctionRef(spelling, REGION, account)
    cache.prime([function, FunctionRef("billing", REGION, account)])
    if covered:
        versions = cache.list_versions(function)
        assert [v.arn for v in versions] == [
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders:{n}" for n in (1, 2, 3)
        ]
        assert region.requests["ListVersionsByFunction"] == 0
    else:
        cache.list_versions(function)
        assert region.requests["ListVersionsByFunction"] == 1


# -- the rule, with plain values ------------------------------------------------------------------


def test_the_budget_is_half_the_functions_or_twice_the_pages_last_taken() -> None:
    assert Budget(["a", "b"]).limit == 1
    assert Budget([f"f{n}" for n in range(1000)]).limit == 500
    assert Budget([f"f{n}" for n in range(1000)], known_pages=120).limit == 240
    assert Budget([f"f{n}" for n in range(20)], known_pages=12).limit == 19
    assert Budget([f"f{n}" for n in range(20)], known_pages=25).limit == 10


def test_the_projection_counts_pages_before_the_first_wanted_name_as_they_are() -> None:
    budget = Budget([f"m{n:03d}" for n in range(100)])
    for page in range(1, 21):
        assert budget.stop_reason(page, "a-undeclared") is None
    assert budget.stop_reason(21, "m009") is None
    assert budget.stop_reason(22, "m019") is None
    # 3 pages into the wanted names, 30 of 100 are behind: 20 + 3 / 0.3 = 30 pages in all.
    assert budget.stop_reason(23, "m029") is None
    thin = Budget([f"m{n:03d}" for n in range(100)])
    for page in range(1, 3):
        assert thin.stop_reason(page, "m000") is None
    assert thin.stop_reason(3, "m000") == (
        "abandoned after 3 pages, projecting 300 pages for 100 functions, over the budget of 50"
    )


def test_a_projection_over_the_budget_stops_the_listing_before_the_budget_is_spent() -> None:
    """100 wanted functions, a budget of 50 pages: a projection of 60 pages (fewer than the
    functions, more than the budget) stops the listing at once instead of 47 pages later; one of
    exactly 50 goes on."""
    over = Budget([f"m{n:03d}" for n in range(100)])
    for page in range(1, 3):
        assert over.stop_reason(page, "m004") is None
    assert over.stop_reason(3, "m004") == (
        "abandoned after 3 pages, projecting 60 pages for 100 functions, over the budget of 50"
    )
    within = Budget([f"m{n:03d}" for n in range(100)])
    for page in range(1, 3):
        assert within.stop_reason(page, "m005") is None
    assert within.stop_reason(3, "m005") is None
