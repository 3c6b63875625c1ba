"""Section B of LAMBDA_RULES.md: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases
(rules L10-L23, with every routing sub-rule of L21)."""

# ruff: noqa: N802 - test names carry the rule id as LAMBDA_RULES.md spells it (L21d)

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import pytest

from tests.backends import Backend, function_arn, moto_breaks
from tests.conformance.support import (
    NUMBER_IDS,
    NUMBERS_OF_NO_VERSION,
    lambda_error,
    next_marker,
    status_of,
)

REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)
ALIAS_NAME_PATTERN = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
WEIGHT_CONSTRAINT = (
    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
    "Member must have value greater than or equal to 0.0, Member must not be null]"
)

if TYPE_CHECKING:
    from mypy_boto3_lambda.type_defs import AliasRoutingConfigurationTypeDef

AliasWrite = Literal["CreateAlias", "UpdateAlias"]
ALIAS_WRITES: list[AliasWrite] = ["CreateAlias", "UpdateAlias"]


def write_alias(
    backend: Backend,
    operation: AliasWrite,
    *,
    function_version: str,
    weights: Mapping[str, float],
    function: str = "fn",
) -> None:
    """Give the alias ``live`` this routing, by CreateAlias or by UpdateAlias of an alias that
    was created plainly on version 1 beforehand."""
    lambda_ = backend.client()
    routing: AliasRoutingConfigurationTypeDef = {"AdditionalVersionWeights": weights}
    if operation == "CreateAlias":
        lambda_.create_alias(
            FunctionName=function,
            Name="live",
            FunctionVersion=function_version,
            RoutingConfig=routing,
        )
    else:
        lambda_.update_alias(
            FunctionName=function,
            Name="live",
            FunctionVersion=function_version,
            RoutingConfig=routing,
        )


def prepare_alias_write(backend: Backend, operation: AliasWrite, versions: int = 3) -> None:
    backend.function_with_versions("fn", versions)
    if operation == "UpdateAlias":
        backend.client().create_alias(FunctionName="fn", Name="live", FunctionVersion="1")


def validation_message(value: str, field: str, constraint: str) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{field}' "
        f"failed to satisfy constraint: {constraint}"
    )


# L10 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L10")
@pytest.mark.parametrize(
    ("name", "constraint"),
    [
        ("2024", f"Member must satisfy regular expression pattern: {ALIAS_NAME_PATTERN}"),
        ("bad name", f"Member must satisfy regular expression pattern: {ALIAS_NAME_PATTERN}"),
        ("a" * 129, "Member must have length less than or equal to 128"),
    ],
    ids=["digits-only", "space", "129-chars"],
)
@moto_breaks("accepts digit-only, over-long and non-pattern alias names")
def test_L10_alias_names_outside_the_pattern_are_refused(
    lambda_backend: Backend, name: str, constraint: str
) -> None:
    lambda_backend.function_with_versions("fn", 1)

    with lambda_error("ValidationException", 400, validation_message(name, "name", constraint)):
        lambda_backend.client().create_alias(FunctionName="fn", Name=name, FunctionVersion="1")


@pytest.mark.rule("L10")
@pytest.mark.parametrize("name", ["2024-01-02", "a" * 128, "live_1"])
def test_L10_alias_names_inside_the_pattern_are_accepted(
    lambda_backend: Backend, name: str
) -> None:
    lambda_backend.function_with_versions("fn", 1)

    created = lambda_backend.client().create_alias(
        FunctionName="fn", Name=name, FunctionVersion="1"
    )

    assert created["AliasArn"] == function_arn("fn", name)


