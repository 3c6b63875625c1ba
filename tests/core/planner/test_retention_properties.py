"""Retention's promise over random fleets, carried out in the simulator with people racing it.

For any published versions (with gaps, codes shared between versions), live aliases (managed or
not, with routing, on ``$LATEST``, with rollout markers in any phase), declarations naming
labels and numbers, any N and any controller default, and aliases that someone creates on
arbitrary versions while the deletions run:

- no version the plan deletes is ``$LATEST``, among the newest N, named by a live alias, by the
  declarations, by one of the plan's alias writes or by a rollout marker; and no version an
  alias uses when its deletion comes is deleted (Lambda refuses it, and the pass goes on);
- without a race, exactly the expected versions are deleted (the oldest, up to the cap a pass);
- the pass after it deletes only versions the first pass moved or pruned an alias away from,
  or held back (a rollout was under way), and the pass after that deletes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from controller.core.model import (
    KEEP_ALL,
    LATEST,
    Alias,
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    ObservedFunction,
    PublishedVersion,
    RepoZip,
    weight,
)
from controller.core.ownership import describe, rollout_state
from controller.core.plan import (
    CreateAlias,
    DeleteAlias,
    DeleteVersion,
    FunctionPlan,
    PublishVersion,
    UpdateAlias,
)
from controller.core.planner import plan_function
from controller.core.retention import MAX_DELETIONS, Retention
from controller.core.rollout import decode
from tests.core.planner.builders import (
    CODE_A,
    CODE_B,
    CODE_C,
    CODE_D,
    OLD_REVISION,
    REVISION,
    UNRELATED_CODE,
    function,
    observed,
)
from tests.core.planner.simulator import Carried, carry_out

CODES = (CODE_A, CODE_B, CODE_C, CODE_D)
NEW_CODE = "nnnnQz8NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN="
"""A code no published version has: declaring it makes the plan publish."""
LIVE_NAMES = ("live", "canary", "beta", "manual", "retired")
DECLARED_NAMES = ("live", "canary", "beta")
PHASES = "SFPW"
"""Finished phases first: a rollout under way holds every deletion back."""

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def live_functions(draw: st.DrawFn) -> ObservedFunction:
    numbers = sorted(
        draw(st.sets(st.integers(1, 30), min_size=draw(st.integers(0, 6)), max_size=12))
    )
    versions = tuple(
        PublishedVersion(number, draw(st.sampled_from(CODES)), "", f"v{number}")
        for number in numbers
    )
    names = draw(st.lists(st.sampled_from(LIVE_NAMES), unique=True, max_size=4))
    published = [str(number) for number in numbers]
    aliases = tuple(draw(live_aliases(name, published)) for name in names)
    latest = draw(st.sampled_from((*CODES, NEW_CODE, UNRELATED_CODE)))
    return replace(observed(latest=latest), versions=versions, aliases=aliases)


@st.composite
def live_aliases(draw: st.DrawFn, name: str, published: list[str]) -> Alias:
    version = draw(st.sampled_from([*published, LATEST]))
    routing = {}
    if published and version != LATEST and draw(st.booleans()):
        # Any version, the alias's own included: AWS shows that one while an alias switches.
        routing = {draw(st.sampled_from(published)): weight(0.1)}
    kind = draw(st.sampled_from(("unmanaged", "managed", "managed", "managed", "rollout")))
    description = "by hand"
    if kind == "managed":
        description = describe("", OLD_REVISION)
    elif kind == "rollout" and published:
        target, stable = draw(st.sampled_from(published)), draw(st.sampled_from(published))
        phase = draw(st.sampled_from(PHASES))
        state = f"ro={target}/{stable}/0/1733140000/0/{phase}/abcdef"
        description = describe("", OLD_REVISION, rollout=state)
    return Alias(name, version, routing, description, revision_id=f"{name}-rev")


@st.composite
def declarations(draw: st.DrawFn, live: ObservedFunction) -> DesiredFunction:
    codes = draw(st.lists(st.sampled_from((*CODES, NEW_CODE)), min_size=1, max_size=3))
    versions = [
        DesiredVersion(f"r{index}", code, code=RepoZip(f"artifacts/r{index}.zip"))
        for index, code in enumerate(codes, start=1)
    ]
    references = [*(v.label for v in versions), *(v.version for v in live.versions)]
    names = draw(st.lists(st.sampled_from(DECLARED_NAMES), unique=True, max_size=3))
    aliases = []
    for name in names:
        routing = {}
        if draw(st.integers(0, 5)) == 0:
            routing = {draw(st.sampled_from(references)): Decimal("0.2")}
        aliases.append(DesiredAlias(name, draw(st.sampled_from(references)), routing))
    return function(
        versions,
        aliases,
        prune=draw(st.booleans()),
        suspend=draw(st.integers(0, 9)) == 0,
        retain_versions=draw(st.sampled_from((3, 1, 2, 4, 5, 6, 2, None, KEEP_ALL))),
        ref=live.ref,
    )


RETENTIONS = st.builds(
    Retention,
    default=st.one_of(st.none(), st.integers(1, 4)),
    may_delete=st.integers(0, 5).map(bool),
    max_deletions=st.sampled_from((50, 50, 1, 3)),
)

RACES = st.lists(st.tuples(st.integers(0, 8), st.one_of(st.none(), st.integers(1, 30))), max_size=3)
"""People creating an alias before the k-th deletion: on the version being deleted (``None``)
or on any number (one that exists at that moment, else the one being deleted)."""


class Racer:
    """Creates the aliases of ``RACES`` as the deletions run, and remembers them."""

    def __init__(self, events: list[tuple[int, int | None]]) -> None:
        self._events = events
        self._deletions = 0
        self.created: list[Alias] = []

    def __call__(self, number: int, function: ObservedFunction) -> Iterable[Alias]:
        index, self._deletions = self._deletions, self._deletions + 1
        existing = {v.number for v in function.versions}
        made = []
        for at, chosen in self._events:
            if at != index:
                continue
            target = chosen if chosen is not None and chosen in existing else number
            alias = Alias(f"person-{len(self.created)}", str(target), {}, "", "person-rev")
            self.created.append(alias)
            made.append(alias)
        return made


def named_by(alias: Alias) -> set[str]:
    state = decode(rollout_state(alias.description) or "")
    markers = {state.stable, state.target} if state is not None else set()
    return {alias.function_version, *alias.routing, *markers}


def must_keep(desired: DesiredFunction, live: ObservedFunction, plan: FunctionPlan) -> set[int]:
    """The versions retention must never delete, as the issue lists them (not counting N)."""
    names: set[str] = {LATEST}
    for alias in live.aliases:
        names |= named_by(alias)
    for declared in desired.aliases.values():
        names |= {declared.version, *declared.routing}
    for action in plan.actions:
        if isinstance(action, CreateAlias | UpdateAlias):
            names |= {str(target) for target in (action.version, *action.routing)}
    codes = {version.code_sha256 for version in desired.versions.values()}
    return {v.number for v in live.versions if v.version in names or v.code_sha256 in codes}


def kept_by_number(desired: DesiredFunction, retention: Retention) -> int | None:
    if desired.retain_versions == KEEP_ALL:
        return None
    if desired.retain_versions is None:
        return retention.default
    return desired.retain_versions


def planned_deletions(plan: FunctionPlan) -> list[int]:
    return [action.number for action in plan.actions if isinstance(action, DeleteVersion)]


def may_delete_now(live: ObservedFunction, plan: FunctionPlan, retention: Retention) -> bool:
    """Nothing holds retention back: no error, not suspended, the switch on, no rollout under
    way (as the plan or a live marker says), no alias write waiting for a publish."""
    markers = [decode(rollout_state(alias.description) or "") for alias in live.aliases]
    return (
        plan.error is None
        and not plan.suspended
        and retention.may_delete
        and not any(view.under_way for view in plan.rollouts)
        and not any(
            state is not None and state.phase in ("progressing", "paused") for state in markers
        )
        and not plan.deferred
    )


@SETTINGS
@given(st.data(), live_functions(), RETENTIONS, RACES)
def test_no_protected_version_is_ever_deleted_and_exactly_the_others_are(
    data: st.DataObject,
    live: ObservedFunction,
    retention: Retention,
    races: list[tuple[int, int | None]],
) -> None:
    desired = data.draw(declarations(live))
    plan = plan_function(desired, live, REVISION, retention=retention)
    planned = planned_deletions(plan)
    keep = kept_by_number(desired, retention)

    # The deletions are the last actions, oldest first.
    assert plan.actions[len(plan.actions) - len(planned) :] == tuple(
        DeleteVersion(number) for number in planned
    )
    assert planned == sorted(planned)
    if keep is None or not may_delete_now(live, plan, retention):
        assert planned == []
        event(f"held: {plan.retention.reason}" if plan.retention else "no retention")
        return
    publishes = sum(1 for action in plan.actions if isinstance(action, PublishVersion))
    newest = sorted((v.number for v in live.versions), reverse=True)[: max(keep - publishes, 0)]
    protected = must_keep(desired, live, plan)
    assert not set(planned) & (protected | set(newest))
    expected = sorted({v.number for v in live.versions} - protected - set(newest))
    # At most max_deletions a pass, the oldest first; the others wait for the next pass.
    assert planned == expected[: retention.max_deletions]
    assert plan.retention is not None
    assert list(plan.retention.held) == expected[retention.max_deletions :]

    racer = Racer(races)
    carried: Carried = carry_out(live, plan.actions, race=racer)
    after = carried.function
    # Lambda's refusal keeps every version an alias used when its deletion came; the others go.
    assert set(carried.deleted) | set(carried.refused) == set(planned)
    raced = {alias.function_version for alias in racer.created}
    assert {str(number) for number in carried.refused} <= raced
    if not racer.created:
        assert carried.refused == ()
    event(f"{min(len(planned), 3)}+ deletions planned, {min(len(carried.refused), 1)}+ refused")
    existing = {v.version for v in after.versions}
    for alias in after.aliases:
        assert {alias.function_version, *alias.routing} - {LATEST} <= existing, alias
    # After the pass the newest N published versions all exist.
    numbers = sorted((v.number for v in after.versions), reverse=True)
    published_now = sorted({*numbers, *newest}, reverse=True)[:keep]
    assert set(published_now) <= set(numbers)


@SETTINGS
@given(st.data(), live_functions(), RETENTIONS, RACES)
def test_the_next_passes_delete_only_what_the_first_released_then_nothing(
    data: st.DataObject,
    live: ObservedFunction,
    retention: Retention,
    races: list[tuple[int, int | None]],
) -> None:
    desired = replace(data.draw(declarations(live)), suspend=False)
    retention = replace(retention, may_delete=True, max_deletions=MAX_DELETIONS)
    first = plan_function(desired, live, REVISION, retention=retention)
    if first.error is not None:
        return
    after_first = carry_out(live, first.actions, race=Racer(races)).function
    if first.deferred:  # its alias writes wait for the publishes: the pass plans again
        again = plan_function(desired, after_first, REVISION, retention=retention)
        after_first = carry_out(after_first, again.actions).function

    second = plan_function(desired, after_first, REVISION, retention=retention)
    # What the first pass could not delete yet: versions its aliases used before it moved or
    # pruned them, and those it held back (while a rollout marker said one was under way).
    released = set()
    for alias in live.aliases:
        released |= named_by(alias)
    held = {str(number) for number in first.retention.held} if first.retention else set()
    moved = any(isinstance(a, CreateAlias | UpdateAlias | DeleteAlias) for a in first.actions)
    deleted_next = planned_deletions(second)
    assert {str(number) for number in deleted_next} <= released | held
    if not moved and not held:
        assert deleted_next == []

    after_second = carry_out(after_first, second.actions).function
    third = plan_function(desired, after_second, REVISION, retention=retention)
    if not any(view.under_way for view in third.rollouts):
        assert planned_deletions(third) == []


@SETTINGS
@given(st.data(), live_functions(), st.integers(1, 3))
def test_a_capped_pass_leaves_the_rest_to_the_next_and_all_go_in_the_end(
    data: st.DataObject, live: ObservedFunction, cap: int
) -> None:
    """With at most ``cap`` deletions a pass, passes go on deleting, oldest first, until just
    what an unlimited pass would have deleted is gone."""
    desired = replace(data.draw(declarations(live)), suspend=False, aliases={}, prune=False)
    unlimited = plan_function(desired, live, REVISION, retention=Retention(3, may_delete=True))
    if unlimited.error is not None or unlimited.deferred:
        return
    expected = set(planned_deletions(unlimited))
    capped = Retention(3, may_delete=True, max_deletions=cap)
    current, deleted = live, list[int]()
    for _ in range(len(expected) // cap + 2):
        step = plan_function(desired, current, REVISION, retention=capped)
        numbers = planned_deletions(step)
        assert len(numbers) <= cap
        assert all(number < other for number in deleted for other in numbers)
        deleted += numbers
        current = carry_out(current, step.actions).function
    assert set(deleted) == expected
