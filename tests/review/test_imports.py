"""``import`` writes, from live functions, declarations that are in sync the moment they exist.

Pure tests of ``controller.review.imports``: a live function (plain values, as the registry
port returns them) becomes declaration text, checked by the project's own parser and planner;
an import into a folder that declares some functions already adds only what is missing, in
place, keeping every comment. The registry and the command line are tested in
``tests/test_cli_import.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.core.configuration import Configuration
from controller.core.declarations import parse_declarations
from controller.core.declarations.parser import DEFAULT_LIMITS
from controller.core.model import LATEST, Alias, DesiredFunction, PublishedVersion, weight
from controller.core.ownership import declared_part, describe, seal
from controller.core.plan import UpdateAlias
from controller.core.planner import plan_function
from controller.review.edits import SourceFile
from controller.review.imports import (
    Folder,
    ImportOptions,
    LabelTemplate,
    LiveFunction,
    NotImported,
    declaration_text,
    plan_import,
)
from tests.core.declarations.support import FakeTree
from tests.review.hostile import LONG_NAME, environments, hostile_descriptions

ACCOUNT = "123456789012"
REGION = "us-east-1"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CODE_1 = "6pL0bTqyPp1aIhrsyDo+aHmoE4mEvTPHwq3tz6Y0vHI="
CODE_2 = "h7Q2n1ZpQyW0r6cK3v9mJ8sTqLx5bYdEoF4gHuIaVwA="
CODE_3 = "sJeDAiXpubks1UtWyPL1dqgxyfJUFPELjbAlmS9II7w="
CODES = (CODE_1, CODE_2, CODE_3)
REVISION = "3f2c9a1b7d4e8f6a0b1c2d3e4f5a6b7c8d9e0f1a"


def arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def live(
    name: str = "orders-api",
    versions: Sequence[str | tuple[str, str]] = (CODE_1, CODE_2),
    aliases: Sequence[Alias] = (),
    *,
    region: str = REGION,
    function_arn: str | None = None,
) -> LiveFunction:
    """A live function whose versions, numbered from 1, have these codes (or ``(code,
    description)``)."""
    published = []
    for number, entry in enumerate(versions, start=1):
        code, description = entry if isinstance(entry, tuple) else (entry, "")
        published.append(PublishedVersion(number, code, description, f"rev-{number}"))
    return LiveFunction(
        name, region, function_arn or arn(name, region), tuple(published), tuple(aliases)
    )


def alias(
    name: str, version: str, routing: Mapping[str, float] | None = None, description: str = ""
) -> Alias:
    return Alias(
        name,
        version,
        {number: weight(share) for number, share in (routing or {}).items()},
        description,
        revision_id=f"{name}-rev",
    )


def text(function: LiveFunction, options: ImportOptions | None = None) -> str:
    return declaration_text(function, options or ImportOptions(), imported_at=WHEN).text


def declared(source: str, path: str = "orders-api.yaml") -> DesiredFunction:
    """The one function ``source`` declares, which must be valid."""
    parsed = parse_declarations(
        [(path, source.encode())], default_region="eu-west-1", tree=FakeTree()
    )
    assert parsed.errors == ()
    (function,) = parsed.functions
    return function


def assert_in_sync(source: str, function: LiveFunction) -> None:
    plan = plan_function(declared(source), function.observed(), REVISION)
    assert plan.error is None
    assert plan.in_sync, plan.drift


FLEET_FUNCTION = live(
    versions=[(CODE_1, "release 41"), CODE_2],
    aliases=[
        alias("live", "1"),
        alias("canary", "1", {"2": 0.1}, "10% to r42"),
        alias("beta", "2", description=describe("", REVISION)),
    ],
)


# -- one function's declaration -------------------------------------------------------------------


def test_a_function_is_declared_with_the_versions_its_aliases_use_and_each_alias_as_it_is() -> None:
    assert text(FLEET_FUNCTION) == (
        f"# Imported by lambda-gitops import from {arn('orders-api')} on 2024-05-01T12:00:00Z\n"
        "apiVersion: lambda-gitops/v1\n"
        "kind: Function\n"
        "metadata:\n"
        "  name: orders-api\n"
        "spec:\n"
        "  region: us-east-1\n"
        "  versions:\n"
        "    v1:\n"
        f'      codeSha256: "{CODE_1}"\n'
        '      description: "release 41"\n'
        "    v2:\n"
        f'      codeSha256: "{CODE_2}"\n'
        "  aliases:\n"
        "    beta:\n"
        "      version: v2\n"
        "    canary:\n"
        "      version: v1\n"
        "      routing: {v2: 0.1}\n"
        '      description: "10% to r42"\n'
        "    live:\n"
        "      version: v1\n"
    )
    assert_in_sync(text(FLEET_FUNCTION), FLEET_FUNCTION)


def test_the_output_is_the_same_whatever_order_the_registry_listed_things_in() -> None:
    shuffled = replace(
        FLEET_FUNCTION,
        versions=FLEET_FUNCTION.versions[::-1],
        aliases=FLEET_FUNCTION.aliases[::-1],
    )

    assert text(shuffled) == text(FLEET_FUNCTION)


def test_only_the_versions_in_use_are_declared_unless_all_versions_is_asked() -> None:
    function = live(versions=[CODE_1, CODE_2, CODE_3], aliases=[alias("live", "3")])

    used = declared(text(function))
    every = declared(text(function, ImportOptions(all_versions=True)))

    assert list(used.versions) == ["v3"]
    assert list(every.versions) == ["v1", "v2", "v3"]
    assert_in_sync(text(function, ImportOptions(all_versions=True)), function)


def test_a_label_template_names_the_versions() -> None:
    options = ImportOptions(LabelTemplate.parse("release-{version}.0"))

    function = declared(text(FLEET_FUNCTION, options))

    assert list(function.versions) == ["release-1.0", "release-2.0"]
    assert function.aliases["canary"].routing == {"release-2.0": Decimal("0.1")}


def test_versions_with_one_code_get_one_label_named_after_the_lowest_number() -> None:
    function = live(
        versions=[CODE_1, CODE_2, CODE_1],
        aliases=[alias("live", "3"), alias("old", "1"), alias("beta", "2")],
    )

    source = text(function, ImportOptions(all_versions=True))

    assert list(declared(source).versions) == ["v1", "v2"]
    assert {a.name: a.version for a in declared(source).aliases.values()} == {
        "beta": "v2",
        "live": "v1",
        "old": "v1",
    }
    assert_in_sync(source, function)  # live stays on 3: a label is any version with its code


def test_an_alias_on_latest_is_declared_on_latest_without_a_version() -> None:
    function = live(aliases=[alias("dev", LATEST)])

    source = text(function)

    assert "versions:" not in source
    assert "      version: $LATEST\n" in source
    assert_in_sync(source, function)


def test_a_function_without_aliases_is_declared_with_its_region_alone_and_validates() -> None:
    function = live(aliases=[])

    source = text(function)

    assert source.endswith("spec:\n  region: us-east-1\n")
    assert declared(source).versions == {}
    assert_in_sync(source, function)


def test_the_ownership_marker_is_left_out_of_descriptions_with_a_rollout_state_too() -> None:
    in_rollout = describe("release 42", REVISION, rollout="ro=2/1/0/1733140000/0/P/3fa2c1")
    function = live(
        aliases=[
            alias("live", "1", {"2": 0.05}, seal(in_rollout, "1", {"2": Decimal("0.05")})),
            alias("beta", "2", description=seal(describe("", REVISION), "2", {})),
        ]
    )

    source = text(function)

    assert "lambda-gitops " not in source.split("\n", 1)[1]
    live_alias = declared(source).aliases["live"]
    assert live_alias.description == "release 42"
    assert live_alias.routing == {"v2": Decimal("0.05")}
    assert declared(source).aliases["beta"].description == ""
    assert_in_sync(source, function)


@pytest.mark.parametrize(
    "description",
    [
        'say "hello"',
        "a: b # not a comment",
        "tab\there, line\nbreak",
        "ünïcödé ✓ 😀",
        "'single' and \\backslash\\",
        "\u2028 line separator, \x85 next line, \x7f delete, \xa0",
        "  spaces around  ",
        "[lambda-gitops not a marker",
    ],
)
def test_descriptions_are_written_so_that_they_read_back_exactly(description: str) -> None:
    function = live(
        versions=[(CODE_1, description)], aliases=[alias("live", "1", None, description)]
    )

    source = text(function)

    assert declared(source).aliases["live"].description == description
    assert declared(source).versions["v1"].description == description
    assert_in_sync(source, function)


def test_weights_are_written_as_lambda_reports_them() -> None:
    function = live(aliases=[alias("canary", "1", {"2": 0.30000000000000004})])

    source = text(function)

    assert "routing: {v2: 0.30000000000000004}" in source
    assert_in_sync(source, function)


@pytest.mark.parametrize(
    ("aliases", "why"),
    [
        pytest.param(
            [alias("canary", "1", {"3": 0.1})],
            "alias canary is not declared: it routes to version 3, which runs the same code as "
            "its version 1",
            id="routing to a version with its own version's code",
        ),
        pytest.param(
            [alias("canary", "1", {"2": 0.0})],
            "alias canary is not declared: it sends 0 of its traffic to version 2",
            id="a weight of 0",
        ),
        pytest.param(
            [alias("canary", "1", {"2": 1.0})],
            "alias canary is not declared: it sends 1 of its traffic to version 2",
            id="a weight of 1",
        ),
        pytest.param(
            [alias("123", "1")],
            "alias 123 is not declared: it has a name Lambda refuses",
            id="a digits-only name",
        ),
        pytest.param(
            [alias("canary", "1", {"2": 0.1, "3": 0.1})],
            "alias canary is not declared: it routes to 2 versions",
            id="two routes",
        ),
    ],
)
def test_an_alias_no_declaration_can_say_is_left_out_with_why_and_the_rest_is_declared(
    aliases: list[Alias], why: str
) -> None:
    function = live(versions=[CODE_1, CODE_2, CODE_1], aliases=[alias("live", "2"), *aliases])

    generated = declaration_text(function, ImportOptions(), imported_at=WHEN)

    [note] = generated.left_out
    assert note.startswith(why)
    assert f"# {note}\n" in generated.text
    assert list(declared(generated.text).aliases) == ["live"]
    assert list(declared(generated.text).versions) == ["v2"]  # only what declared aliases use
    assert_in_sync(generated.text, function)  # an alias not declared is left alone


def test_a_name_that_cannot_be_a_metadata_name_is_kept_in_function_name() -> None:
    function = live("_internal", aliases=[alias("live", "1")])

    source = text(function)

    assert "  name: function-internal\n" in source
    assert '  functionName: "_internal"\n' in source
    assert declared(source).ref.name == "_internal"
    assert_in_sync(source, function)


def test_a_function_of_another_account_is_named_by_its_arn() -> None:
    other = arn("orders-api", account="210987654321")
    function = live(aliases=[alias("live", "1")], function_arn=other)

    generated = declaration_text(function, ImportOptions(), imported_at=WHEN, account=ACCOUNT)

    assert f'  functionName: "{other}"\n' in generated.text
    assert declared(generated.text).ref.identity.account == "210987654321"


def test_a_configuration_field_a_declaration_may_not_say_is_left_out_with_a_note() -> None:
    """A retired runtime, and a layer of another region than the function's (which ``validate``
    refuses, rule L59), as a registry laxer than Lambda may report them."""
    layer = "arn:aws:lambda:eu-west-1:123456789012:layer:deps:7"
    reported = Configuration(memory_size=512, runtime="python3.7", layers=(layer,))
    function = live(versions=[CODE_1], aliases=[alias("live", "1")])
    function = replace(function, versions=(replace(function.versions[0], configuration=reported),))

    generated = declaration_text(function, ImportOptions(), imported_at=WHEN)

    assert "        memorySize: 512\n" in generated.text
    assert "runtime:" not in generated.text
    assert "layers:" not in generated.text
    assert generated.notes == (
        "version v1: runtime, layers not declared: outside what a declaration may say "
        "(lambda-gitops validate names the limits), so any value satisfies the label",
    )
    assert_in_sync(generated.text, function)


def test_adopt_writes_adopt_true_and_the_plan_adds_the_markers_only() -> None:
    source = text(FLEET_FUNCTION, ImportOptions(adopt=True))

    assert source.endswith("  adopt: true\n")
    plan = plan_function(declared(source), FLEET_FUNCTION.observed(), REVISION)
    assert plan.matches_declarations
    adopted = sorted(action.name for action in plan.actions if isinstance(action, UpdateAlias))
    assert adopted == ["canary", "live"]  # beta has the marker already


def test_an_environment_variable_named_past_yamls_plain_key_limit_is_declared_in_sync() -> None:
    """Lambda bounds a variable's name only by the 4 KB of the whole environment; YAML reads a
    plain key of at most 1024 characters, so a longer name is written as an explicit key."""
    reported = Configuration(environment=((LONG_NAME, "on"), ("STAGE", "prod")))
    function = live(versions=[CODE_1], aliases=[alias("live", "1")])
    function = replace(function, versions=(replace(function.versions[0], configuration=reported),))

    source = text(function, ImportOptions(with_environment=True))

    assert f'          ? {LONG_NAME}\n          : {{value: "on", secret: true}}\n' in source
    assert declared(source).versions["v1"].configuration == reported
    assert_in_sync(source, function)


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("v", "has no {version}"),
        ("{version}", "makes '17' of version 17"),
        ("-{version}", "makes '-17'"),
        ("v {version}", "makes 'v 17'"),
        ("v{version}/x", "makes 'v17/x'"),
        ("{version}{x}", "makes '17{x}'"),
        ("{version}{version}", "makes '1717' of version 17"),
        ("{VERSION}", "has no {version}"),
        ("{{version}}", "makes '{17}'"),
        ("é{version}", "makes 'é17'"),
        ("v{version}\u0301", "makes 'v17\u0301'"),
        ("v" * 200 + "{version}", "makes a label of 202 characters of version 17; a version label"),
        ("v" * 119 + "{version}", "makes a label of 129 characters of version 1000000000"),
    ],
)
def test_a_label_template_that_cannot_make_a_label_is_refused(template: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        LabelTemplate.parse(template)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["{version}", "{", "}", "v", "V", "é", "-", ".", "_", "+", " ", "0", "x"]),
        max_size=8,
    ).map("".join)
    | st.text(max_size=12).map(lambda text: text + "{version}")
)
def test_a_label_template_is_refused_with_a_reason_or_makes_unique_labels(template: str) -> None:
    """Any text given as ``--label``: refused with a sentence naming it, or every version
    number gets its own label, one the parser accepts."""
    try:
        parsed = LabelTemplate.parse(template)
    except ValueError as error:
        refused: ValueError | None = error
    else:
        refused = None
    if refused is not None:
        assert repr(template) in str(refused) or "characters" in str(refused)
        return
    numbers = (1, 2, 10, 11, 17, 100, 101, 1_000_000_000)
    labels = [parsed.label(number) for number in numbers]
    assert len(set(labels)) == len(numbers)
    source = text(
        live(versions=[CODE_1, CODE_2], aliases=[alias("live", "2")]), ImportOptions(parsed)
    )
    assert list(declared(source).versions) == [parsed.label(2)]


# -- importing into a folder ----------------------------------------------------------------------


def folder(files: Mapping[str, str] | None = None, *, subpath: str = "functions") -> Folder:
    stored = tuple(SourceFile(path, data.encode()) for path, data in (files or {}).items())
    taken = {file.path for file in stored}
    return Folder(stored, FakeTree(), subpath, taken.__contains__)


def imported(
    into: Folder,
    readings: Sequence[LiveFunction | NotImported],
    options: ImportOptions | None = None,
    *,
    by_region: bool = False,
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The files written (path -> text) and each outcome as ``(kind, detail)``."""
    plan = plan_import(
        into,
        readings,
        options or ImportOptions(),
        imported_at=WHEN,
        default_region="eu-west-1",
        by_region=by_region,
        account=ACCOUNT,
    )
    written = {edit.path: edit.after.decode() for edit in plan.writes}
    return written, [(outcome.kind, outcome.detail) for outcome in plan.outcomes]


