"""Section I of docs/lambda-rules.md: what belongs to a function rather than to a version, its
tags, its reserved concurrency and its code signing (rules L53-L56)."""

# ruff: noqa: N802 - test names carry the rule id as LAMBDA_RULES.md spells it (L21d)

from __future__ import annotations

import pytest

from tests.backends import Backend, function_arn, moto_breaks
from tests.conformance.support import create_function, lambda_error, status_of

ARN = function_arn("fn")
NOT_ON_VERSIONS = (
    "Tags on function aliases and versions are not supported. Please specify a function ARN."
)
FUNCTIONS_ONLY = (
    "This operation is permitted on Lambda functions only. Aliases and versions do not support "
    "this operation. Please specify either a function name or an unqualified function ARN."
)


@pytest.mark.rule("L53")
@moto_breaks("answers TagResource with 200, not 204")
def test_L53_tags_are_added_overwritten_listed_and_removed(lambda_backend: Backend) -> None:
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()

    added = lambda_.tag_resource(Resource=ARN, Tags={"team": "orders", "stage": "beta"})
    lambda_.tag_resource(Resource=ARN, Tags={"stage": "prod", "cost": "7"})
    removed = lambda_.untag_resource(Resource=ARN, TagKeys=["cost", "never-set"])

    assert (status_of(added), status_of(removed)) == (204, 204)
    assert lambda_.list_tags(Resource=ARN)["Tags"] == {"team": "orders", "stage": "prod"}


@pytest.mark.rule("L53")
def test_L53_create_function_tags_come_back_in_get_function(lambda_backend: Backend) -> None:
    create_function(lambda_backend, Tags={"team": "orders"})

    assert lambda_backend.client().get_function(FunctionName="fn").get("Tags") == {"team": "orders"}


@pytest.mark.rule("L53")
def test_L53_get_function_has_no_tags_member_when_there_are_none(
    lambda_backend: Backend,
) -> None:
    create_function(lambda_backend, Tags={"team": "orders"})
    lambda_ = lambda_backend.client()
    lambda_.untag_resource(Resource=ARN, TagKeys=["team"])

    assert "Tags" not in lambda_.get_function(FunctionName="fn")


@pytest.mark.rule("L53")
@moto_breaks("has no function RevisionId")
def test_L53_a_change_of_tags_gives_latest_a_new_revision_id(lambda_backend: Backend) -> None:
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()
    before = lambda_.get_function(FunctionName="fn")["Configuration"].get("RevisionId")

    lambda_.tag_resource(Resource=ARN, Tags={"team": "orders"})
    tagged = lambda_.get_function(FunctionName="fn")["Configuration"].get("RevisionId")
    lambda_.untag_resource(Resource=ARN, TagKeys=["team"])
    untagged = lambda_.get_function(FunctionName="fn")["Configuration"].get("RevisionId")

    assert None not in (before, tagged, untagged)
    assert len({before, tagged, untagged}) == 3


@pytest.mark.rule("L54")
@moto_breaks("accepts more than 50 tags")
def test_L54_more_than_50_tags_are_refused(lambda_backend: Backend) -> None:
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()
    lambda_.tag_resource(Resource=ARN, Tags={f"key{n}": "v" for n in range(50)})

    with lambda_error(
        "InvalidParameterValueException", 400, "Number of tags exceeds resource tag limit."
    ):
        lambda_.tag_resource(Resource=ARN, Tags={"one-more": "v"})
    assert len(lambda_.list_tags(Resource=ARN)["Tags"]) == 50


@pytest.mark.rule("L54")
@pytest.mark.parametrize("qualifier", ["1", "$LATEST", "live"])
@moto_breaks(
    "answers a version or alias ARN with ResourceNotFoundException, and tags the function "
    "through an ARN ending in :$LATEST"
)
def test_L54_tags_on_a_version_or_alias_are_refused(
    lambda_backend: Backend, qualifier: str
) -> None:
    create_function(lambda_backend)

    with lambda_error("InvalidParameterValueException", 400, NOT_ON_VERSIONS):
        lambda_backend.client().tag_resource(Resource=f"{ARN}:{qualifier}", Tags={"a": "b"})


