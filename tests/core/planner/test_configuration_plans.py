"""The planner's rules for a version's configuration, as tables: a label is satisfied by a
published version with its code *and* every declared configuration field (rule L48), a missing
one is published after ``$LATEST`` is given what it lacks, and labels of one code with
different configurations are different versions.

``v(n, code, **fields)`` is published version n with that configuration, as the registry
adapter reads it (Lambda's defaults for what an answer leaves out).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from controller.core.configuration import Configuration, environment
from controller.core.model import (
    DesiredFunction,
    DesiredVersion,
    FunctionState,
    ObservedFunction,
    PublishedVersion,
)
from controller.core.ownership import describe
from controller.core.plan import (
    CreateAlias,
    PendingVersion,
    PublishVersion,
    UpdateAlias,
)
from controller.core.planner import plan_function
from tests.core.planner.builders import (
    CODE_A,
    CODE_B,
    OLD_REVISION,
    REF,
    REVISION,
    ZIP_B,
    alias,
    function,
    live_alias,
)

MARK = describe("", REVISION)
OLD_MARK = describe("", OLD_REVISION)
DEFAULTS = Configuration(
    environment=(),
    memory_size=128,
    timeout=3,
    ephemeral_storage=512,
    runtime="python3.12",
    handler="app.handler",
    layers=(),
    architectures=("x86_64",),
)
"""A function as Lambda creates it: what every live version has unless it says otherwise."""


def live_configuration(**fields: Any) -> Configuration:
    if "environment" in fields:
        fields["environment"] = environment(fields["environment"])
    return replace(DEFAULTS, **fields)


def v(number: int, code: str, **fields: Any) -> PublishedVersion:
    return PublishedVersion(
        number, code, "", f"v{number}-rev", configuration=live_configuration(**fields)
    )


def latest(code: str, **fields: Any) -> FunctionState:
    return FunctionState(
        name=REF.name,
        arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{REF.name}",
        code_sha256=code,
        revision_id="latest-rev",
        state="Active",
        last_update_status="Successful",
        configuration=live_configuration(**fields),
    )


def live(
    *versions: PublishedVersion, head: FunctionState | None = None, aliases: tuple[Any, ...] = ()
) -> ObservedFunction:
    return ObservedFunction(REF, head or latest(CODE_A), versions, aliases)


def label(
    name: str,
    code: str,
    *,
    source: Any = None,
    secrets: frozenset[str] = frozenset(),
    **fields: Any,
) -> DesiredVersion:
    if "environment" in fields:
        fields["environment"] = environment(fields["environment"])
    return DesiredVersion(
        name, code, code=source, configuration=Configuration(**fields), secrets=secrets
    )


def planned(desired: DesiredFunction, observed: ObservedFunction) -> Any:
    return plan_function(desired, observed, REVISION)


ON_1 = live_alias("live", "1", description=OLD_MARK)
ON_2 = live_alias("live", "2", description=OLD_MARK)


# -- a label is satisfied by code and declared configuration ------------------------------------

SATISFIED = [
    pytest.param(
        function([label("r1", CODE_A, memory_size=512)], [alias("live", "r1")]),
        live(v(1, CODE_A), v(2, CODE_A, memory_size=512), aliases=(ON_2,)),
        id="an alias on the version with the label's code and configuration is in sync",
    ),
    pytest.param(
        function([label("r1", CODE_A, environment={"STAGE": "prod"})], [alias("live", "r1")]),
        live(v(1, CODE_A, environment={"STAGE": "prod"}, timeout=30), aliases=(ON_1,)),
        id="fields the label does not declare may be anything",
    ),
    pytest.param(
        function([label("r1", CODE_A, environment={})], [alias("live", "r1")]),
        live(v(1, CODE_A), aliases=(ON_1,)),
        id="an empty environment is satisfied by a version with no variables",
    ),
    pytest.param(
        function([label("r1", CODE_A, memory_size=512)], [alias("live", "r1")]),
        live(v(1, CODE_A, memory_size=512), v(2, CODE_A, memory_size=512), aliases=(ON_1,)),
        id="stickiness: an alias on the lower of two satisfying versions stays there",
    ),
]


@pytest.mark.parametrize(("desired", "observed"), SATISFIED)
def test_a_satisfied_label_plans_nothing(
    desired: DesiredFunction, observed: ObservedFunction
) -> None:
    result = planned(desired, observed)

    assert result.error is None
    assert result.actions == ()
    assert result.in_sync


def test_a_label_matching_an_existing_version_adopts_it_without_a_publish() -> None:
    """The alias moves to the version that has the declared configuration; nothing is
    published, whatever ``$LATEST`` holds."""
    desired = function([label("r1", CODE_A, memory_size=512)], [alias("live", "r1")])
    observed = live(v(1, CODE_A), v(2, CODE_A, memory_size=512), v(3, CODE_A), aliases=(ON_1,))

    result = planned(desired, observed)

    assert result.missing_versions == ()
    assert result.actions == (
        UpdateAlias("live", "2", {}, MARK, revision_id="live-rev", live=ON_1),
    )


def test_an_unreported_field_never_satisfies_a_declaration_of_it() -> None:
    unreported = PublishedVersion(1, CODE_A, "", "v1-rev")
    desired = function([label("r1", CODE_A, runtime="python3.12")], [alias("live", "r1")])

    result = planned(desired, live(unreported, aliases=(ON_1,)))

    assert result.missing_versions == ("r1",)


# -- a missing label is published with its configuration ----------------------------------------


def test_a_configuration_only_change_publishes_from_latest_and_moves_the_alias() -> None:
    desired = function(
        [label("r2", CODE_A, environment={"STAGE": "prod"}, memory_size=512)],
        [alias("live", "r2")],
    )
    observed = live(v(1, CODE_A), aliases=(ON_1,))

    result = planned(desired, observed)

    configuration = Configuration(environment=environment({"STAGE": "prod"}), memory_size=512)
    assert result.missing_versions == ("r2",)
    assert result.actions == (
        PublishVersion("r2", CODE_A, None, configuration=configuration),
        UpdateAlias("live", PendingVersion("r2"), {}, MARK, revision_id="live-rev", live=ON_1),
    )


def test_new_code_and_configuration_are_published_after_a_code_update() -> None:
    desired = function(
        [
            label(
                "r2",
                CODE_B,
                source=ZIP_B,
                timeout=30,
                secrets=frozenset({"K"}),
                environment={"K": "s"},
            )
        ],
        [alias("live", "r2")],
    )

    result = planned(desired, live(v(1, CODE_A), aliases=(ON_1,)))

    (publish, _) = result.actions
    assert publish == PublishVersion(
        "r2",
        CODE_B,
        None,
        update_code=ZIP_B,
        configuration=Configuration(environment=environment({"K": "s"}), timeout=30),
        secrets=frozenset({"K"}),
    )


def test_several_labels_of_one_code_with_different_configurations_are_published_in_turn() -> None:
    """The one ``$LATEST`` already satisfies goes first (no update), then the others in
    declaration order; each alias goes to its own label's new version."""
    desired = function(
        [
            label("small", CODE_A, memory_size=256),
            label("large", CODE_A, memory_size=1024),
            label("usual", CODE_A, memory_size=512),
        ],
        [alias("a", "small"), alias("b", "large"), alias("c", "usual")],
    )
    observed = live(v(1, CODE_A), head=latest(CODE_A, memory_size=512))

    result = planned(desired, observed)

    publishes = [a for a in result.actions if isinstance(a, PublishVersion)]
    creates = [a for a in result.actions if isinstance(a, CreateAlias)]
    assert [(p.label, p.configuration.memory_size) for p in publishes] == [
        ("usual", 512),
        ("small", 256),
        ("large", 1024),
    ]
    assert all(p.update_code is None for p in publishes)
    assert [(c.name, c.version) for c in creates] == [
        ("a", PendingVersion("small")),
        ("b", PendingVersion("large")),
        ("c", PendingVersion("usual")),
    ]