def test_each_function_gets_its_own_file_in_the_folder() -> None:
    billing = live("billing-worker", aliases=[alias("live", "1")])

    written, outcomes = imported(folder(), [FLEET_FUNCTION, billing])

    assert written == {
        "functions/orders-api.yaml": text(FLEET_FUNCTION),
        "functions/billing-worker.yaml": text(billing),
    }
    assert outcomes == [
        ("written", "functions/orders-api.yaml: written, 2 versions and 3 aliases"),
        ("written", "functions/billing-worker.yaml: written, 1 version and 1 alias"),
    ]


def test_functions_of_several_regions_go_into_a_folder_per_region() -> None:
    east, west = live(region="us-east-1"), live(region="eu-west-1")

    written, _ = imported(folder(subpath=""), [east, west], by_region=True)

    assert set(written) == {"us-east-1/orders-api.yaml", "eu-west-1/orders-api.yaml"}


def test_a_file_in_the_way_is_refused_without_force_and_overwritten_with_it() -> None:
    occupied = folder({"functions/orders-api.yaml": "# notes about orders\n"})

    written, outcomes = imported(occupied, [FLEET_FUNCTION])
    forced, forced_outcomes = imported(occupied, [FLEET_FUNCTION], ImportOptions(force=True))

    assert written == {}
    assert outcomes == [
        (
            "failed",
            "functions/orders-api.yaml exists and does not declare this function; give --force "
            "to overwrite it",
        )
    ]
    assert forced == {"functions/orders-api.yaml": text(FLEET_FUNCTION)}
    assert forced_outcomes[0][0] == "written"
    assert "(overwritten)" in forced_outcomes[0][1]


