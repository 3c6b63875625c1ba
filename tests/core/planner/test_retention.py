"""Retention as tables: which published versions a plan deletes, which it keeps, and why.

Each row is a declaration, a live function and the controller's retention settings; the
expected plan names the versions deleted (as ``DeleteVersion`` actions, oldest first, after
every other action) and what the plan's ``retention`` view says of the others.
``core.retention``'s docstring is the specification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from controller.core.model import (
    KEEP_ALL,
    LATEST,
    Alias,
    DesiredAlias,
    DesiredFunction,
    ObservedFunction,
    PublishedVersion,
    RetainVersions,
)
from controller.core.ownership import describe
from controller.core.plan import (
    CreateAlias,
    DeleteAlias,
    DeleteVersion,
    PublishVersion,
    RetentionView,
    UpdateAlias,
    action_kind,
)
from controller.core.planner import plan_function
from controller.core.retention import SWITCHED_OFF, Retention, retained
from controller.core.rollout import Rollout, Step
from tests.core.planner.builders import (
    OLD_REVISION,
    REVISION,
    ZIP_B,
    alias,
    function,
    live_alias,
    observed,
    version,
)

DELETING = Retention(default=None, may_delete=True)
MANAGED = describe("", OLD_REVISION)


def code(number: int) -> str:
    """A distinct CodeSha256 for the package of version ``number``."""
    return f"{number:0>43}="


def fleet(count: int, *aliases: Alias, codes: dict[int, str] | None = None) -> ObservedFunction:
    """A live function with versions 1..count, each its own code unless ``codes`` says."""
    chosen = {number: code(number) for number in range(1, count + 1)} | (codes or {})
    return observed(*(chosen[number] for number in range(1, count + 1)), aliases=aliases)


def declared(
    *aliases: DesiredAlias,
    labels: Sequence[tuple[str, int]] = (("r6", 6),),
    retain: RetainVersions = 2,
    suspend: bool = False,
    prune: bool = False,
) -> DesiredFunction:
    """A declaration whose labels have the codes of the given version numbers."""
    versions = [version(label, code(number)) for label, number in labels]
    desired = function(versions, aliases or (alias("live", "r6"),), suspend=suspend, prune=prune)
    return replace(desired, retain_versions=retain)


ON_6 = live_alias("live", "6", description=MANAGED)


@dataclass(frozen=True)
class Expected:
    """The versions the plan deletes, and its view's protected, held and reason."""

    deleted: tuple[int, ...] = ()
    protected: tuple[int, ...] = ()
    held: tuple[int, ...] = ()
    reason: str = ""


