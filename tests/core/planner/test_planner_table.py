"""The planner's rules as tables: each row is a declaration, a live function, and the plan.

Row ids state the behaviour; DESIGN.md ("Resolving a label", "Comparing desired with live",
"Ownership") is the specification they follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from controller.core.model import LATEST, DesiredFunction, ObservedFunction, weight
from controller.core.ownership import describe
from controller.core.plan import (
    Action,
    AliasDrift,
    Change,
    CreateAlias,
    DeleteAlias,
    PendingVersion,
    PublishVersion,
    UpdateAlias,
)
from controller.core.planner import plan_function
from tests.core.planner.builders import (
    CODE_A,
    CODE_B,
    CODE_C,
    CODE_D,
    OLD_REVISION,
    REVISION,
    ZIP_B,
    ZIP_C,
    alias,
    function,
    live_alias,
    observed,
    version,
)

MARK = describe("", REVISION)
OLD_MARK = describe("", OLD_REVISION)
LONG = "a release note that goes on " * 12


@dataclass(frozen=True)
class Expected:
    """What the plan of one function must be. ``drift=None`` leaves the drift unchecked."""

    actions: tuple[Action, ...] = ()
    drift: tuple[AliasDrift, ...] | None = ()
    error: str | None = None
    missing_versions: tuple[str, ...] = ()


IN_SYNC = Expected()


def check(desired: DesiredFunction, live: ObservedFunction | None, expected: Expected) -> None:
    result = plan_function(desired, live, REVISION)
    assert result.error == expected.error
    assert result.actions == expected.actions
    assert result.missing_versions == expected.missing_versions
    if expected.drift is not None:
        assert result.drift == expected.drift


# -- resolving a label -----------------------------------------------------------------------------

_on_1 = live_alias("live", "1", description=OLD_MARK)
_on_3 = live_alias("live", "3", description=OLD_MARK)

RESOLVING = [
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "r1")]),
        observed(CODE_A, aliases=[_on_1]),
        IN_SYNC,
        id="an alias on the version with its label's code is in sync: empty plan",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "1")]),
        observed(CODE_A, CODE_B, aliases=[_on_1]),
        IN_SYNC,
        id="an alias on the published number it declares is in sync",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "r1")]),
        observed(CODE_A),
        Expected(
            actions=(CreateAlias("live", "1", {}, MARK),),
            drift=(AliasDrift("live", "missing", (Change("version", "(none)", "r1 (1)"),)),),
        ),
        id="a missing alias is created on the version with its label's code, with the marker",
    ),
    pytest.param(
        function([version("r1", CODE_A), version("r2", CODE_B)], [alias("live", "r2")]),
        observed(CODE_A, CODE_B, aliases=[_on_1]),
        Expected(
            actions=(UpdateAlias("live", "2", {}, MARK, revision_id="live-rev", live=_on_1),),
            drift=(AliasDrift("live", "differs", (Change("version", "1", "r2 (2)"),)),),
        ),
        id="an alias on another version is moved to its label's version",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "r1")]),
        observed(CODE_A, CODE_A, aliases=[_on_1]),
        IN_SYNC,
        id="stickiness: an alias on the lower of two versions with its code stays there",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "r1"), alias("beta", "r1")]),
        observed(CODE_A, CODE_A, aliases=[_on_1]),
        Expected(actions=(CreateAlias("beta", "2", {}, MARK),), drift=None),
        id="stickiness: a new alias goes to the highest version with its label's code",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "r1")]),
        observed(CODE_A, CODE_A, CODE_B, aliases=[_on_3]),
        Expected(
            actions=(UpdateAlias("live", "2", {}, MARK, revision_id="live-rev", live=_on_3),),
            drift=None,
        ),
        id="an alias on other code moves to the highest version with its label's code",
    ),
    pytest.param(
        function(
            [version("r1", CODE_A), version("r2", CODE_B)], [alias("live", "r1", {"r2": "0.1"})]
        ),
        observed(CODE_A, CODE_B, CODE_B, aliases=[live_alias("live", "1", {"2": 0.1})]),
        IN_SYNC,
        id="stickiness: a routing label keeps the live routing version with its code",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", LATEST)]),
        observed(CODE_A, aliases=[live_alias("live", LATEST)]),
        IN_SYNC,
        id="an alias declared on $LATEST and live on $LATEST is in sync",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", LATEST)]),
        observed(CODE_A),
        Expected(actions=(CreateAlias("live", LATEST, {}, MARK),), drift=None),
        id="an alias declared on $LATEST is created on $LATEST",
    ),
]


@pytest.mark.parametrize(("desired", "live", "expected"), RESOLVING)
def test_resolving_a_label(
    desired: DesiredFunction, live: ObservedFunction, expected: Expected
) -> None:
    check(desired, live, expected)


# -- comparing routing and descriptions ------------------------------------------------------------

_two = [version("r1", CODE_A), version("r2", CODE_B)]
_routed = live_alias("live", "1", {"2": 0.1}, description=OLD_MARK)
_plain = live_alias("live", "1", description=OLD_MARK)
_described = live_alias("live", "1", description=describe("old text", OLD_REVISION))


def _routing_to(weight_text: str) -> DesiredFunction:
    return function(_two, [alias("live", "r1", {"r2": weight_text})])


COMPARING = [
    pytest.param(
        function(_two, [alias("live", "r1")]),
        observed(CODE_A, CODE_B, aliases=[_routed]),
        Expected(
            actions=(UpdateAlias("live", "1", {}, MARK, revision_id="live-rev", live=_routed),),
            drift=(AliasDrift("live", "differs", (Change("routing", "{2: 0.1}", "{}"),)),),
        ),
        id="routing that is no longer declared is cleared by an update with empty routing",
    ),
    pytest.param(
        _routing_to("0.1"),
        observed(CODE_A, CODE_B, aliases=[_plain]),
        Expected(
            actions=(
                UpdateAlias(
                    "live", "1", {"2": Decimal("0.1")}, MARK, revision_id="live-rev", live=_plain
                ),
            ),
            drift=(AliasDrift("live", "differs", (Change("routing", "{}", "{r2 (2): 0.1}"),)),),
        ),
        id="declared routing is added by an update",
    ),
    pytest.param(
        _routing_to("0.25"),
        observed(CODE_A, CODE_B, aliases=[_routed]),
        Expected(
            actions=(
                UpdateAlias(
                    "live", "1", {"2": Decimal("0.25")}, MARK, revision_id="live-rev", live=_routed
                ),
            ),
            drift=(
                AliasDrift("live", "differs", (Change("routing", "{2: 0.1}", "{r2 (2): 0.25}"),)),
            ),
        ),
        id="a changed routing weight is an update",
    ),
    pytest.param(
        _routing_to("0.10"),
        observed(CODE_A, CODE_B, aliases=[_routed]),
        IN_SYNC,
        id="weights are compared as numbers: declared 0.10 equals live 0.1",
    ),
    pytest.param(
        _routing_to("0.1"),
        observed(CODE_A, CODE_B, aliases=[live_alias("live", "1", {"2": 0.1})]),
        IN_SYNC,
        id="a weight read from JSON's float 0.1 equals the declared decimal 0.1",
    ),
    pytest.param(
        _routing_to("0.3"),
        observed(CODE_A, CODE_B, aliases=[live_alias("live", "1", {"2": 0.1 + 0.2})]),
        IN_SYNC,
        id="float noise is not drift: live 0.30000000000000004 equals declared 0.3",
    ),
    pytest.param(
        _routing_to("0.12345678901234567890"),
        observed(CODE_A, CODE_B, aliases=[live_alias("live", "1", {"2": 0.12345678901234567890})]),
        IN_SYNC,
        id="a weight declared with more digits than a double holds equals what Lambda stored",
    ),
    pytest.param(
        function(_two, [alias("live", "r2")]),
        observed(CODE_A, CODE_B, aliases=[live_alias("live", "2", {"2": 0.5})]),
        IN_SYNC,
        id="a transient routing entry naming the alias's own version is not drift",
    ),
    pytest.param(
        function(_two, [alias("live", "r2")]),
        observed(CODE_A, CODE_B, aliases=[live_alias("live", "1", {"1": 0.5})]),
        Expected(
            actions=(
                UpdateAlias(
                    "live",
                    "2",
                    {},
                    MARK,
                    revision_id="live-rev",
                    live=live_alias("live", "1", {"1": 0.5}),
                ),
            ),
            drift=(AliasDrift("live", "differs", (Change("version", "1", "r2 (2)"),)),),
        ),
        id="a transient self-reference beside a real change is left out of the drift report",
    ),
    pytest.param(
        function(_two, [alias("live", "r1", description="new text")]),
        observed(CODE_A, CODE_B, aliases=[_described]),
        Expected(
            actions=(
                UpdateAlias(
                    "live",
                    "1",
                    {},
                    describe("new text", REVISION),
                    revision_id="live-rev",
                    live=_described,
                ),
            ),
            drift=(
                AliasDrift("live", "differs", (Change("description", '"old text"', '"new text"'),)),
            ),
        ),
        id="a changed description is an update, compared without the marker",
    ),
    pytest.param(
        function(_two, [alias("live", "r1", {"r2": "0.1"}, description="new text")]),
        observed(CODE_A, CODE_B, aliases=[_routed]),
        Expected(
            actions=(
                UpdateAlias(
                    "live",
                    "1",
                    {"2": Decimal("0.1")},
                    describe("new text", REVISION),
                    revision_id="live-rev",
                    live=_routed,
                ),
            ),
            drift=None,
        ),
        id="an update always carries the full version and routing, not only what changed",
    ),
    pytest.param(
        function(_two, [alias("live", "r1", description="prod")]),
        observed(
            CODE_A, CODE_B, aliases=[live_alias("live", "1", description=describe("prod", "x"))]
        ),
        IN_SYNC,
        id="the marker is stripped from the live description before comparing",
    ),
    pytest.param(
        function(_two, [alias("live", "r1", description="prod")]),
        observed(CODE_A, CODE_B, aliases=[live_alias("live", "1", description="prod")]),
        IN_SYNC,
        id="an alias matching its declaration without the marker is in sync: no write to mark it",
    ),
    pytest.param(
        function(_two, [alias("live", "r1", description="prod")]),
        observed(
            CODE_A,
            CODE_B,
            aliases=[live_alias("live", "1", description=describe("prod", OLD_REVISION))],
        ),
        IN_SYNC,
        id="a new revision that leaves an alias unchanged causes no write",
    ),
    pytest.param(
        function(_two, [alias("live", "r1", description=LONG)]),
        observed(CODE_A, CODE_B),
        Expected(actions=(CreateAlias("live", "1", {}, describe(LONG, REVISION)),), drift=None),
        id="a description too long for the marker is written shortened, within 256 characters",
    ),
    pytest.param(
        function(_two, [alias("live", "r1", description=LONG)]),
        observed(
            CODE_A, CODE_B, aliases=[live_alias("live", "1", description=describe(LONG, "old"))]
        ),
        IN_SYNC,
        id="a description written shortened at an earlier revision is in sync",
    ),
]


@pytest.mark.parametrize(("desired", "live", "expected"), COMPARING)
def test_comparing_an_alias(
    desired: DesiredFunction, live: ObservedFunction, expected: Expected
) -> None:
    check(desired, live, expected)


# -- publishing missing versions -------------------------------------------------------------------

PUBLISHING = [
    pytest.param(
        function([version("r1", CODE_A), version("r2", CODE_B, description="release 2")]),
        observed(CODE_A, latest=CODE_B),
        Expected(
            actions=(PublishVersion("r2", CODE_B, "release 2"),),
            drift=(),
            missing_versions=("r2",),
        ),
        id="a missing version whose code $LATEST holds is published without a code update",
    ),
    pytest.param(
        function([version("r1", CODE_A), version("r2", CODE_B, source=ZIP_B)]),
        observed(CODE_A, latest=CODE_B),
        Expected(actions=(PublishVersion("r2", CODE_B),), missing_versions=("r2",)),
        id="$LATEST holding the code wins over the code source: no update_code",
    ),
    pytest.param(
        function([version("r1", CODE_A), version("r2", CODE_B, source=ZIP_B)]),
        observed(CODE_A),
        Expected(
            actions=(PublishVersion("r2", CODE_B, update_code=ZIP_B),), missing_versions=("r2",)
        ),
        id="a missing version with a code source updates $LATEST from it, then publishes",
    ),
    pytest.param(
        function([version("r1", CODE_A), version("r2", CODE_B)], [alias("live", "r1")]),
        observed(CODE_A),
        Expected(error="version r2 is missing and has no code source", drift=()),
        id="a missing version without a code source is an error, with no actions at all",
    ),
    pytest.param(
        function(
            [version("r2", CODE_B, source=ZIP_B), version("r2-again", CODE_B, source=ZIP_B)],
            [alias("live", "r2-again")],
        ),
        observed(CODE_A),
        Expected(
            actions=(
                PublishVersion("r2", CODE_B, update_code=ZIP_B),
                CreateAlias("live", PendingVersion("r2"), {}, MARK),
            ),
            drift=None,
            missing_versions=("r2", "r2-again"),
        ),
        id="two labels with the same code are published once, for the first label",
    ),
    pytest.param(
        function(
            [version("r1", CODE_A), version("r2", CODE_B, source=ZIP_B)], [alias("live", "r2")]
        ),
        observed(CODE_A, aliases=[_on_1]),
        Expected(
            actions=(
                PublishVersion("r2", CODE_B, update_code=ZIP_B),
                UpdateAlias(
                    "live", PendingVersion("r2"), {}, MARK, revision_id="live-rev", live=_on_1
                ),
            ),
            drift=(AliasDrift("live", "differs", (Change("version", "1", "r2 (new)"),)),),
            missing_versions=("r2",),
        ),
        id="an alias on a missing label points at the version this plan publishes",
    ),
    pytest.param(
        function(
            [version("r1", CODE_A), version("r2", CODE_B, source=ZIP_B)],
            [alias("live", "r1", {"r2": "0.1"})],
        ),
        observed(CODE_A, aliases=[_on_1]),
        Expected(
            actions=(
                PublishVersion("r2", CODE_B, update_code=ZIP_B),
                UpdateAlias(
                    "live",
                    "1",
                    {PendingVersion("r2"): Decimal("0.1")},
                    MARK,
                    revision_id="live-rev",
                    live=_on_1,
                ),
            ),
            drift=(AliasDrift("live", "differs", (Change("routing", "{}", "{r2 (new): 0.1}"),)),),
            missing_versions=("r2",),
        ),
        id="routing to a missing label routes to the version this plan publishes",
    ),
    pytest.param(
        function(
            [
                version("r2", CODE_B, source=ZIP_B),
                version("r3", CODE_C, source=ZIP_C),
                version("r4", CODE_D),
            ]
        ),
        observed(CODE_A, latest=CODE_D),
        Expected(
            actions=(
                PublishVersion("r4", CODE_D),
                PublishVersion("r2", CODE_B, update_code=ZIP_B),
                PublishVersion("r3", CODE_C, update_code=ZIP_C),
            ),
            missing_versions=("r2", "r3", "r4"),
        ),
        id="publish order: the code $LATEST holds first, then declaration order",
    ),
]


@pytest.mark.parametrize(("desired", "live", "expected"), PUBLISHING)
def test_publishing_missing_versions(
    desired: DesiredFunction, live: ObservedFunction, expected: Expected
) -> None:
    check(desired, live, expected)


# -- errors ----------------------------------------------------------------------------------------

ERRORS = [
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "17")]),
        observed(CODE_A),
        Expected(error="alias live points at version 17, which does not exist", drift=()),
        id="an alias on a published number that does not exist is an error",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "r1", {"9": "0.1"})]),
        observed(CODE_A),
        Expected(error="alias live routes to version 9, which does not exist"),
        id="routing to a published number that does not exist is an error",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "r7")]),
        observed(CODE_A),
        Expected(error="alias live points at 'r7', which is not a label under versions"),
        id="an alias on an undeclared label is an error",
    ),
    pytest.param(
        function(
            [version("r1", CODE_A), version("r1-copy", CODE_A)],
            [alias("live", "r1", {"r1-copy": "0.1"})],
        ),
        observed(CODE_A, CODE_A),
        Expected(
            error="alias live routes to r1-copy, which is the same code as its version r1; "
            "Lambda refuses routing to an alias's own version"
        ),
        id="routing to a label with the primary's code is an error (L21d)",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "1", {"1": "0.5"})]),
        observed(CODE_A),
        Expected(
            error="alias live routes to 1, which is the same code as its version 1; "
            "Lambda refuses routing to an alias's own version"
        ),
        id="routing to the alias's own published number is an error (L21d)",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", LATEST, {"r1": "0.1"})]),
        observed(CODE_A),
        Expected(
            error="alias live points at $LATEST, which Lambda does not allow to route traffic "
            "to a second version"
        ),
        id="routing on a $LATEST primary is an error (L21e)",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "r1", {LATEST: "0.1"})]),
        observed(CODE_A),
        Expected(error="alias live routes to $LATEST; routing can name only a published version"),
        id="routing to $LATEST is an error (L21c)",
    ),
    pytest.param(
        function([version("r1", CODE_A), version("r2", CODE_B)], [alias("live", "5")]),
        observed(CODE_A),
        Expected(
            error="version r2 is missing and has no code source; "
            "alias live points at version 5, which does not exist"
        ),
        id="an error names every problem of the function at once",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "r1")]),
        None,
        Expected(
            error="function orders-api does not exist in eu-west-1; "
            "lambda-gitops manages versions and aliases of existing functions"
        ),
        id="a function that does not exist live is an error",
    ),
]


@pytest.mark.parametrize(("desired", "live", "expected"), ERRORS)
def test_errors(
    desired: DesiredFunction, live: ObservedFunction | None, expected: Expected
) -> None:
    check(desired, live, expected)


# -- ownership, pruning, suspension, order ---------------------------------------------------------

_kept = live_alias("live", "1", description=MARK)
_managed_zeta = live_alias("zeta", "1", description=OLD_MARK)
_managed_alpha = live_alias("alpha", "1", description=describe("old", OLD_REVISION))
_manual = live_alias("manual", "1", description="made by hand")
_one_alias = [version("r1", CODE_A)], [alias("live", "r1")]

LIFECYCLE = [
    pytest.param(
        function(*_one_alias, prune=True),
        observed(CODE_A, aliases=[_managed_zeta, _kept, _manual, _managed_alpha]),
        Expected(
            actions=(DeleteAlias("alpha", _managed_alpha), DeleteAlias("zeta", _managed_zeta)),
            drift=(AliasDrift("alpha", "extraneous"), AliasDrift("zeta", "extraneous")),
        ),
        id="prune deletes managed undeclared aliases, by name, and never an unmarked one",
    ),
    pytest.param(
        function(*_one_alias, prune=False),
        observed(CODE_A, aliases=[_kept, _managed_zeta]),
        Expected(drift=(AliasDrift("zeta", "extraneous"),)),
        id="without prune, a managed undeclared alias is reported extraneous and kept",
    ),
    pytest.param(
        function(*_one_alias, prune=True),
        observed(CODE_A, aliases=[_kept, _manual]),
        IN_SYNC,
        id="an unmarked undeclared alias is neither reported nor touched",
    ),
    pytest.param(
        function(
            [version("r1", CODE_A), version("r2", CODE_B, source=ZIP_B)],
            [alias("live", "r2")],
            suspend=True,
        ),
        observed(CODE_A, aliases=[_on_1, _managed_zeta]),
        Expected(
            actions=(),
            drift=(
                AliasDrift("live", "differs", (Change("version", "1", "r2 (new)"),)),
                AliasDrift("zeta", "extraneous"),
            ),
            missing_versions=("r2",),
        ),
        id="a suspended function reports its drift and missing versions but plans no actions",
    ),
    pytest.param(
        function([version("r1", CODE_A)], [alias("live", "9")], suspend=True),
        observed(CODE_A),
        Expected(error="alias live points at version 9, which does not exist"),
        id="a suspended function still reports an error",
    ),
    pytest.param(
        function(
            [version("r1", CODE_A), version("r2", CODE_B, source=ZIP_B), version("r3", CODE_C)],
            [alias("live", "r1"), alias("canary", "r1", {"r2": "0.1"}), alias("beta", "r3")],
            prune=True,
        ),
        observed(
            CODE_A,
            latest=CODE_C,
            aliases=[_managed_zeta, live_alias("live", "1", description="manual"), _managed_alpha],
        ),
        Expected(
            actions=(
                PublishVersion("r3", CODE_C),
                PublishVersion("r2", CODE_B, update_code=ZIP_B),
                UpdateAlias(
                    "live",
                    "1",
                    {},
                    MARK,
                    revision_id="live-rev",
                    live=live_alias("live", "1", description="manual"),
                ),
                CreateAlias("canary", "1", {PendingVersion("r2"): Decimal("0.1")}, MARK),
                CreateAlias("beta", PendingVersion("r3"), {}, MARK),
                DeleteAlias("alpha", _managed_alpha),
                DeleteAlias("zeta", _managed_zeta),
            ),
            drift=None,
            missing_versions=("r2", "r3"),
        ),
        id="action order: publishes, then alias writes in declaration order, then deletes by name",
    ),
]


@pytest.mark.parametrize(("desired", "live", "expected"), LIFECYCLE)
def test_ownership_pruning_and_suspension(
    desired: DesiredFunction, live: ObservedFunction, expected: Expected
) -> None:
    check(desired, live, expected)


def test_live_weights_are_exact_decimals() -> None:
    """The routing table above relies on ``weight`` reading floats by their shortest text."""
    assert weight(0.1) == Decimal("0.1")