DECLARED = f"""\
# Owned by the orders team.
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: orders
spec:
  functionName: orders-api   # the Lambda name
  region: us-east-1
  versions:
    r41:   # the first release
      codeSha256: '{CODE_1}'
  aliases:
    live: {{version: r41}}   # production
    beta:
      version: r41          # moved by hand since
"""


MERGED = (
    DECLARED.replace(
        f"      codeSha256: '{CODE_1}'\n",
        f"      codeSha256: '{CODE_1}'\n    v2:\n      codeSha256: '{CODE_2}'\n",
    )
    + '    canary:\n      version: r41\n      routing: {v2: 0.1}\n      description: "10% to r42"\n'
)
"""``DECLARED`` with what ``FLEET_FUNCTION`` adds: a label for the code beta and the canary route
to (in the quoting of its neighbour), and the canary alias, after the last alias."""


def test_a_function_declared_already_gets_only_what_is_missing_with_comments_kept() -> None:
    existing = folder({"teams/orders.yaml": DECLARED})

    written, outcomes = imported(existing, [FLEET_FUNCTION])

    assert outcomes == [("merged", "teams/orders.yaml: merged, added version v2, alias canary")]
    assert written == {"teams/orders.yaml": MERGED}
    merged = declared(written["teams/orders.yaml"], "teams/orders.yaml")
    for line in DECLARED.splitlines():
        assert line in written["teams/orders.yaml"]  # nothing declared changed, comments kept
    assert merged.versions["v2"].code_sha256 == CODE_2
    assert merged.aliases["canary"].version == "r41"
    assert merged.aliases["canary"].routing == {"v2": Decimal("0.1")}
    assert merged.aliases["canary"].description == "10% to r42"
    assert merged.aliases["beta"].version == "r41"  # as declared, though live is on 2


