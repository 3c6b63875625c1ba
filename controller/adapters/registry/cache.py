"""A registry that remembers version listings, so that a steady pass costs one request a function.

Lambda's control-plane quota is 15 requests/s per region (rule L40), and a controller that lists
every function's versions on every pass spends most of it on answers that cannot have changed:
a published version is immutable. ``CachingRegistry`` wraps any registry and answers
``list_versions`` from memory. A listing goes stale in only three ways, and each is handled:

- this controller publishes or deletes a version: the entry is dropped at once;
- someone publishes out of band: an alias that names a version the listing lacks reveals it,
  and ``observe`` asks for a fresh listing (``fresh=True``);
- someone deletes a version out of band, or deletes and re-creates the function: nothing
  reveals it for sure, so every entry also expires after ``version_resync_seconds``; a failed
  write or a missing function drops the entry too, since either may come from such a change.

Everything else, aliases included, is passed through: aliases are what drifts, and are read live.

A cold cache would cost one ListVersionsByFunction per function; ``prime`` fills it ahead of a
pass from the region's ListFunctions pages where that is cheaper (``priming`` decides), and
stores a listing only from a region read to its last page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from controller.adapters.logging import get_logger
from controller.adapters.registry.port import RegionVersionsPage, Registry
from controller.adapters.registry.priming import (
    REMEMBER_SECONDS,
    Budget,
    PrimingReport,
    RegionListing,
    RegionMemory,
    read_region,
    skip_reason,
)
from controller.core.configuration import Configuration
from controller.core.model import (
    Alias,
    CodeSource,
    FunctionRef,
    FunctionState,
    PublishedVersion,
)
from controller.errors import (
    AccessDenied,
    InvalidRequest,
    NotFound,
    RegistryError,
    RetryableError,
)

DEFAULT_VERSION_RESYNC_SECONDS = 1800.0
"""How long a version listing is trusted; out-of-band deletions are seen within this time."""


@dataclass(frozen=True, slots=True)
class _Listing:
    versions: tuple[PublishedVersion, ...]
    read_at: float

    def fresh(self, now: float, resync_seconds: float) -> bool:
        """Read less than ``resync_seconds`` before ``now``: still trusted."""
        return now - self.read_at < resync_seconds


class CachingRegistry:
    """The registry port over another registry, with version listings cached per function.

    Thread-safe: passes may observe many functions at once. A listing that was being read when
    the function's entry was dropped is not stored, because it may predate the change that
    dropped the entry; nor is one from a region listing read across the drop.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        version_resync_seconds: float = DEFAULT_VERSION_RESYNC_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._resync_seconds = version_resync_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._listings: dict[FunctionRef, _Listing] = {}
        # Bumped whenever a function's entry is dropped, so that a listing read across the drop
        # can tell that it is no longer trustworthy.
        self._generations: dict[FunctionRef, int] = {}
        # How the last listing of each (account, region) went, for the next one's choice.
        self._regions: dict[tuple[str | None, str], RegionMemory] = {}
        self._log = get_logger("controller.adapters.registry")

    # -- versions: cached -----------------------------------------------------------------------

    def list_versions(
        self, function: FunctionRef, *, fresh: bool = False
    ) -> list[PublishedVersion]:
        with self._lock:
            listing = None if fresh else self._listings.get(function)
            generation = self._generations.get(function, 0)
        if listing is not None and listing.fresh(self._clock(), self._resync_seconds):
            return list(listing.versions)
        read_at = self._clock()
        versions = self._registry.list_versions(function, fresh=True)
        with self._lock:
            if self._generations.get(function, 0) == generation:
                self._listings[function] = _Listing(tuple(versions), read_at)
        return versions

    def prime(
        self, functions: Iterable[FunctionRef], *, should_stop: Callable[[], bool] | None = None
    ) -> tuple[PrimingReport, ...]:
        """Fill the listings of ``functions`` that are missing or expired, per (account,
        region), from the region's ListFunctions pages where that is cheaper than one
        ListVersionsByFunction per function; one report per region, in order.

        The rule (``priming.skip_reason`` and ``priming.Budget``): a region with fewer than 2
        listings to read, or whose last attempt (within ``priming.REMEMBER_SECONDS``) was
        abandoned or took at least as many pages as there are listings to read now, is left to
        the per-function way at once. Otherwise its pages are read while they can still pay
        off: up to a budget of half as many pages as listings (up to twice the pages of the
        last complete listing, when one is known), and no further once the progress made
        projects a total of as many pages as listings.

        A listing is stored only from a region read to its last page, since the order of the
        pages is undocumented and a partial one proves nothing about any function; only for a
        function the listing holds (matched by identity: account, region and bare name, a bare
        name meaning the caller's account), and not across a ``forget`` of it. Any registry
        error (a throttle after retries, a role without ``lambda:ListFunctions``) abandons the
        region quietly: the pass then reads each function the usual way. A refusal is
        remembered like a costly region, so it is not asked again for an hour.
        """
        now = self._clock()
        groups: dict[tuple[str | None, str], list[FunctionRef]] = {}
        for function in dict.fromkeys(functions):
            wanted = groups.setdefault((function.account, function.region), [])
            if not self._fresh(function, now):
                wanted.append(function)
        return tuple(
            self._prime_region(account, region, wanted, should_stop)
            for (account, region), wanted in sorted(
                groups.items(), key=lambda item: (item[0][0] or "", item[0][1])
            )
        )

    def list_region_versions_page(
        self, region: str, account: str | None = None, *, marker: str | None = None
    ) -> RegionVersionsPage:
        return self._registry.list_region_versions_page(region, account, marker=marker)

    def _prime_region(
        self,
        account: str | None,
        region: str,
        wanted: list[FunctionRef],
        should_stop: Callable[[], bool] | None,
    ) -> PrimingReport:
        if not wanted:
            return PrimingReport(account, region, "cached", 0)
        memory = self._memory_of(account, region)
        skipped = skip_reason(len(wanted), memory)
        if skipped is not None:
            return PrimingReport(account, region, "per-function", len(wanted), reason=skipped)
        budget = Budget(
            (function.identity.name for function in wanted),
            known_pages=memory.pages if memory is not None else None,
        )
        interrupted = False

        def stop(listing: RegionListing) -> str | None:
            nonlocal interrupted
            if should_stop is not None and should_stop():
                interrupted = True
                return "stopped before the last page"
            return budget.stop_reason(listing.pages, listing.greatest_name)

        generations, read_at = self._generations_now(), self._clock()
        try:
            listing = read_region(self._registry, region, account, stop=stop)
        except RegistryError as error:
            return self._abandoned(account, region, len(wanted), error)
        if not listing.complete:
            reason = listing.stopped or "stopped"
            if not interrupted:
                self._remember(account, region, RegionMemory(read_at, abandoned=reason))
            self._log.debug("region listing abandoned", region=region, reason=reason)
            return PrimingReport(
                account, region, "per-function", len(wanted), listing.pages, reason=reason
            )
        self._remember(account, region, RegionMemory(read_at, pages=listing.pages))
        primed = self._store(listing, wanted, generations, read_at)
        return PrimingReport(account, region, "all-versions", len(wanted), listing.pages, primed)

    def _abandoned(
        self, account: str | None, region: str, wanted: int, error: RegistryError
    ) -> PrimingReport:
        """A page failed: the region is listed per function, and a refusal is remembered."""
        reason = f"ListFunctions failed ({type(error).__name__})"
        if isinstance(error, (AccessDenied, InvalidRequest)):
            reason = f"ListFunctions refused ({type(error).__name__})"
            self._remember(account, region, RegionMemory(self._clock(), abandoned=reason))
        self._log.info(
            "region listing failed; versions are listed per function",
            region=region,
            account=account,
            error=str(error),
        )
        return PrimingReport(account, region, "per-function", wanted, reason=reason)

    def _store(
        self,
        listing: RegionListing,
        functions: Iterable[FunctionRef],
        generations: dict[FunctionRef, int],
        read_at: float,
    ) -> int:
        """Store the listing of each of ``functions`` that ``listing`` holds and that was not
        forgotten since ``generations`` was taken; how many were stored."""
        stored = 0
        with self._lock:
            for function in functions:
                listed = listing.function_named(function.identity)
                if listed is None:
                    continue  # not in this region's listing: read the usual way
                if self._generations.get(function, 0) != generations.get(function, 0):
                    continue
                self._listings[function] = _Listing(listing.versions_of(listed), read_at)
                stored += 1
        return stored

    def _fresh(self, function: FunctionRef, now: float) -> bool:
        with self._lock:
            listing = self._listings.get(function)
        return listing is not None and listing.fresh(now, self._resync_seconds)

    def _generations_now(self) -> dict[FunctionRef, int]:
        with self._lock:
            return dict(self._generations)

    def _memory_of(self, account: str | None, region: str) -> RegionMemory | None:
        with self._lock:
            memory = self._regions.get((account, region))
        if memory is None or self._clock() - memory.at >= REMEMBER_SECONDS:
            return None
        return memory

    def _remember(self, account: str | None, region: str, memory: RegionMemory) -> None:
        with self._lock:
            self._regions[(account, region)] = memory

    def forget(self, function: FunctionRef) -> None:
        """Drop the function's listing; the next ``list_versions`` reads it from Lambda."""
        with self._lock:
            self._listings.pop(function, None)
            self._generations[function] = self._generations.get(function, 0) + 1

    def publish_version(
        self,
        function: FunctionRef,
        *,
        code_sha256: str,
        revision_id: str | None = None,
        description: str | None = None,
    ) -> PublishedVersion:
        # Dropped whatever happens: a publish whose answer was lost may still have happened.
        try:
            return self._registry.publish_version(
                function, code_sha256=code_sha256, revision_id=revision_id, description=description
            )
        finally:
            self.forget(function)

    def delete_version(self, function: FunctionRef, number: int) -> None:
        try:
            self._registry.delete_version(function, number)
        finally:
            self.forget(function)

    # -- everything else: passed through ----------------------------------------------------------

    def get_function(self, function: FunctionRef) -> FunctionState:
        with self._forgetting_if_missing(function):
            return self._registry.get_function(function)

    def list_functions(self, region: str, account: str | None = None) -> list[FunctionState]:
        return self._registry.list_functions(region, account)

    def list_aliases(
        self, function: FunctionRef, *, function_version: str | None = None
    ) -> list[Alias]:
        with self._forgetting_if_missing(function):
            return self._registry.list_aliases(function, function_version=function_version)

    def update_code(
        self,
        function: FunctionRef,
        code: CodeSource,
        *,
        revision_id: str | None = None,
        architectures: tuple[str, ...] | None = None,
    ) -> FunctionState:
        # Only $LATEST changes; the published versions stay as they were.
        return self._registry.update_code(
            function, code, revision_id=revision_id, architectures=architectures
        )

    def update_configuration(
        self, function: FunctionRef, configuration: Configuration, *, revision_id: str | None
    ) -> FunctionState:
        # Only $LATEST changes, as for its code.
        return self._registry.update_configuration(function, configuration, revision_id=revision_id)

    def wait_until_settled(self, function: FunctionRef) -> FunctionState:
        return self._registry.wait_until_settled(function)

    def create_alias(
        self,
        function: FunctionRef,
        name: str,
        *,
        function_version: str,
        routing: Mapping[str, Decimal] | None = None,
        description: str = "",
    ) -> Alias:
        with self._forgetting_on_refusal(function):
            return self._registry.create_alias(
                function,
                name,
                function_version=function_version,
                routing=routing,
                description=description,
            )

    def update_alias(
        self,
        function: FunctionRef,
        name: str,
        *,
        function_version: str,
        routing: Mapping[str, Decimal] | None = None,
        description: str | None = None,
        revision_id: str,
    ) -> Alias:
        with self._forgetting_on_refusal(function):
            return self._registry.update_alias(
                function,
                name,
                function_version=function_version,
                routing=routing,
                description=description,
                revision_id=revision_id,
            )

    def delete_alias(self, function: FunctionRef, name: str) -> None:
        self._registry.delete_alias(function, name)

    @contextmanager
    def _forgetting_if_missing(self, function: FunctionRef) -> Iterator[None]:
        """A function that is gone takes its versions with it; a re-created one starts over."""
        try:
            yield
        except NotFound:
            self.forget(function)
            raise

    @contextmanager
    def _forgetting_on_refusal(self, function: FunctionRef) -> Iterator[None]:
        """An alias write refused by Lambda may have named a version deleted out of band.

        The plan was made from the cached listing, so the listing is dropped and the re-plan
        sees the truth; a throttle or a 5xx says nothing about the versions and keeps it.
        """
        try:
            yield
        except RetryableError:
            raise
        except RegistryError:
            self.forget(function)
            raise
