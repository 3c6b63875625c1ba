"""The registry port: the few Lambda operations the controller needs, in the project's terms.

One adapter implements it over boto3 (``aws.py``) and so serves AWS, a moto server and the
emulated registry alike; tests of the core may implement it in memory. Every method raises the
``controller.errors.RegistryError`` family, never a botocore exception.

Lambda's control-plane quota is small and per region (rule L40), so reading costs matter here:
``observe`` reads a converged function with a single request when the registry caches version
listings (``cache.CachingRegistry``), and a ``RegistryObserver`` lets the metrics see every
call without this package importing the metrics module. A cold pass, with nothing cached, can
read a whole region's versions from ListFunctions pages instead of one ListVersionsByFunction
per function (``list_region_versions_page``; ``priming`` decides when that is cheaper).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from controller.core.configuration import Configuration
from controller.core.model import (
    LATEST,
    Alias,
    CodeSource,
    FunctionId,
    FunctionRef,
    FunctionState,
    ObservedFunction,
    PublishedVersion,
)


@dataclass(frozen=True, slots=True)
class ListedVersion:
    """A published version as a region's listing shows it, with the function it belongs to."""

    function: FunctionId
    """From the version's ARN: the account, region and bare name, however the caller spells it."""
    version: PublishedVersion


@dataclass(frozen=True, slots=True)
class RegionVersionsPage:
    """One page of ListFunctions with ``FunctionVersion=ALL`` (rule L26): at most 50 items.

    The order is Lambda's, which AWS does not document: one function's versions may be spread
    over several pages, so only a listing read to its last page says anything for sure about
    any function.
    """

    versions: tuple[ListedVersion, ...]
    """The published versions on this page."""
    functions: tuple[FunctionId, ...]
    """The functions whose ``$LATEST`` is on this page. A whole listing holds every function's
    ``$LATEST`` exactly once, so this is how a function with no published version is known to
    exist, and how a caller learns every function of the region."""
    next_marker: str | None
    """Where the next page starts; ``None`` on the last page."""


class Registry(Protocol):
    """Lambda's versions and aliases, as the controller reads and writes them."""

    def get_function(self, function: FunctionRef) -> FunctionState:
        """``$LATEST``: its code hash, state, last update status and RevisionId."""
        ...

    def list_functions(self, region: str, account: str | None = None) -> list[FunctionState]:
        """Every function of the region (``$LATEST`` only), every page."""
        ...

    def list_region_versions_page(
        self, region: str, account: str | None = None, *, marker: str | None = None
    ) -> RegionVersionsPage:
        """One page of every version of every function of the region, from ``marker`` (``None``:
        the first page); the functions are the account's whose credentials make the call.

        One request per call, so that a caller can count pages and stop between them.
        """
        ...

    def list_versions(
        self, function: FunctionRef, *, fresh: bool = False
    ) -> list[PublishedVersion]:
        """The published versions, in ascending order, every page; ``$LATEST`` is left out.

        A registry may answer from a cache, because published versions never change; ``fresh``
        asks for a listing read from Lambda now, for when the caller has met a version number
        the cached listing lacks.
        """
        ...

    def list_aliases(
        self, function: FunctionRef, *, function_version: str | None = None
    ) -> list[Alias]:
        """The aliases, every page; only those whose primary version is ``function_version``."""
        ...

    def publish_version(
        self,
        function: FunctionRef,
        *,
        code_sha256: str,
        revision_id: str | None = None,
        description: str | None = None,
    ) -> PublishedVersion:
        """Snapshot ``$LATEST`` as a new version, only if its code is ``code_sha256``.

        ``revision_id``, when given, also requires ``$LATEST`` not to have changed at all since it
        was read. Raises ``PreconditionFailed`` when either does not hold.
        """
        ...

    def update_code(
        self,
        function: FunctionRef,
        code: CodeSource,
        *,
        revision_id: str | None = None,
        architectures: tuple[str, ...] | None = None,
    ) -> FunctionState:
        """Replace ``$LATEST``'s code (and its architecture, when given: Lambda changes it only
        with the code) and return once Lambda has finished the update."""
        ...

    def update_configuration(
        self, function: FunctionRef, configuration: Configuration, *, revision_id: str | None
    ) -> FunctionState:
        """Set the fields ``configuration`` gives on ``$LATEST``, only if it is still at
        ``revision_id``, and return it once Lambda has finished the update (its RevisionId then
        is the one a publish of that snapshot must carry). ``architectures`` cannot be set this
        way (``update_code``). An error never quotes an environment value.
        """
        ...

    def wait_until_settled(self, function: FunctionRef) -> FunctionState:
        """Return ``$LATEST`` once no creation or code update of it is in progress (rule L6)."""
        ...

    def create_alias(
        self,
        function: FunctionRef,
        name: str,
        *,
        function_version: str,
        routing: Mapping[str, Decimal] | None = None,
        description: str = "",
    ) -> Alias:
        """A new alias; ``Conflict`` if one of that name exists."""
        ...

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
        """Repoint an alias, only if it is still at ``revision_id``.

        The routing is always sent with the version (empty clears it), so that no stale weight
        survives a promotion (rule L22).
        """
        ...

    def delete_alias(self, function: FunctionRef, name: str) -> None:
        """Delete an alias; deleting one that does not exist is not an error (rule L17)."""
        ...

    def delete_version(self, function: FunctionRef, number: int) -> None:
        """Delete one published version; ``Conflict`` while an alias points at it (rule L35)."""
        ...


