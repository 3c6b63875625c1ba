"""The status fold: what ``/status`` and the metrics say after each pass, as tables.

``fold(previous, pass, revision)`` is pure, so every rule is a row: what the function's record
was, what the pass saw, and what the record becomes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import pytest

from controller.core.declarations import DeclarationError, Declarations, InvalidFunction
from controller.core.model import (
    Alias,
    DesiredAlias,
    DesiredFunction,
    FunctionId,
    FunctionRef,
    ObservedFunction,
    PublishedVersion,
    SourceLocation,
)
from controller.core.outofband import AliasMemory, OutOfBandChange
from controller.core.plan import (
    Action,
    AliasDrift,
    DeleteVersion,
    FunctionPlan,
    PublishVersion,
    RetentionView,
    UpdateAlias,
)
from controller.core.retention import SWITCHED_OFF
from controller.engine.applier import ActionOutcome, FunctionOutcome
from controller.engine.reconciler import FunctionResult, Observation, PassResult
from controller.engine.status import (
    Defaults,
    FleetStatus,
    FunctionRecord,
    OutOfBandEvent,
    RecordKey,
    RetentionRecord,
    SkippedDeletion,
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


# -- retention: the versions of each function, and what was deleted --------------------------------

SIX = tuple(PublishedVersion(n, f"code-{n}", "", f"v{n}") for n in range(1, 7))


def retention_result(
    *done: tuple[Action, Literal["applied", "failed", "skipped"], str],
    view: RetentionView | None = None,
    versions: tuple[PublishedVersion, ...] = SIX,
) -> FunctionResult:
    function = replace(ORDERS, retain_versions=2)
    live = ObservedFunction(function.ref, None, versions, (LIVE,))
    plan = FunctionPlan(function, tuple(action for action, _, _ in done), retention=view)
    outcomes = tuple(
        ActionOutcome(action, outcome, detail, 0.1) for action, outcome, detail in done
    )
    return FunctionResult(Observation(function, live), plan, FunctionOutcome(function, outcomes))


def test_deletions_are_counted_since_start_and_the_last_ones_shown_with_when() -> None:
    previous = FleetStatus(
        {ORDERS_ID: record(retention=RetentionRecord(deleted=2, versions=7))},
        {ORDERS_ID: ORDERS},
    )
    kept = "kept version 3: an alias points at it now (DeleteFunction: ...)"
    view = RetentionView(keep=2, versions=6, protected=(2,), deleted=(1, 3, 4))
    result = retention_result(
        (PublishVersion("r7", "code-7"), "applied", "published r7 as version 7"),
        (DeleteVersion(1), "applied", "deleted version 1 (retention)"),
        (DeleteVersion(3), "skipped", kept),
        (DeleteVersion(4), "applied", "deleted version 4 (retention)"),
        view=view,
    )

    after = fold(previous, at(result), NEW, DEFAULTS, now=1e9)

    retention = after.records[ORDERS_ID].retention
    assert retention == RetentionRecord(
        declared=2,
        keep=2,
        versions=5,  # six seen, one published, two deleted
        deleted=4,
        last_deleted=(1, 4),
        last_deleted_at=1e9,
        skipped=(SkippedDeletion(3, 1e9, kept),),
    )
    shown = after.records[ORDERS_ID].as_json()
    assert shown["versions"] == 5
    assert shown["retention"] == {
        "retainVersions": 2,
        "keep": 2,
        "deletedVersions": 4,
        "lastDeleted": ["1", "4"],
        "lastDeletedAt": "2001-09-09T01:46:40.000000Z",
        "skipped": [{"version": "3", "at": "2001-09-09T01:46:40.000000Z", "why": kept}],
        "held": [],
        "heldBecause": None,
    }
    [status] = metric_statuses(after.records.values())
    assert (status.versions, status.versions_deleted) == (5, 4)


def test_versions_held_back_are_shown_with_why_and_the_last_deletions_stay() -> None:
    before = RetentionRecord(deleted=3, last_deleted=(1, 2, 3), last_deleted_at=5.0)
    previous = FleetStatus({ORDERS_ID: record(retention=before)}, {ORDERS_ID: ORDERS})
    view = RetentionView(keep=2, versions=6, held=(4,), reason=SWITCHED_OFF)

    after = fold(previous, at(retention_result(view=view)), NEW, DEFAULTS, now=9.0)

    retention = after.records[ORDERS_ID].retention
    assert (retention.held, retention.reason) == ((4,), SWITCHED_OFF)
    assert (retention.deleted, retention.last_deleted, retention.last_deleted_at) == (
        3,
        (1, 2, 3),
        5.0,
    )
    assert retention.versions == 6
    assert after.records[ORDERS_ID].as_json()["retention"]["heldBecause"] == SWITCHED_OFF


def test_a_function_that_could_not_be_read_keeps_its_count_of_versions() -> None:
    previous = FleetStatus(
        {ORDERS_ID: record(retention=RetentionRecord(versions=4, deleted=1))}, {ORDERS_ID: ORDERS}
    )

    after = fold(previous, at(result(ORDERS, error="cannot read it")), NEW, DEFAULTS)

    assert after.records[ORDERS_ID].retention.versions == 4
    assert after.records[ORDERS_ID].retention.deleted == 1


def test_an_invalid_declaration_keeps_the_functions_retention_record() -> None:
    kept = RetentionRecord(versions=4, deleted=1, last_deleted=(1,), last_deleted_at=3.0)
    previous = FleetStatus({ORDERS_ID: record(retention=kept)}, {ORDERS_ID: ORDERS})

    after = fold(
        previous, at(declarations=Declarations(NEW, (), invalid=(INVALID,))), NEW, DEFAULTS
    )

    assert after.records[ORDERS_ID].retention == kept
