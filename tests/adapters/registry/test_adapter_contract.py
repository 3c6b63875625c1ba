"""The contract of the boto3 adapter, run against the emulated registry and a moto server.

Each test states one promise of the registry port. Where moto does not enforce the Lambda rule
the promise rests on, its run is an expected failure that names the rule, so the suite shows
exactly what a test against moto alone would miss.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.core.model import FunctionRef, S3Code, ZipCode
from controller.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    UpdateInProgress,
)
from lambda_emulator import EmulatorServer, Faults
from tests.backends import Backend, code_sha256, make_zip, moto_breaks

FUNCTION = FunctionRef("orders-api", "us-east-1")


def adapter(lambda_backend: Backend, **settings: object) -> AwsRegistry:
    return AwsRegistry(
        AwsSettings(endpoint_url=lambda_backend.endpoint_url, update_poll_seconds=0.1, **settings)  # type: ignore[arg-type]
    )


def test_get_function_reports_latest_code_state_and_revision(lambda_backend: Backend) -> None:
    package = make_zip("r1")
    lambda_backend.create_function(FUNCTION.name, package=package)
    sha = code_sha256(package)
    state = adapter(lambda_backend).get_function(FUNCTION)
    assert state.name == FUNCTION.name
    assert state.code_sha256 == sha
    assert state.state == "Active"
    assert state.is_settled
    assert state.arn.endswith(":function:orders-api")


def test_a_missing_function_is_not_found(lambda_backend: Backend) -> None:
    with pytest.raises(NotFound) as raised:
        adapter(lambda_backend).get_function(FunctionRef("nobody", "us-east-1"))
    assert raised.value.code == "ResourceNotFoundException"
    assert raised.value.operation == "GetFunction"


def test_publish_returns_the_new_version(lambda_backend: Backend) -> None:
    package = make_zip("r1")
    lambda_backend.create_function(FUNCTION.name, package=package)
    sha = code_sha256(package)
    version = adapter(lambda_backend).publish_version(FUNCTION, code_sha256=sha, description="r1")
    assert (version.number, version.code_sha256, version.description) == (1, sha, "r1")


@moto_breaks("L4: it publishes whatever the CodeSha256 says")
def test_publish_refuses_when_latest_has_other_code(lambda_backend: Backend) -> None:
    lambda_backend.create_function(FUNCTION.name, package=make_zip("r1"))
    with pytest.raises(PreconditionFailed) as raised:
        adapter(lambda_backend).publish_version(FUNCTION, code_sha256=code_sha256(make_zip("r2")))
    assert raised.value.code == "InvalidParameterValueException"
    assert adapter(lambda_backend).list_versions(FUNCTION) == []


@moto_breaks("L5: it has no function RevisionId")
def test_publish_refuses_a_stale_revision(lambda_backend: Backend) -> None:
    package = make_zip("r1")
    lambda_backend.create_function(FUNCTION.name, package=package)
    sha = code_sha256(package)
    registry = adapter(lambda_backend)
    stale = registry.get_function(FUNCTION).revision_id
    lambda_backend.client().update_function_configuration(
        FunctionName=FUNCTION.name, Description="x"
    )
    registry.wait_until_settled(FUNCTION)
    with pytest.raises(PreconditionFailed) as raised:
        registry.publish_version(FUNCTION, code_sha256=sha, revision_id=stale)
    assert raised.value.code == "PreconditionFailedException"


def test_versions_are_listed_across_every_page_in_order(lambda_backend: Backend) -> None:
    client = lambda_backend.client()
    lambda_backend.create_function(FUNCTION.name, package=make_zip("v0"))
    shas = []
    for n in range(1, 56):
        package = make_zip(f"v{n}")
        lambda_backend.update_code(FUNCTION.name, package)
        shas.append(code_sha256(package))
        client.publish_version(FunctionName=FUNCTION.name)
    versions = adapter(lambda_backend).list_versions(FUNCTION)
    assert [version.number for version in versions] == list(range(1, 56))
    assert [version.code_sha256 for version in versions] == shas


def test_update_code_from_a_zip_returns_once_the_update_has_finished(
    emulator_factory: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    emulator = emulator_factory(Faults(update_seconds=1.0))
    lambda_backend = Backend("emulator", emulator.endpoint_url, tmp_path / "s3", emulator)
    lambda_backend.create_function(FUNCTION.name, package=make_zip("r1"))
    package = make_zip("r2")
    state = adapter(lambda_backend).update_code(FUNCTION, ZipCode(package))
    assert state.code_sha256 == code_sha256(package)
    assert state.last_update_status == "Successful"
    # Lambda now accepts a publish: the window is over.
    adapter(lambda_backend).publish_version(FUNCTION, code_sha256=code_sha256(package))


def test_update_code_from_s3(lambda_backend: Backend) -> None:
    package = make_zip("from-s3")
    lambda_backend.put_s3_object("artifacts", "orders/r2.zip", package)
    lambda_backend.create_function(FUNCTION.name, package=make_zip("r1"))
    state = adapter(lambda_backend).update_code(FUNCTION, S3Code("artifacts", "orders/r2.zip"))
    assert state.code_sha256 == code_sha256(package)


def test_a_call_during_an_update_is_update_in_progress_until_the_wait_ends(
    emulator_factory: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    # The window outlasts the publish that must meet it, however slow a loaded machine is.
    emulator = emulator_factory(Faults(update_seconds=3.0))
    lambda_backend = Backend("emulator", emulator.endpoint_url, tmp_path / "s3", emulator)
    lambda_backend.create_function(FUNCTION.name, package=make_zip("r1"))
    package = make_zip("r2")
    lambda_backend.client().update_function_code(FunctionName=FUNCTION.name, ZipFile=package)
    registry = adapter(lambda_backend)
    with pytest.raises(UpdateInProgress) as raised:
        registry.publish_version(FUNCTION, code_sha256=code_sha256(package))
    assert raised.value.code == "ResourceConflictException"
    state = registry.wait_until_settled(FUNCTION)
    assert state.is_settled
    assert registry.publish_version(FUNCTION, code_sha256=code_sha256(package)).number == 1


def _two_versions(lambda_backend: Backend) -> AwsRegistry:
    client = lambda_backend.client()
    lambda_backend.create_function(FUNCTION.name, package=make_zip("r1"))
    client.publish_version(FunctionName=FUNCTION.name)
    lambda_backend.update_code(FUNCTION.name, make_zip("r2"))
    client.publish_version(FunctionName=FUNCTION.name)
    return adapter(lambda_backend)


def test_create_and_read_an_alias_with_routing(lambda_backend: Backend) -> None:
    registry = _two_versions(lambda_backend)
    created = registry.create_alias(
        FUNCTION, "live", function_version="1", routing={"2": Decimal("0.1")}, description="d"
    )
    assert created.function_version == "1"
    assert created.routing == {"2": Decimal("0.1")}
    [listed] = registry.list_aliases(FUNCTION)
    assert (listed.name, listed.routing, listed.description) == ("live", {"2": Decimal("0.1")}, "d")


def test_creating_an_alias_twice_is_a_conflict(lambda_backend: Backend) -> None:
    registry = _two_versions(lambda_backend)
    registry.create_alias(FUNCTION, "live", function_version="1")
    with pytest.raises(Conflict):
        registry.create_alias(FUNCTION, "live", function_version="2")


def test_promotion_clears_a_weight_that_named_the_new_version(lambda_backend: Backend) -> None:
    """Rule L22: the adapter always sends RoutingConfig, so no self-reference survives."""
    registry = _two_versions(lambda_backend)
    canary = registry.create_alias(
        FUNCTION, "live", function_version="1", routing={"2": Decimal("0.1")}
    )
    promoted = registry.update_alias(
        FUNCTION, "live", function_version="2", revision_id=canary.revision_id
    )
    assert (promoted.function_version, promoted.routing) == ("2", {})
    [listed] = registry.list_aliases(FUNCTION)
    assert (listed.function_version, listed.routing) == ("2", {})


@moto_breaks("L18: it never checks an alias RevisionId")
def test_update_alias_refuses_a_stale_revision(lambda_backend: Backend) -> None:
    registry = _two_versions(lambda_backend)
    alias = registry.create_alias(FUNCTION, "live", function_version="1")
    registry.update_alias(FUNCTION, "live", function_version="1", revision_id=alias.revision_id)
    with pytest.raises(PreconditionFailed):
        registry.update_alias(FUNCTION, "live", function_version="2", revision_id=alias.revision_id)
    [live] = registry.list_aliases(FUNCTION)
    assert live.function_version == "1"


@moto_breaks("L23: it ignores the FunctionVersion filter")
def test_aliases_are_filtered_by_their_primary_version(lambda_backend: Backend) -> None:
    registry = _two_versions(lambda_backend)
    registry.create_alias(FUNCTION, "live", function_version="1")
    registry.create_alias(FUNCTION, "beta", function_version="2")
    assert [a.name for a in registry.list_aliases(FUNCTION, function_version="2")] == ["beta"]


def test_aliases_are_listed_across_every_page(lambda_backend: Backend) -> None:
    registry = _two_versions(lambda_backend)
    names = sorted(f"alias-{n:03d}" for n in range(120))
    for name in names:
        registry.create_alias(FUNCTION, name, function_version="1")
    assert [alias.name for alias in registry.list_aliases(FUNCTION)] == names


def test_deleting_a_missing_alias_is_not_an_error(lambda_backend: Backend) -> None:
    registry = _two_versions(lambda_backend)
    registry.create_alias(FUNCTION, "live", function_version="1")
    registry.delete_alias(FUNCTION, "live")
    registry.delete_alias(FUNCTION, "live")
    assert registry.list_aliases(FUNCTION) == []


@moto_breaks("L35: it deletes the version and strands the alias")
def test_a_version_behind_an_alias_cannot_be_deleted(lambda_backend: Backend) -> None:
    registry = _two_versions(lambda_backend)
    registry.create_alias(FUNCTION, "live", function_version="1")
    with pytest.raises(Conflict):
        registry.delete_version(FUNCTION, 1)
    registry.delete_version(FUNCTION, 2)
    assert [version.number for version in registry.list_versions(FUNCTION)] == [1]


@moto_breaks("L10: it accepts any alias name")
def test_an_alias_name_lambda_refuses_is_an_invalid_request(lambda_backend: Backend) -> None:
    registry = _two_versions(lambda_backend)
    with pytest.raises(InvalidRequest) as raised:
        registry.create_alias(FUNCTION, "2024", function_version="1")
    assert raised.value.code == "ValidationException"


def test_functions_are_listed_across_every_page(lambda_backend: Backend) -> None:
    names = sorted(f"fn-{n:02d}" for n in range(60))
    for name in names:
        lambda_backend.create_function(name, package=make_zip(name))
    listed = adapter(lambda_backend).list_functions("us-east-1")
    assert sorted(state.name for state in listed) == names
    assert adapter(lambda_backend).list_functions("eu-west-1") == []
