"""Telling an alias changed by another writer from one a commit is about to move, as a table.

Each row is what the controller remembers of the alias (or nothing, after a restart), what is
live, and whether the difference from Git is an out-of-band change.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from controller.core.model import Alias, DesiredAlias, DesiredFunction
from controller.core.outofband import GONE, AliasMemory, out_of_band_changes
from controller.core.ownership import describe, seal
from controller.core.plan import AliasDrift, Change, FunctionPlan
from tests.core.planner.builders import REF, REVISION

FUNCTION = DesiredFunction("orders-api", REF, {}, {"live": DesiredAlias("live", "r42")})
DIFFERS = AliasDrift("live", "differs", (Change("version", "7", "r42 (8)"),))
MISSING = AliasDrift("live", "missing", (Change("version", "(none)", "r42 (8)"),))
SEALED_AT_7 = seal(describe("prod", REVISION), "7", {})
ROLLOUT_ROUTING = {"8": Decimal("0.05")}
IN_ROLLOUT = seal(
    describe("prod", REVISION, rollout="ro=8/7/0/1733140000/0/P/3fa2c1"), "7", ROLLOUT_ROUTING
)


def live(
    version: str = "7",
    description: str = SEALED_AT_7,
    revision_id: str = "rev-1",
    routing: dict[str, Decimal] | None = None,
) -> Alias:
    return Alias("live", version, routing or {}, description, revision_id)


ROWS = {
    "remembered, unchanged since: a commit moved it": (
        AliasMemory("rev-1"),
        live(),
        DIFFERS,
        False,
    ),
    "remembered, rewritten since: out of band": (
        AliasMemory("rev-1"),
        live(revision_id="rev-2"),
        DIFFERS,
        True,
    ),
    "remembered, now gone: deleted out of band": (AliasMemory("rev-1"), None, MISSING, True),
    "remembered, the change already counted": (
        AliasMemory("rev-1", changed_at="rev-2"),
        live(revision_id="rev-2"),
        DIFFERS,
        False,
    ),
    "remembered, changed again after being counted": (
        AliasMemory("rev-1", changed_at="rev-2"),
        live(revision_id="rev-3"),
        DIFFERS,
        True,
    ),
    "after a restart, as its seal says: a commit moved it": (None, live(), DIFFERS, False),
    "after a restart, moved by hand keeping the description": (
        None,
        live(version="6"),
        DIFFERS,
        True,
    ),
    "after a restart, routing added by hand": (
        None,
        live(routing={"8": Decimal("0.5")}),
        DIFFERS,
        True,
    ),
    "after a restart, the description edited by hand": (
        None,
        live(description=SEALED_AT_7.replace("prod", "PROD")),
        DIFFERS,
        True,
    ),
    "after a restart, an unsealed marker: cannot tell": (
        None,
        live(description=describe("prod", REVISION)),
        DIFFERS,
        False,
    ),
    "after a restart, in a rollout, as its seal says": (
        None,
        live(routing=ROLLOUT_ROUTING, description=IN_ROLLOUT),
        DIFFERS,
        False,
    ),
    "after a restart, a rollout's weight moved by hand": (
        None,
        live(routing={"8": Decimal("0.5")}, description=IN_ROLLOUT),
        DIFFERS,
        True,
    ),
    "after a restart, a rollout's state edited by hand": (
        None,
        live(routing=ROLLOUT_ROUTING, description=IN_ROLLOUT.replace("/0/P/", "/0/S/")),
        DIFFERS,
        True,
    ),
    "never managed: not counted": (None, live(description="by hand"), DIFFERS, False),
    "never seen and absent: a first deployment": (None, None, MISSING, False),
}


@pytest.mark.parametrize(
    ("memory", "alias", "drift", "out_of_band"), ROWS.values(), ids=ROWS.keys()
)
def test_a_difference_is_out_of_band_only_when_another_writer_made_it(
    memory: AliasMemory | None, alias: Alias | None, drift: AliasDrift, out_of_band: bool
) -> None:
    plan = FunctionPlan(FUNCTION, drift=(drift,))
    lives = {"live": alias} if alias is not None else {}
    memories = {"live": memory} if memory is not None else {}

    changes = out_of_band_changes(plan, lives, memories)

    assert bool(changes) is out_of_band
    if changes:
        [change] = changes
        assert change.alias == "live"
        assert change.git == "version r42 (8)"
        assert change.live_revision_id == (alias.revision_id if alias is not None else GONE)


def test_what_was_live_is_described_in_full() -> None:
    alias = live(version="6", routing={"9": Decimal("0.25")}, revision_id="rev-9")
    plan = FunctionPlan(FUNCTION, drift=(DIFFERS,))

    [change] = out_of_band_changes(plan, {"live": alias}, {"live": AliasMemory("rev-1")})

    assert change.live == "version 6; routing 0.25 to 9; description 'prod'"


def test_aliases_in_sync_and_extraneous_ones_are_never_reported() -> None:
    plan = FunctionPlan(FUNCTION, drift=(AliasDrift("old", "extraneous"),))
    changed = live(revision_id="rev-2")

    assert out_of_band_changes(plan, {"live": changed}, {"live": AliasMemory("rev-1")}) == ()
