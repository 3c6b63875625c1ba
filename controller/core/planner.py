"""The planner: what must change so that live Lambda matches the declarations.

It is the functional core of the controller. Given the desired state at a Git revision and the
observed state of the registry, it returns a ``Plan`` of values: the versions to publish, the
aliases to create, update or delete, and the drift that those actions correct. It does no I/O and
reads no clock, so the same inputs always give the same plan, the planner can be tested with
tables of plain values, and the applier can call it again for one function after re-observing it.

Each function is planned on its own: a function that cannot be converged gets an error and no
actions, and never affects the plan of another.

The actions of a function come in a fixed order:

1. publishes: first those of the code ``$LATEST`` already holds, which must be published
   before any code update replaces it (the one ``$LATEST``'s configuration already satisfies
   first), then the others in declaration order; each says what ``$LATEST`` must be given
   before it (code, configuration), as the publishes before it leave ``$LATEST``;
2. alias creates and updates, in the order the aliases are declared;
3. alias deletes (pruning), sorted by alias name;
4. version deletes (retention, ``core.retention``), oldest first.

Publishes come first because an alias may point at a version they create (``PendingVersion``);
version deletes come last, so that they run only once everything before them has succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypeVar

from controller.core.configuration import NOTHING, Configuration
from controller.core.model import (
    LATEST,
    Alias,
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionRef,
    FunctionState,
    ObservedFunction,
    PublishedVersion,
)
from controller.core.ownership import (
    declared_part,
    describe,
    is_managed,
    matches_declaration,
    rollout_state,
    seal_holds,
)
from controller.core.plan import (
    Action,
    AliasDrift,
    Change,
    CreateAlias,
    DeleteAlias,
    FunctionPlan,
    PendingVersion,
    Plan,
    PublishVersion,
    RolloutView,
    Target,
    UpdateAlias,
)
from controller.core.retention import Retention, retain
from controller.core.rollout import (
    Decision,
    Rollout,
    RolloutState,
    Verdict,
    decide,
    decode,
    encode,
)

WEIGHT_TOLERANCE = Decimal("1e-9")
"""Lambda stores a routing weight as a double, so a weight declared with more digits than a double
holds, or one that a tool computed as ``0.1 + 0.2``, reads back a hair away from the declaration.
A difference this small moves no traffic, so it is not drift and causes no write."""

_ABSENT = "(none)"
"""How a change renders the side that has no value: a missing alias's live version."""

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def plan(
    desired: Sequence[DesiredFunction],
    observed: Mapping[FunctionRef, ObservedFunction | None],
    revision: str,
    *,
    now: float | None = None,
    retention: Retention | None = None,
) -> Plan:
    """Plan every declared function, in the order given.

    A function absent from ``observed`` is treated as one that does not exist live.
    """
    functions = tuple(
        plan_function(function, observed.get(function.ref), revision, now=now, retention=retention)
        for function in desired
    )
    return Plan(revision=revision, functions=functions)


