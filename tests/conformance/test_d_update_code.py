"""Section D of LAMBDA_RULES.md: UpdateFunctionCode, CreateFunction and the state lifecycle
(rules L27-L33)."""

# ruff: noqa: N802 - test names carry the rule id as LAMBDA_RULES.md spells it (L21d)

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from lambda_emulator import Faults
from tests.backends import (
    HANDLER,
    ROLE,
    RUNTIME,
    Backend,
    code_sha256,
    function_arn,
    make_zip,
    moto_breaks,
)
from tests.conformance.support import lambda_error, status_of

if TYPE_CHECKING:
    from mypy_boto3_lambda.type_defs import WaiterConfigTypeDef

REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)
WAIT: WaiterConfigTypeDef = {"Delay": 1, "MaxAttempts": 10}


# L27 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L27")
def test_L27_update_function_code_from_a_zip_file(lambda_backend: Backend) -> None:
    lambda_backend.create_function("fn")
    package = make_zip("# new code\n")

    updated = lambda_backend.client().update_function_code(FunctionName="fn", ZipFile=package)

    assert status_of(updated) == 200
    assert (updated["CodeSha256"], updated["CodeSize"]) == (code_sha256(package), len(package))
    assert lambda_backend.wait_updated("fn")["Configuration"]["CodeSha256"] == code_sha256(package)


@pytest.mark.rule("L27")
def test_L27_update_function_code_from_an_s3_object(lambda_backend: Backend) -> None:
    lambda_backend.create_function("fn")
    package = make_zip("# from s3\n")
    lambda_backend.put_s3_object("code-bucket", "builds/fn.zip", package)

    updated = lambda_backend.client().update_function_code(
        FunctionName="fn", S3Bucket="code-bucket", S3Key="builds/fn.zip"
    )

    assert status_of(updated) == 200
    assert updated["CodeSha256"] == code_sha256(package)
    assert lambda_backend.wait_updated("fn")["Configuration"]["CodeSha256"] == code_sha256(package)


# L28 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L28")
@moto_breaks("is always LastUpdateStatus Successful and has no RevisionId")
def test_L28_an_update_is_in_progress_then_successful_with_two_new_revision_ids(
    lambda_backend: Backend,
) -> None:
    lambda_backend.create_function("fn")
    lambda_ = lambda_backend.client()
    before = lambda_.get_function(FunctionName="fn")["Configuration"].get("RevisionId")

    updated = lambda_.update_function_code(FunctionName="fn", ZipFile=make_zip("# new\n"))

    assert (updated.get("LastUpdateStatus"), updated.get("LastUpdateStatusReasonCode")) == (
        "InProgress",
        "Creating",
    )
    finished = lambda_backend.wait_updated("fn")["Configuration"]
    assert finished.get("LastUpdateStatus") == "Successful"
    revisions = [before, updated.get("RevisionId"), finished.get("RevisionId")]
    assert all(revisions), f"every state has a RevisionId: {revisions}"
    assert len(set(revisions)) == 3


# L29 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L29")
def test_L29_update_with_publish_answers_with_the_new_version(lambda_backend: Backend) -> None:
    lambda_backend.create_function("fn")
    package = make_zip("# published\n")

    published = lambda_backend.client().update_function_code(
        FunctionName="fn", ZipFile=package, Publish=True
    )

    assert (published["Version"], published["FunctionArn"]) == ("1", function_arn("fn", "1"))
    assert published["CodeSha256"] == code_sha256(package)
    assert published.get("State") in {"Pending", "Active"}
    lambda_backend.wait_active("fn", "1")


@pytest.mark.rule("L29")
@moto_breaks("never has an update in progress")
def test_L29_latest_is_in_progress_after_an_update_with_publish(
    lambda_backend: Backend,
) -> None:
    lambda_backend.create_function("fn")
    lambda_backend.inject_faults(Faults(update_seconds=5))
    lambda_ = lambda_backend.client()

    lambda_.update_function_code(FunctionName="fn", ZipFile=make_zip("# new\n"), Publish=True)

    latest = lambda_.get_function(FunctionName="fn")["Configuration"]
    assert latest.get("LastUpdateStatus") == "InProgress"


@pytest.mark.rule("L29")
@moto_breaks("publishes a new version for an unchanged package when Publish=true")
def test_L29_update_with_publish_of_unchanged_code_returns_the_existing_version(
    lambda_backend: Backend,
) -> None:
    package = make_zip("# same\n")
    lambda_backend.create_function("fn", package=package)
    lambda_ = lambda_backend.client()
    lambda_.publish_version(FunctionName="fn", Description="original")
    lambda_backend.wait_active("fn", "1")

    again = lambda_.update_function_code(FunctionName="fn", ZipFile=package, Publish=True)

    assert (again["Version"], again["Description"]) == ("1", "original")