class RegistryObserver(Protocol):
    """Told about every registry call, for the metrics; the registry knows nothing of Prometheus.

    ``operation`` is Lambda's name for the call (``ListAliases``), so the label set is bounded.
    """

    def request(self, operation: str, outcome: str, seconds: float) -> None:
        """One logical call finished, after all its retries and pages.

        ``outcome`` is ``"success"`` or the kind of error in snake case (``"not_found"``,
        ``"precondition_failed"``, ``"throttled"``, ``"transient"``, ...); ``seconds`` is how long
        the caller waited, client-side pacing included.
        """
        ...

    def throttled(self, operation: str) -> None:
        """One HTTP attempt was refused as over the quota (HTTP 429), retried or not."""
        ...


NeedLatest = Callable[[Sequence[PublishedVersion]], bool]
"""Given the published versions, whether the caller needs ``$LATEST`` as well."""


def observe(
    registry: Registry, function: FunctionRef, *, need_latest: NeedLatest | None = None
) -> ObservedFunction:
    """Read everything the planner compares against: aliases, versions and ``$LATEST``.

    The aliases are read first, and always from Lambda: they are what drifts. Versions are read
    next, possibly from a cache; a version cannot be deleted while an alias points at it (rule
    L35), so an alias that names a version number the listing lacks means the listing is stale
    (someone published out of band), and it is read again, fresh. ``$LATEST`` is only needed to
    publish a missing version; ``need_latest``, when given, says from the versions whether it is,
    and when it says no, ``latest`` is ``None`` and no request is made for it. On a converged
    function behind a version cache, the whole observation is one request (ListAliases).
    """
    aliases = tuple(registry.list_aliases(function))
    versions = registry.list_versions(function)
    if not _names_only_known_versions(aliases, versions):
        versions = registry.list_versions(function, fresh=True)
    read_latest = need_latest is None or need_latest(versions)
    return ObservedFunction(
        ref=function,
        latest=registry.get_function(function) if read_latest else None,
        versions=tuple(versions),
        aliases=aliases,
    )


def _names_only_known_versions(
    aliases: Iterable[Alias], versions: Iterable[PublishedVersion]
) -> bool:
    """Whether every version an alias routes to, primary or weighted, is among ``versions``."""
    known = {str(version.number) for version in versions}
    named = {
        number
        for alias in aliases
        for number in (alias.function_version, *alias.routing)
        if number != LATEST
    }
    return named <= known