def plan_function(
    desired: DesiredFunction,
    observed: ObservedFunction | None,
    revision: str,
    *,
    now: float | None = None,
    verdicts: Mapping[str, Verdict] | None = None,
    retention: Retention | None = None,
) -> FunctionPlan:
    """Plan one function: the actions that converge it, the drift they correct, or an error.

    ``now`` (seconds since the epoch) is when a rollout's holds are measured from; without it
    no time has passed since each step began. ``verdicts`` holds, by alias, the latest analysis
    of the step a rollout is at. ``retention`` is the controller's default and whether it may
    delete versions; without it no version is ever deleted.
    """
    if observed is None:
        return FunctionPlan(desired, error=_function_missing(desired.ref))
    versions = _Versions.of(desired, observed)
    live_aliases = {alias.name: alias for alias in observed.aliases}
    problems: list[str] = []
    publishes = _publishes(versions, problems)
    targets = _each(
        desired.aliases.values(),
        lambda alias: _resolve_alias(alias, live_aliases.get(alias.name), versions),
        problems,
    )
    if problems:
        return FunctionPlan(desired, error="; ".join(problems))

    corrections = []
    views = []
    deferred = False
    for target in targets:
        live = live_aliases.get(target.name)
        rollout = target.declaration.rollout
        if rollout is None or live is None or LATEST in (live.function_version, target.version):
            # With nothing live to shift traffic from (or $LATEST, which cannot split it), an
            # alias goes to its version at once.
            correction = _compare_alias(target, live, revision)
            if correction is None and desired.adopt:
                correction = _adopt(target, live, revision)
        else:
            verdict = (verdicts or {}).get(target.name)
            correction, view = _roll_out(
                target, rollout, live, revision=revision, now=now, verdict=verdict
            )
            views.append(view)
            deferred = deferred or view.state is None
        if correction:
            corrections.append(correction)
    extraneous = _extraneous(desired, observed.aliases)
    drift = (
        *(alias_drift for alias_drift, _ in corrections),
        *(AliasDrift(alias.name, "extraneous") for alias in extraneous),
    )
    deletes = [DeleteAlias(alias.name, alias) for alias in extraneous] if desired.prune else []
    writes = [write for _, write in corrections]
    deferred = deferred and bool(publishes) and not desired.suspend
    kept, removals = retain(
        desired,
        observed,
        retention,
        writes=writes,
        publishes=len(publishes),
        rollouts=views,
        deferred=deferred,
    )
    actions: tuple[Action, ...] = (
        () if desired.suspend else (*publishes, *writes, *deletes, *removals)
    )
    return FunctionPlan(
        desired,
        actions,
        drift,
        missing_versions=versions.missing_labels,
        rollouts=tuple(views),
        deferred=deferred,
        retention=kept,
    )


def rollouts_under_way(
    desired: DesiredFunction, observed: ObservedFunction
) -> dict[str, tuple[Rollout, RolloutState]]:
    """The declared aliases whose rollout to their declared version is under way (progressing
    or paused, as their marker says), with the rollout and its state: those whose steps an
    analysis must judge."""
    live_aliases = {alias.name: alias for alias in observed.aliases}
    versions: _Versions | None = None
    found = {}
    for alias in desired.aliases.values():
        live = live_aliases.get(alias.name)
        if alias.rollout is None or live is None or not is_managed(live.description):
            continue
        state = decode(rollout_state(live.description) or "")
        if state is None or state.phase not in ("progressing", "paused"):
            continue
        versions = versions or _Versions.of(desired, observed)
        try:
            target = versions.resolve(alias.version, (state.target,), alias.name)
        except _Unplannable:
            continue
        if target == state.target:
            found[alias.name] = (alias.rollout, state)
    return found


def _function_missing(ref: FunctionRef) -> str:
    return (
        f"function {ref.name} does not exist in {ref.region}; "
        "lambda-gitops manages versions and aliases of existing functions"
    )


class _Unplannable(Exception):
    """A declaration that cannot be carried out against the function as it is live."""


def _each(
    items: Iterable[_Item], step: Callable[[_Item], _Result], problems: list[str]
) -> list[_Result]:
    """Plan each item, keeping its result or, when it cannot be planned, the reason.

    Every item is planned even after one fails, so that an error names all the problems of a
    function at once instead of one per commit.
    """
    results: list[_Result] = []
    for item in items:
        try:
            results.append(step(item))
        except _Unplannable as problem:
            problems.append(str(problem))
    return results


# -- versions: what each declared label and number resolves to -------------------------------------


@dataclass(frozen=True, slots=True)
class _Group:
    """Missing labels that one publish satisfies: one code, and a configuration that satisfies
    every label's (the most specific of them). The publish is made for the first label."""

    code_sha256: str
    configuration: Configuration
    labels: tuple[DesiredVersion, ...]

    @property
    def first(self) -> DesiredVersion:
        return self.labels[0]