# L30 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L30")
@pytest.mark.parametrize("operation", ["UpdateFunctionCode", "UpdateFunctionConfiguration"])
@moto_breaks("has no function RevisionId and ignores the parameter")
def test_L30_an_update_with_a_stale_revision_id_is_refused(
    lambda_backend: Backend, operation: str
) -> None:
    lambda_backend.create_function("fn")
    lambda_ = lambda_backend.client()
    stale = lambda_.get_function(FunctionName="fn")["Configuration"].get("RevisionId")
    assert stale, "$LATEST has a RevisionId"
    lambda_backend.update_code("fn", make_zip("# moved on\n"))

    with lambda_error("PreconditionFailedException", 412, REVISION_MISMATCH):
        if operation == "UpdateFunctionCode":
            lambda_.update_function_code(
                FunctionName="fn", ZipFile=make_zip("# late\n"), RevisionId=stale
            )
        else:
            lambda_.update_function_configuration(
                FunctionName="fn", Description="late", RevisionId=stale
            )


@pytest.mark.rule("L30")
@moto_breaks("has no function RevisionId")
def test_L30_an_update_with_the_current_revision_id_succeeds(lambda_backend: Backend) -> None:
    lambda_backend.create_function("fn")
    lambda_ = lambda_backend.client()
    current = lambda_.get_function(FunctionName="fn")["Configuration"].get("RevisionId")
    assert current, "$LATEST has a RevisionId"
    package = make_zip("# current\n")

    updated = lambda_.update_function_code(FunctionName="fn", ZipFile=package, RevisionId=current)

    assert updated["CodeSha256"] == code_sha256(package)


# L31 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L31")
def test_L31_a_dry_run_changes_nothing(lambda_backend: Backend) -> None:
    lambda_backend.create_function("fn")
    lambda_ = lambda_backend.client()
    before = lambda_.get_function(FunctionName="fn")["Configuration"]

    dry_run = lambda_.update_function_code(
        FunctionName="fn", ZipFile=make_zip("# not applied\n"), DryRun=True
    )

    assert status_of(dry_run) == 200
    after = lambda_.get_function(FunctionName="fn")["Configuration"]
    assert (after["CodeSha256"], after.get("RevisionId")) == (
        before["CodeSha256"],
        before.get("RevisionId"),
    )
    assert [
        v["Version"] for v in lambda_.list_versions_by_function(FunctionName="fn")["Versions"]
    ] == ["$LATEST"]


# L32 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L32")
@moto_breaks("creates functions directly in State Active, without RevisionId")
def test_L32_a_new_function_is_pending_then_active_with_a_new_revision_id(
    lambda_backend: Backend,
) -> None:
    lambda_ = lambda_backend.client()

    created = lambda_.create_function(
        FunctionName="fn",
        Runtime=RUNTIME,
        Role=ROLE,
        Handler=HANDLER,
        Code={"ZipFile": make_zip()},
    )

    assert status_of(created) == 201
    assert (created.get("State"), created.get("StateReasonCode")) == ("Pending", "Creating")
    assert "LastUpdateStatus" not in set(created)
    lambda_backend.wait_active("fn")
    active = lambda_.get_function(FunctionName="fn")["Configuration"]
    assert active.get("State") == "Active"
    assert created.get("RevisionId"), "the created function has a RevisionId"
    assert active.get("RevisionId") not in {None, created["RevisionId"]}


@pytest.mark.rule("L32")
def test_L32_create_with_publish_answers_version_1_with_an_unqualified_arn(
    lambda_backend: Backend,
) -> None:
    created = lambda_backend.client().create_function(
        FunctionName="fn",
        Runtime=RUNTIME,
        Role=ROLE,
        Handler=HANDLER,
        Code={"ZipFile": make_zip()},
        Publish=True,
    )

    assert status_of(created) == 201
    assert (created["Version"], created["FunctionArn"]) == ("1", function_arn("fn"))
    lambda_backend.wait_active("fn", "1")
    versions = lambda_backend.client().list_versions_by_function(FunctionName="fn")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]


# L33 ------------------------------------------------------------------------------------------


@pytest.mark.rule("L33")
def test_L33_the_boto3_waiters_see_creation_update_and_publication_finish(
    lambda_backend: Backend,
) -> None:
    """The update runs in a one-second window on the emulator, so that its waiter has to poll
    more than once; creation and publication are over by the next read there."""
    lambda_ = lambda_backend.client()

    lambda_.create_function(
        FunctionName="fn", Runtime=RUNTIME, Role=ROLE, Handler=HANDLER, Code={"ZipFile": make_zip()}
    )
    lambda_.get_waiter("function_active_v2").wait(FunctionName="fn", WaiterConfig=WAIT)
    assert lambda_.get_function(FunctionName="fn")["Configuration"].get("State") == "Active"

    lambda_backend.inject_faults(Faults(update_seconds=1))
    lambda_.update_function_code(FunctionName="fn", ZipFile=make_zip("# new\n"))
    lambda_.get_waiter("function_updated_v2").wait(FunctionName="fn", WaiterConfig=WAIT)
    latest = lambda_.get_function(FunctionName="fn")["Configuration"]
    assert latest.get("LastUpdateStatus") == "Successful"

    lambda_backend.inject_faults(Faults())
    version = lambda_.publish_version(FunctionName="fn")["Version"]
    lambda_.get_waiter("published_version_active").wait(
        FunctionName="fn", Qualifier=version, WaiterConfig=WAIT
    )
    published = lambda_.get_function_configuration(FunctionName="fn", Qualifier=version)
    assert published.get("State") == "Active"
