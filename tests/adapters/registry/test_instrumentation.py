"""What the boto3 adapter tells its observer: one report per logical call, and every throttle.

The metrics ``lambda_gitops_registry_requests_total{operation,outcome}``, its duration histogram
and ``lambda_gitops_registry_throttles_total{operation}`` are built on these reports, so each
test drives the adapter against the emulator over HTTP and checks exactly what was reported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from controller.adapters.registry.aws import AwsRegistry, AwsSettings, outcome_of
from controller.core.model import FunctionRef, ZipCode
from controller.errors import (
    AccessDenied,
    ConfigurationError,
    Conflict,
    InvalidRequest,
    LambdaGitopsError,
    NotFound,
    PreconditionFailed,
    Throttled,
    Transient,
    UpdateInProgress,
)
from lambda_emulator import EmulatorServer, Faults
from tests.backends import Backend, code_sha256, make_zip

FUNCTION = FunctionRef("orders-api", "us-east-1")


class Recorder:
    """A ``RegistryObserver`` that keeps what it is told."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, float]] = []
        self.throttles: list[str] = []

    def request(self, operation: str, outcome: str, seconds: float) -> None:
        with self._lock:
            self.requests.append((operation, outcome, seconds))

    def throttled(self, operation: str) -> None:
        with self._lock:
            self.throttles.append(operation)

    @property
    def calls(self) -> list[tuple[str, str]]:
        return [(operation, outcome) for operation, outcome, _ in self.requests]


def seeded(emulator: EmulatorServer) -> Backend:
    """orders-api with version 1 published and ``live`` pointing at it."""
    backend = Backend("emulator", emulator.endpoint_url, emulator.s3_root or Path(), emulator)
    backend.create_function(FUNCTION.name, package=make_zip("r1"))
    backend.client().publish_version(FunctionName=FUNCTION.name)
    backend.client().create_alias(FunctionName=FUNCTION.name, Name="live", FunctionVersion="1")
    return backend


def observed(emulator: EmulatorServer, recorder: Recorder, *, max_attempts: int = 5) -> AwsRegistry:
    """The adapter, unpaced so that the emulator's quota is what the tests meet."""
    settings = AwsSettings(
        endpoint_url=emulator.endpoint_url,
        update_poll_seconds=0.1,
        max_attempts=max_attempts,
        requests_per_second=None,
    )
    return AwsRegistry(settings, observer=recorder)


def test_a_successful_call_is_one_success_with_its_duration(emulator: EmulatorServer) -> None:
    seeded(emulator)
    recorder = Recorder()
    observed(emulator, recorder).list_aliases(FUNCTION)
    assert recorder.calls == [("ListAliases", "success")]
    assert recorder.requests[0][2] >= 0.0
    assert recorder.throttles == []


def test_each_operation_is_reported_under_lambdas_name_for_it(emulator: EmulatorServer) -> None:
    seeded(emulator)
    recorder = Recorder()
    registry = observed(emulator, recorder)
    registry.get_function(FUNCTION)
    registry.list_versions(FUNCTION)
    registry.list_functions("us-east-1")
    alias = registry.create_alias(FUNCTION, "beta", function_version="1")
    registry.update_alias(FUNCTION, "beta", function_version="1", revision_id=alias.revision_id)
    registry.delete_alias(FUNCTION, "beta")
    assert recorder.calls == [
        ("GetFunction", "success"),
        ("ListVersionsByFunction", "success"),
        ("ListFunctions", "success"),
        ("CreateAlias", "success"),
        ("UpdateAlias", "success"),
        ("DeleteAlias", "success"),
    ]


def test_a_code_update_reports_the_update_and_each_poll(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory(Faults(update_seconds=0.3))
    seeded(emulator)
    recorder = Recorder()
    observed(emulator, recorder).update_code(FUNCTION, ZipCode(make_zip("r2")))
    operations = [operation for operation, _ in recorder.calls]
    assert operations[0] == "UpdateFunctionCode"
    assert set(operations[1:]) == {"GetFunction"}
    assert len(operations) >= 3
    assert {outcome for _, outcome in recorder.calls} == {"success"}


def test_a_missing_function_is_not_found(emulator: EmulatorServer) -> None:
    recorder = Recorder()
    with pytest.raises(NotFound):
        observed(emulator, recorder).get_function(FunctionRef("nobody", "us-east-1"))
    assert recorder.calls == [("GetFunction", "not_found")]


def test_a_publish_of_other_code_is_precondition_failed(emulator: EmulatorServer) -> None:
    seeded(emulator)
    recorder = Recorder()
    with pytest.raises(PreconditionFailed):
        observed(emulator, recorder).publish_version(
            FUNCTION, code_sha256=code_sha256(make_zip("r9"))
        )
    assert recorder.calls == [("PublishVersion", "precondition_failed")]


def test_deleting_an_aliased_version_is_a_conflict(emulator: EmulatorServer) -> None:
    seeded(emulator)
    recorder = Recorder()
    with pytest.raises(Conflict):
        observed(emulator, recorder).delete_version(FUNCTION, 1)
    assert recorder.calls == [("DeleteFunction", "conflict")]


def test_throttling_past_the_retries_is_throttled(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(rate_limit=1)
    recorder = Recorder()
    registry = observed(emulator, recorder, max_attempts=2)
    refused = 0
    for _ in range(6):
        try:
            registry.list_aliases(FUNCTION)
        except Throttled:
            refused += 1
    assert refused > 0
    # One report per call, whatever its retries; one throttle report per 429 on the wire.
    assert len(recorder.calls) == 6
    assert recorder.calls.count(("ListAliases", "throttled")) == refused
    assert recorder.throttles == ["ListAliases"] * emulator.throttled_counts()["ListAliases"]
    assert len(recorder.throttles) >= 2 * refused


def test_server_errors_past_the_retries_are_transient_and_reported_once(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(error_rate=1.0, seed=3)
    recorder = Recorder()
    before = emulator.request_counts().get("GetFunction", 0)
    with pytest.raises(Transient):
        observed(emulator, recorder, max_attempts=3).get_function(FUNCTION)
    assert emulator.request_counts()["GetFunction"] - before == 3
    assert recorder.calls == [("GetFunction", "transient")]
    assert recorder.throttles == []


def test_no_observer_changes_nothing(emulator: EmulatorServer) -> None:
    seeded(emulator)
    registry = AwsRegistry(AwsSettings(endpoint_url=emulator.endpoint_url))
    assert [alias.name for alias in registry.list_aliases(FUNCTION)] == ["live"]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (NotFound("x"), "not_found"),
        (Conflict("x"), "conflict"),
        (UpdateInProgress("x"), "update_in_progress"),
        (PreconditionFailed("x"), "precondition_failed"),
        (InvalidRequest("x"), "invalid_request"),
        (AccessDenied("x"), "access_denied"),
        (Throttled("x"), "throttled"),
        (Transient("x"), "transient"),
        (ConfigurationError("x"), "configuration_error"),
    ],
)
def test_the_outcome_label_is_the_error_kind_in_snake_case(
    error: LambdaGitopsError, outcome: str
) -> None:
    assert outcome_of(error) == outcome