@dataclass(frozen=True, slots=True)
class _Versions:
    """One function's versions, indexed once so that resolving each alias costs a lookup."""

    declared: Mapping[str, DesiredVersion]
    """Label -> declared version, in declaration order."""
    published: Mapping[str, PublishedVersion]
    """``"17"`` -> the published version."""
    by_code: Mapping[str, Sequence[PublishedVersion]]
    """CodeSha256 -> the published versions with that code, lowest first."""
    numbers: Mapping[str, Sequence[str]]
    """CodeSha256 -> the numbers of those versions, lowest first."""
    groups: tuple[_Group, ...]
    """The declared versions no published version satisfies, grouped by the publish that
    satisfies them, in declaration order of their first label."""
    group_of: Mapping[str, _Group]
    """Missing label -> its group."""
    latest: FunctionState | None
    """``$LATEST``, which the reconciler reads whenever a version is missing; without it no
    publish can skip the code update, which is safe, only slower."""

    @classmethod
    def of(cls, desired: DesiredFunction, observed: ObservedFunction) -> _Versions:
        published: dict[str, PublishedVersion] = {}
        by_code: dict[str, list[PublishedVersion]] = {}
        numbers: dict[str, list[str]] = {}
        # Lambda lists versions in ascending order already, which makes this sort nearly free.
        for published_version in sorted(observed.versions, key=_number):
            number = published_version.version
            published[number] = published_version
            by_code.setdefault(published_version.code_sha256, []).append(published_version)
            numbers.setdefault(published_version.code_sha256, []).append(number)
        groups = _grouped(_unsatisfied(desired, by_code))
        group_of = {version.label: group for group in groups for version in group.labels}
        return cls(desired.versions, published, by_code, numbers, groups, group_of, observed.latest)

    @property
    def latest_code(self) -> str:
        return self.latest.code_sha256 if self.latest is not None else ""

    @property
    def latest_configuration(self) -> Configuration:
        return self.latest.configuration if self.latest is not None else NOTHING

    @property
    def missing_labels(self) -> tuple[str, ...]:
        return tuple(version.label for group in self.groups for version in group.labels)

    def missing_in_publish_order(self) -> list[_Group]:
        """The missing groups, those of the code ``$LATEST`` already holds first (and of
        those, first the one its configuration already satisfies): publishing them needs no
        code update, and a code update for any other would replace that code. The others keep
        declaration order (the sort is stable)."""
        latest = self.latest_configuration

        def order(group: _Group) -> tuple[bool, bool]:
            same_code = group.code_sha256 == self.latest_code
            return not same_code, not group.configuration.satisfied_by(latest)

        return sorted(self.groups, key=order)

    def resolve(self, reference: str, live: Collection[str], subject: str) -> Target:
        """The version a label, a number or ``$LATEST`` stands for.

        A label is satisfied by any published version with its code and declared
        configuration. Of those, one that the alias already uses (``live``) is kept, so that a
        commit never moves an alias between versions that both satisfy it; otherwise the
        highest, the most recent publish, is chosen.
        """
        declared = self.declared.get(reference)
        if declared is not None:
            return self._satisfying(declared, live)
        if reference == LATEST or reference in self.published:
            return reference
        if reference.isascii() and reference.isdigit():
            raise _Unplannable(f"{subject} version {reference}, which does not exist")
        raise _Unplannable(f"{subject} {reference!r}, which is not a label under versions")

    def release_of(self, reference: str, target: Target) -> tuple[str, Configuration]:
        """The code and configuration a routed alias's version or route stands for, as far as
        its declaration can tell versions apart: a label's declared ones, a number's live ones.
        Nothing else reaches here: only a label can be pending, and ``$LATEST`` takes no
        routing (``_resolve_alias`` and ``_resolve_route`` refuse it first)."""
        declared = self.declared.get(reference)
        if declared is not None:
            return declared.code_sha256, declared.configuration
        assert isinstance(target, str), target
        version = self.published[target]
        return version.code_sha256, version.configuration

    def _satisfying(self, declared: DesiredVersion, live: Collection[str]) -> Target:
        numbers = self.numbers.get(declared.code_sha256, ())
        if declared.configuration is not NOTHING:
            candidates = self.by_code.get(declared.code_sha256, ())
            numbers = [v.version for v in candidates if declared.is_satisfied_by(v)]
        if not numbers:
            return PendingVersion(self.group_of[declared.label].first.label)
        kept = [number for number in numbers if number in live]
        return kept[-1] if kept else numbers[-1]