def test_an_alias_left_out_is_only_mentioned_when_the_file_does_not_declare_it() -> None:
    function = replace(
        FLEET_FUNCTION,
        aliases=(
            alias("live", "1"),
            alias("beta", "1", {"2": 1.0}),
            alias("gamma", "1", {"2": 0.0}),
        ),
    )

    plan = plan_import(
        folder({"teams/orders.yaml": DECLARED}),
        [function],
        ImportOptions(),
        imported_at=WHEN,
        default_region=REGION,
        by_region=False,
    )

    [outcome] = plan.outcomes
    assert outcome.notes == (
        "alias gamma is not declared: it sends 0 of its traffic to version 2; a declared "
        "weight is strictly between 0 and 1",
    )


def test_a_second_import_finds_nothing_to_add() -> None:
    written, _ = imported(folder(), [FLEET_FUNCTION])
    again, outcomes = imported(folder(written), [FLEET_FUNCTION])

    assert again == {}
    assert outcomes == [
        ("unchanged", "functions/orders-api.yaml: unchanged, it declares everything imported")
    ]


def test_a_merge_the_parser_would_refuse_leaves_that_file_as_it_is_and_the_rest_goes_on() -> None:
    """Each added version and alias is checked before it stands: here the new version would
    take the file past the size the parser reads."""
    room = DEFAULT_LIMITS.file_bytes - len(DECLARED.encode()) - 40
    line = "# " + "x" * 97 + "\n"
    full = DECLARED + line * (room // len(line))
    billing = live("billing-worker", aliases=[alias("live", "1")])

    written, outcomes = imported(folder({"teams/orders.yaml": full}), [FLEET_FUNCTION, billing])

    assert list(written) == ["functions/billing-worker.yaml"]
    [(kind, detail), (billing_kind, _)] = outcomes
    assert (kind, billing_kind) == ("failed", "written")
    assert detail.startswith(
        "teams/orders.yaml: not merged: teams/orders.yaml is left unchanged, because the edit "
        "would make the declarations invalid: teams/orders.yaml:1: the file is "
    )


def test_a_new_version_label_taken_by_other_code_is_made_unique() -> None:
    source = DECLARED.replace("r41:   # the first release", "v2:   # named by hand")
    source = source.replace("version: r41", "version: v2")

    written, _ = imported(folder({"teams/orders.yaml": source}), [FLEET_FUNCTION])

    merged = declared(written["teams/orders.yaml"], "teams/orders.yaml")
    assert merged.versions["v2-2"].code_sha256 == CODE_2
    assert merged.aliases["canary"].routing == {"v2-2": Decimal("0.1")}


def test_adopt_is_added_when_merging_and_a_declared_adopt_is_left_alone() -> None:
    adopting = ImportOptions(adopt=True)
    written, outcomes = imported(
        folder({"teams/orders.yaml": DECLARED}), [FLEET_FUNCTION], adopting
    )
    refusing = DECLARED + "  adopt: false   # not yet\n"
    kept, kept_outcomes = imported(
        folder({"teams/orders.yaml": refusing}), [FLEET_FUNCTION], adopting
    )

    assert written["teams/orders.yaml"].endswith("  adopt: true\n")
    assert outcomes[0][1].endswith("adopt: true")
    assert "adopt: false   # not yet\n" in kept["teams/orders.yaml"]
    assert "adopt: true" not in kept["teams/orders.yaml"]
    assert not kept_outcomes[0][1].endswith("adopt: true")


def test_a_function_declared_invalidly_is_not_merged_into() -> None:
    broken = DECLARED.replace("version: r41          # moved by hand", "version: r99")

    written, outcomes = imported(folder({"teams/orders.yaml": broken}), [FLEET_FUNCTION])

    assert written == {}
    [(kind, detail)] = outcomes
    assert kind == "failed"
    assert detail.startswith("teams/orders.yaml:")
    assert "declares it, but not validly" in detail


def test_a_metadata_name_used_for_another_function_is_refused() -> None:
    other = DECLARED.replace("  name: orders\n", "  name: orders-api\n").replace(
        "functionName: orders-api", "functionName: orders-v2"
    )

    written, outcomes = imported(folder({"teams/orders.yaml": other}), [FLEET_FUNCTION])

    assert written == {}
    assert outcomes[0][0] == "failed"
    assert "metadata.name 'orders-api' is already used in us-east-1" in outcomes[0][1]


def test_functions_not_read_are_reported_and_a_function_asked_twice_is_imported_once() -> None:
    readings: list[LiveFunction | NotImported] = [
        NotImported("secret", REGION, "out of the configured scope", error=False),
        NotImported("nosuch", REGION, "no function nosuch in us-east-1", error=True),
        FLEET_FUNCTION,
        replace(FLEET_FUNCTION, arn="123456789012:function:orders-api"),  # a partial ARN
    ]

    written, outcomes = imported(folder(), readings)

    assert [kind for kind, _ in outcomes] == ["skipped", "failed", "written"]
    assert list(written) == ["functions/orders-api.yaml"]


def test_a_file_that_does_not_parse_is_named_in_a_warning_and_the_import_goes_on() -> None:
    plan = plan_import(
        folder({"functions/broken.yaml": "spec: [unclosed\n"}),
        [FLEET_FUNCTION],
        ImportOptions(),
        imported_at=WHEN,
        default_region=REGION,
        by_region=False,
    )

    [warning] = plan.warnings
    assert warning.startswith("functions/broken.yaml does not parse, so the functions it declares")
    assert [outcome.kind for outcome in plan.outcomes] == ["written"]


# -- any fleet ------------------------------------------------------------------------------------

descriptions = (
    st.text(max_size=40)
    | st.text(min_size=230, max_size=256)
    | st.sampled_from(["", "release 42", 'a "quoted": #text', " [lambda-gitops x]"])
    | hostile_descriptions
    | st.just("x" * 300)  # over Lambda's limit, as moto keeps it
)


alias_names = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True) | st.sampled_from(
    [
        *("y", "N", "on", "Off", "yes", "NO", "null", "True", "nan", "inf", "1e3", "0x1F"),
        *("0b1", "0o17", "1_000", "12_30", "-", "-a", "_", "--", "a" * 128),
    ]
)
"""Alias names Lambda accepts (rule L10), among them some YAML 1.1 or 1.2 reads otherwise."""