ROWS = [
    pytest.param(
        declared(),
        fleet(6, ON_6),
        DELETING,
        Expected(deleted=(1, 2, 3, 4)),
        id="the newest N are kept and every older one deleted, oldest first",
    ),
    pytest.param(
        declared(retain=10),
        fleet(6, ON_6),
        DELETING,
        Expected(),
        id="fewer published versions than N: nothing to delete",
    ),
    pytest.param(
        declared(),
        fleet(6, ON_6, live_alias("manual", "2"), live_alias("scratch", LATEST)),
        DELETING,
        Expected(deleted=(1, 3, 4), protected=(2,)),
        id="an alias the controller does not manage keeps its version; $LATEST is never one",
    ),
    pytest.param(
        declared(),
        fleet(6, replace(ON_6, routing={"3": Decimal("0.1")})),
        DELETING,
        Expected(deleted=(1, 2, 4), protected=(3,)),
        id="a live alias's routing version is kept",
    ),
    pytest.param(
        declared(),
        fleet(6, ON_6, live_alias("switching", "4", {"4": 0.5})),
        DELETING,
        Expected(deleted=(1, 2, 3), protected=(4,)),
        id="a routing key equal to the alias's own version is kept like any other",
    ),
    pytest.param(
        declared(labels=(("r6", 6), ("r1", 1))),
        fleet(6, ON_6, codes={3: code(1)}),
        DELETING,
        Expected(deleted=(2, 4), protected=(1, 3)),
        id="every version with a declared label's code is kept, not only the newest",
    ),
    pytest.param(
        declared(alias("live", "r6"), alias("old", "2")),
        fleet(6, ON_6),
        DELETING,
        Expected(deleted=(1, 3, 4), protected=(2,)),
        id="a version number a declaration names is kept",
    ),
    pytest.param(
        declared(alias("live", "r6", {"3": "0.1"})),
        fleet(6, ON_6),
        DELETING,
        Expected(deleted=(1, 2, 4), protected=(3,)),
        id="a routing number a declaration names is kept",
    ),
    pytest.param(
        declared(),
        fleet(
            6,
            ON_6,
            live_alias(
                "retired",
                "6",
                description=describe("", OLD_REVISION, rollout="ro=3/2/1/1733140000/0/F/abcdef"),
            ),
        ),
        DELETING,
        Expected(deleted=(1, 4), protected=(2, 3)),
        id="the stable and target versions a rollout marker records are kept",
    ),
    pytest.param(
        declared(),
        fleet(
            6,
            ON_6,
            live_alias(
                "canary",
                "5",
                {"6": 0.1},
                description=describe("", OLD_REVISION, rollout="ro=6/5/0/1733140000/0/P/abcdef"),
            ),
        ),
        DELETING,
        Expected(held=(1, 2, 3, 4), reason="a rollout is under way on alias canary"),
        id="nothing is deleted while a live alias's marker says a rollout is under way",
    ),
    pytest.param(
        declared(
            replace(
                alias("live", "r6"),
                rollout=Rollout((Step(Decimal("0.1"), hold=300.0),)),
            )
        ),
        fleet(6, live_alias("live", "5", description=MANAGED)),
        DELETING,
        Expected(held=(1, 2, 3, 4), reason="a rollout is under way on alias live"),
        id="nothing is deleted while the plan starts a rollout",
    ),
    pytest.param(
        declared(suspend=True),
        fleet(6, ON_6),
        DELETING,
        Expected(held=(1, 2, 3, 4), reason="the function is suspended"),
        id="a suspended function deletes nothing and says what it would",
    ),
    pytest.param(
        declared(),
        fleet(6, ON_6),
        Retention(may_delete=False),
        Expected(held=(1, 2, 3, 4), reason=SWITCHED_OFF),
        id="with scope.delete_versions off the candidates are a note, not actions",
    ),
    pytest.param(
        declared(),
        fleet(6, ON_6),
        Retention(may_delete=True, fresh=False),
        Expected(held=(1, 2, 3, 4), reason="planned from remembered state, not read afresh"),
        id="a plan made from remembered state deletes nothing",
    ),
    pytest.param(
        declared(retain=None),
        fleet(6, ON_6),
        Retention(default=3, may_delete=True),
        Expected(deleted=(1, 2, 3)),
        id="a declaration without retainVersions takes the controller's default",
    ),
    pytest.param(
        declared(),
        fleet(6, ON_6),
        Retention(may_delete=True, max_deletions=3),
        Expected(
            deleted=(1, 2, 3),
            held=(4,),
            reason="at most 3 are deleted a pass; the next pass goes on",
        ),
        id="a pass deletes at most max_deletions, the oldest; the next pass goes on",
    ),
]


@pytest.mark.parametrize(("desired", "live", "retention", "expected"), ROWS)
def test_retention_deletes_exactly_the_unprotected_versions_beyond_the_newest_n(
    desired: DesiredFunction, live: ObservedFunction, retention: Retention, expected: Expected
) -> None:
    result = plan_function(desired, live, REVISION, retention=retention)

    assert result.error is None
    deletions = [a for a in result.actions if isinstance(a, DeleteVersion)]
    assert deletions == [DeleteVersion(number) for number in expected.deleted]
    assert result.actions[len(result.actions) - len(deletions) :] == tuple(deletions)
    assert result.retention == RetentionView(
        keep=desired.retain_versions if isinstance(desired.retain_versions, int) else 3,
        versions=len(live.versions),
        protected=expected.protected,
        deleted=expected.deleted,
        held=expected.held,
        reason=expected.reason,
    )


@pytest.mark.parametrize(
    ("retain", "retention"),
    [
        (KEEP_ALL, Retention(default=1, may_delete=True)),
        (None, Retention(default=None, may_delete=True)),
        (5, None),
    ],
    ids=[
        "retainVersions: all overrides the controller's default",
        "no retainVersions and no default: every version is kept",
        "a caller that applies no retention (diff, plan of old callers) deletes nothing",
    ],
)
def test_without_a_number_of_versions_to_keep_there_is_no_retention(
    retain: RetainVersions, retention: Retention | None
) -> None:
    result = plan_function(declared(retain=retain), fleet(6, ON_6), REVISION, retention=retention)

    assert result.retention is None
    assert result.actions == ()
    assert result.in_sync


