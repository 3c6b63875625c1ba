"""Retention against a real registry over HTTP: what a pass deletes, what it keeps, and why.

The function has six published versions, each with its own code: ``live`` (managed) on 6, and
``manual``, an alias someone made by hand, on 2. Declared: r6, ``live`` on it, and
``retainVersions: 2``. A pass that may delete therefore deletes 1, 3 and 4, and keeps 5 and 6
(the newest two) and 2 (an alias uses it). Races, crashes and refusals are injected by
registries that wrap the real one, where a person or a failure would meet the pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

import pytest

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.port import Registry, observe
from controller.core.model import DesiredFunction, FunctionRef
from controller.core.ownership import describe
from controller.core.plan import DeleteVersion, FunctionPlan
from controller.core.retention import SWITCHED_OFF, Retention
from controller.engine.applier import Applier
from controller.engine.reconciler import FunctionResult, reconcile_function
from controller.errors import Transient
from tests.backends import Backend, moto_breaks
from tests.engine.reconcile.support import (
    ANYWHERE,
    PACKAGES,
    RepoFiles,
    alias,
    function,
    version,
)

NAME = "orders-api"
REF = FunctionRef(NAME, "us-east-1")
REVISION = "a" * 40
DELETING = Retention(may_delete=True)
DESIRED = replace(function(NAME, [version("r6")], [alias("live", "r6")]), retain_versions=2)
KEPT = {"2", "5", "6"}
"""What stays: the newest two, and the version the hand-made alias uses."""


def seed(backend: Backend) -> AwsRegistry:
    """orders-api with r1..r6 published as versions 1..6, live on 6 and manual on 2."""
    backend.create_function(NAME, package=PACKAGES["r1"])
    client = backend.client()
    for label in ("r1", "r2", "r3", "r4", "r5", "r6"):
        backend.update_code(NAME, PACKAGES[label])
        client.publish_version(FunctionName=NAME)
    client.create_alias(
        FunctionName=NAME,
        Name="live",
        FunctionVersion="6",
        Description=describe("live traffic", "0" * 40),
    )
    client.create_alias(FunctionName=NAME, Name="manual", FunctionVersion="2")
    return AwsRegistry(AwsSettings(endpoint_url=backend.endpoint_url, update_poll_seconds=0.1))


def published(registry: Registry) -> set[str]:
    return {v.version for v in registry.list_versions(REF, fresh=True)}


def reconcile(
    registry: Registry,
    desired: DesiredFunction = DESIRED,
    retention: Retention | None = DELETING,
    **options: Any,
) -> FunctionResult:
    return reconcile_function(
        registry,
        desired,
        REVISION,
        in_scope=options.pop("in_scope", ANYWHERE),
        code=options.pop("code", RepoFiles()),
        retention=retention,
        **options,
    )


def deletions(result: FunctionResult) -> list[tuple[int, str]]:
    """Each version deletion the pass attempted, with its outcome."""
    assert result.outcome is not None
    return [
        (done.action.number, done.outcome)
        for done in result.outcome.actions
        if isinstance(done.action, DeleteVersion)
    ]


Hook = Callable[[str, tuple[Any, ...]], None]
"""Told of a call to the registry: the operation and its arguments."""


def nothing(operation: str, args: tuple[Any, ...]) -> None:
    pass


@dataclass
class Wrapped:
    """A registry that runs ``before`` just before each call to the real one goes through,
    and ``after`` once it has; ``deletes`` counts the deletions begun."""

    registry: Registry
    before: Hook = nothing
    after: Hook = nothing
    deletes: int = 0
    calls: list[str] = field(default_factory=list)

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self.registry, operation)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(operation)
            if operation == "delete_version":
                self.deletes += 1
            self.before(operation, args)
            result = method(*args, **kwargs)
            self.after(operation, args)
            return result

        return call

    def port(self) -> Registry:
        return cast("Registry", self)


# -- what a pass deletes --------------------------------------------------------------------------


def test_reconcile_deletes_exactly_the_versions_retention_does_not_keep(
    lambda_backend: Backend,
) -> None:
    registry = CachingRegistry(seed(lambda_backend))

    result = reconcile(registry)

    assert result.error is None
    assert deletions(result) == [(1, "applied"), (3, "applied"), (4, "applied")]
    assert published(registry) == KEPT
    assert result.status == "synced"
    again = reconcile(registry)
    assert again.plan.in_sync
    assert again.plan.retention is not None
    assert again.plan.retention.protected == (2,)
    assert again.outcome is not None
    assert again.outcome.actions == ()


def test_versions_are_counted_on_a_fresh_listing_before_any_is_deleted(
    lambda_backend: Backend,
) -> None:
    """The cached listing still holds version 5, which someone deleted out of band: counted on
    it, the newest two would be 5 and 6, and 4 would go, leaving one version where two were
    asked for. The pass lists the versions afresh before deleting and keeps 4."""
    registry = CachingRegistry(seed(lambda_backend))
    assert published(registry) == {"1", "2", "3", "4", "5", "6"}
    registry.list_versions(REF)  # cached now
    lambda_backend.client().delete_function(FunctionName=NAME, Qualifier="5")

    result = reconcile(registry)

    assert result.error is None
    assert result.plan.retention is not None
    assert 4 in result.plan.retention.deleted  # the plan made from the stale listing
    assert deletions(result) == [(1, "applied"), (3, "applied")]
    assert published(registry) == {"2", "4", "6"}


def test_deletions_run_only_after_the_alias_writes_succeed(lambda_backend: Backend) -> None:
    """live moves from 6 to r5's version; 6 stays (the newest), and so does 5 (live's now)."""
    registry = seed(lambda_backend)
    desired = replace(
        DESIRED, versions={"r5": version("r5")}, aliases={"live": alias("live", "r5")}
    )

    result = reconcile(registry, desired)

    assert result.error is None
    assert result.outcome is not None
    kinds = [type(done.action).__name__ for done in result.outcome.actions]
    assert kinds == ["UpdateAlias", "DeleteVersion", "DeleteVersion", "DeleteVersion"]
    assert published(registry) == KEPT


@moto_breaks("moto deletes a version an alias points to, leaving the alias dangling (rule L35)")
def test_an_alias_created_on_a_version_about_to_be_deleted_keeps_it_and_the_pass_succeeds(
    lambda_backend: Backend,
) -> None:
    """Someone points an alias at version 3 between the observation and its deletion: Lambda
    refuses the deletion, the version stays, the deletion is skipped, the others go on."""
    registry = seed(lambda_backend)
    person = lambda_backend.client()

    def race(operation: str, args: tuple[Any, ...]) -> None:
        if operation == "delete_version" and args[1] == 3:
            person.create_alias(FunctionName=NAME, Name="hotfix", FunctionVersion="3")

    result = reconcile(Wrapped(registry, before=race).port())

    assert result.error is None, result.error
    assert deletions(result) == [(1, "applied"), (3, "skipped"), (4, "applied")]
    assert result.outcome is not None
    [skipped] = [done for done in result.outcome.actions if done.outcome == "skipped"]
    assert "kept version 3: an alias points at it now" in skipped.detail
    assert result.outcome.replans == 0
    assert published(registry) == {*KEPT, "3"}
    assert reconcile(registry).plan.in_sync


def test_deleting_a_version_already_gone_is_not_an_error(lambda_backend: Backend) -> None:
    """Lambda answers 204 for a version that does not exist (rule L38), moto 404: either way
    the version is gone, which is what the pass wanted."""
    registry = seed(lambda_backend)
    observed = observe(registry, REF)
    plan = FunctionPlan(DESIRED, actions=(DeleteVersion(99),))

    applied = Applier(registry, RepoFiles(), in_scope=ANYWHERE, delete_versions=True).apply(
        plan, observed
    )

    assert applied.error is None
    assert [done.outcome for done in applied.actions] == ["applied"]


# -- what keeps a pass from deleting --------------------------------------------------------------


def test_with_the_scope_switch_off_nothing_is_deleted_and_the_plan_says_what_would_be(
    lambda_backend: Backend,
) -> None:
    registry = seed(lambda_backend)

    result = reconcile(registry, retention=Retention(may_delete=False))

    assert result.error is None
    assert result.plan.in_sync
    assert result.plan.retention is not None
    assert result.plan.retention.held == (1, 3, 4)
    assert result.plan.retention.reason == SWITCHED_OFF
    assert published(registry) == {"1", "2", "3", "4", "5", "6"}


def test_the_applier_refuses_a_deletion_the_switch_does_not_allow(
    lambda_backend: Backend,
) -> None:
    """Defence in depth: a plan with a deletion, run by an applier told the switch is off."""
    registry = seed(lambda_backend)
    observed = observe(registry, REF)
    plan = FunctionPlan(DESIRED, actions=(DeleteVersion(1),))

    applied = Applier(registry, RepoFiles(), in_scope=ANYWHERE).apply(plan, observed)

    assert applied.error is not None
    assert "scope.delete_versions is off" in applied.error
    assert [done.outcome for done in applied.actions] == ["failed"]
    assert "1" in published(registry)


def test_a_function_outside_the_scope_has_no_version_deleted(lambda_backend: Backend) -> None:
    registry = seed(lambda_backend)

    result = reconcile(registry, in_scope=lambda arn: False)

    assert result.error is not None
    assert "outside the controller's scope" in result.error
    assert published(registry) == {"1", "2", "3", "4", "5", "6"}


def test_a_plan_without_apply_as_in_detect_mode_deletes_nothing(lambda_backend: Backend) -> None:
    registry = seed(lambda_backend)

    result = reconcile(registry, code=None)

    assert [a for a in result.plan.actions if isinstance(a, DeleteVersion)] == [
        DeleteVersion(1),
        DeleteVersion(3),
        DeleteVersion(4),
    ]
    assert result.outcome is None
    assert result.status == "synced"  # pending retention is no drift
    assert published(registry) == {"1", "2", "3", "4", "5", "6"}


def test_a_pass_planned_from_remembered_state_deletes_nothing(lambda_backend: Backend) -> None:
    """A rollout's tick plans from what the last reconcile left, at no read: never a deletion."""
    registry = seed(lambda_backend)
    remembered = observe(registry, REF)

    result = reconcile(registry, observed=remembered)

    assert result.error is None
    assert result.plan.retention is not None
    assert result.plan.retention.reason == "planned from remembered state, not read afresh"
    assert published(registry) == {"1", "2", "3", "4", "5", "6"}


