"""Reading a whole region's versions from ListFunctions pages, and deciding when that pays.

A pass with nothing cached (``plan``, ``reconcile --once``, the first pass of ``run``, and the
wave of expiries ``version_resync_interval`` after it) would list each function's versions with
one ListVersionsByFunction, next to its ListAliases: 2 requests a function, under a quota of 15
requests/s per region (rule L40). ListFunctions with ``FunctionVersion=ALL`` (rule L26) answers
every version of every function of the region, 50 items a page: where the declared functions are
most of the region's, a few pages replace a thousand requests. Where they are a few among many,
the pages cost more than they save, and nothing tells the two apart for sure before the last
page: the first pages only hint at the region's size.

So the choice is made per region (per account and region: one client, one quota) from what is
known, and bounded when it is wrong (``Budget``, ``skip_reason``); the region's listing is read
by ``read_region``, which any caller may also use to learn every function of a region with its
versions (an importer: 0.12 pages a function where each has five published versions, six
items a function with ``$LATEST``, as ``bench/cold_plan.py`` measures).
``cache.CachingRegistry.prime`` puts it together, and a ``PrimingReport`` per region says which
way was taken, for the pass's log line.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from controller.adapters.registry.port import RegionVersionsPage, Registry
from controller.core.model import FunctionId, PublishedVersion
from controller.errors import Transient

MIN_FUNCTIONS = 2
"""A region with fewer functions to list is listed per function: one page cannot beat one
request."""

PROJECT_AFTER_PAGES = 3
"""Pages read among the wanted names before the progress made is trusted to project a total."""

REMEMBER_SECONDS = 3600.0
"""How long the outcome of a region's last listing (its pages, or why it was abandoned) decides
the next attempt; after that the region is tried afresh, since it may have grown or shrunk."""

Way = Literal["all-versions", "per-function", "cached"]
"""How a region's version listings were read: its ListFunctions pages, one ListVersionsByFunction
per function, or not at all (every listing was cached)."""


@dataclass(frozen=True, slots=True)
class PrimingReport:
    """How one region's version listings were read in a pass, for the pass's log line."""

    account: str | None
    region: str
    way: Way
    wanted: int
    """The functions whose listing was missing or expired."""
    pages: int = 0
    """ListFunctions pages read."""
    primed: int = 0
    """The wanted functions whose listing the pages gave (the others are read per function)."""
    reason: str = ""
    """Why the region was listed per function."""

    @property
    def key(self) -> str:
        """The region, after the account when the call names one: ``123456789012/us-east-1``."""
        return self.region if self.account is None else f"{self.account}/{self.region}"

    def __str__(self) -> str:
        if self.way == "cached":
            return "cached"
        if self.way == "per-function":
            return f"per-function, {self.reason}"
        text = f"all-versions, {_count(self.pages, 'page')}"
        if self.primed < self.wanted:
            text += f", {self.primed} of {self.wanted} functions listed"
        return text


def log_field(reports: Iterable[PrimingReport]) -> dict[str, str]:
    """The reports as a log field: region -> way (``{"us-east-1": "all-versions, 120 pages"}``)."""
    return {report.key: str(report) for report in reports}


# -- what the last attempt taught -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionMemory:
    """How the last attempt at a region's listing went."""

    at: float
    """When, on the registry's clock."""
    pages: int | None = None
    """The pages of the listing, when it was read to its last page."""
    abandoned: str | None = None
    """Why it was given up: it cost more than it could save, or Lambda refused it."""


def skip_reason(wanted: int, memory: RegionMemory | None) -> str | None:
    """Why a region with ``wanted`` listings to read is listed per function without trying its
    pages, or ``None`` to try them.

    Never for fewer than ``MIN_FUNCTIONS``. Otherwise, from the last attempt (``memory``, when
    it is recent): skipped when it was abandoned (too costly, or refused), or when it took at
    least as many pages as there are functions to list now, since it would again.
    """
    if wanted < MIN_FUNCTIONS:
        return f"{_count(wanted, 'listing')} to read"
    if memory is None:
        return None
    if memory.abandoned is not None:
        return f"as last time: {memory.abandoned}"
    if memory.pages is not None and memory.pages >= wanted:
        return f"the last listing took {_count(memory.pages, 'page')} for {wanted} functions"
    return None


