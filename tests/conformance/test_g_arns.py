"""Section G of LAMBDA_RULES.md: ARNs and the forms of FunctionName (rules L43-L46)."""

# ruff: noqa: N802 - test names carry the rule id as LAMBDA_RULES.md spells it (L21d)

from __future__ import annotations

import re

import pytest

from tests.backends import ACCOUNT, Backend, function_arn, moto_breaks
from tests.conformance.support import lambda_error, status_of

OTHER_REGION = "eu-west-1"
OTHER_ACCOUNT = "111122223333"


@pytest.mark.rule("L43")
def test_L43_arns_name_partition_region_account_function_and_qualifier(
    lambda_backend: Backend,
) -> None:
    """moto takes the account only from access keys it issued itself, so its run keeps the
    default account and checks the region alone."""
    account = OTHER_ACCOUNT if lambda_backend.kind == "emulator" else ACCOUNT
    role = lambda_backend.create_role(account=account)
    lambda_backend.create_function("fn", role=role, region=OTHER_REGION, account=account)
    lambda_ = lambda_backend.client(region=OTHER_REGION, account=account)

    def arn(qualifier: str | None = None) -> str:
        return function_arn("fn", qualifier, region=OTHER_REGION, account=account)

    assert lambda_.get_function(FunctionName="fn")["Configuration"]["FunctionArn"] == arn()
    assert lambda_.publish_version(FunctionName="fn")["FunctionArn"] == arn("1")
    alias = lambda_.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    assert alias["AliasArn"] == arn("live")
    latest = lambda_.get_function(FunctionName="fn", Qualifier="$LATEST")["Configuration"]
    assert latest["FunctionArn"] == arn("$LATEST")
    versions = lambda_.list_versions_by_function(FunctionName="fn")["Versions"]
    assert [v["FunctionArn"] for v in versions] == [arn("$LATEST"), arn("1")]
    everything = lambda_.list_functions(FunctionVersion="ALL")["Functions"]
    assert sorted(f["FunctionArn"] for f in everything) == [arn("$LATEST"), arn("1")]


def find_in_forms(backend: Backend, function_name: str) -> tuple[str, str]:
    """GetFunction by ``function_name`` on a function ``fn`` with version 1 and alias ``live``;
    the name and version found."""
    backend.function_with_versions("fn", 1)
    backend.client().create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    found = backend.client().get_function(FunctionName=function_name)["Configuration"]
    return found["FunctionName"], found["Version"]


@pytest.mark.rule("L44")
@pytest.mark.parametrize(
    ("function_name", "version"),
    [
        ("fn", "$LATEST"),
        ("fn:1", "1"),
        ("fn:live", "1"),
        (function_arn("fn"), "$LATEST"),
        (function_arn("fn", "1"), "1"),
        (function_arn("fn", "live"), "1"),
    ],
)
def test_L44_function_name_accepts_a_name_a_qualified_name_and_a_full_arn(
    lambda_backend: Backend, function_name: str, version: str
) -> None:
    assert find_in_forms(lambda_backend, function_name) == ("fn", version)


@pytest.mark.rule("L44")
@pytest.mark.parametrize(
    ("function_name", "version"),
    [(f"{ACCOUNT}:function:fn", "$LATEST"), (f"{ACCOUNT}:function:fn:1", "1")],
)
@moto_breaks("answers HTTP 500 to a partial ARN")
def test_L44_function_name_accepts_a_partial_arn(
    lambda_backend: Backend, function_name: str, version: str
) -> None:
    assert find_in_forms(lambda_backend, function_name) == ("fn", version)


@pytest.mark.rule("L44")
def test_L44_a_64_character_name_is_accepted(lambda_backend: Backend) -> None:
    created = lambda_backend.create_function("f" * 64)

    assert (status_of(created), created["FunctionName"]) == (201, "f" * 64)


@pytest.mark.rule("L44")
@moto_breaks("accepts a function name longer than 64 characters")
def test_L44_a_65_character_name_cannot_be_created(lambda_backend: Backend) -> None:
    with lambda_error("ValidationException", 400):
        lambda_backend.create_function("f" * 65)


@pytest.mark.rule("L44")
def test_L44_a_65_character_name_on_get_function_is_not_found(lambda_backend: Backend) -> None:
    with lambda_error("ResourceNotFoundException", 404):
        lambda_backend.client().get_function(FunctionName="f" * 65)


@pytest.mark.rule("L44")
@moto_breaks("answers a name with a dot with its web server's HTML 404 page, not a Lambda error")
def test_L44_a_name_with_a_dot_on_get_function_is_not_found(lambda_backend: Backend) -> None:
    with lambda_error("ResourceNotFoundException", 404):
        lambda_backend.client().get_function(FunctionName="fn.v2")


@pytest.mark.rule("L44")
@moto_breaks("does not check FunctionName against its pattern")
def test_L44_a_function_name_outside_the_pattern_is_refused(lambda_backend: Backend) -> None:
    with lambda_error(
        "ValidationException",
        400,
        re.compile(
            r"1 validation error detected: Value 'bad name!' at 'functionName' failed to "
            r"satisfy constraint: Member must satisfy regular expression pattern: .+"
        ),
    ):
        lambda_backend.client().get_function(FunctionName="bad name!")


@pytest.mark.rule("L45")
@pytest.mark.parametrize(
    "function_name", ["fn:1", function_arn("fn", "1")], ids=["name:qualifier", "arn"]
)
@moto_breaks("silently uses the qualifier of the function name")
def test_L45_a_qualifier_that_contradicts_the_function_name_is_refused(
    lambda_backend: Backend, function_name: str
) -> None:
    lambda_backend.function_with_versions("fn", 2)

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "The derived qualifier from the function name does not match the specified qualifier.",
    ):
        lambda_backend.client().get_function(FunctionName=function_name, Qualifier="2")


@pytest.mark.rule("L45")
def test_L45_a_qualifier_that_repeats_the_function_name_is_accepted(
    lambda_backend: Backend,
) -> None:
    lambda_backend.function_with_versions("fn", 2)

    found = lambda_backend.client().get_function(FunctionName="fn:1", Qualifier="1")

    assert found["Configuration"]["Version"] == "1"


@pytest.mark.rule("L46")
@moto_breaks("treats $latest as $LATEST")
def test_L46_qualifiers_are_case_sensitive(lambda_backend: Backend) -> None:
    lambda_backend.create_function("fn")

    with lambda_error("ResourceNotFoundException", 404):
        lambda_backend.client().get_function(FunctionName="fn", Qualifier="$latest")