@pytest.mark.rule("L54")
@moto_breaks("accepts an empty TagResource")
def test_L54_an_empty_tag_resource_is_refused(lambda_backend: Backend) -> None:
    create_function(lambda_backend)

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "An error occurred and the request cannot be processed.",
    ):
        lambda_backend.client().tag_resource(Resource=ARN, Tags={})


@pytest.mark.rule("L54")
def test_L54_the_tags_of_a_missing_function_are_not_found(lambda_backend: Backend) -> None:
    missing = function_arn("missing")

    with lambda_error("ResourceNotFoundException", 404, f"Function not found: {missing}"):
        lambda_backend.client().list_tags(Resource=missing)


@pytest.mark.rule("L55")
def test_L55_reserved_concurrency_is_put_read_and_deleted(lambda_backend: Backend) -> None:
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()

    put = lambda_.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=7)
    read = lambda_.get_function_concurrency(FunctionName="fn")
    deleted = lambda_.delete_function_concurrency(FunctionName="fn")

    assert (put["ReservedConcurrentExecutions"], read.get("ReservedConcurrentExecutions")) == (7, 7)
    assert status_of(deleted) == 204
    assert "ReservedConcurrentExecutions" not in lambda_.get_function_concurrency(FunctionName="fn")


@pytest.mark.rule("L55")
@moto_breaks("leaves Concurrency out of GetFunction")
def test_L55_get_function_shows_the_reservation_only_while_there_is_one(
    lambda_backend: Backend,
) -> None:
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()
    assert "Concurrency" not in lambda_.get_function(FunctionName="fn")

    lambda_.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=0)

    assert lambda_.get_function(FunctionName="fn").get("Concurrency") == {
        "ReservedConcurrentExecutions": 0
    }


@pytest.mark.rule("L55")
@moto_breaks("accepts a reservation that leaves less than 100 unreserved")
def test_L55_a_reservation_must_leave_100_unreserved(lambda_backend: Backend) -> None:
    """Of the default quota of 1000 concurrent executions, 900 can be reserved."""
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    ):
        lambda_.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=901)
    lambda_.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=900)


@pytest.mark.rule("L55")
@moto_breaks("serves no GetAccountSettings (its web server's HTML 404 page)")
def test_L55_account_settings_show_what_is_left_unreserved(lambda_backend: Backend) -> None:
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()
    lambda_.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=250)

    limit = lambda_.get_account_settings()["AccountLimit"]

    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (1000, 750)


@pytest.mark.rule("L55")
@moto_breaks("answers a function ARN ending in :$LATEST with its web server's HTML 404 page")
def test_L55_a_reservation_on_a_version_is_refused(lambda_backend: Backend) -> None:
    create_function(lambda_backend)

    with lambda_error("InvalidParameterValueException", 400, FUNCTIONS_ONLY):
        lambda_backend.client().put_function_concurrency(
            FunctionName=f"{ARN}:$LATEST", ReservedConcurrentExecutions=1
        )


@pytest.mark.rule("L56")
@moto_breaks("answers FunctionName for a function without a code signing configuration")
def test_L56_a_function_without_code_signing_answers_an_empty_configuration(
    lambda_backend: Backend,
) -> None:
    create_function(lambda_backend)

    answer = lambda_backend.client().get_function_code_signing_config(FunctionName="fn")

    assert status_of(answer) == 200
    assert {key for key in answer if key != "ResponseMetadata"} == set()


@pytest.mark.rule("L56")
def test_L56_the_code_signing_of_a_missing_function_is_not_found(
    lambda_backend: Backend,
) -> None:
    with lambda_error(
        "ResourceNotFoundException", 404, f"Function not found: {function_arn('missing')}"
    ):
        lambda_backend.client().get_function_code_signing_config(FunctionName="missing")