# L11 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L11")
@moto_breaks("accepts an alias Description longer than 256 characters")
def test_L11_an_alias_description_over_256_characters_is_refused(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    with lambda_error(
        "ValidationException",
        400,
        validation_message(
            "d" * 257, "description", "Member must have length less than or equal to 256"
        ),
    ):
        lambda_backend.client().create_alias(
            FunctionName="fn", Name="live", FunctionVersion="1", Description="d" * 257
        )


@pytest.mark.rule("L11")
def test_L11_an_omitted_alias_description_reads_as_empty(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)
    lambda_ = lambda_backend.client()

    created = lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    assert created["Description"] == ""
    assert lambda_.get_alias(FunctionName="fn", Name="live")["Description"] == ""


# L12 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L12")
@moto_breaks("stores an alias name as an alias's FunctionVersion")
def test_L12_an_alias_cannot_target_another_alias(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")

    with lambda_error(
        "ValidationException",
        400,
        re.compile(
            re.escape(validation_message("prod", "functionVersion", ""))
            + r"Member must satisfy regular expression pattern: "
            + r"\(\\\$LATEST(\(\\\.PUBLISHED\)\?)?\|\[0-9\]\+\)"
        ),
    ):
        lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="prod")


@pytest.mark.rule("L12")
def test_L12_an_alias_on_a_missing_version_is_not_found(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    with lambda_error(
        "ResourceNotFoundException", 404, f"Function not found: {function_arn('fn', '10')}"
    ):
        lambda_backend.client().create_alias(FunctionName="fn", Name="live", FunctionVersion="10")


@pytest.mark.rule("L12")
@pytest.mark.parametrize("number", NUMBERS_OF_NO_VERSION, ids=NUMBER_IDS)
@pytest.mark.parametrize("operation", ALIAS_WRITES)
def test_L12_an_alias_on_a_number_no_version_can_have_is_not_found(
    lambda_backend: Backend, operation: AliasWrite, number: str
) -> None:
    """``02`` is not version 2: it is refused as missing, never stored."""
    prepare_alias_write(lambda_backend, operation)
    lambda_ = lambda_backend.client()

    with lambda_error(
        "ResourceNotFoundException", 404, f"Function not found: {function_arn('fn', number)}"
    ):
        if operation == "CreateAlias":
            lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion=number)
        else:
            lambda_.update_alias(FunctionName="fn", Name="live", FunctionVersion=number)
    aliases = lambda_.list_aliases(FunctionName="fn")["Aliases"]
    assert [a["FunctionVersion"] for a in aliases] == ([] if operation == "CreateAlias" else ["1"])


# L13-L17 --------------------------------------------------------------------------------------


@pytest.mark.rule("L13")
@moto_breaks("answers 409 with the code ConflictException instead of ResourceConflictException")
def test_L13_a_duplicate_alias_name_is_a_conflict(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    with lambda_error(
        "ResourceConflictException", 409, f"Alias already exists: {function_arn('fn', 'live')}"
    ):
        lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="2")


@pytest.mark.rule("L14")
@moto_breaks("answers GetAlias, UpdateAlias and DeleteAlias with 201")
def test_L14_alias_operations_answer_201_200_200_204(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()

    statuses = [
        status_of(lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")),
        status_of(lambda_.get_alias(FunctionName="fn", Name="live")),
        status_of(lambda_.update_alias(FunctionName="fn", Name="live", FunctionVersion="2")),
        status_of(lambda_.delete_alias(FunctionName="fn", Name="live")),
    ]

    assert statuses == [201, 200, 200, 204]


@pytest.mark.rule("L14")
def test_L14_function_operations_answer_201_200_200_204(lambda_backend: Backend) -> None:
    """The same success codes hold for CreateFunction, GetFunction, UpdateFunctionConfiguration
    and DeleteFunction."""
    lambda_ = lambda_backend.client()
    created = lambda_backend.create_function("fn")

    statuses = [
        status_of(created),
        status_of(lambda_.get_function(FunctionName="fn")),
        status_of(lambda_.update_function_configuration(FunctionName="fn", Description="x")),
    ]
    lambda_backend.wait_updated("fn")
    statuses.append(status_of(lambda_.delete_function(FunctionName="fn")))

    assert statuses == [201, 200, 200, 204]


@pytest.mark.rule("L15")
def test_L15_getting_a_missing_alias_is_not_found(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    with lambda_error(
        "ResourceNotFoundException", 404, f"Cannot find alias arn: {function_arn('fn', 'nope')}"
    ):
        lambda_backend.client().get_alias(FunctionName="fn", Name="nope")


@pytest.mark.rule("L16")
@moto_breaks("says 'Cannot find alias arn' instead of 'Alias not found'")
def test_L16_updating_a_missing_alias_is_not_found(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    with lambda_error(
        "ResourceNotFoundException", 404, f"Alias not found: {function_arn('fn', 'nope')}"
    ):
        lambda_backend.client().update_alias(FunctionName="fn", Name="nope", FunctionVersion="1")


@pytest.mark.rule("L17")
@moto_breaks("answers 201 instead of 204 (rule 14)")
def test_L17_deleting_a_missing_alias_succeeds_with_204(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    deleted = lambda_backend.client().delete_alias(FunctionName="fn", Name="nope")

    assert status_of(deleted) == 204


# L18-L20 --------------------------------------------------------------------------------------


@pytest.mark.rule("L18")
@moto_breaks("ignores RevisionId on UpdateAlias")
def test_L18_updating_an_alias_with_a_stale_revision_id_is_refused(
    lambda_backend: Backend,
) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    stale = lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")["RevisionId"]
    lambda_.update_alias(FunctionName="fn", Name="live", Description="moved on")

    with lambda_error("PreconditionFailedException", 412, REVISION_MISMATCH):
        lambda_.update_alias(FunctionName="fn", Name="live", FunctionVersion="2", RevisionId=stale)
    assert lambda_.get_alias(FunctionName="fn", Name="live")["FunctionVersion"] == "1"


@pytest.mark.rule("L18")
def test_L18_updating_an_alias_with_its_current_revision_id_succeeds(
    lambda_backend: Backend,
) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    current = lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")[
        "RevisionId"
    ]

    updated = lambda_.update_alias(
        FunctionName="fn", Name="live", FunctionVersion="2", RevisionId=current
    )

    assert updated["FunctionVersion"] == "2"


@pytest.mark.rule("L19")
@moto_breaks("fixes an alias's RevisionId at creation and never changes it")
def test_L19_every_alias_update_gives_a_new_revision_id(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)
    lambda_ = lambda_backend.client()
    created = lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    first = lambda_.update_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    second = lambda_.update_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    revisions = [created["RevisionId"], first["RevisionId"], second["RevisionId"]]
    assert len(set(revisions)) == 3


@pytest.mark.rule("L19")
@moto_breaks("has no RevisionId on functions or versions")
def test_L19_alias_writes_leave_function_and_version_revision_ids_alone(
    lambda_backend: Backend,
) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()

    def revisions() -> list[str | None]:
        return [
            lambda_.get_function_configuration(FunctionName="fn", Qualifier=q).get("RevisionId")
            for q in ("$LATEST", "1", "2")
        ]

    before = revisions()
    assert all(before), "functions and versions have RevisionIds"
    lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    lambda_.update_alias(
        FunctionName="fn",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
    )

    assert revisions() == before


@pytest.mark.rule("L20")
def test_L20_update_alias_keeps_the_fields_it_is_not_given(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(
        FunctionName="fn",
        Name="live",
        FunctionVersion="2",
        Description="canary",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.25}},
    )

    updated = lambda_.update_alias(FunctionName="fn", Name="live", Description="still canary")

    assert (updated["FunctionVersion"], updated["Description"]) == ("2", "still canary")
    assert updated.get("RoutingConfig") == {"AdditionalVersionWeights": {"1": 0.25}}


@pytest.mark.rule("L20")
@moto_breaks("echoes an empty RoutingConfig instead of leaving it out")
def test_L20_empty_routing_clears_it_and_is_left_out_of_responses(
    lambda_backend: Backend,
) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(
        FunctionName="fn",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.25}},
    )
    created_empty = lambda_.create_alias(
        FunctionName="fn",
        Name="plain",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {}},
    )

    cleared = lambda_.update_alias(
        FunctionName="fn", Name="live", RoutingConfig={"AdditionalVersionWeights": {}}
    )

    assert "RoutingConfig" not in set(cleared)
    assert "RoutingConfig" not in set(lambda_.get_alias(FunctionName="fn", Name="live"))
    assert "RoutingConfig" not in set(created_empty)


# L21 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L21a")
@pytest.mark.parametrize("operation", ALIAS_WRITES)
@moto_breaks("accepts two AdditionalVersionWeights entries")
def test_L21a_routing_to_more_than_one_additional_version_is_refused(
    lambda_backend: Backend, operation: AliasWrite
) -> None:
    prepare_alias_write(lambda_backend, operation)

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "Number of items in AdditionalVersionWeights cannot be greater than 1",
    ):
        write_alias(lambda_backend, operation, function_version="3", weights={"1": 0.1, "2": 0.1})


