"""Adoption (``spec.adopt: true``): an alias that is as declared but has no ownership marker gets
one write that adds it, and that write is neither drift nor an out-of-band change.

Without ``adopt`` such an alias is in sync and written to by nobody: the comparison ignores the
marker, which is what lets ``lambda-gitops import`` declare a live fleet whose first reconcile
writes nothing.
"""

from __future__ import annotations

from dataclasses import replace

import click

from controller.core.model import LATEST, DesiredFunction
from controller.core.outofband import AliasMemory, out_of_band_changes
from controller.core.ownership import describe, is_managed
from controller.core.plan import ADOPT_DRIFT, AliasDrift, Change, Plan, UpdateAlias
from controller.core.planner import plan_function
from controller.engine.reconciler import FunctionResult, Observation
from controller.review import plans
from tests.core.planner.builders import (
    CODE_A,
    CODE_B,
    OLD_REVISION,
    REVISION,
    alias,
    function,
    live_alias,
    observed,
    version,
)

MARK = describe("", REVISION)
OLD_MARK = describe("", OLD_REVISION)


def adopting(desired: DesiredFunction) -> DesiredFunction:
    return replace(desired, adopt=True)


DECLARED = function(
    [version("r1", CODE_A), version("r2", CODE_B)],
    [alias("canary", "r1", {"r2": "0.1"}, description="10% to r2"), alias("live", "r2")],
)
UNMARKED = observed(
    CODE_A,
    CODE_B,
    aliases=[
        live_alias("canary", "1", {"2": 0.1}, description="10% to r2"),
        live_alias("live", "2"),
    ],
)


def test_an_unmarked_alias_as_declared_is_in_sync_without_adopt() -> None:
    plan = plan_function(DECLARED, UNMARKED, REVISION)

    assert plan.in_sync
    assert plan.actions == ()


def test_adopt_writes_the_marker_on_each_unmarked_alias_and_nothing_else() -> None:
    plan = plan_function(adopting(DECLARED), UNMARKED, REVISION)

    canary, live = UNMARKED.aliases
    assert plan.actions == (
        UpdateAlias("canary", "1", {"2": canary.routing["2"]}, describe("10% to r2", REVISION),
                    revision_id="canary-rev", live=canary),
        UpdateAlias("live", "2", {}, MARK, revision_id="live-rev", live=live),
    )  # fmt: skip
    assert plan.drift == (
        AliasDrift("canary", ADOPT_DRIFT, (Change("ownership", "(none)", MARK),)),
        AliasDrift("live", ADOPT_DRIFT, (Change("ownership", "(none)", MARK),)),
    )
    assert not plan.in_sync  # a write is pending: plan shows it, and exits 2
    assert plan.matches_declarations


def test_adopt_leaves_an_alias_that_has_the_marker_alone() -> None:
    marked = observed(
        CODE_A,
        CODE_B,
        aliases=[
            live_alias("canary", "1", {"2": 0.1}, description=f"10% to r2 {OLD_MARK}"),
            live_alias("live", "2", description=OLD_MARK),
        ],
    )

    plan = plan_function(adopting(DECLARED), marked, REVISION)

    assert plan.in_sync
    assert plan.actions == ()


def test_an_alias_that_differs_is_a_plain_update_not_an_adoption() -> None:
    moved = observed(CODE_A, CODE_B, aliases=[UNMARKED.aliases[0], live_alias("live", "1")])

    plan = plan_function(adopting(DECLARED), moved, REVISION)

    kinds = {entry.alias: entry.kind for entry in plan.drift}
    assert kinds == {"canary": ADOPT_DRIFT, "live": "differs"}
    assert not plan.matches_declarations


def test_an_alias_on_latest_is_adopted_on_latest() -> None:
    declared = adopting(function([version("r1", CODE_A)], [alias("dev", LATEST)]))
    live = live_alias("dev", LATEST)

    plan = plan_function(declared, observed(CODE_A, aliases=[live]), REVISION)

    assert plan.actions == (UpdateAlias("dev", LATEST, {}, MARK, revision_id="dev-rev", live=live),)


def test_a_missing_alias_is_created_as_always_with_adopt() -> None:
    plan = plan_function(adopting(DECLARED), observed(CODE_A, CODE_B), REVISION)

    assert {entry.kind for entry in plan.drift} == {"missing"}
    assert not plan.matches_declarations


def test_a_suspended_function_reports_the_adoption_and_stays_in_sync() -> None:
    plan = plan_function(replace(adopting(DECLARED), suspend=True), UNMARKED, REVISION)

    assert plan.actions == ()
    assert plan.in_sync
    assert {entry.kind for entry in plan.drift} == {ADOPT_DRIFT}


def test_the_adopted_alias_is_written_with_a_description_the_comparison_accepts() -> None:
    plan = plan_function(adopting(DECLARED), UNMARKED, REVISION)

    for action in plan.actions:
        assert isinstance(action, UpdateAlias)
        assert is_managed(action.description)
    rewritten = observed(
        CODE_A,
        CODE_B,
        aliases=[
            replace(a.live, description=a.description)
            for a in plan.actions
            if isinstance(a, UpdateAlias)
        ],
    )
    assert plan_function(adopting(DECLARED), rewritten, REVISION).in_sync


def test_an_adoption_is_no_out_of_band_change_even_when_remembered_otherwise() -> None:
    plan = plan_function(adopting(DECLARED), UNMARKED, REVISION)
    live_aliases = {a.name: a for a in UNMARKED.aliases}

    assert out_of_band_changes(plan, live_aliases, {}) == ()
    assert out_of_band_changes(plan, live_aliases, {"live": AliasMemory("older-rev")}) == ()


def test_plan_text_says_the_marker_is_added() -> None:
    plan = plan_function(adopting(DECLARED), UNMARKED, REVISION)

    text = click.unstyle(plans.plan_text(Plan(REVISION, (plan,))))

    assert "  ~ alias live: ownership marker added (adopt)" in text
    assert "  ~ alias canary: ownership marker added (adopt)" in text


def test_a_function_whose_only_writes_are_adoptions_is_synced_and_drifts_nowhere() -> None:
    plan = plan_function(adopting(DECLARED), UNMARKED, REVISION)

    result = FunctionResult(Observation(plan.function, UNMARKED), plan)

    assert result.status == "synced"
    assert result.drifted_aliases() == {"canary": False, "live": False}
