"""Section H of docs/lambda-rules.md: what a version snapshots, and how AWS answers with it
(rules L47-L52, found by replaying recordings of real AWS)."""

# ruff: noqa: N802 - test names carry the rule id as LAMBDA_RULES.md spells it (L21d)

from __future__ import annotations

from typing import Any

import pytest

from tests.backends import Backend, function_arn, moto_breaks
from tests.conformance.support import (
    create_function,
    lambda_error,
    status_of,
    update_configuration,
)

REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)


@pytest.mark.rule("L47")
def test_L47_publish_version_answers_active_and_successful(lambda_backend: Backend) -> None:
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()

    published = lambda_.publish_version(FunctionName="fn")

    assert (published.get("State"), published.get("LastUpdateStatus")) == ("Active", "Successful")
    assert published.get("StateReason") is None
    read = lambda_.get_function_configuration(FunctionName="fn", Qualifier="1")
    assert (read.get("State"), read.get("LastUpdateStatus")) == ("Active", "Successful")


@pytest.mark.rule("L48")
def test_L48_an_environment_only_change_publishes_a_new_version(lambda_backend: Backend) -> None:
    create_function(lambda_backend, Environment={"Variables": {"STAGE": "staging"}})
    lambda_ = lambda_backend.client()
    first = lambda_.publish_version(FunctionName="fn")
    update_configuration(lambda_backend, Environment={"Variables": {"STAGE": "prod"}})

    second = lambda_.publish_version(FunctionName="fn")
    again = lambda_.publish_version(FunctionName="fn")

    assert (first["Version"], second["Version"], again["Version"]) == ("1", "2", "2")
    assert second.get("Environment") == {"Variables": {"STAGE": "prod"}}
    kept = lambda_.get_function_configuration(FunctionName="fn", Qualifier="1")
    assert kept.get("Environment") == {"Variables": {"STAGE": "staging"}}


SNAPSHOTTED: dict[str, dict[str, Any]] = {
    "MemorySize": {"MemorySize": 512},
    "Timeout": {"Timeout": 30},
    "Handler": {"Handler": "other.handler"},
    "Description": {"Description": "release 2"},
    "Environment": {"Environment": {"Variables": {"STAGE": "prod"}}},
}
SNAPSHOTTED_SINCE_2021: dict[str, dict[str, Any]] = {
    "EphemeralStorage": {"EphemeralStorage": {"Size": 1024}},
    "TracingConfig": {"TracingConfig": {"Mode": "Active"}},
    "LoggingConfig": {"LoggingConfig": {"LogFormat": "JSON"}},
}
"""Members AWS added to the configuration later, which moto does not keep."""


@pytest.mark.rule("L48")
@pytest.mark.parametrize("member", SNAPSHOTTED)
def test_L48_every_configuration_member_is_part_of_the_snapshot(
    lambda_backend: Backend, member: str
) -> None:
    """Changing any one member of ``$LATEST``'s configuration publishes a new version, which
    carries the change while the earlier version keeps what it had."""
    assert_snapshotted(lambda_backend, member, SNAPSHOTTED[member])


@pytest.mark.rule("L48")
@pytest.mark.parametrize("member", SNAPSHOTTED_SINCE_2021)
@moto_breaks("ignores EphemeralStorage, TracingConfig and LoggingConfig on an update")
def test_L48_the_newer_configuration_members_are_part_of_the_snapshot(
    lambda_backend: Backend, member: str
) -> None:
    assert_snapshotted(lambda_backend, member, SNAPSHOTTED_SINCE_2021[member])


def assert_snapshotted(backend: Backend, member: str, change: dict[str, Any]) -> None:
    create_function(backend)
    lambda_ = backend.client()
    before = lambda_.publish_version(FunctionName="fn")
    update_configuration(backend, **change)

    after = lambda_.publish_version(FunctionName="fn")

    assert after["Version"] == "2"
    assert after.get(member) == change[member] or _within(after.get(member), change[member])
    assert lambda_.get_function_configuration(FunctionName="fn", Qualifier="1").get(
        member
    ) == before.get(member)


def _within(answered: object, asked: object) -> bool:
    """An answered structure holds at least what was asked (AWS fills in the rest)."""
    return (
        isinstance(answered, dict)
        and isinstance(asked, dict)
        and all(answered.get(key) == value for key, value in asked.items())
    )


@pytest.mark.rule("L49")
@moto_breaks("leaves LoggingConfig and RuntimeVersionConfig out")
def test_L49_a_new_function_carries_lambdas_defaults(lambda_backend: Backend) -> None:
    create_function(lambda_backend)

    read = lambda_backend.client().get_function_configuration(FunctionName="fn")

    assert {member: read.get(member) for member in DEFAULTS} == DEFAULTS
    assert (
        read.get("RuntimeVersionConfig", {})
        .get("RuntimeVersionArn", "")
        .startswith("arn:aws:lambda:us-east-1::runtime:")
    )
    assert "Environment" not in read


DEFAULTS: dict[str, object] = {
    "MemorySize": 128,
    "Timeout": 3,
    "PackageType": "Zip",
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 512},
    "TracingConfig": {"Mode": "PassThrough"},
    "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/fn"},
    "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
}
"""What AWS answers for a zip function created with none of these members (recorded in
LocalStack's ``test_version_lifecycle``)."""


