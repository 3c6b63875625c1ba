"""Properties of a whole pass against the emulated registry, for random live and desired states.

For any live function (published versions, ``$LATEST``, aliases with or without routing, managed
or not) and any valid declaration of it: one pass converges, the next plan is empty, and every
declared alias ends on exactly the code its declaration names.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.port import observe
from controller.core.model import DesiredFunction, FunctionRef
from controller.core.ownership import describe
from controller.core.planner import plan_function
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

LABELS = sorted(PACKAGES)
ALIAS_NAMES = ["live", "beta", "canary", "old"]
WEIGHTS = [0.1, 0.25, 0.5]
_names = itertools.count()

LiveAlias = tuple[str, int, int | None, bool]
LiveState = tuple[list[str], str, list[LiveAlias]]


@st.composite
def live_states(draw: st.DrawFn) -> LiveState:
    """Published labels in order, ``$LATEST``'s label, and aliases as (name, primary index,
    routing index or None, managed)."""
    published = draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=3, unique=True))
    latest = draw(st.sampled_from(LABELS))
    aliases: list[LiveAlias] = []
    for name in draw(st.lists(st.sampled_from(ALIAS_NAMES), max_size=3, unique=True)):
        primary = draw(st.integers(0, len(published) - 1))
        others = [i for i in range(len(published)) if i != primary]
        routing = draw(st.none() | st.sampled_from(others)) if others else None
        aliases.append((name, primary, routing, draw(st.booleans())))
    return published, latest, aliases


@st.composite
def declarations(draw: st.DrawFn, name: str) -> DesiredFunction:
    labels = draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=3, unique=True))
    aliases = []
    for alias_name in draw(st.lists(st.sampled_from(ALIAS_NAMES), max_size=3, unique=True)):
        target = draw(st.sampled_from(labels))
        others = [label for label in labels if label != target]
        routed = draw(st.none() | st.sampled_from(others)) if others else None
        routing = {routed: draw(st.sampled_from(WEIGHTS))} if routed else None
        aliases.append(alias(alias_name, target, routing))
    return function(name, [version(label) for label in labels], aliases, prune=draw(st.booleans()))


def seed(backend: Backend, registry: AwsRegistry, ref: FunctionRef, live: LiveState) -> None:
    published, latest, aliases = live
    backend.create_function(ref.name, package=PACKAGES[published[0]])
    numbers = []
    for label in published:
        backend.update_code(ref.name, PACKAGES[label])
        numbers.append(backend.client().publish_version(FunctionName=ref.name)["Version"])
    backend.update_code(ref.name, PACKAGES[latest])
    for name, primary, routed, managed in aliases:
        registry.create_alias(
            ref,
            name,
            function_version=numbers[primary],
            routing={numbers[routed]: Decimal("0.5")} if routed is not None else None,
            description=describe("hand-made", "0" * 40) if managed else "hand-made",
        )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(live=live_states(), data=st.data())
def test_one_pass_converges_and_the_next_plan_is_empty(
    emulator: EmulatorServer, live: LiveState, data: st.DataObject
) -> None:
    name = f"fn-{next(_names)}"  # a fresh function per example, in one emulator
    desired = data.draw(declarations(name))
    backend = Backend("emulator", emulator.endpoint_url, emulator.s3_root or Path(), emulator)
    registry = AwsRegistry(AwsSettings(endpoint_url=emulator.endpoint_url))
    seed(backend, registry, desired.ref, live)

    observed = observe(registry, desired.ref)
    outcome = apply_plan(
        registry, RepoFiles(), plan_function(desired, observed, "a" * 40), observed, "a" * 40
    )
    assert outcome.converged, outcome.error

    after = observe(registry, desired.ref)
    assert plan_function(desired, after, "b" * 40).in_sync
    sha_of = {v.version: v.code_sha256 for v in after.versions}
    live_aliases = {a.name: a for a in after.aliases}
    for declared in desired.aliases.values():
        actual = live_aliases[declared.name]
        assert sha_of[actual.function_version] == SHAS[declared.version]
        assert {sha_of[v]: share for v, share in actual.routing.items()} == {
            SHAS[label]: share for label, share in declared.routing.items()
        }