@pytest.mark.rule("L21b")
@pytest.mark.parametrize("operation", ALIAS_WRITES)
@pytest.mark.parametrize("weight", [1.5, 1.0000001])
@moto_breaks("accepts weights outside [0.0, 1.0]")
def test_L21b_a_weight_outside_0_to_1_is_refused(
    lambda_backend: Backend, operation: AliasWrite, weight: float
) -> None:
    """Only weights above 1.0 reach the backend: botocore itself refuses negative weights."""
    prepare_alias_write(lambda_backend, operation)

    with lambda_error(
        "ValidationException",
        400,
        validation_message(
            f"{{2={weight}}}", "routingConfig.additionalVersionWeights", WEIGHT_CONSTRAINT
        ),
    ):
        write_alias(lambda_backend, operation, function_version="3", weights={"2": weight})


@pytest.mark.rule("L21b")
@pytest.mark.parametrize("weight", [0.0, 0.123456789, 1.0])
def test_L21b_weights_from_0_to_1_are_accepted(lambda_backend: Backend, weight: float) -> None:
    prepare_alias_write(lambda_backend, "CreateAlias")

    write_alias(lambda_backend, "CreateAlias", function_version="3", weights={"2": weight})

    alias = lambda_backend.client().get_alias(FunctionName="fn", Name="live")
    assert alias.get("RoutingConfig") == {"AdditionalVersionWeights": {"2": weight}}