handlers = st.sampled_from([None, "app.handler"]) | st.sampled_from(
    [
        *("on", "yes", "null", "0x1F", "1e3", "*a", "&a", "!a", "#a", "a#b", "a:b", "-", "?"),
        *("{a}", "'a", '"a', "%a", "@a", "`a", "|a", ">a", "h" * 128, "é.handler", "😀"),
    ]
)
"""Handlers Lambda accepts (up to 128 characters, no white space), some needing quotes."""


@st.composite
def live_functions(draw: st.DrawFn) -> LiveFunction:
    """A live function as Lambda allows it: versions with codes from a small pool (so that
    codes repeat), aliases on a version or $LATEST, routing to one other version, and
    descriptions of any text, marked or not."""
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=5))
    numbers = [str(n) for n in range(1, len(codes) + 1)]
    aliases = []
    for name in draw(st.lists(alias_names, max_size=4, unique=True)):
        version = draw(st.sampled_from([*numbers, LATEST]))
        routing = {}
        if version != LATEST and draw(st.booleans()):
            other = draw(st.sampled_from(numbers))
            if other != version:
                routing[other] = weight(draw(st.floats(0.0, 1.0)))
        description = draw(descriptions)
        if draw(st.booleans()):
            description = seal(describe(description, REVISION), version, routing)
        aliases.append(Alias(name, version, routing, description, f"{name}-rev"))
    versions = [(code, draw(descriptions)) for code in codes]
    function = live(versions=versions, aliases=aliases)
    configurations = [draw(configurations_of_versions) for _ in codes]
    return replace(
        function,
        versions=tuple(
            replace(version, configuration=configuration)
            for version, configuration in zip(function.versions, configurations, strict=True)
        ),
    )


