"""``plan``: every declared function, each on its own, in the order given, always the same."""

from __future__ import annotations

from controller.core.model import FunctionRef, ObservedFunction
from controller.core.planner import plan
from tests.core.planner.builders import (
    CODE_A,
    CODE_B,
    REVISION,
    ZIP_B,
    alias,
    function,
    live_alias,
    observed,
    version,
)

OTHER = FunctionRef("billing", "eu-west-1")


def test_functions_are_planned_in_the_order_given() -> None:
    first = function([version("r1", CODE_A)], [alias("live", "r1")], ref=OTHER)
    second = function([version("r1", CODE_A)], [alias("live", "r1")])
    result = plan([first, second], {first.ref: observed(CODE_A), second.ref: observed(CODE_A)}, "r")
    assert [planned.ref for planned in result.functions] == [OTHER, second.ref]
    assert result.revision == "r"


def test_a_function_missing_live_is_in_error_and_the_others_are_still_planned() -> None:
    missing = function([version("r1", CODE_A)], [alias("live", "r1")], ref=OTHER)
    present = function([version("r1", CODE_A)], [alias("live", "r1")])
    result = plan([missing, present], {missing.ref: None, present.ref: observed(CODE_A)}, REVISION)
    assert result.functions[0].error is not None
    assert "does not exist in eu-west-1" in result.functions[0].error
    assert result.functions[0].actions == ()
    assert result.functions[1].error is None
    assert len(result.functions[1].actions) == 1


def test_a_function_absent_from_the_observation_is_treated_as_missing_live() -> None:
    result = plan([function([version("r1", CODE_A)], ref=OTHER)], {}, REVISION)
    assert result.functions[0].error is not None
    assert not result.in_sync


def test_one_functions_error_leaves_the_others_plan_unchanged() -> None:
    broken = function([version("r1", CODE_A), version("r2", CODE_B)], ref=OTHER)
    healthy = function([version("r1", CODE_A)], [alias("live", "r1")])
    live: dict[FunctionRef, ObservedFunction | None] = {
        broken.ref: observed(CODE_A),
        healthy.ref: observed(CODE_A),
    }
    alone = plan([healthy], live, REVISION).functions[0]
    together = plan([broken, healthy], live, REVISION).functions
    assert together[0].error == "version r2 is missing and has no code source"
    assert together[1] == alone


def test_the_same_inputs_always_give_the_same_plan() -> None:
    desired = function(
        [version("r1", CODE_A), version("r2", CODE_B, source=ZIP_B)],
        [alias("live", "r1", {"r2": "0.1"}), alias("beta", "r2")],
        prune=True,
    )
    live = {desired.ref: observed(CODE_A, aliases=[live_alias("live", "1", {"1": 0.2})])}
    assert plan([desired], live, REVISION) == plan([desired], live, REVISION)


def test_a_converged_plan_is_in_sync() -> None:
    desired = function([version("r1", CODE_A)], [alias("live", "r1")])
    live = {desired.ref: observed(CODE_A, aliases=[live_alias("live", "1")])}
    assert plan([desired], live, REVISION).in_sync