@pytest.mark.parametrize(
    ("declared_n", "default", "kept"),
    [(5, 2, 5), (None, 2, 2), (None, None, None), (KEEP_ALL, 2, None), (1, None, 1)],
)
def test_the_number_kept_is_the_declarations_else_the_default(
    declared_n: RetainVersions, default: int | None, kept: int | None
) -> None:
    assert retained(declared_n, default) == kept


def test_a_function_in_error_plans_no_retention() -> None:
    desired = declared(alias("live", "r6"), alias("old", "99"))

    result = plan_function(desired, fleet(6, ON_6), REVISION, retention=DELETING)

    assert result.error is not None
    assert result.actions == ()
    assert result.retention is None


def test_deletions_come_after_publishes_alias_writes_and_prunes() -> None:
    desired = declared(
        alias("live", "r7"),
        labels=(("r6", 6), ("r7", 7)),
        prune=True,
    )
    desired = replace(
        desired, versions={**desired.versions, "r7": version("r7", code(7), source=ZIP_B)}
    )
    live = fleet(6, ON_6, live_alias("retired", "6", description=MANAGED))

    result = plan_function(desired, live, REVISION, retention=DELETING)

    kinds = [action_kind(action) for action in result.actions]
    assert kinds == ["publish", "update", "delete", *["delete_version"] * 5]
    assert isinstance(result.actions[0], PublishVersion)
    assert isinstance(result.actions[1], UpdateAlias)
    assert isinstance(result.actions[2], DeleteAlias)
    # r7, once published, is the newer of the two kept, so of the live versions only 6 stays.
    assert result.actions[3:] == tuple(DeleteVersion(number) for number in (1, 2, 3, 4, 5))


def test_a_plan_whose_alias_writes_wait_for_a_publish_deletes_nothing_yet() -> None:
    rollout = Rollout((Step(Decimal("0.1"), hold=300.0),))
    desired = declared(replace(alias("live", "r7"), rollout=rollout), labels=(("r7", 7),))
    desired = replace(desired, versions={"r7": version("r7", code(7), source=ZIP_B)})
    live = fleet(6, live_alias("live", "6", description=MANAGED))

    result = plan_function(desired, live, REVISION, retention=DELETING)

    assert result.deferred
    assert [action_kind(a) for a in result.actions] == ["publish"]
    assert result.retention is not None
    assert result.retention.reason == "the versions this pass publishes come first"


def test_a_plan_with_only_deletions_is_pending_but_matches_its_declarations() -> None:
    result = plan_function(declared(), fleet(6, ON_6), REVISION, retention=DELETING)

    assert result.actions
    assert not result.in_sync  # plan exits 2: changes pending
    assert result.matches_declarations  # but no alias differs: nothing is drifted
    assert result.drift == ()


def test_a_created_alias_keeps_the_version_it_is_created_on() -> None:
    desired = declared(alias("live", "r6"), alias("beta", "3"))

    result = plan_function(desired, fleet(6, ON_6), REVISION, retention=DELETING)

    assert CreateAlias("beta", "3", {}, describe("", REVISION)) in result.actions
    assert DeleteVersion(3) not in result.actions


def test_published_versions_are_counted_as_lambda_numbers_them_not_as_listed() -> None:
    """Lambda lists versions in ascending order, but the planner does not rely on it: the
    newest are the highest numbers."""
    live = fleet(6, ON_6)
    shuffled = replace(live, versions=tuple(reversed(live.versions)))

    assert plan_function(declared(), shuffled, REVISION, retention=DELETING).actions == tuple(
        DeleteVersion(number) for number in (1, 2, 3, 4)
    )


def test_numbers_with_gaps_keep_the_newest_n_that_exist() -> None:
    versions = tuple(
        PublishedVersion(number, code(number), "", f"v{number}") for number in (3, 9, 17, 40)
    )
    live = replace(fleet(0), versions=versions, aliases=(live_alias("live", "40"),))
    desired = declared(alias("live", "r40"), labels=(("r40", 40),))

    result = plan_function(desired, live, REVISION, retention=DELETING)

    assert [a for a in result.actions if isinstance(a, DeleteVersion)] == [
        DeleteVersion(3),
        DeleteVersion(9),
    ]