def test_a_label_whose_fields_another_label_of_its_code_declares_shares_its_publish() -> None:
    desired = function(
        [label("any", CODE_A), label("tuned", CODE_A, memory_size=512, timeout=30)],
        [alias("a", "any"), alias("b", "tuned")],
    )

    result = planned(desired, live(head=latest(CODE_B)))

    assert result.error == "version any is missing and has no code source"
    desired = replace(
        desired,
        versions={
            "any": label("any", CODE_A),
            "tuned": label("tuned", CODE_A, source=ZIP_B, memory_size=512, timeout=30),
        },
    )
    result = planned(desired, live(head=latest(CODE_B)))
    (publish, *creates) = result.actions
    assert isinstance(publish, PublishVersion)
    assert (publish.label, publish.configuration) == (
        "any",
        Configuration(memory_size=512, timeout=30),
    )
    assert [c.version for c in creates if isinstance(c, CreateAlias)] == [
        PendingVersion("any"),
        PendingVersion("any"),
    ]
    assert result.missing_versions == ("any", "tuned")


def test_a_new_architecture_is_set_with_the_code_and_needs_a_code_source() -> None:
    arm = [label("r2", CODE_A, architectures=("arm64",))]

    without_source = planned(function(arm, [alias("live", "r2")]), live(v(1, CODE_A)))

    assert without_source.error is not None
    assert "declares architectures [arm64], but $LATEST is [x86_64]" in without_source.error
    assert "needs a code source" in without_source.error
    with_source = planned(
        function([label("r2", CODE_A, source=ZIP_B, architectures=("arm64",))]),
        live(v(1, CODE_A)),
    )
    (publish,) = with_source.actions
    assert isinstance(publish, PublishVersion)
    assert publish.update_code == ZIP_B


