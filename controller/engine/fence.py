"""The write fence: with several replicas, a registry that writes only while this one leads.

Leader election decides which replica may write (``engine.leader``), but a decision is only as
good as the moment it was made: a leader cut off from the API server keeps running, and its
passes keep planning writes. So every write to Lambda asks the fence first, right before it is
sent. The fence is open until the renew deadline of the last successful renewal (by this
process's monotonic clock), and shut at once when the lease is lost or released; a write it
refuses raises ``NotLeader`` and is never sent.

``FencedRegistry`` puts the fence in front of the registry port's writes, a decorating adapter
as ``CachingRegistry`` is (``run`` wraps the boto3 adapter in it, and the cache around both), so
that the applier, the reconciler and the loop need not know that leader election exists. Reads
pass through. The alias's ``RevisionId`` and
``$LATEST``'s ``CodeSha256`` and ``RevisionId``, which every write carries, are the second
fence: a write already on its way when the lease ran out cannot overwrite what a new leader
wrote since it was planned.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal

from controller.adapters.registry.port import RegionVersionsPage, Registry
from controller.core.configuration import Configuration
from controller.core.model import (
    Alias,
    CodeSource,
    FunctionRef,
    FunctionState,
    PublishedVersion,
)
from controller.errors import NotLeader


class WriteFence:
    """Open until a moment of the monotonic clock, or shut; safe to ask from any thread."""

    def __init__(self, lease: str, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lease = lease
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._open_until = -math.inf

    def open_until(self, deadline: float) -> None:
        """Let writes through until ``deadline`` (monotonic seconds): a renewal succeeded."""
        with self._lock:
            self._open_until = deadline

    def shut(self) -> None:
        """Refuse every write from now on, until opened again."""
        with self._lock:
            self._open_until = -math.inf

    def is_open(self) -> bool:
        with self._lock:
            return self._monotonic() < self._open_until

    def check(self) -> None:
        """Return when a write may be sent now; raise ``NotLeader`` otherwise."""
        if not self.is_open():
            raise NotLeader(
                f"this replica does not hold the Lease {self._lease} (or its renewal is "
                "overdue): the write was not sent"
            )


class FencedRegistry:
    """The registry port over another registry, every write behind a ``WriteFence``."""

    def __init__(self, registry: Registry, fence: WriteFence) -> None:
        self._registry = registry
        self._fence = fence

    # -- reads, passed through ------------------------------------------------------------------

    def get_function(self, function: FunctionRef) -> FunctionState:
        return self._registry.get_function(function)

    def list_functions(self, region: str, account: str | None = None) -> list[FunctionState]:
        return self._registry.list_functions(region, account)

    def list_versions(
        self, function: FunctionRef, *, fresh: bool = False
    ) -> list[PublishedVersion]:
        return self._registry.list_versions(function, fresh=fresh)

    def list_aliases(
        self, function: FunctionRef, *, function_version: str | None = None
    ) -> list[Alias]:
        return self._registry.list_aliases(function, function_version=function_version)

    def list_region_versions_page(
        self, region: str, account: str | None = None, *, marker: str | None = None
    ) -> RegionVersionsPage:
        return self._registry.list_region_versions_page(region, account, marker=marker)

    def wait_until_settled(self, function: FunctionRef) -> FunctionState:
        return self._registry.wait_until_settled(function)

    # -- writes, each asking the fence right before it is sent ---------------------------------

    def publish_version(
        self,
        function: FunctionRef,
        *,
        code_sha256: str,
        revision_id: str | None = None,
        description: str | None = None,
    ) -> PublishedVersion:
        self._fence.check()
        return self._registry.publish_version(
            function, code_sha256=code_sha256, revision_id=revision_id, description=description
        )

    def update_code(
        self,
        function: FunctionRef,
        code: CodeSource,
        *,
        revision_id: str | None = None,
        architectures: tuple[str, ...] | None = None,
    ) -> FunctionState:
        self._fence.check()
        return self._registry.update_code(
            function, code, revision_id=revision_id, architectures=architectures
        )

    def update_configuration(
        self, function: FunctionRef, configuration: Configuration, *, revision_id: str | None
    ) -> FunctionState:
        self._fence.check()
        return self._registry.update_configuration(function, configuration, revision_id=revision_id)

    def create_alias(
        self,
        function: FunctionRef,
        name: str,
        *,
        function_version: str,
        routing: Mapping[str, Decimal] | None = None,
        description: str = "",
    ) -> Alias:
        self._fence.check()
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
        self._fence.check()
        return self._registry.update_alias(
            function,
            name,
            function_version=function_version,
            routing=routing,
            description=description,
            revision_id=revision_id,
        )

    def delete_alias(self, function: FunctionRef, name: str) -> None:
        self._fence.check()
        self._registry.delete_alias(function, name)

    def delete_version(self, function: FunctionRef, number: int) -> None:
        self._fence.check()
        self._registry.delete_version(function, number)
