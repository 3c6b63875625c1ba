"""A plan as data: what the planner decides and the applier carries out.

The planner (``planner.py``) returns these values and touches nothing; the applier
(``applier.py``) runs them through the registry port and decides nothing of its own. Keeping the
plan as plain frozen data is what lets the planner be tested by tables and printed as a
``terraform plan``-like text or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final, Literal

from controller.core.configuration import NOTHING, Configuration
from controller.core.model import Alias, DeclaredCode, DesiredFunction, FunctionRef
from controller.core.rollout import Phase, Rollout, RolloutState

MARKER_PREFIX = "[lambda-gitops "
"""Ownership marker in an alias description: ``<declared description> [lambda-gitops REV]``."""


@dataclass(frozen=True, slots=True)
class PendingVersion:
    """The version this plan publishes for ``label``: its number is known once it is published."""

    label: str

    def __str__(self) -> str:
        return f"(new {self.label})"


Target = str | PendingVersion
"""A version an alias points to: a published number (``"17"``), ``$LATEST``, or a version this
plan publishes."""


@dataclass(frozen=True, slots=True)
class PublishVersion:
    """Publish ``$LATEST`` as the version for ``label``, with ``code_sha256`` as precondition.

    When ``update_code`` is set, ``$LATEST`` does not hold that code (or the declared
    architecture) yet: the applier first updates it from that source and waits for the update
    to finish (DESIGN: resolving a label). Then the fields of ``configuration`` that
    ``$LATEST`` lacks are set with UpdateFunctionConfiguration, waited for too, and the publish
    carries the ``RevisionId`` read after that, so that a change made by anyone else in between
    fails the publish instead of being published.
    """

    label: str
    code_sha256: str
    description: str | None = None
    update_code: DeclaredCode | None = None
    configuration: Configuration = NOTHING
    """The configuration the label declares: what the new version must have."""
    secrets: frozenset[str] = frozenset()
    """The environment variables whose values are never shown."""


@dataclass(frozen=True, slots=True)
class CreateAlias:
    name: str
    version: Target
    routing: Mapping[Target, Decimal] = field(default_factory=dict)
    description: str = ""
    """The full description to write, ownership marker included."""


@dataclass(frozen=True, slots=True)
class UpdateAlias:
    name: str
    version: Target
    routing: Mapping[Target, Decimal]
    description: str
    """The full description to write, ownership marker included."""
    revision_id: str
    """The live alias's RevisionId: the update's precondition."""
    live: Alias


@dataclass(frozen=True, slots=True)
class DeleteAlias:
    """Prune an alias this controller created and the declarations no longer name."""

    name: str
    live: Alias


@dataclass(frozen=True, slots=True)
class DeleteVersion:
    """Delete a published version that retention no longer keeps (``core.retention``).

    Lambda refuses while an alias points at it (rule L35); the applier takes that refusal for
    what it is, a version someone started using since it was observed, and keeps it.
    """

    number: int
    reason: Literal["retention"] = "retention"


Action = PublishVersion | CreateAlias | UpdateAlias | DeleteAlias | DeleteVersion


@dataclass(frozen=True, slots=True)
class Change:
    """One field of an alias that differs: ``version``, ``routing`` or ``description``."""

    field: str
    live: str
    desired: str


@dataclass(frozen=True, slots=True)
class AliasDrift:
    """How one live alias differs from its declaration.

    ``missing``: declared, absent live. ``differs``: present, with ``changes``. ``extraneous``: a
    managed alias no longer declared (pruned only when the function says ``prune: true``).
    ``rollout`` and ``adopt`` are writes that correct no difference (``ROLLOUT_DRIFT``,
    ``ADOPT_DRIFT``).
    """

    alias: str
    kind: Literal["missing", "differs", "extraneous", "rollout", "adopt"]
    changes: tuple[Change, ...] = ()


ROLLOUT_DRIFT = "rollout"
"""The drift kind of an alias a rollout under way moves on by itself (a step, a rollback): the
alias is as the controller left it, Git has not changed, and so it is not drift."""

ADOPT_DRIFT: Final = "adopt"
"""The drift kind of an alias that is as declared but lacks the ownership marker, on a function
that says ``adopt: true``: the write adds the marker and changes nothing else, so the alias
does not differ from Git, nobody changed it out of band, and it is not drift."""

NOT_DRIFT = ("extraneous", ROLLOUT_DRIFT, ADOPT_DRIFT)
"""The drift kinds that ask for no change of what an alias does."""


@dataclass(frozen=True, slots=True)
class RolloutView:
    """Where one alias's rollout stands once its plan is carried out, for ``plan``, ``diff``,
    ``/status``, the metrics and the loop's timers."""

    alias: str
    rollout: Rollout
    target: str
    """The target's version number, or its label while it is not published yet."""
    stable: str
    weight: Decimal
    """The target's share of the alias's traffic: 0 once rolled back, 1 once complete."""
    reason: str
    state: RolloutState | None = None
    """``None`` while the rollout waits for its target to be published."""
    step_ends: float | None = None
    """When the current step's hold ends (seconds since the epoch); ``None`` for a pause or a
    rollout that is over."""

    @property
    def phase(self) -> Phase | None:
        return self.state.phase if self.state is not None else None

    @property
    def under_way(self) -> bool:
        return self.phase in ("progressing", "paused")

    @property
    def step(self) -> int:
        """The current step's number, 1-based; 0 before the first."""
        if self.state is None:
            return 0
        return min(self.state.step + 1, len(self.rollout.steps))