@pytest.mark.rule("L21c")
@pytest.mark.parametrize("operation", ALIAS_WRITES)
@moto_breaks("accepts $LATEST as a routing key")
def test_L21c_a_routing_key_that_is_not_a_version_number_is_refused(
    lambda_backend: Backend, operation: AliasWrite
) -> None:
    prepare_alias_write(lambda_backend, operation)

    with lambda_error(
        "ValidationException",
        400,
        re.compile(
            re.escape(
                validation_message(
                    "{$LATEST=0.5}",
                    "routingConfig.additionalVersionWeights",
                    "Map keys must satisfy constraint: [",
                )
            )
            + r".*Member must satisfy regular expression pattern: \[0-9\]\+\]"
        ),
    ):
        write_alias(lambda_backend, operation, function_version="3", weights={"$LATEST": 0.5})


@pytest.mark.rule("L21d")
@pytest.mark.parametrize("operation", ALIAS_WRITES)
@moto_breaks("accepts routing to the alias's own FunctionVersion")
def test_L21d_routing_to_the_primary_version_is_refused(
    lambda_backend: Backend, operation: AliasWrite
) -> None:
    prepare_alias_write(lambda_backend, operation)

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "Invalid function version 3. Function version 3 is already included in routing "
        "configuration.",
    ):
        write_alias(lambda_backend, operation, function_version="3", weights={"3": 0.5})


@pytest.mark.rule("L21e")
@pytest.mark.parametrize("operation", ALIAS_WRITES)
@moto_breaks("accepts routing on an alias whose FunctionVersion is $LATEST")
def test_L21e_routing_from_latest_is_refused(
    lambda_backend: Backend, operation: AliasWrite
) -> None:
    prepare_alias_write(lambda_backend, operation)

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "$LATEST is not supported for an alias pointing to more than 1 version",
    ):
        write_alias(lambda_backend, operation, function_version="$LATEST", weights={"1": 0.5})