class Budget:
    """When to stop reading a region's pages because the listing cannot pay off any more.

    Reading the region pays when it takes fewer pages than there are functions to list (one
    ListVersionsByFunction each). Two rules stop it early, and the functions are then listed
    one by one, the pages read being the price of finding out:

    - **the budget**: at most half as many pages as functions (at least 1), so a wrong guess
      costs at most half again what the per-function way costs; when the last complete listing
      of the region took P pages (fewer than the functions), up to 2 P, so a region that grew
      is still read, but never as many pages as functions;
    - **the projection**: once ``PROJECT_AFTER_PAGES`` pages have reached the wanted names, the
      progress made is the fraction of the wanted functions whose bare name sorts at or before
      the greatest name seen; the pages before the first wanted name are counted as they are,
      and those since are divided by that fraction. A projected total over the budget stops
      the listing then, rather than when the budget runs out.

    The projection assumes pages come in name order, as Lambda's do in practice but AWS does
    not document; it is only an estimate, and correctness never rests on it: a listing is used
    only when read to its last page. Where the order is otherwise, the budget still bounds the
    cost.
    """

    def __init__(self, wanted_names: Iterable[str], *, known_pages: int | None = None) -> None:
        self._names = sorted(wanted_names)
        wanted = len(self._names)
        if known_pages is not None and known_pages < wanted:
            self.limit = max(1, min(wanted - 1, 2 * known_pages))
        else:
            self.limit = max(1, wanted // 2)
        self._leading = 0
        """Pages read before the greatest name seen reached the first wanted name."""

    def stop_reason(self, pages: int, greatest_name: str | None) -> str | None:
        """After reading ``pages`` pages (not the last one), why to stop, or ``None`` to go on."""
        wanted = len(self._names)
        if greatest_name is None or (self._names and greatest_name < self._names[0]):
            self._leading += 1
        if pages >= self.limit:
            return f"abandoned after {_count(pages, 'page')}, the budget for {wanted} functions"
        among_wanted = pages - self._leading
        if among_wanted < PROJECT_AFTER_PAGES or greatest_name is None:
            return None
        progress = bisect_right(self._names, greatest_name) / wanted
        projected = self._leading + among_wanted / progress
        if projected > self.limit:
            return (
                f"abandoned after {_count(pages, 'page')}, projecting {projected:.0f} pages "
                f"for {wanted} functions, over the budget of {self.limit}"
            )
        return None


# -- reading a region -----------------------------------------------------------------------------


@dataclass
class RegionListing:
    """Every version of every function of one region, as read so far from its pages."""

    region: str
    account: str | None
    pages: int = 0
    complete: bool = False
    """Read to the last page: only then does it say anything for sure about a function."""
    stopped: str | None = None
    """Why the reading stopped before the last page."""
    greatest_name: str | None = None
    """The greatest bare name seen, for ``Budget``'s projection."""
    _versions: dict[FunctionId, list[PublishedVersion]] = field(default_factory=dict)
    _by_name: dict[str, FunctionId] = field(default_factory=dict)
    """Each function whose ``$LATEST`` was seen, by bare name: one account's, in one region."""

    def add(self, page: RegionVersionsPage) -> None:
        self.pages += 1
        for function in page.functions:
            self._by_name[function.name] = function
            self._versions.setdefault(function, [])
        for listed in page.versions:
            self._versions.setdefault(listed.function, []).append(listed.version)
        names = [f.name for f in page.functions] + [v.function.name for v in page.versions]
        if names:
            self.greatest_name = max([*names, self.greatest_name or ""])

    @property
    def functions(self) -> tuple[FunctionId, ...]:
        """Every function seen (by its ``$LATEST``), in name order."""
        return tuple(self._by_name[name] for name in sorted(self._by_name))

    def function_named(self, identity: FunctionId) -> FunctionId | None:
        """The listed function ``identity`` names, or ``None`` when the listing lacks it (or it
        is in another region, or another account's). An identity with no account matches the
        listing's, which is the caller's own."""
        listed = self._by_name.get(identity.name)
        if listed is None or not identity.same_function(listed):
            return None
        return listed

    def versions_of(self, function: FunctionId) -> tuple[PublishedVersion, ...]:
        """A listed function's published versions, in ascending order, as ``list_versions``
        answers them."""
        return tuple(sorted(self._versions.get(function, ()), key=lambda v: v.number))

    def by_function(self) -> Mapping[FunctionId, tuple[PublishedVersion, ...]]:
        """Every listed function with its versions, in name order."""
        return {function: self.versions_of(function) for function in self.functions}


StopReason = Callable[[RegionListing], str | None]
"""Asked after each page but the last: why to stop reading, or ``None`` to go on."""


def read_region(
    registry: Registry,
    region: str,
    account: str | None = None,
    *,
    stop: StopReason | None = None,
) -> RegionListing:
    """Read the region's ListFunctions pages, to the last one unless ``stop`` gives a reason
    first (the listing is then not ``complete``). Registry errors are raised as they come: a
    listing cut short by one says nothing, and the caller decides what to do instead."""
    listing = RegionListing(region, account)
    marker: str | None = None
    while True:
        page = registry.list_region_versions_page(region, account, marker=marker)
        listing.add(page)
        if page.next_marker is None:
            listing.complete = True
            return listing
        if page.next_marker == marker:
            # botocore's paginators refuse this too: reading on would never end.
            raise Transient(
                "ListFunctions answered the same marker twice",
                code="RepeatedMarker",
                operation="ListFunctions",
            )
        marker = page.next_marker
        if stop is not None and (reason := stop(listing)) is not None:
            listing.stopped = reason
            return listing


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
