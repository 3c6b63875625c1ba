"""The registry port: the few Lambda operations the controller needs, in the project's terms.

One adapter implements it over boto3 (``aws.py``) and so serves AWS, a moto server and the
emulated registry alike; tests of the core may implement it in memory. Every method raises the
``controller.errors.RegistryError`` family, never a botocore exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from controller.model import (
    Alias,
    CodeSource,
    FunctionRef,
    FunctionState,
    ObservedFunction,
    PublishedVersion,
)


class Registry(Protocol):
    """Lambda's versions and aliases, as the controller reads and writes them."""

    def get_function(self, function: FunctionRef) -> FunctionState:
        """``$LATEST``: its code hash, state, last update status and RevisionId."""
        ...

    def list_functions(self, region: str, account: str | None = None) -> list[FunctionState]:
        """Every function of the region (``$LATEST`` only), every page."""
        ...

    def list_versions(self, function: FunctionRef) -> list[PublishedVersion]:
        """The published versions, in ascending order, every page; ``$LATEST`` is left out."""
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
        self, function: FunctionRef, code: CodeSource, *, revision_id: str | None = None
    ) -> FunctionState:
        """Replace ``$LATEST``'s code and return once Lambda has finished the update."""
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


def observe(registry: Registry, function: FunctionRef) -> ObservedFunction:
    """Read everything the planner compares against: ``$LATEST``, versions and aliases."""
    return ObservedFunction(
        ref=function,
        latest=registry.get_function(function),
        versions=tuple(registry.list_versions(function)),
        aliases=tuple(registry.list_aliases(function)),
    )