@dataclass(frozen=True, slots=True)
class RetentionView:
    """What retention decided for one function, for ``plan``, ``diff --live`` and ``/status``.

    Published versions are counted before this plan's publishes and deletions; ``protected``
    are those beyond the newest ``keep`` that something names (an alias, a declaration, a
    rollout), ``deleted`` those this plan deletes, and ``held`` those it would delete but does
    not now, for ``reason``.
    """

    keep: int
    """The newest published versions kept whatever: the declaration's ``retainVersions`` or
    the controller's default."""
    versions: int
    protected: tuple[int, ...] = ()
    deleted: tuple[int, ...] = ()
    held: tuple[int, ...] = ()
    reason: str = ""
    """Why ``held`` are kept this time: the scope switch is off, a rollout is under way..."""


@dataclass(frozen=True, slots=True)
class FunctionPlan:
    """The plan for one function: its actions in order, the drift they correct, or an error."""

    function: DesiredFunction
    actions: tuple[Action, ...] = ()
    drift: tuple[AliasDrift, ...] = ()
    error: str | None = None
    """Why the function cannot be converged (no actions are planned then)."""
    missing_versions: tuple[str, ...] = ()
    """Labels of declared versions that no published version satisfies yet. Each comes with a
    ``PublishVersion`` in ``actions``, except when the function is suspended: this field is how a
    suspended function still reports a version it would publish."""
    rollouts: tuple[RolloutView, ...] = ()
    """The declared aliases with a rollout, where each stands."""
    deferred: bool = False
    """An alias write waits for a version this plan publishes (a rollout needs the target's
    number): once the publishes are done, the function is observed and planned again."""
    retention: RetentionView | None = None
    """What retention keeps and deletes; ``None`` when the function keeps every version."""

    @property
    def ref(self) -> FunctionRef:
        return self.function.ref

    @property
    def suspended(self) -> bool:
        return self.function.suspend

    @property
    def in_sync(self) -> bool:
        """Nothing to write, nothing missing, no error, and every declared alias as declared.

        A managed alias that is no longer declared, on a function without ``prune``, is reported
        in ``drift`` but does not count: the declarations ask for nothing to change there.
        """
        return (
            not self.actions
            and not self.missing_versions
            and self.error is None
            and not self.deferred
            and all(entry.kind in NOT_DRIFT for entry in self.drift)
        )

    @property
    def matches_declarations(self) -> bool:
        """``in_sync`` but for housekeeping: what the declarations ask for holds.

        A version retention deletes, and the ownership marker that ``adopt`` adds to an alias
        as declared, are housekeeping, not a difference from Git: ``plan`` counts them as
        changes pending, but they make no function ``drifted``.
        """
        adopted = {entry.alias for entry in self.drift if entry.kind == ADOPT_DRIFT}
        differences = tuple(
            action
            for action in self.actions
            if not isinstance(action, DeleteVersion)
            and not (isinstance(action, UpdateAlias) and action.name in adopted)
        )
        return replace(self, actions=differences).in_sync


@dataclass(frozen=True, slots=True)
class Plan:
    revision: str
    functions: tuple[FunctionPlan, ...]

    @property
    def in_sync(self) -> bool:
        return all(function.in_sync for function in self.functions)


def action_kind(action: Action) -> str:
    """The action's name in metrics and logs: ``publish``, ``create``, ``update``, ``delete``
    (an alias), ``delete_version``."""
    match action:
        case PublishVersion():
            return "publish"
        case CreateAlias():
            return "create"
        case UpdateAlias():
            return "update"
        case DeleteAlias():
            return "delete"
        case DeleteVersion():
            return "delete_version"