configurations_of_versions = st.builds(
    Configuration,
    environment=st.sampled_from(
        [None, (), (("STAGE", "prod"),), (("API_KEY", "k-1"), ("STAGE", "dev"))]
    )
    | environments(),
    memory_size=st.sampled_from([None, 128, 512, 20000]),
    timeout=st.sampled_from([None, 3, 30]),
    ephemeral_storage=st.sampled_from([None, 512]),
    runtime=st.sampled_from([None, "python3.12", "python3.7"]),
    handler=handlers,
    layers=st.sampled_from(
        [
            None,
            (),
            ("arn:aws:lambda:us-east-1:123456789012:layer:deps:7",),
            ("arn:aws:lambda:eu-west-1:123456789012:layer:deps:7",),
        ]
    ),
    architectures=st.sampled_from([None, ("x86_64",), ("arm64",)]),
)
"""What Lambda (or a registry laxer than Lambda) reports of a version: values that repeat, so
that versions of one code differ in a field or not, some a declaration may not say (20000
MB, a retired runtime, a layer of another region than the function's), and environments of
names and values YAML would read otherwise if they were written carelessly."""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(live_functions(), st.booleans(), st.booleans())
def test_any_live_function_is_declared_validly_and_in_sync(
    function: LiveFunction, all_versions: bool, with_environment: bool
) -> None:
    options = ImportOptions(all_versions=all_versions, with_environment=with_environment)
    generated = declaration_text(function, options, imported_at=WHEN)

    desired = declared(generated.text)
    plan = plan_function(desired, function.observed(), REVISION)
    assert plan.error is None
    assert plan.in_sync, plan.drift
    assert len(desired.aliases) + len(generated.left_out) == len(function.aliases)
    adopting = declared(
        declaration_text(function, replace(options, adopt=True), imported_at=WHEN).text
    )
    adopted = plan_function(adopting, function.observed(), REVISION)
    assert adopted.matches_declarations
    written = {a.name: a.description for a in adopted.actions if isinstance(a, UpdateAlias)}
    marked = replace(
        function,
        aliases=tuple(
            replace(a, description=written.get(a.name, a.description)) for a in function.aliases
        ),
    )
    assert plan_function(adopting, marked.observed(), REVISION).in_sync  # adopted once


