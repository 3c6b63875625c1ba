"""The adapter under the faults the emulated registry injects: throttling, 5xx, slow updates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.core.model import FunctionRef, ZipCode
from controller.errors import Throttled, Transient
from lambda_emulator import EmulatorServer, Faults
from tests.backends import Backend, code_sha256, make_zip

FUNCTION = FunctionRef("orders-api", "us-east-1")


def seeded(emulator: EmulatorServer) -> None:
    """A function with one published version, made before any fault is switched on."""
    backend = Backend("emulator", emulator.endpoint_url, emulator.s3_root or Path(), emulator)
    backend.create_function(FUNCTION.name, package=make_zip("r1"))
    backend.client().publish_version(FunctionName=FUNCTION.name)


def registry(emulator: EmulatorServer, **settings: object) -> AwsRegistry:
    return AwsRegistry(
        AwsSettings(endpoint_url=emulator.endpoint_url, update_poll_seconds=0.1, **settings)  # type: ignore[arg-type]
    )


def test_a_burst_over_the_quota_is_absorbed_by_retries(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(rate_limit=20)
    # Unpaced, so that the burst does go over the quota.
    live = registry(emulator, max_attempts=10, requests_per_second=None)
    for _ in range(60):
        assert [alias.name for alias in live.list_aliases(FUNCTION)] == []
    assert sum(emulator.throttled_counts().values()) > 0


def test_throttling_past_the_retries_is_throttled(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(rate_limit=1)
    live = registry(emulator, max_attempts=1)
    with pytest.raises(Throttled) as raised:  # noqa: PT012 - the burst is spent in the loop
        for _ in range(10):
            live.list_aliases(FUNCTION)
    assert raised.value.code == "TooManyRequestsException"


def test_adaptive_mode_also_gets_through_a_burst(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(rate_limit=20)
    live = registry(emulator, retry_mode="adaptive", max_attempts=10, requests_per_second=None)
    for _ in range(60):
        live.get_function(FUNCTION)


def test_transient_server_errors_are_retried(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    before = sum(emulator.request_counts().values())
    emulator.faults = Faults(error_rate=0.3, seed=7)
    live = registry(emulator, max_attempts=10)
    for _ in range(30):
        live.list_versions(FUNCTION)
    assert sum(emulator.request_counts().values()) - before > 30


def test_every_attempt_failing_is_transient(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(error_rate=1.0, seed=1)
    with pytest.raises(Transient):
        registry(emulator, max_attempts=2).get_function(FUNCTION)


def test_the_wait_outlasts_a_long_update_window(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(update_seconds=2.5)
    package = make_zip("r2")
    live = registry(emulator)
    state = live.update_code(FUNCTION, ZipCode(package))
    assert (state.code_sha256, state.last_update_status) == (code_sha256(package), "Successful")
    assert live.publish_version(FUNCTION, code_sha256=code_sha256(package)).number == 2


def test_a_wait_that_runs_out_of_time_is_transient(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(update_seconds=30)
    live = registry(emulator, update_timeout_seconds=0.3)
    with pytest.raises(Transient) as raised:
        live.update_code(FUNCTION, ZipCode(make_zip("r2")))
    assert raised.value.code == "UpdateTimeout"
