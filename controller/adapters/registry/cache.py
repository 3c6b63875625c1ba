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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from controller.adapters.registry.port import Registry
from controller.core.model import (
    Alias,
    CodeSource,
    FunctionRef,
    FunctionState,
    PublishedVersion,
)
from controller.errors import NotFound, RegistryError, RetryableError

DEFAULT_VERSION_RESYNC_SECONDS = 1800.0
"""How long a version listing is trusted; out-of-band deletions are seen within this time."""


@dataclass(frozen=True, slots=True)
class _Listing:
    versions: tuple[PublishedVersion, ...]
    read_at: float


class CachingRegistry:
    """The registry port over another registry, with version listings cached per function.

    Thread-safe: passes may observe many functions at once. A listing that was being read when
    the function's entry was dropped is not stored, because it may predate the change that
    dropped the entry.
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

    # -- versions: cached -----------------------------------------------------------------------

    def list_versions(
        self, function: FunctionRef, *, fresh: bool = False
    ) -> list[PublishedVersion]:
        with self._lock:
            listing = None if fresh else self._listings.get(function)
            generation = self._generations.get(function, 0)
        if listing is not None and self._clock() - listing.read_at < self._resync_seconds:
            return list(listing.versions)
        read_at = self._clock()
        versions = self._registry.list_versions(function, fresh=True)
        with self._lock:
            if self._generations.get(function, 0) == generation:
                self._listings[function] = _Listing(tuple(versions), read_at)
        return versions

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
        self, function: FunctionRef, code: CodeSource, *, revision_id: str | None = None
    ) -> FunctionState:
        # Only $LATEST changes; the published versions stay as they were.
        return self._registry.update_code(function, code, revision_id=revision_id)

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
