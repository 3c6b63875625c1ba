"""The version cache and ``observe``: a steady pass costs one request, and never a wrong answer.

Each test counts the requests the emulator received (``request_counts()``) around an
observation, so the cost is measured where the quota is spent: on the wire.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pytest

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.port import Registry, observe
from controller.core.model import FunctionRef, PublishedVersion, ZipCode
from controller.errors import NotFound, PreconditionFailed
from lambda_emulator import EmulatorServer
from tests.backends import Backend, code_sha256, make_zip

FUNCTION = FunctionRef("orders-api", "us-east-1")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def backend_of(emulator: EmulatorServer) -> Backend:
    return Backend("emulator", emulator.endpoint_url, emulator.s3_root or Path(), emulator)


def converged(emulator: EmulatorServer) -> Backend:
    """orders-api with versions 1 and 2, ``live`` at 2 and ``beta`` at 2 with 10 % on 1."""
    backend = backend_of(emulator)
    backend.function_with_versions(FUNCTION.name, 2)
    client = backend.client()
    client.create_alias(FunctionName=FUNCTION.name, Name="live", FunctionVersion="2")
    client.create_alias(
        FunctionName=FUNCTION.name,
        Name="beta",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}},
    )
    return backend


def caching(emulator: EmulatorServer, clock: FakeClock | None = None) -> CachingRegistry:
    live = AwsRegistry(AwsSettings(endpoint_url=emulator.endpoint_url, requests_per_second=None))
    if clock is None:
        return CachingRegistry(live)
    return CachingRegistry(live, version_resync_seconds=600, clock=clock)


class Requests:
    """The requests the emulator receives from the moment this is made."""

    def __init__(self, emulator: EmulatorServer) -> None:
        self._emulator = emulator
        self._before = Counter(emulator.request_counts())

    def since(self) -> dict[str, int]:
        counts = Counter(self._emulator.request_counts())
        counts.subtract(self._before)
        return {operation: n for operation, n in counts.items() if n}


def nothing_missing(versions: Sequence[PublishedVersion]) -> bool:
    return False


def numbers(versions: Sequence[PublishedVersion]) -> list[int]:
    return [version.number for version in versions]


def test_observing_a_converged_function_again_costs_one_request(
    emulator: EmulatorServer,
) -> None:
    converged(emulator)
    registry = caching(emulator)
    first = observe(registry, FUNCTION, need_latest=nothing_missing)
    requests = Requests(emulator)
    second = observe(registry, FUNCTION, need_latest=nothing_missing)
    assert requests.since() == {"ListAliases": 1}
    assert second == first
    assert numbers(second.versions) == [1, 2]
    assert {alias.name: alias.function_version for alias in second.aliases} == {
        "beta": "2",
        "live": "2",
    }


def test_the_first_observation_reads_versions_and_by_default_latest(
    emulator: EmulatorServer,
) -> None:
    converged(emulator)
    requests = Requests(emulator)
    observation = observe(caching(emulator), FUNCTION)
    assert requests.since() == {"ListAliases": 1, "ListVersionsByFunction": 1, "GetFunction": 1}
    assert observation.latest is not None
    assert observation.latest.code_sha256 == code_sha256(make_zip(f"# {FUNCTION.name} 2\n"))


def test_latest_is_skipped_when_no_version_is_missing(emulator: EmulatorServer) -> None:
    converged(emulator)
    seen: list[list[int]] = []

    def need_latest(versions: Sequence[PublishedVersion]) -> bool:
        seen.append(numbers(versions))
        return False

    requests = Requests(emulator)
    observation = observe(caching(emulator), FUNCTION, need_latest=need_latest)
    assert observation.latest is None
    assert "GetFunction" not in requests.since()
    assert seen == [[1, 2]]


def test_latest_is_read_when_a_version_is_missing(emulator: EmulatorServer) -> None:
    converged(emulator)
    requests = Requests(emulator)
    observation = observe(caching(emulator), FUNCTION, need_latest=lambda versions: True)
    assert observation.latest is not None
    assert requests.since()["GetFunction"] == 1


def test_a_publish_drops_the_listing(emulator: EmulatorServer) -> None:
    backend = converged(emulator)
    registry = caching(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    package = make_zip("r3")
    backend.update_code(FUNCTION.name, package)
    published = registry.publish_version(FUNCTION, code_sha256=code_sha256(package))
    requests = Requests(emulator)
    observation = observe(registry, FUNCTION, need_latest=nothing_missing)
    assert requests.since() == {"ListAliases": 1, "ListVersionsByFunction": 1}
    assert numbers(observation.versions) == [1, 2, published.number]


def test_a_version_deleted_here_drops_the_listing(emulator: EmulatorServer) -> None:
    backend = converged(emulator)
    backend.client().delete_alias(FunctionName=FUNCTION.name, Name="beta")
    registry = caching(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    registry.delete_version(FUNCTION, 1)
    observation = observe(registry, FUNCTION, need_latest=nothing_missing)
    assert numbers(observation.versions) == [2]


def test_a_code_update_keeps_the_listing(emulator: EmulatorServer) -> None:
    converged(emulator)
    registry = caching(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    registry.update_code(FUNCTION, ZipCode(make_zip("r3")))
    requests = Requests(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    assert requests.since() == {"ListAliases": 1}


def test_an_alias_at_a_version_published_out_of_band_triggers_one_fresh_listing(
    emulator: EmulatorServer,
) -> None:
    backend = converged(emulator)
    registry = caching(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    number = backend.publish(FUNCTION.name, f"# {FUNCTION.name} 3\n")
    backend.wait_active(FUNCTION.name, number)
    backend.client().update_alias(FunctionName=FUNCTION.name, Name="live", FunctionVersion=number)

    requests = Requests(emulator)
    observation = observe(registry, FUNCTION, need_latest=nothing_missing)
    assert requests.since() == {"ListAliases": 1, "ListVersionsByFunction": 1}
    assert numbers(observation.versions) == [1, 2, 3]
    assert {alias.name: alias.function_version for alias in observation.aliases}["live"] == "3"
    # The fresh listing is cached in turn: the next observation is one request again.
    requests = Requests(emulator)
    assert observe(registry, FUNCTION, need_latest=nothing_missing) == observation
    assert requests.since() == {"ListAliases": 1}


def test_a_weight_on_an_unknown_version_also_triggers_a_fresh_listing(
    emulator: EmulatorServer,
) -> None:
    backend = converged(emulator)
    registry = caching(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    number = backend.publish(FUNCTION.name, f"# {FUNCTION.name} 3\n")
    backend.wait_active(FUNCTION.name, number)
    backend.client().update_alias(
        FunctionName=FUNCTION.name,
        Name="beta",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {number: 0.2}},
    )
    observation = observe(registry, FUNCTION, need_latest=nothing_missing)
    assert numbers(observation.versions) == [1, 2, 3]


def test_an_alias_at_latest_needs_no_listing(emulator: EmulatorServer) -> None:
    backend = converged(emulator)
    backend.client().create_alias(FunctionName=FUNCTION.name, Name="dev", FunctionVersion="$LATEST")
    registry = caching(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    requests = Requests(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    assert requests.since() == {"ListAliases": 1}


def test_the_version_resync_interval_refreshes_the_listing(emulator: EmulatorServer) -> None:
    backend = converged(emulator)
    clock = FakeClock()
    registry = caching(emulator, clock)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    # Published out of band, named by no alias: only the resync can reveal it.
    backend.publish(FUNCTION.name, f"# {FUNCTION.name} 3\n")

    clock.now += 599
    assert numbers(observe(registry, FUNCTION, need_latest=nothing_missing).versions) == [1, 2]
    clock.now += 2
    requests = Requests(emulator)
    observation = observe(registry, FUNCTION, need_latest=nothing_missing)
    assert requests.since() == {"ListAliases": 1, "ListVersionsByFunction": 1}
    assert numbers(observation.versions) == [1, 2, 3]


def test_a_refused_alias_write_drops_the_listing(emulator: EmulatorServer) -> None:
    converged(emulator)
    registry = caching(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    with pytest.raises(PreconditionFailed):
        registry.update_alias(FUNCTION, "live", function_version="1", revision_id="stale")
    requests = Requests(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    assert requests.since() == {"ListAliases": 1, "ListVersionsByFunction": 1}


def test_a_function_deleted_and_created_again_starts_a_new_listing(
    emulator: EmulatorServer,
) -> None:
    backend = converged(emulator)
    registry = caching(emulator)
    observe(registry, FUNCTION, need_latest=nothing_missing)
    backend.client().delete_function(FunctionName=FUNCTION.name)
    with pytest.raises(NotFound):
        observe(registry, FUNCTION, need_latest=nothing_missing)
    backend.create_function(FUNCTION.name)
    assert observe(registry, FUNCTION, need_latest=nothing_missing).versions == ()


def test_without_a_cache_observe_reads_everything_every_time(emulator: EmulatorServer) -> None:
    converged(emulator)
    registry = AwsRegistry(AwsSettings(endpoint_url=emulator.endpoint_url))
    observe(registry, FUNCTION)
    requests = Requests(emulator)
    observe(registry, FUNCTION)
    assert requests.since() == {"ListAliases": 1, "ListVersionsByFunction": 1, "GetFunction": 1}


# -- a listing read across a drop is not kept ---------------------------------------------------


class SlowListing:
    """Lists versions only when told to, so that a test can drop the entry mid-read."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.listings = 0

    def list_versions(
        self, function: FunctionRef, *, fresh: bool = False
    ) -> list[PublishedVersion]:
        self.listings += 1
        self.started.set()
        assert self.release.wait(10)
        return [PublishedVersion(1, "sha", "", "")]


def test_a_listing_read_while_the_entry_is_dropped_is_not_cached() -> None:
    inner = SlowListing()
    registry = CachingRegistry(cast("Registry", inner))
    reader = threading.Thread(target=registry.list_versions, args=(FUNCTION,))
    reader.start()
    assert inner.started.wait(10)
    registry.forget(FUNCTION)
    inner.release.set()
    reader.join(10)
    registry.list_versions(FUNCTION)
    assert inner.listings == 2
    registry.list_versions(FUNCTION)
    assert inner.listings == 2
