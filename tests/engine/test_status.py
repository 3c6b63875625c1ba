"""The status fold: what ``/status`` and the metrics say after each pass, as tables.

``fold(previous, pass, revision)`` is pure, so every rule is a row: what the function's record
was, what the pass saw, and what the record becomes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from controller.core.declarations import DeclarationError, Declarations, InvalidFunction
from controller.core.model import (
    Alias,
    DesiredAlias,
    DesiredFunction,
    FunctionId,
    FunctionRef,
    ObservedFunction,
    SourceLocation,
)
from controller.core.outofband import AliasMemory, OutOfBandChange
from controller.core.plan import AliasDrift, FunctionPlan, UpdateAlias
from controller.engine.applier import ActionOutcome, FunctionOutcome
from controller.engine.reconciler import FunctionResult, Observation, PassResult
from controller.engine.status import (
    Defaults,
    FleetStatus,
    FunctionRecord,
    OutOfBandEvent,
    RecordKey,
    fold,
    metric_statuses,
    passed,
    status_keys,
)

ACCOUNT = "123456789012"
OLD, NEW = "a" * 40, "b" * 40
DEFAULTS = Defaults("us-east-1", ACCOUNT)


def declared(
    name: str = "orders", *, file: str = "orders.yaml", region: str = "us-east-1"
) -> DesiredFunction:
    return DesiredFunction(
        name=name,
        ref=FunctionRef(name, region, ACCOUNT),
        versions={},
        aliases={"live": DesiredAlias("live", "1")},
        location=SourceLocation(file, 1),
    )


ORDERS = declared()
ORDERS_ID = FunctionId(ACCOUNT, "us-east-1", "orders")


def result(
    function: DesiredFunction, *, error: str | None = None, drifted: bool = False
) -> FunctionResult:
    drift = (AliasDrift("live", "differs"),) if drifted else ()
    plan = FunctionPlan(function, drift=drift, error=error)
    return FunctionResult(Observation(function, None), plan, FunctionOutcome(function))


def at(*results: FunctionResult, declarations: Declarations | None = None) -> PassResult:
    functions = tuple(r.function for r in results)
    return PassResult(declarations or Declarations(NEW, functions), results, applying=True)


def record(**changes: object) -> FunctionRecord:
    base = FunctionRecord(
        name="orders",
        function="orders",
        region="us-east-1",
        account=ACCOUNT,
        status="synced",
        last_attempted_revision=OLD,
        last_applied_revision=OLD,
        aliases=("live",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


BEFORE = FleetStatus({ORDERS_ID: record()}, {ORDERS_ID: ORDERS})

INVALID = InvalidFunction(
    "orders",
    ORDERS.ref,
    SourceLocation("orders.yaml", 1),
    (DeclarationError(SourceLocation("orders.yaml", 9), "bad weight"),),
)
NAMELESS_INVALID = replace(INVALID, ref=None)
BROKEN = DeclarationError(SourceLocation("orders.yaml", 3), "YAML syntax error")

ROWS = {
    "a synced function has applied the revision": (
        at(result(ORDERS)),
        record(last_attempted_revision=NEW, last_applied_revision=NEW),
    ),
    "a drifted function in detect mode keeps its last applied revision": (
        at(result(ORDERS, drifted=True)),
        record(status="drifted", last_attempted_revision=NEW, drifted_aliases=("live",)),
    ),
    "a failed function keeps its last applied revision and says why": (
        at(result(ORDERS, error="AccessDenied")),
        record(status="error", last_attempted_revision=NEW, last_error="AccessDenied"),
    ),
    "an invalid declaration holds the function back, in error": (
        at(declarations=Declarations(NEW, (), invalid=(INVALID,))),
        record(status="error", last_attempted_revision=NEW, last_error="orders.yaml:9: bad weight"),
    ),
    "an invalid declaration that no longer names its function is matched by its name": (
        at(declarations=Declarations(NEW, (), invalid=(NAMELESS_INVALID,))),
        record(status="error", last_attempted_revision=NEW, last_error="orders.yaml:9: bad weight"),
    ),
    "a file that stopped parsing holds back what it declared": (
        at(declarations=Declarations(NEW, (), broken_files=(BROKEN,))),
        record(
            status="error",
            last_attempted_revision=NEW,
            last_error=(
                "orders.yaml:3: YAML syntax error (left as it was at the last good revision)"
            ),
        ),
    ),
}


@pytest.mark.parametrize(("pass_result", "expected"), ROWS.values(), ids=ROWS.keys())
def test_a_pass_folds_into_the_functions_record(
    pass_result: PassResult, expected: FunctionRecord
) -> None:
    after = fold(BEFORE, pass_result, NEW, DEFAULTS)

    assert dict(after.records) == {ORDERS_ID: expected}
    assert ORDERS_ID in after.last_good


def test_a_function_removed_from_git_disappears_with_its_last_good_declaration() -> None:
    billing = declared("billing")

    after = fold(BEFORE, at(result(billing)), NEW, DEFAULTS)

    assert list(after.records) == [FunctionId(ACCOUNT, "us-east-1", "billing")]
    assert list(after.last_good) == [FunctionId(ACCOUNT, "us-east-1", "billing")]


def test_a_pass_stopped_part_way_keeps_what_it_did_not_reach() -> None:
    billing = declared("billing")
    stopped = PassResult(Declarations(NEW, (billing, ORDERS)), (result(billing),), applying=True)

    after = fold(BEFORE, stopped, NEW, DEFAULTS)

    assert after.records[ORDERS_ID] == record()


def test_an_invalid_declaration_of_unknown_identity_is_keyed_by_its_place() -> None:
    unknown = replace(NAMELESS_INVALID, name="ghost")

    after = fold(
        FleetStatus(), at(declarations=Declarations(NEW, (), invalid=(unknown,))), NEW, DEFAULTS
    )

    assert [r.name for r in after.records.values()] == ["ghost"]
    assert list(after.records) == ["orders.yaml:1"]


@pytest.mark.parametrize(
    ("declarations", "records", "ok"),
    [
        (Declarations(NEW, (ORDERS,)), {ORDERS_ID: record()}, True),
        (Declarations(NEW, (), invalid=(INVALID,)), {ORDERS_ID: record()}, False),
        (Declarations(NEW, (ORDERS,)), {ORDERS_ID: record(status="error")}, False),
        (Declarations(NEW, (ORDERS,)), {ORDERS_ID: record(status="drifted")}, True),
    ],
    ids=["all synced", "a declaration error", "a function in error", "drift is not failure"],
)
def test_a_pass_succeeds_only_with_valid_declarations_and_no_function_in_error(
    declarations: Declarations, records: dict[RecordKey, FunctionRecord], ok: bool
) -> None:
    assert passed(FleetStatus(records), declarations) is ok


def test_status_tells_one_name_in_two_regions_and_two_accounts_apart() -> None:
    records = [
        record(),
        record(region="eu-west-1"),
        record(account="210987654321"),
        record(name="billing", function="billing"),
    ]

    assert sorted(status_keys(records)) == [
        "billing",
        "orders (123456789012, us-east-1)",
        "orders (210987654321, us-east-1)",
        "orders (eu-west-1)",
    ]


def test_metrics_label_a_name_shared_by_two_accounts_with_its_arn() -> None:
    statuses = metric_statuses(
        [record(), record(account="210987654321"), record(region="eu-west-1")]
    )

    assert [s.function for s in statuses] == [
        "arn:aws:lambda:us-east-1:123456789012:function:orders",
        "arn:aws:lambda:us-east-1:210987654321:function:orders",
        "orders",
    ]


# -- what is remembered of aliases, and their out-of-band changes ---------------------------------

LIVE = Alias("live", "1", {}, "", "rev-1")


def observed_result(
    *,
    drift: tuple[AliasDrift, ...] = (),
    out_of_band: tuple[OutOfBandChange, ...] = (),
    written: Alias | None = None,
) -> FunctionResult:
    live = ObservedFunction(ORDERS.ref, None, (), (LIVE,))
    plan = FunctionPlan(ORDERS, drift=drift)
    actions: tuple[ActionOutcome, ...] = ()
    if written is not None:
        update = UpdateAlias("live", "2", {}, "", "rev-1", LIVE)
        actions = (ActionOutcome(update, "applied", "moved", 0.1, written),)
    outcome = FunctionOutcome(ORDERS, actions)
    return FunctionResult(Observation(ORDERS, live), plan, outcome, out_of_band)


CHANGE = OutOfBandChange("live", "version 2", "version 1", "rev-1")
KEY = (ORDERS_ID, "live")


def test_an_alias_in_sync_is_remembered_at_its_live_revision() -> None:
    after = fold(FleetStatus(), at(observed_result()), NEW, DEFAULTS, now=10.0)

    assert after.memory == {KEY: AliasMemory("rev-1")}
    assert after.records[ORDERS_ID].alias_records == {}


def test_an_alias_the_pass_wrote_is_remembered_at_the_revision_lambda_answered() -> None:
    written = Alias("live", "2", {}, "", "rev-2")
    drift = (AliasDrift("live", "differs"),)

    after = fold(FleetStatus(), at(observed_result(drift=drift, written=written)), NEW, DEFAULTS)

    assert after.memory == {KEY: AliasMemory("rev-2")}


def test_an_out_of_band_change_is_counted_once_with_when_what_and_whether_healed() -> None:
    drift = (AliasDrift("live", "differs"),)
    previous = FleetStatus({ORDERS_ID: record()}, {ORDERS_ID: ORDERS}, {KEY: AliasMemory("rev-0")})

    detected = fold(
        previous, at(observed_result(drift=drift, out_of_band=(CHANGE,))), NEW, DEFAULTS, now=1e9
    )

    [alias_record] = detected.records[ORDERS_ID].alias_records.values()
    assert alias_record.out_of_band_changes == 1
    assert alias_record.last_out_of_band_change == OutOfBandEvent(
        1e9, "version 2", "version 1", healed=False
    )
    assert detected.memory[KEY] == AliasMemory("rev-0", changed_at="rev-1")
    assert detected.records[ORDERS_ID].as_json()["aliases"]["live"]["lastOutOfBandChange"] == {
        "at": "2001-09-09T01:46:40.000000Z",
        "git": "version 2",
        "live": "version 1",
        "healed": False,
    }
    assert metric_statuses(detected.records.values())[0].out_of_band_changes == {"live": 1}


def test_a_healed_change_says_so_and_the_alias_is_remembered_as_written() -> None:
    drift = (AliasDrift("live", "differs"),)
    healed = Alias("live", "2", {}, "", "rev-9")
    result = observed_result(drift=drift, out_of_band=(CHANGE,), written=healed)

    after = fold(FleetStatus(), at(result), NEW, DEFAULTS, now=5.0)

    event = after.records[ORDERS_ID].alias_records["live"].last_out_of_band_change
    assert event is not None
    assert event.healed
    assert after.memory[KEY] == AliasMemory("rev-9")


def test_what_is_remembered_of_a_function_no_longer_declared_is_forgotten() -> None:
    previous = FleetStatus({ORDERS_ID: record()}, {ORDERS_ID: ORDERS}, {KEY: AliasMemory("rev-1")})

    after = fold(previous, at(result(declared("billing"))), NEW, DEFAULTS)

    assert after.memory == {}
