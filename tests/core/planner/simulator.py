"""A tiny in-memory Lambda registry that carries out a plan, for the planner's property tests.

It follows only the rules a plan can run into: a publish snapshots ``$LATEST`` under a
``CodeSha256`` precondition (L4) and gets the next number (L7); an alias must point at a version
that exists (L12) and route to at most one other published version (L21a, c, d, e); an update
carries the RevisionId it was planned against (L18); a weight is stored as a double. A plan that
breaks one of these fails an assertion here, as it would fail a call against Lambda.

Deleting a version follows L34-L38: a version an alias uses, as its version or in its routing,
is refused (the applier then keeps it), and one that does not exist is no error. ``carry_out``
can let someone create aliases just before each deletion, as a person racing the controller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from controller.core.model import (
    LATEST,
    Alias,
    FunctionState,
    ObservedFunction,
    PublishedVersion,
    weight,
)
from controller.core.plan import (
    Action,
    CreateAlias,
    DeleteAlias,
    DeleteVersion,
    PendingVersion,
    PublishVersion,
    Target,
    UpdateAlias,
)


def apply(function: ObservedFunction, actions: Iterable[Action]) -> ObservedFunction:
    """The function as it is after ``actions`` ran in order."""
    return carry_out(function, actions).function


Race = Callable[[int, ObservedFunction], Iterable[Alias]]
"""Called before the deletion of a version (its number, the function as it is then): the
aliases someone creates at that moment."""


@dataclass(frozen=True)
class Carried:
    """The function after a plan ran, and what became of its version deletions."""

    function: ObservedFunction
    deleted: tuple[int, ...] = ()
    refused: tuple[int, ...] = ()
    """Deletions Lambda refused because an alias used the version then (L35)."""


def carry_out(
    function: ObservedFunction, actions: Iterable[Action], *, race: Race | None = None
) -> Carried:
    """Run ``actions`` in order, as the applier does: a refused deletion is kept and the
    others go on. ``race`` creates aliases before each deletion."""
    assert function.latest is not None, "the simulator starts from a fully observed function"
    registry = _Registry(
        latest=function.latest,
        versions=list(function.versions),
        aliases={alias.name: alias for alias in function.aliases},
    )

    def now() -> ObservedFunction:
        return replace(
            function,
            latest=registry.latest,
            versions=tuple(registry.versions),
            aliases=tuple(registry.aliases.values()),
        )

    deleted: list[int] = []
    refused: list[int] = []
    for action in actions:
        if isinstance(action, DeleteVersion):
            for created in race(action.number, now()) if race is not None else ():
                assert created.name not in registry.aliases
                registry.aliases[created.name] = created
            (deleted if registry.delete(action.number) else refused).append(action.number)
        else:
            registry.run(action)
    return Carried(now(), tuple(deleted), tuple(refused))


@dataclass
class _Registry:
    latest: FunctionState
    versions: list[PublishedVersion]
    aliases: dict[str, Alias]
    published: dict[str, str] = field(default_factory=dict)
    """Label -> the number its publish got, to resolve ``PendingVersion``."""
    writes: int = 0

    def run(self, action: Action) -> None:
        match action:
            case PublishVersion():
                self._publish(action)
            case CreateAlias():
                assert action.name not in self.aliases
                self._write_alias(action.name, action.version, action.routing, action.description)
            case UpdateAlias():
                assert self.aliases[action.name].revision_id == action.revision_id
                self._write_alias(action.name, action.version, action.routing, action.description)
            case DeleteAlias():
                self.aliases.pop(action.name, None)
            case DeleteVersion():
                self.delete(action.number)

    def delete(self, number: int) -> bool:
        """DeleteFunction with a Qualifier: False when an alias uses the version (L35)."""
        version = str(number)
        if any(
            version == alias.function_version or version in alias.routing
            for alias in self.aliases.values()
        ):
            return False
        self.versions = [v for v in self.versions if v.number != number]  # L38: gone is fine
        return True

    def _publish(self, action: PublishVersion) -> None:
        if action.update_code is not None:
            # The code source holds the code its label declares.
            self.latest = replace(self.latest, code_sha256=action.code_sha256)
        assert self.latest.code_sha256 == action.code_sha256
        number = max((version.number for version in self.versions), default=0) + 1
        self.versions.append(
            PublishedVersion(number, action.code_sha256, action.description or "", f"v{number}")
        )
        self.published[action.label] = str(number)

    def _write_alias(
        self, name: str, target: Target, routing: Mapping[Target, Decimal], description: str
    ) -> None:
        version = self._existing(target)
        weights = {self._existing(key): value for key, value in routing.items()}
        assert len(weights) <= 1
        assert LATEST not in weights
        assert version not in weights
        assert version != LATEST or not weights
        assert all(0 < value < 1 for value in weights.values())
        assert len(description) <= 256
        self.writes += 1
        self.aliases[name] = Alias(
            name=name,
            function_version=version,
            routing={key: weight(float(value)) for key, value in weights.items()},
            description=description,
            revision_id=f"{name}-rev-{self.writes}",
        )

    def _existing(self, target: Target) -> str:
        version = self.published[target.label] if isinstance(target, PendingVersion) else target
        assert version == LATEST or any(v.version == version for v in self.versions)
        return version