# -- hostile values, through a merge --------------------------------------------------------------

DECLARED_ONE = {
    "block": f"""\
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: orders
spec:
  functionName: orders-api
  region: us-east-1
  versions:
    r1:   # by hand
      codeSha256: "{CODE_1}"
  aliases:
    live: {{version: r1}}
""",
    "flow": f"""\
apiVersion: lambda-gitops/v1
kind: Function
metadata: {{name: orders}}
spec: {{functionName: orders-api, region: us-east-1, versions: {{r1: {{codeSha256: '{CODE_1}',
  description: 'one'}}}},
  aliases: {{live: {{version: r1}}}}}}
""",
    "YAML 1.1": f"""\
%YAML 1.1
---
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: orders
spec:
  functionName: orders-api
  region: us-east-1
  versions:
    r1:
      codeSha256: '{CODE_1}'
      description: release 1
  aliases:
    live:
      version: r1
""",
}
DECLARED_ONE["CRLF, BOM, no final newline"] = "\ufeff" + DECLARED_ONE["block"].replace(
    "\n", "\r\n"
).removesuffix("\r\n")
"""One function declared with a version and an alias, in block and flow style (a single-quoted
description, whose quoting a new one copies), in a file that says it is YAML 1.1 (where ``on``
and ``y`` are booleans; a plain description), and in one with Windows line ends, a byte order
mark and no line end at the end: an import adds what it lacks."""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(DECLARED_ONE)),
    configurations_of_versions,
    hostile_descriptions,
    hostile_descriptions,
)
def test_hostile_live_values_merged_into_a_declaration_read_back_exactly_and_in_sync(
    style: str, configuration: Configuration, description: str, alias_description: str
) -> None:
    """The merge path: version 2, with its configuration and environment of any text, and an
    alias on it, are spliced into a file that declares version 1; the file must then declare
    exactly what Lambda holds, or the function must fail with a reason and the file stay as
    it was."""
    function = live(
        versions=[CODE_1, (CODE_2, description)],
        aliases=[alias("live", "1"), alias("beta", "2", description=alias_description)],
    )
    version_2 = replace(function.versions[1], configuration=configuration)
    function = replace(function, versions=(function.versions[0], version_2))
    path = "teams/orders.yaml"

    plan = plan_import(
        folder({path: DECLARED_ONE[style]}),
        [function],
        ImportOptions(with_environment=True),
        imported_at=WHEN,
        default_region=REGION,
        by_region=False,
    )

    [outcome] = plan.outcomes
    assert outcome.kind == "merged", outcome.detail
    [write] = plan.writes
    if style.startswith("CRLF"):  # every line added in the file's style, escapes and all
        assert write.after.startswith("\ufeff".encode())
        assert b"\n" not in write.after.replace(b"\r\n", b"")
        assert b"\r" not in write.after.replace(b"\r\n", b"")
        assert not write.after.endswith(b"\n")
    merged = declared(write.after.decode("utf-8-sig"), path)
    assert merged.aliases["beta"].description == declared_part(alias_description)
    plan_after = plan_function(merged, function.observed(), REVISION)
    assert plan_after.error is None
    assert plan_after.in_sync, plan_after.drift


def test_functions_whose_names_make_one_metadata_name_are_each_given_their_own() -> None:
    """``_orders`` and ``-orders`` cannot be a ``metadata.name`` and become ``function-orders``,
    which is also the name of a third function Lambda accepts: each is imported, the third
    under its own name, whatever order they come in."""
    functions = [
        live(name, aliases=[alias("live", "1")])
        for name in ("_orders", "-orders", "function-orders")
    ]

    written, outcomes = imported(folder(), functions)

    assert [kind for kind, _ in outcomes] == ["written"] * 3
    names = {path: declared(source, path) for path, source in written.items()}
    assert {path: (function.name, function.ref.name) for path, function in names.items()} == {
        "functions/_orders.yaml": ("function-orders-2", "_orders"),
        "functions/-orders.yaml": ("function-orders-3", "-orders"),
        "functions/function-orders.yaml": ("function-orders", "function-orders"),
    }