def _number(version: PublishedVersion) -> int:
    return version.number


def any_version_missing(desired: DesiredFunction, versions: Iterable[PublishedVersion]) -> bool:
    """Whether a declared version is missing: no published version has its code and declared
    configuration (so that a publish, and ``$LATEST``, is needed)."""
    by_code: dict[str, list[PublishedVersion]] = {}
    for version in versions:
        by_code.setdefault(version.code_sha256, []).append(version)
    return bool(_unsatisfied(desired, by_code))


def _unsatisfied(
    desired: DesiredFunction, by_code: Mapping[str, Sequence[PublishedVersion]]
) -> list[DesiredVersion]:
    """The declared versions that none of the published versions, indexed by code, satisfies."""
    return [
        declared
        for declared in desired.versions.values()
        if not _any_satisfies(declared, by_code.get(declared.code_sha256, ()))
    ]


def _any_satisfies(declared: DesiredVersion, same_code: Sequence[PublishedVersion]) -> bool:
    """Whether a version of the label's code satisfies it; any does, when the label declares
    no configuration (the common case, answered without a look at each version)."""
    if declared.configuration is NOTHING:
        return bool(same_code)
    return any(declared.is_satisfied_by(version) for version in same_code)


def _grouped(missing: Sequence[DesiredVersion]) -> tuple[_Group, ...]:
    """The missing labels grouped by publish: labels with the same code and configuration
    share one, and so does a label whose declared fields another label of its code also
    declares, with the same values (that publish satisfies both)."""
    if not missing:
        return ()
    exact: dict[tuple[str, Configuration], list[DesiredVersion]] = {}
    for declared in missing:
        exact.setdefault((declared.code_sha256, declared.configuration), []).append(declared)
    # The most specific configurations first, so that each group joins one that covers it.
    by_specificity = sorted(exact.items(), key=lambda item: -len(item[0][1].declared))
    hosts: list[tuple[tuple[str, Configuration], list[DesiredVersion]]] = []
    for (code, configuration), labels in by_specificity:
        host = next(
            (
                host_labels
                for (host_code, host_configuration), host_labels in hosts
                if host_code == code and configuration.satisfied_by(host_configuration)
            ),
            None,
        )
        if host is None:
            hosts.append(((code, configuration), list(labels)))
        else:
            host.extend(labels)
    order = {declared.label: index for index, declared in enumerate(missing)}
    groups = [
        _Group(code, configuration, tuple(sorted(labels, key=lambda v: order[v.label])))
        for (code, configuration), labels in hosts
    ]
    return tuple(sorted(groups, key=lambda group: order[group.first.label]))


@dataclass
class _Latest:
    """``$LATEST`` as the plan's publishes leave it, one after another: what each publish
    must change first."""

    code_sha256: str
    configuration: Configuration


def _publishes(versions: _Versions, problems: list[str]) -> list[PublishVersion]:
    """One publish per missing group, in publish order, each saying what ``$LATEST`` must be
    given first: its code (from the code source), then the declared configuration."""
    if not versions.groups:
        return []
    state = _Latest(versions.latest_code, versions.latest_configuration)
    return _each(versions.missing_in_publish_order(), lambda g: _publish(g, state), problems)