def test_publishes_are_planned_from_latest_as_the_earlier_ones_leave_it() -> None:
    """After ``arm`` is published, ``$LATEST`` is arm64; ``x86`` then needs the code again."""
    desired = function(
        [
            label("arm", CODE_A, source=ZIP_B, architectures=("arm64",)),
            label("x86", CODE_A, source=ZIP_B, architectures=("x86_64",), memory_size=256),
        ]
    )

    result = planned(desired, live(v(1, CODE_A, memory_size=512)))

    publishes = [a for a in result.actions if isinstance(a, PublishVersion)]
    assert [(p.label, p.update_code) for p in publishes] == [("arm", ZIP_B), ("x86", ZIP_B)]


# -- routing between versions of one code ------------------------------------------------------


def test_routing_between_two_configurations_of_one_code_goes_to_two_versions() -> None:
    desired = function(
        [label("blue", CODE_A, memory_size=256), label("green", CODE_A, memory_size=512)],
        [alias("live", "blue", {"green": "0.1"})],
    )
    observed = live(v(1, CODE_A, memory_size=256), v(2, CODE_A, memory_size=512))

    result = planned(desired, observed)

    assert result.error is None
    (create,) = result.actions
    assert isinstance(create, CreateAlias)
    assert (create.version, dict(create.routing)) == ("1", {"2": Decimal("0.1")})


def test_routing_to_a_label_that_may_be_the_aliases_own_version_is_refused() -> None:
    desired = function(
        [label("blue", CODE_A, memory_size=256), label("any", CODE_A)],
        [alias("live", "blue", {"any": "0.1"})],
    )

    result = planned(desired, live(v(1, CODE_A, memory_size=256)))

    assert result.error is not None
    assert "with no configuration field to tell them apart" in result.error
