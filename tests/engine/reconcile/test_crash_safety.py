"""A crash at any point of a pass is repaired by the next pass, and nothing undeclared is
written on the way.

The scenario needs every kind of write: code updates, publishes, alias creation, moves and a
prune. The registry is made to crash before and after each of its writes in turn; a fresh pass
must then converge, a further plan must be empty, and every alias must point only at versions
the declarations name.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.port import observe
from controller.core.model import DesiredFunction, FunctionRef, ZipCode
from controller.core.ownership import describe
from controller.core.planner import plan_function
from controller.engine.applier import FunctionOutcome
from lambda_emulator import EmulatorServer
from tests.backends import Backend
from tests.engine.reconcile.support import (
    PACKAGES,
    SHAS,
    RepoFiles,
    alias,
    apply_plan,
    function,
    version,
)

WRITES = ("update_code", "publish_version", "create_alias", "update_alias", "delete_alias")

DESIRED = function(
    "orders-api",
    [version("r1"), version("r2"), version("r3")],
    [alias("live", "r2"), alias("beta", "r3", {"r2": 0.1}), alias("canary", "r1")],
    prune=True,
)


class Crash(Exception):
    """The process dies here (not a RegistryError: the applier must not handle it)."""


class CrashingRegistry:
    """Delegates to a real registry and crashes around its ``crash_at``-th write."""

    def __init__(self, registry: AwsRegistry, crash_at: int, after: bool) -> None:
        self._registry = registry
        self._crash_at = crash_at
        self._after = after
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._registry, name)
        if name not in WRITES:
            return method

        def write(*args: Any, **kwargs: Any) -> Any:
            self.writes += 1
            if self.writes == self._crash_at and not self._after:
                raise Crash(f"before write {self.writes} ({name})")
            result = method(*args, **kwargs)
            if self.writes == self._crash_at and self._after:
                raise Crash(f"after write {self.writes} ({name})")
            return result

        return write


def seed(emulator: EmulatorServer) -> AwsRegistry:
    """orders-api with r1 published, behind live and beta, and a managed alias to prune."""
    backend = Backend("emulator", emulator.endpoint_url, emulator.s3_root or Path(), emulator)
    backend.create_function("orders-api", package=PACKAGES["r1"])
    backend.client().publish_version(FunctionName="orders-api")
    registry = AwsRegistry(AwsSettings(endpoint_url=emulator.endpoint_url))
    ref = FunctionRef("orders-api", "us-east-1")
    for name in ("live", "beta"):
        registry.create_alias(ref, name, function_version="1")
    registry.create_alias(ref, "old", function_version="1", description=describe("", "0" * 40))
    registry.update_code(ref, ZipCode(PACKAGES["r4"]))  # $LATEST holds undeclared code
    return registry


def reconcile(registry: Any, desired: DesiredFunction, revision: str) -> FunctionOutcome:
    observed = observe(registry, desired.ref)
    return apply_plan(
        registry, RepoFiles(), plan_function(desired, observed, revision), observed, revision
    )


def assert_only_declared(registry: AwsRegistry, desired: DesiredFunction) -> None:
    """Each declared code published once, nothing else published, aliases only on those."""
    shas = {declared.code_sha256 for declared in desired.versions.values()}
    versions = registry.list_versions(desired.ref)
    assert sorted(v.code_sha256 for v in versions) == sorted(shas)
    numbers = {v.version for v in versions}
    for live in registry.list_aliases(desired.ref):
        assert live.function_version in numbers, live
        assert set(live.routing) <= numbers, live


def writes_of_a_clean_pass(emulator_factory: Callable[..., EmulatorServer]) -> int:
    registry = seed(emulator_factory())
    counting = CrashingRegistry(registry, crash_at=0, after=False)
    assert reconcile(counting, DESIRED, "a" * 40).converged
    return counting.writes


def test_the_scenario_uses_every_kind_of_write(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    registry = seed(emulator_factory())
    observed = observe(registry, DESIRED.ref)
    actions = plan_function(DESIRED, observed, "a" * 40).actions
    kinds = {type(action).__name__ for action in actions}
    assert kinds == {"PublishVersion", "CreateAlias", "UpdateAlias", "DeleteAlias"}
    assert writes_of_a_clean_pass(emulator_factory) == 8  # 2 code updates, 2 publishes, 4 aliases


@pytest.mark.parametrize("after", [False, True], ids=["before-the-write", "after-the-write"])
@pytest.mark.parametrize("crash_at", range(1, 9))
def test_a_crash_at_any_write_is_repaired_by_the_next_pass(
    emulator_factory: Callable[..., EmulatorServer], crash_at: int, after: bool
) -> None:
    registry = seed(emulator_factory())
    with pytest.raises(Crash):
        reconcile(CrashingRegistry(registry, crash_at, after), DESIRED, "a" * 40)
    assert_only_declared_or_initial(registry)
    outcome = reconcile(registry, DESIRED, "b" * 40)
    assert outcome.converged, outcome.error
    observed = observe(registry, DESIRED.ref)
    assert plan_function(DESIRED, observed, "c" * 40).in_sync
    assert_only_declared(registry, DESIRED)
    assert {a.name for a in observed.aliases} == {"live", "beta", "canary"}
    [beta] = [a for a in observed.aliases if a.name == "beta"]
    assert list(beta.routing.values()) == [Decimal("0.1")]


def assert_only_declared_or_initial(registry: AwsRegistry) -> None:
    """Mid-crash, aliases point at the initial version or at declared ones, never elsewhere."""
    allowed = {SHAS["r1"], SHAS["r2"], SHAS["r3"]}
    versions = {v.version: v.code_sha256 for v in registry.list_versions(DESIRED.ref)}
    assert set(versions.values()) <= allowed
    for live in registry.list_aliases(DESIRED.ref):
        assert versions[live.function_version] in allowed
