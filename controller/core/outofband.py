"""Out-of-band changes: telling a hand-moved alias from a deployment.

A live alias that differs from Git differs for one of two reasons, and an operator needs to know
which. Either a new commit changed its declaration (a deployment: the controller is about to
carry it out), or someone or something else wrote the alias (an out-of-band change: in enforce
mode the controller reverts it, in detect mode it reports it, and in both it is counted, logged
as a warning and alerted on).

The controller tells them apart by what it knows about the alias:

- **What it remembers**: the ``RevisionId`` the alias had when the controller last wrote it or
  last saw it in sync. Lambda gives an alias a new ``RevisionId`` on every write (rule L19), so
  a live ``RevisionId`` other than the remembered one means another writer. An alias the
  controller remembers that is now gone was deleted out of band.
- **What the alias says, after a restart**: the controller seals its ownership marker with a
  digest of what it wrote (``ownership.seal``). A sealed alias whose live state no longer
  matches its seal was changed by someone who kept the description; one that matches is as the
  controller left it, so any difference from Git is a deployment.

An alias the controller neither remembers nor sealed (never managed, or a marker from before
seals) is not counted: nothing says who wrote it. Each change is counted once: the memory keeps
the ``RevisionId`` at which the change was seen, until the alias is healed or back in sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from controller.core.model import Alias
from controller.core.ownership import declared_part, seal_holds
from controller.core.plan import ADOPT_DRIFT, AliasDrift, FunctionPlan

GONE = "(deleted)"
"""How an alias deleted out of band is remembered and shown."""


@dataclass(frozen=True, slots=True)
class AliasMemory:
    """What the controller knows of one alias from earlier passes."""

    revision_id: str | None = None
    """The alias's ``RevisionId`` when the controller last wrote it or last saw it in sync."""
    changed_at: str | None = None
    """The ``RevisionId`` (or ``GONE``) of an out-of-band change already counted, so that an
    alias left drifted (detect mode, or a failed heal) is not counted again at every pass."""


@dataclass(frozen=True, slots=True)
class OutOfBandChange:
    """One alias found changed by another writer, with what Git says and what was live."""

    alias: str
    git: str
    """The declaration, as a plan shows it: ``version 7 + 10% to 8``."""
    live: str
    """What was live: version, routing and description, or ``(deleted)``."""
    live_revision_id: str


def out_of_band_changes(
    plan: FunctionPlan,
    live_aliases: Mapping[str, Alias],
    memory: Mapping[str, AliasMemory],
) -> tuple[OutOfBandChange, ...]:
    """The declared aliases of ``plan`` that another writer changed, each counted once."""
    found = []
    for drift in plan.drift:
        if drift.kind in ("extraneous", ADOPT_DRIFT):
            continue  # not declared; or as declared, only unmarked
        remembered = memory.get(drift.alias)
        live = live_aliases.get(drift.alias)
        seen = live.revision_id if live is not None else GONE
        if remembered is not None and remembered.changed_at == seen:
            continue  # counted when it was first seen
        if _changed_by_another(live, remembered):
            found.append(OutOfBandChange(drift.alias, _git(drift), _live(live), seen))
    return tuple(found)


def _changed_by_another(live: Alias | None, remembered: AliasMemory | None) -> bool:
    if remembered is not None and remembered.revision_id is not None:
        return live is None or live.revision_id != remembered.revision_id
    if live is None:
        return False
    return seal_holds(live.function_version, live.effective_routing, live.description) is False


def _git(drift: AliasDrift) -> str:
    desired = {change.field: change.desired for change in drift.changes}
    return _state_text(desired)


def _live(live: Alias | None) -> str:
    if live is None:
        return GONE
    fields = {"version": live.function_version}
    routing = live.effective_routing
    if routing:
        fields["routing"] = ", ".join(f"{share} to {v}" for v, share in sorted(routing.items()))
    declared = declared_part(live.description)
    if declared:
        fields["description"] = repr(declared)
    return _state_text(fields)


def _state_text(fields: Mapping[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in fields.items() if value)
