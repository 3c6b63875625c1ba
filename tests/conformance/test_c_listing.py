"""Section C of LAMBDA_RULES.md: ListVersionsByFunction and ListFunctions (rules L24-L26)."""

# ruff: noqa: N802 - test names carry the rule id as LAMBDA_RULES.md spells it (L21d)

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.backends import Backend, function_arn, make_zip, moto_breaks
from tests.conformance.support import lambda_error, next_marker, status_of

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

MANY_VERSIONS = 120


def publish_many(backend: Backend, name: str, count: int) -> None:
    """``count`` versions, each published after a configuration change, waiting only where the
    backend says an update is still in progress."""
    lambda_ = backend.client()
    backend.create_function(name)
    for n in range(1, count + 1):
        lambda_.update_function_configuration(FunctionName=name, Description=f"v{n}")
        if (
            lambda_.get_function(FunctionName=name)["Configuration"].get(
                "LastUpdateStatus", "Successful"
            )
            != "Successful"
        ):
            backend.wait_updated(name)
        lambda_.publish_version(FunctionName=name)


def version_pages(lambda_: LambdaClient, name: str, **page_size: Any) -> list[list[str]]:
    """Every page of ListVersionsByFunction, as the Version of each item; the walk ends at the
    first page without a NextMarker."""
    pages = []
    arguments: dict[str, Any] = {"FunctionName": name, **page_size}
    while True:
        page = lambda_.list_versions_by_function(**arguments)
        pages.append([v["Version"] for v in page["Versions"]])
        if (marker := next_marker(page)) is None:
            return pages
        arguments["Marker"] = marker


def function_pages(lambda_: LambdaClient, **scope: Any) -> list[list[str]]:
    """Every page of ListFunctions, as the FunctionArn of each item."""
    pages = []
    arguments: dict[str, Any] = dict(scope)
    while True:
        page = lambda_.list_functions(**arguments)
        pages.append([f["FunctionArn"] for f in page["Functions"]])
        if (marker := next_marker(page)) is None:
            return pages
        arguments["Marker"] = marker


# L24 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L24")
def test_L24_versions_are_listed_latest_first_then_ascending(lambda_backend: Backend) -> None:
    publish_many(lambda_backend, "fn", 11)

    listed = lambda_backend.client().list_versions_by_function(FunctionName="fn")

    assert status_of(listed) == 200
    versions = listed["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", *map(str, range(1, 12))]
    assert versions[0]["FunctionArn"] == function_arn("fn", "$LATEST")
    assert versions[11]["FunctionArn"] == function_arn("fn", "11")


@pytest.mark.rule("L24")
@moto_breaks("ignores MaxItems and Marker and returns every version in one page")
def test_L24_versions_come_at_most_50_per_page_whatever_max_items_says(
    lambda_backend: Backend,
) -> None:
    publish_many(lambda_backend, "fn", MANY_VERSIONS)
    lambda_ = lambda_backend.client()
    every_version = ["$LATEST", *map(str, range(1, MANY_VERSIONS + 1))]

    for page_size in ({}, {"MaxItems": 10000}):
        pages = version_pages(lambda_, "fn", **page_size)

        assert [len(page) for page in pages] == [50, 50, 21], page_size
        assert [v for page in pages for v in page] == every_version, page_size


@pytest.mark.rule("L24")
@moto_breaks("ignores MaxItems and Marker and returns every version in one page")
def test_L24_versions_page_by_a_smaller_max_items(lambda_backend: Backend) -> None:
    publish_many(lambda_backend, "fn", 6)

    pages = version_pages(lambda_backend.client(), "fn", MaxItems=3)

    assert pages == [["$LATEST", "1", "2"], ["3", "4", "5"], ["6"]]


@pytest.mark.rule("L24")
@moto_breaks('answers {"Versions": []} for a missing function')
def test_L24_listing_versions_of_a_missing_function_is_not_found(lambda_backend: Backend) -> None:
    with lambda_error("ResourceNotFoundException", 404):
        lambda_backend.client().list_versions_by_function(FunctionName="nope")