@pytest.mark.rule("L49")
@moto_breaks("leaves LoggingConfig out of listed versions")
def test_L49_listed_versions_carry_the_configuration_but_no_runtime_version(
    lambda_backend: Backend,
) -> None:
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()
    lambda_.publish_version(FunctionName="fn")

    listed = lambda_.list_versions_by_function(FunctionName="fn")["Versions"]

    for version in listed:
        assert "RuntimeVersionConfig" not in version
        assert version.get("SnapStart") == DEFAULTS["SnapStart"]
        assert version.get("LoggingConfig") == DEFAULTS["LoggingConfig"]


@pytest.mark.rule("L49")
@moto_breaks("keeps no LoggingConfig and answers none")
def test_L49_json_logging_gets_info_levels_and_text_logging_drops_them(
    lambda_backend: Backend,
) -> None:
    create_function(lambda_backend)

    json_logging = update_configuration(lambda_backend, LoggingConfig={"LogFormat": "JSON"})
    group_only = update_configuration(lambda_backend, LoggingConfig={"LogGroup": "orders"})
    text_logging = update_configuration(lambda_backend, LoggingConfig={"LogFormat": "Text"})

    assert json_logging.get("LoggingConfig") == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
        "LogGroup": "/aws/lambda/fn",
    }
    assert group_only.get("LoggingConfig", {}).get("LogGroup") == "orders"
    assert group_only.get("LoggingConfig", {}).get("ApplicationLogLevel") == "INFO"
    assert text_logging.get("LoggingConfig") == {"LogFormat": "Text", "LogGroup": "orders"}


@pytest.mark.rule("L49")
@moto_breaks("drops an empty Environment and answers an emptied VpcConfig without VpcId")
def test_L49_an_environment_and_a_vpc_config_show_once_set_even_when_emptied(
    lambda_backend: Backend,
) -> None:
    create_function(lambda_backend)

    emptied = update_configuration(
        lambda_backend,
        Environment={"Variables": {}},
        VpcConfig={"SubnetIds": [], "SecurityGroupIds": []},
    )

    assert emptied.get("Environment") == {"Variables": {}}
    assert emptied.get("VpcConfig") == {
        "SubnetIds": [],
        "SecurityGroupIds": [],
        "VpcId": "",
        "Ipv6AllowedForDualStack": False,
    }


@pytest.mark.rule("L50")
@moto_breaks("has no function RevisionId, so the stale one is not refused")
def test_L50_a_stale_revision_id_is_refused_before_the_runtime_is_looked_at(
    lambda_backend: Backend,
) -> None:
    create_function(lambda_backend)
    lambda_ = lambda_backend.client()
    current = lambda_.get_function(FunctionName="fn")["Configuration"].get("RevisionId", "")

    with lambda_error("PreconditionFailedException", 412, REVISION_MISMATCH):
        lambda_.update_function_configuration(
            FunctionName="fn", Runtime="python3.8", RevisionId="stale"
        )
    updated = lambda_.update_function_configuration(
        FunctionName="fn", Runtime="python3.8", RevisionId=current
    )

    assert updated["Runtime"] == "python3.8"


@pytest.mark.rule("L51")
@moto_breaks("puts neither Message nor Type in the body of a not-found answer")
def test_L51_a_not_found_answer_carries_message_and_type(lambda_backend: Backend) -> None:
    with lambda_error("ResourceNotFoundException", 404) as caught:
        lambda_backend.client().get_function(FunctionName="missing")

    answer = caught.value.response
    assert (answer.get("Message"), answer.get("Type")) == (
        f"Function not found: {function_arn('missing')}",
        "User",
    )


@pytest.mark.rule("L51")
def test_L51_create_alias_on_a_missing_function_names_the_version(
    lambda_backend: Backend,
) -> None:
    with lambda_error(
        "ResourceNotFoundException", 404, f"Function not found: {function_arn('missing', '1')}"
    ):
        lambda_backend.client().create_alias(
            FunctionName="missing", Name="live", FunctionVersion="1"
        )


@pytest.mark.rule("L52")
@pytest.mark.parametrize("form", ["arn-qualified", "arn-and-qualifier"])
@moto_breaks(
    "answers a function ARN ending in :$LATEST with its web server's HTML 404 page, and "
    "accepts a function ARN with Qualifier=$LATEST"
)
def test_L52_deleting_latest_by_arn_is_refused(lambda_backend: Backend, form: str) -> None:
    create_function(lambda_backend)
    arn = function_arn("fn")

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "$LATEST version cannot be deleted without deleting the function.",
    ):
        if form == "arn-qualified":
            lambda_backend.client().delete_function(FunctionName=f"{arn}:$LATEST")
        else:
            lambda_backend.client().delete_function(FunctionName=arn, Qualifier="$LATEST")
    assert status_of(lambda_backend.client().get_function(FunctionName="fn")) == 200


@pytest.mark.rule("L52")
@moto_breaks("answers a function ARN ending in :$LATEST with its web server's HTML 404 page")
def test_L52_deleting_latest_of_a_missing_function_is_refused_not_found(
    lambda_backend: Backend,
) -> None:
    """AWS refuses ``$LATEST`` before it looks the function up (recorded)."""
    with lambda_error(
        "InvalidParameterValueException",
        400,
        "$LATEST version cannot be deleted without deleting the function.",
    ):
        lambda_backend.client().delete_function(
            FunctionName=f"{function_arn('missing')}:$LATEST", Qualifier="$LATEST"
        )