def test_a_failed_alias_write_leaves_every_version_in_place(lambda_backend: Backend) -> None:
    """The deletions come last: when a write before them fails for good, none runs."""
    registry = seed(lambda_backend)
    desired = replace(
        DESIRED, versions={"r5": version("r5")}, aliases={"live": alias("live", "r5")}
    )

    def refuse(operation: str, args: tuple[Any, ...]) -> None:
        if operation == "update_alias":
            raise Transient("the service is unavailable", code="ServiceException")

    result = reconcile(Wrapped(registry, before=refuse).port(), desired)

    assert result.error is not None
    assert deletions(result) == []
    assert published(registry) == {"1", "2", "3", "4", "5", "6"}


# -- a crash or a failure in the middle of the deletions ------------------------------------------


class Crash(Exception):
    """The process dies here (not a RegistryError: the applier must not handle it)."""


@pytest.mark.parametrize("after", [False, True], ids=["before-the-delete", "after-the-delete"])
@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_crash_in_the_middle_of_the_deletions_is_finished_by_the_next_pass(
    lambda_backend: Backend, crash_at: int, after: bool
) -> None:
    registry = CachingRegistry(seed(lambda_backend))
    deleted: list[int] = []

    def crash(operation: str, args: tuple[Any, ...]) -> None:
        if operation == "delete_version" and wrapped.deletes == crash_at:
            raise Crash(f"{'after' if after else 'before'} deletion {crash_at}")

    def count(operation: str, args: tuple[Any, ...]) -> None:
        if operation == "delete_version":
            deleted.append(args[1])

    def count_then_crash(operation: str, args: tuple[Any, ...]) -> None:
        count(operation, args)
        crash(operation, args)

    wrapped = (
        Wrapped(registry, after=count_then_crash)
        if after
        else Wrapped(registry, before=crash, after=count)
    )
    with pytest.raises(Crash):
        reconcile(wrapped.port())
    assert len(deleted) == (crash_at if after else crash_at - 1)
    left = {"1", "2", "3", "4", "5", "6"} - {str(number) for number in deleted}
    assert published(registry) == left

    result = reconcile(registry)

    assert result.error is None
    expected = [n for n in (1, 3, 4) if str(n) in left]
    assert deletions(result) == [(number, "applied") for number in expected]
    assert published(registry) == KEPT


@pytest.mark.parametrize("failing", [1, 2, 3])
def test_a_transient_failure_of_one_deletion_fails_the_pass_and_the_next_finishes(
    lambda_backend: Backend, failing: int
) -> None:
    registry = seed(lambda_backend)

    def fail(operation: str, args: tuple[Any, ...]) -> None:
        if operation == "delete_version" and wrapped.deletes == failing:
            raise Transient("the service is unavailable", code="ServiceException")

    wrapped = Wrapped(registry, before=fail)
    first = reconcile(wrapped.port())

    assert first.error is not None
    outcomes = [outcome for _, outcome in deletions(first)]
    assert outcomes == ["applied"] * (failing - 1) + ["failed"]
    second = reconcile(registry)
    assert second.error is None
    assert [number for number, _ in deletions(second)] == [1, 3, 4][failing - 1 :]
    assert published(registry) == KEPT