def _publish(group: _Group, latest: _Latest) -> PublishVersion:
    """Publish the code and configuration that ``group``'s labels declare, updating ``$LATEST``
    first as needed; ``latest`` is moved on to what it holds after the publish.

    The code is uploaded when ``$LATEST`` holds other code, or another architecture than one
    declared: Lambda changes a function's architecture only with its code (UpdateFunctionCode
    takes ``Architectures``, UpdateFunctionConfiguration does not).
    """
    first = group.first
    description = next((v.description for v in group.labels if v.description is not None), None)
    secrets = frozenset().union(*(version.secrets for version in group.labels))
    configuration = group.configuration
    architectures = configuration.architectures
    other_code = group.code_sha256 != latest.code_sha256
    other_architecture = (
        architectures is not None and architectures != latest.configuration.architectures
    )
    code = None
    if other_code or other_architecture:
        code = next((version.code for version in group.labels if version.code is not None), None)
        if code is None and other_code:
            raise _Unplannable(f"version {first.label} is missing and has no code source")
        if code is None:
            shown = ", ".join(latest.configuration.architectures or ("unknown",))
            raise _Unplannable(
                f"version {first.label} declares architectures [{', '.join(architectures or ())}]"
                f", but $LATEST is [{shown}]: Lambda changes the architecture only with the code "
                "(UpdateFunctionCode), so the version needs a code source"
            )
    latest.code_sha256 = group.code_sha256
    latest.configuration = configuration.over(latest.configuration)
    return PublishVersion(
        first.label,
        first.code_sha256,
        description,
        update_code=code,
        configuration=configuration,
        secrets=secrets,
    )


# -- aliases: the declaration resolved, compared with live -----------------------------------------


@dataclass(frozen=True, slots=True)
class _Route:
    """One routing entry of a declared alias: what was written and what it resolved to."""

    reference: str
    target: Target
    weight: Decimal


@dataclass(frozen=True, slots=True)
class _AliasTarget:
    """A declared alias with its version and routing resolved to targets."""

    declaration: DesiredAlias
    version: Target
    routes: tuple[_Route, ...]

    @property
    def name(self) -> str:
        return self.declaration.name

    @property
    def routing(self) -> dict[Target, Decimal]:
        return {route.target: route.weight for route in self.routes}


def _resolve_alias(alias: DesiredAlias, live: Alias | None, versions: _Versions) -> _AliasTarget:
    """Resolve an alias's declaration, refusing what Lambda would refuse (rules L21a, c, d, e)."""
    live_version = () if live is None else (live.function_version,)
    version = versions.resolve(alias.version, live_version, f"alias {alias.name} points at")
    if len(alias.routing) > 1:
        raise _Unplannable(f"alias {alias.name} routes to {len(alias.routing)} versions; at most 1")
    if alias.routing and version == LATEST:
        raise _Unplannable(
            f"alias {alias.name} points at $LATEST, which Lambda does not allow to route traffic "
            "to a second version"
        )
    live_routing = {} if live is None else live.effective_routing
    routes = tuple(
        _resolve_route(alias, reference, weight, live_routing, versions)
        for reference, weight in alias.routing.items()
    )
    own_code, own_configuration = (
        versions.release_of(alias.version, version) if routes else ("", NOTHING)
    )
    for route in routes:
        code, configuration = versions.release_of(route.reference, route.target)
        if route.target == version or (
            code == own_code and not configuration.conflicts_with(own_configuration)
        ):
            apart = (
                ""
                if configuration.is_empty and own_configuration.is_empty
                else " with no configuration field to tell them apart"
            )
            raise _Unplannable(
                f"alias {alias.name} routes to {route.reference}, which is the same code as its "
                f"version {alias.version}{apart}; Lambda refuses routing to an alias's own "
                "version"
            )
    return _AliasTarget(alias, version, routes)


def _resolve_route(
    alias: DesiredAlias,
    reference: str,
    weight: Decimal,
    live_routing: Mapping[str, Decimal],
    versions: _Versions,
) -> _Route:
    if reference == LATEST:
        raise _Unplannable(
            f"alias {alias.name} routes to $LATEST; routing can name only a published version"
        )
    target = versions.resolve(reference, live_routing.keys(), f"alias {alias.name} routes to")
    return _Route(reference, target, weight)