@pytest.mark.rule("L21f")
@pytest.mark.parametrize("operation", ALIAS_WRITES)
@moto_breaks("accepts routing to a version that does not exist")
def test_L21f_routing_to_a_missing_version_is_not_found(
    lambda_backend: Backend, operation: AliasWrite
) -> None:
    prepare_alias_write(lambda_backend, operation)

    with lambda_error(
        "ResourceNotFoundException", 404, f"Function not found: {function_arn('fn', '77')}"
    ):
        write_alias(lambda_backend, operation, function_version="3", weights={"77": 0.5})


@pytest.mark.rule("L21f")
@pytest.mark.parametrize("number", NUMBERS_OF_NO_VERSION, ids=NUMBER_IDS)
@pytest.mark.parametrize("operation", ALIAS_WRITES)
@moto_breaks("accepts routing to a version that does not exist")
def test_L21f_routing_to_a_number_no_version_can_have_is_not_found(
    lambda_backend: Backend, operation: AliasWrite, number: str
) -> None:
    prepare_alias_write(lambda_backend, operation)

    with lambda_error(
        "ResourceNotFoundException", 404, f"Function not found: {function_arn('fn', number)}"
    ):
        write_alias(lambda_backend, operation, function_version="3", weights={number: 0.5})


@pytest.mark.rule("L21g")
@pytest.mark.parametrize("operation", ALIAS_WRITES)
@moto_breaks("accepts routing between versions with different execution roles")
def test_L21g_routing_between_versions_with_different_roles_is_refused(
    lambda_backend: Backend, operation: AliasWrite
) -> None:
    prepare_alias_write(lambda_backend, operation, versions=1)
    lambda_backend.update_role("fn", lambda_backend.create_role("lambda-gitops-other"))
    lambda_backend.client().publish_version(FunctionName="fn")
    lambda_backend.wait_active("fn", "2")

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "Specified versions must be associated with the same execution role",
    ):
        write_alias(lambda_backend, operation, function_version="2", weights={"1": 0.5})


@pytest.mark.rule("L21g")
@pytest.mark.parametrize("operation", ALIAS_WRITES)
@moto_breaks("accepts routing between versions with different dead-letter queues")
def test_L21g_routing_between_versions_with_different_dead_letter_queues_is_refused(
    lambda_backend: Backend, operation: AliasWrite
) -> None:
    """AWS's message for this case is not known; only the code and status are."""
    prepare_alias_write(lambda_backend, operation, versions=1)
    dlq = "arn:aws:sqs:us-east-1:123456789012:fn-dlq"
    lambda_backend.client().update_function_configuration(
        FunctionName="fn", DeadLetterConfig={"TargetArn": dlq}
    )
    lambda_backend.wait_updated("fn")
    lambda_backend.client().publish_version(FunctionName="fn")
    lambda_backend.wait_active("fn", "2")

    with lambda_error("InvalidParameterValueException", 400):
        write_alias(lambda_backend, operation, function_version="2", weights={"1": 0.5})


@pytest.mark.rule("L21g")
def test_L21g_routing_between_versions_with_the_same_role_is_accepted(
    lambda_backend: Backend,
) -> None:
    prepare_alias_write(lambda_backend, "CreateAlias", versions=2)

    write_alias(lambda_backend, "CreateAlias", function_version="2", weights={"1": 0.5})

    alias = lambda_backend.client().get_alias(FunctionName="fn", Name="live")
    assert (alias["FunctionVersion"], alias.get("RoutingConfig")) == (
        "2",
        {"AdditionalVersionWeights": {"1": 0.5}},
    )


# L22-L23 --------------------------------------------------------------------------------------


@pytest.mark.rule("L22")
@moto_breaks("keeps a routing that names the new FunctionVersion")
def test_L22_promoting_to_the_routed_version_without_routing_is_refused(
    lambda_backend: Backend,
) -> None:
    """Unverified on AWS: the emulator checks rule L21d against the merged alias, as suggested."""
    prepare_alias_write(lambda_backend, "CreateAlias", versions=2)
    write_alias(lambda_backend, "CreateAlias", function_version="1", weights={"2": 0.1})

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "Invalid function version 2. Function version 2 is already included in routing "
        "configuration.",
    ):
        lambda_backend.client().update_alias(FunctionName="fn", Name="live", FunctionVersion="2")