@pytest.mark.rule("L24")
@moto_breaks("does not URL-decode an ARN in the path and lists no versions")
def test_L24_listing_versions_accepts_a_function_arn(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    listed = lambda_backend.client().list_versions_by_function(FunctionName=function_arn("fn"))

    assert [v["Version"] for v in listed["Versions"]] == ["$LATEST", "1"]


# L25 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L25")
@moto_breaks("lists versions without RevisionId and with State and LastUpdateStatus")
def test_L25_listed_versions_carry_revision_id_but_no_state(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    versions = lambda_backend.client().list_versions_by_function(FunctionName="fn")["Versions"]

    left_out = {
        "State",
        "StateReason",
        "StateReasonCode",
        "LastUpdateStatus",
        "LastUpdateStatusReason",
        "LastUpdateStatusReasonCode",
    }
    for version in versions:
        assert version.get("RevisionId"), f"{version['Version']} has a RevisionId"
        assert left_out.isdisjoint(version), f"{version['Version']} leaves out states"


@pytest.mark.rule("L25")
def test_L25_listed_versions_carry_the_configuration(lambda_backend: Backend) -> None:
    lambda_backend.create_function("fn", package=make_zip("# v1\n"), description="first")
    lambda_backend.client().publish_version(FunctionName="fn")

    versions = lambda_backend.client().list_versions_by_function(FunctionName="fn")["Versions"]

    expected = {
        "FunctionName",
        "FunctionArn",
        "Version",
        "CodeSha256",
        "CodeSize",
        "Description",
        "LastModified",
        "Role",
        "Runtime",
        "Handler",
        "MemorySize",
        "Timeout",
    }
    for version in versions:
        assert expected <= set(version), f"{version['Version']} has {sorted(version)}"
        assert (version["FunctionName"], version["Description"]) == ("fn", "first")


# L26 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L26")
def test_L26_list_functions_with_all_lists_latest_and_every_version(
    lambda_backend: Backend,
) -> None:
    lambda_backend.function_with_versions("one", 2)
    lambda_backend.function_with_versions("two", 1)

    listed = lambda_backend.client().list_functions(FunctionVersion="ALL")

    assert status_of(listed) == 200
    assert sorted(f["FunctionArn"] for f in listed["Functions"]) == sorted(
        [
            function_arn("one", "$LATEST"),
            function_arn("one", "1"),
            function_arn("one", "2"),
            function_arn("two", "$LATEST"),
            function_arn("two", "1"),
        ]
    )


@pytest.mark.rule("L26")
def test_L26_list_functions_without_all_lists_latest_unqualified(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("one", 2)
    lambda_backend.function_with_versions("two", 1)

    listed = lambda_backend.client().list_functions()

    assert sorted(f["FunctionArn"] for f in listed["Functions"]) == [
        function_arn("one"),
        function_arn("two"),
    ]
    assert {f["Version"] for f in listed["Functions"]} == {"$LATEST"}


@pytest.mark.rule("L26")
@moto_breaks("accepts any FunctionVersion value on ListFunctions")
def test_L26_list_functions_refuses_a_function_version_other_than_all(
    lambda_backend: Backend,
) -> None:
    with lambda_error(
        "ValidationException",
        400,
        "1 validation error detected: Value 'LATEST' at 'functionVersion' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ALL]",
    ):
        lambda_backend.client().list_functions(FunctionVersion="LATEST")  # type: ignore[arg-type]


@pytest.mark.rule("L26")
@pytest.mark.parametrize("function_version", [None, "ALL"])
@moto_breaks("ignores MaxItems and Marker on ListFunctions")
def test_L26_list_functions_pages_with_max_items_and_marker(
    lambda_backend: Backend, function_version: str | None
) -> None:
    for name in ("one", "two", "three"):
        lambda_backend.function_with_versions(name, 1)
    scope = {} if function_version is None else {"FunctionVersion": function_version}

    pages = function_pages(lambda_backend.client(), MaxItems=1, **scope)

    assert [len(page) for page in pages] == [1] * (3 if function_version is None else 6)
    assert len({arn for page in pages for arn in page}) == len(pages)


@pytest.mark.rule("L26")
@moto_breaks("lists functions without RevisionId")
def test_L26_listed_functions_carry_revision_ids(lambda_backend: Backend) -> None:
    lambda_backend.function_with_versions("fn", 1)

    listed = lambda_backend.client().list_functions(FunctionVersion="ALL")["Functions"]

    assert [bool(f.get("RevisionId")) for f in listed] == [True, True]
