"""``promote --rollout PRESET`` writes the alias's rollout block, and nothing else changes.

As in ``edit/test_promote.py``, each case is a file with comments and uneven formatting, the
command, and the exact text the file must hold afterwards; the controller's own loader must then
read the folder without errors and see the alias, and its rollout, where the command put them.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.adapters.git.reader import FolderTree
from controller.cli.edit import promote_command
from controller.core.declarations import parse_declarations
from controller.errors import EditRefused
from controller.review import edits, presets
from tests.review.edit.support import (
    SHA_41,
    SHA_42,
    loaded_function,
    run,
    snapshot,
    write_repository,
)

HEAD = f"""\
# The orders API.  Reviewed by the payments team.
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: orders-api   # the declaration's name
spec:
  versions:
    r41:
      codeSha256: "{SHA_41}"
    r42:   # next release
      codeSha256: '{SHA_42}'
  aliases:
"""

ANALYSIS = """\
        analysis:   # the payments team's checks
          interval: 1m
          checks:
            - cloudwatch: {metric: Errors, stat: Sum, ratioTo: Invocations, max: 0.01}
"""

Steps = list[tuple[str, float]]

CANARY: Steps = [("0.1", 300.0)]

WRITTEN = [
    pytest.param(
        HEAD + "    live:\n      version: r41  # current\n      description: x\n",
        ["--rollout", "canary-10-5m"],
        HEAD + "    live:\n      version: r42  # current\n"
        "      rollout:\n        steps:\n          - {weight: 0.1, hold: 5m}\n"
        "      description: x\n",
        CANARY,
        id="block alias: a new rollout block after the version",
    ),
    pytest.param(
        HEAD + "    live:   {version: r41, description: x}    # flow style\n",
        ["--rollout", "canary-10-5m"],
        HEAD + "    live:   {version: r42, rollout: {steps: [{weight: 0.1, hold: 5m}]}, "
        "description: x}    # flow style\n",
        CANARY,
        id="flow alias: a flow rollout",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41",
        ["--rollout", "Linear10PercentEvery2Minutes"],
        HEAD
        + "    live:\n      version: r42\n      rollout:\n        steps:\n"
        + "\n".join(f"          - {{weight: 0.{i}, hold: 2m}}" for i in range(1, 10)),
        [(f"0.{i}", 120.0) for i in range(1, 10)],
        id="a SAM preset, on a last line without newline",
    ),
    pytest.param(
        HEAD.replace("  ", "    ")
        + "        live:\n            version: r41\n            description: x\n",
        ["--rollout", "canary-25-1h"],
        HEAD.replace("  ", "    ")
        + "        live:\n            version: r42\n"
        + "            rollout:\n                steps:\n"
        + "                    - {weight: 0.25, hold: 1h}\n            description: x\n",
        [("0.25", 3600.0)],
        id="four-space indentation",
    ),
    pytest.param(
        HEAD
        + "    live:\n      version: r41\n      rollout:\n        steps:   # gentle\n"
        + "          - {weight: 0.05, hold: 10m}   # five percent\n"
        + "          - {weight: 0.5, pause: true}\n"
        + ANALYSIS
        + "      approve: 2\n",
        ["--rollout", "linear-25-1m"],
        HEAD
        + "    live:\n      version: r42\n      rollout:\n        steps:   # gentle\n"
        + "          - {weight: 0.25, hold: 1m}\n"
        + "          - {weight: 0.5, hold: 1m}\n"
        + "          - {weight: 0.75, hold: 1m}\n"
        + ANALYSIS
        + "      approve: 0\n",
        [("0.25", 60.0), ("0.5", 60.0), ("0.75", 60.0)],
        id="an existing block keeps its analysis; approve back to 0",
    ),
    pytest.param(
        HEAD
        + "    live:\n      version: r41\n      rollout:\n"
        + "        onNoData: pass\n        steps: [{weight: 0.2, hold: '1m'}]\n"
        + ANALYSIS,
        ["--rollout", "canary-10-5m"],
        HEAD
        + "    live:\n      version: r42\n      rollout:\n"
        + "        onNoData: pass\n        steps: [{weight: 0.1, hold: '5m'}]\n"
        + ANALYSIS,
        CANARY,
        id="a flow list of steps stays one, its quoting kept",
    ),
    pytest.param(
        HEAD
        + "    live:\n      version: r41\n      rollout:\n        steps:\n"
        + "        - weight: 0.2\n          hold: 1m\n"
        + "        - weight: 0.4\n          hold: 1m\n"
        + "      approve: 0\n",
        ["--rollout", "canary-10-5m"],
        HEAD
        + "    live:\n      version: r42\n      rollout:\n        steps:\n"
        + "        - weight: 0.1\n          hold: 5m\n"
        + "      approve: 0\n",
        CANARY,
        id="block items stay block items, indentless as they were",
    ),
    pytest.param(
        HEAD
        + "    live: {version: r41, rollout: {steps: [{weight: 0.5, hold: 1m}]}, approve: 1}\n",
        ["--rollout", "linear-50-30s"],
        HEAD
        + "    live: {version: r42, rollout: {steps: [{weight: 0.5, hold: 30s}]}, approve: 0}\n",
        [("0.5", 30.0)],
        id="flow alias with a rollout",
    ),
    pytest.param(
        HEAD
        + "    live:\n      version: r41\n      rollout:   # to be written\n      approve: 0\n",
        ["--rollout", "canary-10-5m"],
        HEAD + "    live:\n      version: r42\n      rollout:\n        steps:\n"
        "          - {weight: 0.1, hold: 5m}\n      approve: 0\n",
        CANARY,
        id="an empty rollout key gets the steps",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n      rollout:\n" + ANALYSIS,
        ["--rollout", "canary-10-5m"],
        HEAD + "    live:\n      version: r42\n      rollout:\n        steps:\n"
        "          - {weight: 0.1, hold: 5m}\n" + ANALYSIS,
        CANARY,
        id="a rollout with an analysis and no steps gets them first",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n      routing: {r42: 0.1}   # ten percent\n"
        "      description: x\n",
        ["--rollout", "canary-10-5m"],
        HEAD + "    live:\n      version: r42\n"
        "      rollout:\n        steps:\n          - {weight: 0.1, hold: 5m}\n"
        "      description: x\n",
        CANARY,
        id="a canary by hand (routing) becomes the rollout",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n      routing:\n        r42: 0.1",
        ["--rollout", "canary-10-5m"],
        HEAD + "    live:\n      version: r42\n"
        "      rollout:\n        steps:\n          - {weight: 0.1, hold: 5m}",
        CANARY,
        id="a block routing on the last line becomes the rollout",
    ),
    pytest.param(
        HEAD + "    live: {version: r41, routing: {r42: 0.1}, description: x}\n",
        ["--rollout", "canary-10-5m"],
        HEAD + "    live: {version: r42, rollout: {steps: [{weight: 0.1, hold: 5m}]}, "
        "description: x}\n",
        CANARY,
        id="a flow routing becomes the rollout",
    ),
    pytest.param(
        HEAD
        + "    beta:\n      version: r41\n      rollout:\n        steps:\n"
        + "        - {weight: 0.5, hold: 1m}\n"
        + "    live:\n      version: r41\n",
        ["--rollout", "canary-10-5m"],
        HEAD
        + "    beta:\n      version: r41\n      rollout:\n        steps:\n"
        + "        - {weight: 0.5, hold: 1m}\n"
        + "    live:\n      version: r42\n"
        + "      rollout:\n        steps:\n        - {weight: 0.1, hold: 5m}\n",
        CANARY,
        id="the file's indentless lists make an indentless list",
    ),
]


@pytest.mark.parametrize(("original", "args", "expected", "steps"), WRITTEN)
def test_promote_writes_the_rollout_and_nothing_else(
    tmp_path: Path, original: str, args: list[str], expected: str, steps: Steps
) -> None:
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42", *args)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_bytes().decode() == expected
    alias = loaded_function(tmp_path, "orders-api").aliases["live"]
    assert alias.version == "r42"
    assert not alias.routing
    assert alias.rollout is not None
    assert [(str(s.weight), s.hold, s.pause) for s in alias.rollout.steps] == [
        (weight, hold, False) for weight, hold in steps
    ]
    assert alias.approve == 0
    assert (alias.rollout.analysis is not None) == ("analysis:" in original)


def test_the_summary_says_what_changed(tmp_path: Path) -> None:
    original = HEAD + "    live:\n      version: r41\n      rollout:\n        steps:\n"
    original += "          - {weight: 0.5, pause: true}\n" + ANALYSIS + "      approve: 1\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(
        promote_command, tmp_path, "orders-api", "live", "--to", "r42", "--rollout", "linear-10-1m"
    )

    assert result.stdout == (
        "orders-api.yaml: live: r41 -> r42, rollout linear-10-1m (9 steps of 10% more every 1m, "
        "then all), analysis kept, approve 1 -> 0 (a new target starts at step 1)\n"
    )


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    original = (HEAD + "    live:\n      version: r41\n      description: x\n").replace(
        "\n", "\r\n"
    )
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(
        promote_command, tmp_path, "orders-api", "live", "--to", "r42", "--rollout", "canary-10-5m"
    )

    assert result.exit_code == 0, result.output
    written = "      rollout:\r\n        steps:\r\n          - {weight: 0.1, hold: 5m}\r\n"
    assert (tmp_path / "orders-api.yaml").read_bytes() == original.replace(
        "version: r41\r\n", "version: r42\r\n" + written
    ).encode()


# -- removing a rollout ----------------------------------------------------------------------------

REMOVED = [
    pytest.param(
        HEAD
        + "    live:\n      version: r41   # current\n      rollout:\n        steps:\n"
        + "          - {weight: 0.1, hold: 5m}\n"
        + ANALYSIS
        + "      approve: 1\n      skip: true\n      description: x\n    # end of aliases\n",
        "none",
        HEAD + "    live:\n      version: r42   # current\n      description: x\n"
        "    # end of aliases\n",
        id="none removes the block, with its approve and skip",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n      rollout:\n        steps:\n"
        "          - {weight: 0.1, hold: 5m}\n      approve: 0\n      skip: false",
        "AllAtOnce",
        HEAD + "    live:\n      version: r42",
        id="AllAtOnce, the block at the end of a file without newline",
    ),
    pytest.param(
        HEAD
        + "    live: {rollout: {steps: [{weight: 0.1, hold: 5m}]}, approve: 1, version: r41}\n",
        "CodeDeployDefault.LambdaAllAtOnce",
        HEAD + "    live: {version: r42}\n",
        id="a flow alias, the removed entries first",
    ),
    pytest.param(
        HEAD
        + "    live: {version: r41, rollout: {steps: [{weight: 0.1, hold: 5m}]}, skip: true}\n",
        "none",
        HEAD + "    live: {version: r42}\n",
        id="a flow alias, the removed entries last",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n      routing: {r42: 0.5}\n",
        "none",
        HEAD + "    live:\n      version: r42\n",
        id="no rollout to remove: the routing goes as promote removes it",
    ),
]


@pytest.mark.parametrize(("original", "preset", "expected"), REMOVED)
def test_a_preset_of_no_rollout_removes_the_block(
    tmp_path: Path, original: str, preset: str, expected: str
) -> None:
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(
        promote_command, tmp_path, "orders-api", "live", "--to", "r42", "--rollout", preset
    )

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_bytes().decode() == expected
    alias = loaded_function(tmp_path, "orders-api").aliases["live"]
    assert (alias.version, alias.rollout, dict(alias.routing)) == ("r42", None, {})


def test_removing_says_so(tmp_path: Path) -> None:
    original = HEAD + "    live: {version: r42, rollout: {steps: [{weight: 0.1, hold: 5m}]}}\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(
        promote_command, tmp_path, "orders-api", "live", "--to", "r42", "--rollout", "AllAtOnce"
    )

    assert result.stdout == "orders-api.yaml: live: stays on r42, rollout removed (AllAtOnce)\n"


# -- without --rollout, and edits that change nothing ----------------------------------------------

WITH_ROLLOUT = (
    HEAD
    + "    live:\n      version: r41  # current\n      rollout:   # reviewed by payments\n"
    + "        steps:\n          - {weight: 0.1, hold: 5m}\n"
    + "          - {weight: 0.5, pause: true}\n"
    + ANALYSIS
    + "        onNoData: fail\n"
)


def test_promote_without_rollout_keeps_the_block_untouched(tmp_path: Path) -> None:
    write_repository(tmp_path, {"orders-api.yaml": WITH_ROLLOUT.encode()})
    before = loaded_function(tmp_path, "orders-api").aliases["live"].rollout

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42")

    assert result.exit_code == 0, result.output
    assert result.stdout == "orders-api.yaml: live: r41 -> r42\n"
    edited = (tmp_path / "orders-api.yaml").read_text()
    assert edited == WITH_ROLLOUT.replace("version: r41  # current", "version: r42  # current")
    alias = loaded_function(tmp_path, "orders-api").aliases["live"]
    assert alias.version == "r42"
    assert alias.rollout == before


def test_promote_without_rollout_resets_approve_for_the_new_target(tmp_path: Path) -> None:
    original = WITH_ROLLOUT + "      approve: 2   # both pauses let through\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "orders-api.yaml: live: r41 -> r42, approve 2 -> 0 (a new target starts at step 1)\n"
    )
    assert (tmp_path / "orders-api.yaml").read_text() == original.replace(
        "version: r41  # current", "version: r42  # current"
    ).replace("approve: 2", "approve: 0")
    assert loaded_function(tmp_path, "orders-api").aliases["live"].approve == 0


def test_approve_stays_when_the_version_does(tmp_path: Path) -> None:
    """Only a new target restarts a rollout; a new set of steps for the same one does not."""
    original = WITH_ROLLOUT.replace("r41  # current", "r42  # current") + "      approve: 2\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(
        promote_command, tmp_path, "orders-api", "live", "--to", "r42", "--rollout", "canary-10-5m"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("orders-api.yaml: live: stays on r42, rollout canary-10-5m")
    assert "approve: 2\n" in (tmp_path / "orders-api.yaml").read_text()


def test_approve_is_kept_without_a_rollout(tmp_path: Path) -> None:
    original = HEAD + "    live:\n      version: r41\n      approve: 3\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_text() == original.replace("r41\n", "r42\n", 1)


def test_a_skip_left_on_is_pointed_out(tmp_path: Path) -> None:
    original = WITH_ROLLOUT + "      skip: true\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "orders-api.yaml: live: r41 -> r42, note: skip is true, so r42 is moved to at once, "
        "without steps\n"
    )
    assert "skip: true" in (tmp_path / "orders-api.yaml").read_text()


@pytest.mark.parametrize(
    ("original", "preset", "said"),
    [
        (
            HEAD + "    live: {version: r42, rollout: {steps: [{weight: 0.1, hold: 5m}]}}\n",
            "canary-10-5m",
            "live is already on r42 with no routing and rollout canary-10-5m",
        ),
        (
            HEAD + "    live:\n      version: r42\n      rollout:\n        steps:\n"
            "        - weight: 0.1\n          hold: 5m   # five minutes\n",
            "Canary10Percent5Minutes",
            "live is already on r42 with no routing and rollout Canary10Percent5Minutes",
        ),
        (
            HEAD + "    live: {version: r42}\n",
            "none",
            "live is already on r42 with no routing and no rollout",
        ),
        (WITH_ROLLOUT.replace("r41  #", "r42  #"), None, "live is already on r42 with no routing"),
    ],
)
def test_an_edit_to_what_is_there_changes_nothing(
    tmp_path: Path, original: str, preset: str | None, said: str
) -> None:
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})
    before = snapshot(tmp_path)

    args = ["--rollout", preset] if preset is not None else []
    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42", *args)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"orders-api.yaml: {said}\n"
    assert snapshot(tmp_path) == before


# -- refused ---------------------------------------------------------------------------------------

LIVE = HEAD + "    live:\n      version: r41  # current\n"


@pytest.mark.parametrize(
    ("original", "args", "problem"),
    [
        (
            LIVE,
            ["--to", "r42", "--weight", "0.1", "--rollout", "canary-10-5m"],
            "--weight and --rollout do not go together",
        ),
        (
            WITH_ROLLOUT,
            ["--to", "r42", "--weight", "0.1"],
            "a rollout sets the alias's routing itself",
        ),
        (LIVE, ["--to", "$LATEST", "--rollout", "canary-10-5m"], "cannot roll out"),
        (LIVE, ["--to", "r99", "--rollout", "canary-10-5m"], "'r99' is not a label"),
        (
            HEAD + "    live: &same {version: r41, rollout: {steps: [{weight: 0.1, hold: 5m}]}}\n"
            "    beta: *same\n",
            ["--to", "r42", "--rollout", "none"],
            "YAML anchor",
        ),
        (
            HEAD + "    live:\n      version: r41\n      rollout: &plan\n        steps:\n"
            "          - {weight: 0.1, hold: 5m}\n"
            "    beta:\n      version: r41\n      rollout: *plan\n",
            ["--to", "r42", "--rollout", "linear-10-1m"],
            "spec.aliases.live.rollout at line 15 is shared through a YAML anchor",
        ),
    ],
)
def test_a_refused_rollout_leaves_every_file_as_it_was(
    tmp_path: Path, original: str, args: list[str], problem: str
) -> None:
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})
    before = snapshot(tmp_path)

    result = run(promote_command, tmp_path, "orders-api", "live", *args)

    assert result.exit_code == 1, result.output
    assert snapshot(tmp_path) == before
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert problem in result.stderr


@pytest.mark.parametrize(
    ("preset", "problem"),
    [
        ("canry-10-5m", "did you mean 'canary-10-5m'"),
        ("Canary10Percent20Minutes", "did you mean 'Canary10Percent10Minutes'"),
        ("linear-3-1m", "3 does not divide 100"),
        ("blue-green", "Valid presets: canary-P-D"),
    ],
)
def test_an_unknown_preset_is_a_usage_error(tmp_path: Path, preset: str, problem: str) -> None:
    write_repository(tmp_path, {"orders-api.yaml": LIVE.encode()})
    before = snapshot(tmp_path)

    result = run(
        promote_command, tmp_path, "orders-api", "live", "--to", "r42", "--rollout", preset
    )

    assert result.exit_code == 2
    assert snapshot(tmp_path) == before
    assert "Invalid value for '--rollout'" in result.stderr
    assert problem in " ".join(result.stderr.split())


# -- every preset, every style ---------------------------------------------------------------------

ALIAS_STYLES = [
    "    live:\n      version: r41\n",
    "    live: {version: r41}\n",
    "    live:\n      version: r41\n      routing: {r42: 0.2}\n",
    "    live:\n      version: r41\n      rollout:\n        steps:\n"
    "          - {weight: 0.3, hold: 1m}\n" + ANALYSIS + "      approve: 1\n",
    "    live: {version: r41, rollout: {steps: [{weight: 0.3, pause: true}]}, approve: 1}\n",
    "    live:\n      version: r41\n      rollout:\n        steps:\n"
    "        - weight: 0.3\n          pause: true",
]

PRESET_NAMES = st.one_of(
    st.builds(
        "canary-{}-{}".format, st.integers(1, 99), st.sampled_from(["30s", "5m", "1h30m", "2h"])
    ),
    st.builds("linear-{}-{}".format, st.sampled_from([5, 10, 20, 25, 50]), st.just("1m")),
    st.sampled_from([*presets.SAM_PRESETS, *presets.NO_ROLLOUT]),
)


@pytest.fixture(scope="module")
def empty_tree(tmp_path_factory: pytest.TempPathFactory) -> FolderTree:
    return FolderTree(tmp_path_factory.mktemp("repository"))


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60, deadline=None
)
@given(st.sampled_from(ALIAS_STYLES), PRESET_NAMES, st.booleans())
def test_every_preset_makes_a_valid_declaration(
    empty_tree: FolderTree, alias: str, name: str, moved: bool
) -> None:
    """Whatever the alias looked like, the edit parses, with the preset's steps and nothing of
    the file outside the alias changed."""
    original = HEAD + alias
    target = "r42" if moved else "r41"
    preset = presets.parse(name)
    files = [edits.SourceFile("orders-api.yaml", original.encode())]

    try:
        edit = edits.promote(
            files,
            "orders-api",
            "live",
            target,
            None,
            rollout=preset,
            default_region="us-east-1",
            tree=empty_tree,
        )
    except EditRefused as error:  # only a rollout kept on $LATEST could be; none here
        raise AssertionError(error) from error

    parsed = parse_declarations(
        [("orders-api.yaml", edit.after)], default_region="us-east-1", tree=empty_tree
    )
    assert parsed.errors == ()
    assert edit.after.decode().startswith(HEAD)
    (function,) = parsed.functions
    live = function.aliases["live"]
    assert live.version == target
    assert not live.routing
    if preset.removes:
        assert live.rollout is None
        return
    assert live.rollout is not None
    assert [s.weight for s in live.rollout.steps] == [s.weight for s in preset.steps]
    assert [s.hold for s in live.rollout.steps] == [float(s.seconds) for s in preset.steps]
    assert (live.rollout.analysis is not None) == ("analysis:" in alias)
    if moved:
        assert live.approve == 0
    assert all(Decimal(0) < s.weight < Decimal(1) for s in live.rollout.steps)


def test_removing_names_the_approve_and_skip_that_go_with_it(tmp_path: Path) -> None:
    original = HEAD + "    live:\n      version: r41\n      rollout:\n        steps:\n"
    original += "          - {weight: 0.1, hold: 5m}\n      approve: 1\n      skip: true\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(
        promote_command, tmp_path, "orders-api", "live", "--to", "r42", "--rollout", "none"
    )

    assert (
        result.stdout
        == "orders-api.yaml: live: r41 -> r42, rollout, approve and skip removed (none)\n"
    )