def test_a_declaration_larger_than_a_file_may_be_is_refused_with_what_would_make_it_smaller() -> (
    None
):
    """300 versions of one code, each with its own 3.5 KB environment, take more than the 1 MiB
    the parser reads of a file; a function is one document, which cannot be split."""
    function = live(versions=[CODE_1] * 300, aliases=[alias("live", "1")])
    function = replace(
        function,
        versions=tuple(
            replace(version, configuration=Configuration(environment=(("BLOB", f"{n:3}" * 1200),)))
            for n, version in enumerate(function.versions)
        ),
    )

    written, outcomes = imported(
        folder(), [function], ImportOptions(all_versions=True, with_environment=True)
    )

    assert written == {}
    [(kind, detail)] = outcomes
    assert kind == "failed"
    assert re.fullmatch(
        r"functions/orders-api\.yaml: not written: the declaration would be \d+ bytes, over the "
        r"1048576 a declaration file may hold; import it without --all-versions or "
        r"--with-environment",
        detail,
    )


SECRET_MARK = "S3CR3T"
"""Around every environment value of the next test, so that a value shown, even cut or
escaped, is found."""


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["API_KEY", "ON", "NULL", LONG_NAME]), hostile_descriptions, max_size=2
    ),
    st.sampled_from(["new", "merge", "merge refused", "file in the way"]),
    st.booleans(),
)
def test_no_environment_value_is_shown_in_what_import_says(
    values: dict[str, str], into: str, with_environment: bool
) -> None:
    """Whatever becomes of the function (written, merged, refused), no line, note or warning
    of the import shows an environment value; the file holds the values only with
    ``--with-environment``, each marked secret."""
    variables = {name: f"{SECRET_MARK}{value}{SECRET_MARK}" for name, value in values.items()}
    reported = Configuration(environment=tuple(sorted(variables.items())))
    function = live(versions=[CODE_1, CODE_2], aliases=[alias("live", "1"), alias("beta", "2")])
    function = replace(
        function,
        versions=tuple(replace(version, configuration=reported) for version in function.versions),
    )
    merge_key = DECLARED.replace("  versions:\n", "  versions:\n    <<: {}\n")
    files = {
        "new": {},
        "merge": {"teams/orders.yaml": DECLARED},
        "merge refused": {"teams/orders.yaml": merge_key},
        "file in the way": {"functions/orders-api.yaml": "# notes\n"},
    }[into]

    plan = plan_import(
        folder(files),
        [function],
        ImportOptions(with_environment=with_environment),
        imported_at=WHEN,
        default_region=REGION,
        by_region=False,
    )

    [outcome] = plan.outcomes
    assert (outcome.kind == "failed") == (into in ("merge refused", "file in the way"))
    said = [*plan.warnings, outcome.line, *outcome.notes]
    assert not any(SECRET_MARK in sentence for sentence in said)
    for write in plan.writes:
        written = declared(write.after.decode(), write.path).versions
        configured = [version for version in written.values() if version.configuration.environment]
        assert with_environment or not configured
        assert all(version.secrets == set(variables) for version in configured)


def test_a_version_description_over_lambdas_limit_is_left_out_with_a_note() -> None:
    """moto keeps a 300-character version description, which Lambda refuses (rule L11) and a
    declaration may not say; a version's description is only used to publish it."""
    function = live(versions=[CODE_1, (CODE_2, "x" * 300)], aliases=[alias("live", "2")])

    generated = declaration_text(function, ImportOptions(), imported_at=WHEN)
    plan = plan_import(
        folder({"teams/orders.yaml": DECLARED}),
        [function],
        ImportOptions(),
        imported_at=WHEN,
        default_region=REGION,
        by_region=False,
    )

    note = (
        "version v2: description not declared: outside what a declaration may say "
        "(lambda-gitops validate names the limits), so any value satisfies the label"
    )
    assert "description" not in generated.text
    assert generated.notes == (note,)
    assert_in_sync(generated.text, function)
    [outcome] = plan.outcomes
    assert (outcome.kind, outcome.notes) == ("merged", (note,))
    [write] = plan.writes
    assert declared(write.after.decode(), write.path).versions["v2"].description is None


def test_functions_whose_names_differ_only_in_case_get_files_that_differ_beyond_it() -> None:
    """``Orders`` and ``orders`` are two functions; on macOS or Windows one file of
    ``Orders.yaml`` and ``orders.yaml`` would overwrite the other, in the folder and in a Git
    checkout."""
    existing = folder({"functions/ORDERS.yaml": "# notes about something else\n"})
    functions = [live(name, aliases=[alias("live", "1")]) for name in ("Orders", "orders")]

    written, outcomes = imported(existing, functions)

    assert [kind for kind, _ in outcomes] == ["written", "written"]
    assert {path: declared(source, path).ref.name for path, source in written.items()} == {
        "functions/Orders-2.yaml": "Orders",
        "functions/orders-3.yaml": "orders",
    }
