"""Section E of LAMBDA_RULES.md: DeleteFunction, with and without Qualifier (rules L34-L39)."""

# ruff: noqa: N802 - test names carry the rule id as LAMBDA_RULES.md spells it (L21d)

from __future__ import annotations

import pytest

from tests.backends import Backend, function_arn, moto_breaks
from tests.conformance.support import NUMBER_IDS, NUMBERS_OF_NO_VERSION, lambda_error, status_of


def listed_versions(backend: Backend, name: str) -> list[str]:
    versions = backend.client().list_versions_by_function(FunctionName=name)["Versions"]
    return [v["Version"] for v in versions]


@pytest.mark.rule("L34")
def test_L34_deleting_a_version_removes_only_that_version(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 3)

    deleted = lambda_backend.client().delete_function(FunctionName="fn", Qualifier="2")

    assert status_of(deleted) == 204
    assert listed_versions(lambda_backend, "fn") == ["$LATEST", "1", "3"]


@pytest.mark.rule("L35")
@moto_breaks("deletes a version an alias points to, leaving the alias dangling")
def test_L35_a_version_an_alias_points_to_cannot_be_deleted(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    with lambda_error(
        "ResourceConflictException",
        409,
        "Unable to delete version because the following aliases reference it: [live]",
    ):
        lambda_.delete_function(FunctionName="fn", Qualifier="1")
    assert listed_versions(lambda_backend, "fn") == ["$LATEST", "1", "2"]


@pytest.mark.rule("L36")
@moto_breaks("accepts Qualifier=$LATEST and leaves the function broken")
def test_L36_latest_cannot_be_deleted_on_its_own(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "$LATEST version cannot be deleted without deleting the function.",
    ):
        lambda_backend.client().delete_function(FunctionName="fn", Qualifier="$LATEST")
    assert listed_versions(lambda_backend, "fn") == ["$LATEST", "1"]


@pytest.mark.rule("L37")
@moto_breaks("takes an alias Qualifier as the version it points to and deletes that version")
def test_L37_an_alias_cannot_be_deleted_through_delete_function(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="2")

    with lambda_error(
        "InvalidParameterValueException", 400, "Deletion of aliases is not currently supported."
    ):
        lambda_.delete_function(FunctionName="fn", Qualifier="live")
    assert listed_versions(lambda_backend, "fn") == ["$LATEST", "1", "2"]


@pytest.mark.rule("L38")
@moto_breaks("answers 404 for a version that does not exist")
def test_L38_deleting_a_missing_version_succeeds_and_does_nothing(
    lambda_backend: Backend,
) -> None:
    lambda_backend.function_with_versions("fn", 1)

    deleted = lambda_backend.client().delete_function(FunctionName="fn", Qualifier="9")

    assert status_of(deleted) == 204
    assert listed_versions(lambda_backend, "fn") == ["$LATEST", "1"]


@pytest.mark.rule("L38")
@pytest.mark.parametrize("number", NUMBERS_OF_NO_VERSION, ids=NUMBER_IDS)
@moto_breaks("answers 404 for a version that does not exist")
def test_L38_deleting_a_number_no_version_can_have_deletes_nothing(
    lambda_backend: Backend, number: str
) -> None:
    """``0`` does not delete ``$LATEST``, nor ``02`` version 2: like any missing version, they
    name nothing to delete."""
    lambda_backend.function_with_versions("fn", 2)

    deleted = lambda_backend.client().delete_function(FunctionName="fn", Qualifier=number)

    assert status_of(deleted) == 204
    assert listed_versions(lambda_backend, "fn") == ["$LATEST", "1", "2"]


@pytest.mark.rule("L38")
def test_L38_deleting_a_missing_function_is_not_found(lambda_backend: Backend) -> None:
    with lambda_error(
        "ResourceNotFoundException", 404, f"Function not found: {function_arn('nope')}"
    ):
        lambda_backend.client().delete_function(FunctionName="nope")


@pytest.mark.rule("L38")
@moto_breaks("names the qualified ARN of a version of a missing function")
def test_L38_deleting_a_version_of_a_missing_function_names_the_function(
    lambda_backend: Backend,
) -> None:
    with lambda_error(
        "ResourceNotFoundException", 404, f"Function not found: {function_arn('nope')}"
    ):
        lambda_backend.client().delete_function(FunctionName="nope", Qualifier="1")


@pytest.mark.rule("L39")
def test_L39_deleting_without_qualifier_removes_the_function_its_versions_and_aliases(
    lambda_backend: Backend,
) -> None:
    lambda_backend.function_with_versions("fn", 2)
    lambda_ = lambda_backend.client()
    lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="2")

    deleted = lambda_.delete_function(FunctionName="fn")

    assert status_of(deleted) == 204
    for qualifier in ("$LATEST", "1", "2", "live"):
        with lambda_error("ResourceNotFoundException", 404):
            lambda_.get_function(FunctionName="fn", Qualifier=qualifier)
    assert lambda_.list_functions(FunctionVersion="ALL")["Functions"] == []