def _compare_alias(
    target: _AliasTarget, live: Alias | None, revision: str
) -> tuple[AliasDrift, CreateAlias | UpdateAlias] | None:
    """The drift of one declared alias and the write that corrects it; ``None`` when in sync."""
    if live is None:
        return (
            AliasDrift(target.name, "missing", _missing_changes(target)),
            CreateAlias(target.name, target.version, target.routing, _describe(target, revision)),
        )
    changes = _changes(target, live)
    if not changes:
        return None
    update = UpdateAlias(
        target.name,
        target.version,
        target.routing,
        _describe(target, revision),
        revision_id=live.revision_id,
        live=live,
    )
    return AliasDrift(target.name, "differs", changes), update


def _adopt(
    target: _AliasTarget, live: Alias | None, revision: str
) -> tuple[AliasDrift, UpdateAlias] | None:
    """The write that adds the ownership marker to an alias that is as declared but lacks it,
    changing nothing else (``adopt: true``); ``None`` when it has the marker already.

    The version and routing written are the live ones (the declaration resolved to them), so
    no traffic moves; the alias's ``RevisionId`` is the precondition, as for every update.
    """
    if live is None or is_managed(live.description):
        return None
    written = _describe(target, revision)
    update = UpdateAlias(
        target.name,
        target.version,
        target.routing,
        written,
        revision_id=live.revision_id,
        live=live,
    )
    marker = written[len(declared_part(written)) :].strip()
    return AliasDrift(target.name, "adopt", (Change("ownership", _ABSENT, marker),)), update


def _roll_out(
    target: _AliasTarget,
    rollout: Rollout,
    live: Alias,
    *,
    revision: str,
    now: float | None,
    verdict: Verdict | None,
) -> tuple[tuple[AliasDrift, UpdateAlias] | None, RolloutView]:
    """The write (if any) that takes a rollout's alias where ``core.rollout.decide`` says,
    and where the rollout stands then."""
    declared = target.declaration
    marker = rollout_state(live.description) if is_managed(live.description) else None
    state = decode(marker) if marker is not None else None
    if isinstance(target.version, PendingVersion):
        # The state names the target by number: the rollout begins once it is published.
        reason = f"waiting for {declared.version} to be published"
        view = RolloutView(
            declared.name, rollout, declared.version, live.function_version, Decimal(0), reason
        )
        return None, view
    decision = decide(
        rollout,
        stable=live.function_version,
        target=target.version,
        state=state,
        now=now if now is not None else float(state.started if state else 0),
        approved=declared.approve,
        verdict=verdict,
    )
    view = _rollout_view(declared.name, rollout, target.version, decision)
    written = encode(decision.state) if decision.state is not None else None
    routing: dict[Target, Decimal] = dict(decision.routing.items())
    same = (
        decision.version == live.function_version
        and _same_routing(routing, live.effective_routing)
        and matches_declaration(live.description, declared.description)
        and written == marker
    )
    if same:
        return None, view
    changes = []
    if decision.version != live.function_version:
        changes.append(Change("version", live.function_version, decision.version))
    if not _same_routing(routing, live.effective_routing):
        live_routing = _render_live_routing(live.effective_routing)
        changes.append(Change("routing", live_routing, _render_routing(routing)))
    if not matches_declaration(live.description, declared.description):
        live_text = _quote(declared_part(live.description))
        changes.append(Change("description", live_text, _quote(declared.description)))
    if written != marker:
        changes.append(Change("rollout", marker or _ABSENT, written or _ABSENT))
    # A rollout moving on by itself is not drift: the alias is as the controller left it (its
    # seal holds) in a rollout to this target. Anything else (a hand edit, a new target) is.
    moving_on = state is not None and state.target == target.version and _intact(live)
    update = UpdateAlias(
        declared.name,
        decision.version,
        routing,
        describe(declared.description, revision, rollout=written),
        revision_id=live.revision_id,
        live=live,
    )
    kind: Literal["differs", "rollout"] = "rollout" if moving_on else "differs"
    return (AliasDrift(declared.name, kind, tuple(changes)), update), view


def _intact(live: Alias) -> bool:
    """The live alias is as its seal says the controller wrote it."""
    return bool(seal_holds(live.function_version, live.effective_routing, live.description))


