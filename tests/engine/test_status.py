"""The status fold: what ``/status`` and the metrics say after each pass, as tables.

``fold(previous, pass, revision)`` is pure, so every rule is a row: what the function's record
was, what the pass saw, and what the record becomes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from controller.core.declarations import DeclarationError, Declarations, InvalidFunction
from controller.core.model import (
    DesiredAlias,
    DesiredFunction,
    FunctionId,
    FunctionRef,
    SourceLocation,
)
from controller.core.plan import AliasDrift, FunctionPlan
from controller.engine.applier import FunctionOutcome
from controller.engine.reconciler import FunctionResult, Observation, PassResult
from controller.engine.status import (
    Defaults,
    FleetStatus,
    FunctionRecord,
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