@pytest.mark.rule("L22")
def test_L22_promoting_with_an_empty_routing_replaces_it(lambda_backend: Backend) -> None:
    """The controller's way: always send RoutingConfig along with FunctionVersion."""
    prepare_alias_write(lambda_backend, "CreateAlias", versions=2)
    write_alias(lambda_backend, "CreateAlias", function_version="1", weights={"2": 0.1})

    promoted = lambda_backend.client().update_alias(
        FunctionName="fn",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {}},
    )

    assert promoted["FunctionVersion"] == "2"
    assert promoted.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}) == {}


@pytest.mark.rule("L23")
@moto_breaks("ignores the FunctionVersion filter of ListAliases")
def test_L23_list_aliases_filters_by_primary_function_version(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(FunctionName="fn", Name="one", FunctionVersion="1")
    lambda_.create_alias(FunctionName="fn", Name="two", FunctionVersion="2")
    lambda_.create_alias(FunctionName="fn", Name="also-one", FunctionVersion="1")

    listed = lambda_.list_aliases(FunctionName="fn", FunctionVersion="1")

    assert sorted(a["Name"] for a in listed["Aliases"]) == ["also-one", "one"]


@pytest.mark.rule("L23")
@pytest.mark.parametrize("number", NUMBERS_OF_NO_VERSION, ids=NUMBER_IDS)
@moto_breaks("ignores the FunctionVersion filter of ListAliases")
def test_L23_list_aliases_for_a_number_no_version_can_have_lists_none(
    lambda_backend: Backend, number: str
) -> None:
    """As for any missing version, the filter matches no alias (``02`` does not match 2)."""
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(FunctionName="fn", Name="two", FunctionVersion="2")

    listed = lambda_.list_aliases(FunctionName="fn", FunctionVersion=number)

    assert listed["Aliases"] == []


@pytest.mark.rule("L23")
@moto_breaks("ignores MaxItems and Marker on ListAliases and never returns a NextMarker")
def test_L23_list_aliases_pages_with_max_items_and_marker(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)
    lambda_ = lambda_backend.client()
    names = [f"alias-{n}" for n in range(5)]
    for name in names:
        lambda_.create_alias(FunctionName="fn", Name=name, FunctionVersion="1")

    pages = [lambda_.list_aliases(FunctionName="fn", MaxItems=2)]
    while (marker := next_marker(pages[-1])) is not None:
        pages.append(lambda_.list_aliases(FunctionName="fn", MaxItems=2, Marker=marker))

    assert [len(page["Aliases"]) for page in pages] == [2, 2, 1]
    assert sorted(a["Name"] for page in pages for a in page["Aliases"]) == names


@pytest.mark.rule("L23")
def test_L23_list_aliases_has_no_next_marker_on_the_last_page(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    listed = lambda_.list_aliases(FunctionName="fn")

    assert status_of(listed) == 200
    assert [a["Name"] for a in listed["Aliases"]] == ["live"]
    assert "NextMarker" not in set(listed)


@pytest.mark.rule("L23")
@moto_breaks("accepts MaxItems above 10000")
def test_L23_list_aliases_refuses_max_items_above_10000(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    with lambda_error(
        "ValidationException",
        400,
        validation_message(
            "10001", "maxItems", "Member must have value less than or equal to 10000"
        ),
    ):
        lambda_backend.client().list_aliases(FunctionName="fn", MaxItems=10001)


@pytest.mark.rule("L23")
def test_L23_list_aliases_of_a_missing_function_is_not_found(lambda_backend: Backend) -> None:
    with lambda_error("ResourceNotFoundException", 404):
        lambda_backend.client().list_aliases(FunctionName="nope")


@pytest.mark.rule("L23")
@moto_breaks("does not URL-decode an ARN in the ListAliases path and answers 404")
def test_L23_list_aliases_accepts_a_function_arn(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    listed = lambda_.list_aliases(FunctionName=function_arn("fn"))

    assert [a["Name"] for a in listed["Aliases"]] == ["live"]