def _rollout_view(alias: str, rollout: Rollout, target: str, decision: Decision) -> RolloutView:
    state = decision.state
    share = decision.routing.get(target)
    if share is None:
        share = Decimal(1) if decision.version == target else Decimal(0)
    step_ends = None
    if state is not None and state.phase == "progressing" and state.step < len(rollout.steps):
        step_ends = state.started + rollout.steps[state.step].hold
    stable = state.stable if state is not None else decision.version
    return RolloutView(alias, rollout, target, stable, share, decision.reason, state, step_ends)


def _describe(target: _AliasTarget, revision: str) -> str:
    return describe(target.declaration.description, revision)


def _changes(target: _AliasTarget, live: Alias) -> tuple[Change, ...]:
    """The fields in which a live alias differs from its resolved declaration."""
    changes: list[Change] = []
    if target.version != live.function_version:
        changes.append(Change("version", live.function_version, _render_version(target)))
    live_routing = live.effective_routing
    if not _same_routing(target.routing, live_routing):
        changes.append(
            Change("routing", _render_live_routing(live_routing), _render_routes(target))
        )
    if not matches_declaration(live.description, target.declaration.description):
        changes.append(
            Change(
                "description",
                _quote(declared_part(live.description)),
                _quote(target.declaration.description),
            )
        )
    return tuple(changes)


def _same_routing(desired: Mapping[Target, Decimal], live: Mapping[str, Decimal]) -> bool:
    """True when both send the same versions the same share of traffic, as numbers."""
    if len(desired) != len(live):
        return False
    for target, weight in desired.items():
        live_weight = live.get(target) if isinstance(target, str) else None
        if live_weight is None or abs(weight - live_weight) > WEIGHT_TOLERANCE:
            return False
    return True


def _missing_changes(target: _AliasTarget) -> tuple[Change, ...]:
    """What creating the alias sets: its version always, routing and description when given."""
    changes = [Change("version", _ABSENT, _render_version(target))]
    if target.routes:
        changes.append(Change("routing", _ABSENT, _render_routes(target)))
    if target.declaration.description:
        changes.append(Change("description", _ABSENT, _quote(target.declaration.description)))
    return tuple(changes)


def _extraneous(desired: DesiredFunction, live_aliases: Iterable[Alias]) -> list[Alias]:
    """The managed aliases no longer declared, by name: reported, and pruned if asked.

    An alias without the marker was made by someone else and is neither reported nor touched.
    """
    return sorted(
        (
            alias
            for alias in live_aliases
            if alias.name not in desired.aliases and is_managed(alias.description)
        ),
        key=lambda alias: alias.name,
    )


# -- rendering: values as a person reads them in a plan --------------------------------------------


def _render_version(target: _AliasTarget) -> str:
    return _render_target(target.declaration.version, target.version)


def _render_target(reference: str, target: Target) -> str:
    """``r42 (3)`` for a label, ``r42 (new)`` for one this plan publishes, ``17`` for a number."""
    if isinstance(target, PendingVersion):
        return f"{reference} (new)"
    if reference == target:
        return target
    return f"{reference} ({target})"


def _render_routes(target: _AliasTarget) -> str:
    entries = sorted(
        f"{_render_target(route.reference, route.target)}: {_render_weight(route.weight)}"
        for route in target.routes
    )
    return "{" + ", ".join(entries) + "}"


def _render_routing(routing: Mapping[Target, Decimal]) -> str:
    entries = sorted(f"{version}: {_render_weight(weight)}" for version, weight in routing.items())
    return "{" + ", ".join(entries) + "}"


def _render_live_routing(routing: Mapping[str, Decimal]) -> str:
    entries = sorted(f"{version}: {_render_weight(weight)}" for version, weight in routing.items())
    return "{" + ", ".join(entries) + "}"


def _render_weight(weight: Decimal) -> str:
    return format(weight.normalize(), "f")


def _quote(text: str) -> str:
    return f'"{text}"'
