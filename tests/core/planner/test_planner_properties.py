"""Properties of the planner over random small functions, declared and live.

For any declarations and any live state: no action points an alias at a version the declarations
do not name; carrying out the plan (in ``simulator``) converges, so that planning again, at the
same or a new revision, plans nothing; and the plan is the same every time.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import (
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
from controller.core.ownership import describe, is_managed
from controller.core.plan import (
    CreateAlias,
    DeleteAlias,
    FunctionPlan,
    PendingVersion,
    PublishVersion,
    Target,
    UpdateAlias,
)
from controller.core.planner import plan_function
from tests.core.planner.builders import (
    CODE_A,
    CODE_B,
    CODE_C,
    OLD_REVISION,
    REVISION,
    UNRELATED_CODE,
    function,
    observed,
)
from tests.core.planner.simulator import apply

CODES = (CODE_A, CODE_B, CODE_C)
LABELS = ("r1", "r2", "r3", "r4")
DECLARED_NAMES = ("live", "canary", "beta", "staging")
LIVE_NAMES = (*DECLARED_NAMES, "retired", "manual")
DESCRIPTIONS = ("", "prod", "x" * 240)


@st.composite
def live_functions(draw: st.DrawFn) -> ObservedFunction:
    codes = draw(st.lists(st.sampled_from(CODES), max_size=4))
    numbers = sorted(draw(st.sets(st.integers(1, 9), min_size=len(codes), max_size=len(codes))))
    versions = tuple(
        PublishedVersion(number, code, "", f"v{number}")
        for number, code in zip(numbers, codes, strict=True)
    )
    names = draw(st.lists(st.sampled_from(LIVE_NAMES), unique=True, max_size=4))
    aliases = [draw(live_aliases(name, [v.version for v in versions])) for name in names]
    latest = draw(st.sampled_from((*CODES, UNRELATED_CODE)))
    return replace(observed(latest=latest), versions=versions, aliases=tuple(aliases))


@st.composite
def live_aliases(draw: st.DrawFn, name: str, numbers: list[str]) -> Alias:
    version = draw(st.sampled_from([*numbers, LATEST]))
    routing = {}
    if version != LATEST and draw(st.booleans()):
        # Any published version, the alias's own included: AWS shows that one while switching.
        routing = {draw(st.sampled_from(numbers)): weight(draw(st.sampled_from((0.1, 0.1 + 0.2))))}
    declared = draw(st.sampled_from(DESCRIPTIONS))
    description = draw(
        st.sampled_from((declared, describe(declared, OLD_REVISION), describe(declared, REVISION)))
    )
    return Alias(name, version, routing, description, revision_id=f"{name}-live-rev")


@st.composite
def desired_functions(draw: st.DrawFn, live: ObservedFunction) -> DesiredFunction:
    labels = LABELS[: draw(st.integers(1, 4))]
    # Mostly valid declarations, so that most plans have actions to carry out, with a few that
    # lack a code source or name a version that does not exist, so that errors are covered too.
    versions = [
        DesiredVersion(
            label,
            draw(st.sampled_from(CODES)),
            code=RepoZip(f"artifacts/{label}.zip") if draw(st.integers(0, 4)) else None,
        )
        for label in labels
    ]
    unknown = [] if draw(st.integers(0, 4)) else ["8"]
    references = [*labels, *(v.version for v in live.versions), *unknown]
    names = draw(st.lists(st.sampled_from(DECLARED_NAMES), unique=True, max_size=4))
    aliases = [draw(desired_aliases(name, references)) for name in names]
    return function(
        versions,
        aliases,
        prune=draw(st.booleans()),
        suspend=draw(st.booleans()),
        ref=live.ref,
    )


@st.composite
def desired_aliases(draw: st.DrawFn, name: str, references: list[str]) -> DesiredAlias:
    version = draw(st.sampled_from([*references, LATEST]))
    routing = {}
    if draw(st.integers(0, 2)) == 0:
        routing = {draw(st.sampled_from(references)): weight(draw(st.sampled_from(("0.1", "0.3"))))}
    return DesiredAlias(name, version, routing, draw(st.sampled_from(DESCRIPTIONS)))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DesiredFunction, ObservedFunction]:
    live = draw(live_functions())
    return draw(desired_functions(live)), live


def _satisfies(
    reference: str,
    target: Target,
    desired: DesiredFunction,
    live: ObservedFunction,
    publishes: list[PublishVersion],
) -> bool:
    """True when ``target`` is a version that ``reference`` names in the declarations."""
    declared = desired.versions.get(reference)
    if declared is None:
        return target == reference and (target == LATEST or reference.isdigit())
    if isinstance(target, PendingVersion):
        published = {publish.label: publish.code_sha256 for publish in publishes}
        return published.get(target.label) == declared.code_sha256
    return any(v.version == target and v.code_sha256 == declared.code_sha256 for v in live.versions)


@given(scenarios())
@settings(max_examples=400)
def test_no_action_points_an_alias_at_a_version_the_declarations_do_not_name(
    scenario: tuple[DesiredFunction, ObservedFunction],
) -> None:
    desired, live = scenario
    result = plan_function(desired, live, REVISION)
    publishes = [action for action in result.actions if isinstance(action, PublishVersion)]
    for action in result.actions:
        match action:
            case PublishVersion():
                assert desired.versions[action.label].code_sha256 == action.code_sha256
            case CreateAlias() | UpdateAlias():
                declaration = desired.aliases[action.name]
                assert _satisfies(declaration.version, action.version, desired, live, publishes)
                assert len(action.routing) == len(declaration.routing)
                for reference, target in zip(declaration.routing, action.routing, strict=True):
                    assert _satisfies(reference, target, desired, live, publishes)
            case DeleteAlias():
                assert desired.prune
                assert action.name not in desired.aliases
                assert is_managed(action.live.description)


@given(scenarios())
@settings(max_examples=400)
def test_carrying_out_a_plan_converges(scenario: tuple[DesiredFunction, ObservedFunction]) -> None:
    desired, live = scenario
    desired = replace(desired, suspend=False)
    result = plan_function(desired, live, REVISION)
    if result.error is not None:
        assert result.actions == ()
        return
    converged = apply(live, result.actions)
    for revision in (REVISION, OLD_REVISION):
        again = plan_function(desired, converged, revision)
        assert again.error is None
        assert again.actions == ()
        assert again.missing_versions == ()
        assert all(drift.kind == "extraneous" for drift in again.drift)
        assert not (desired.prune and again.drift)


@given(scenarios())
def test_the_plan_is_the_same_every_time(
    scenario: tuple[DesiredFunction, ObservedFunction],
) -> None:
    desired, live = scenario
    assert plan_function(desired, live, REVISION) == plan_function(desired, live, REVISION)


@given(scenarios())
def test_a_suspended_or_failing_function_plans_no_actions(
    scenario: tuple[DesiredFunction, ObservedFunction],
) -> None:
    desired, live = scenario
    result: FunctionPlan = plan_function(desired, live, REVISION)
    if desired.suspend or result.error is not None:
        assert result.actions == ()
    if result.error is not None:
        assert result.drift == ()
