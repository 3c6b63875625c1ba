"""``promote`` changes the alias's version or routing and not one byte besides.

Each case is a file with comments and uneven formatting, the command, and the exact text the
file must hold afterwards; the controller's own loader must then read the folder without errors
and see the alias where the command put it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from controller.cli.edit import promote_command
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
      description:   "release 42"
  aliases:
"""

PROMOTIONS = [
    pytest.param(
        HEAD + "    live:\n      version: r41  # current\n    beta: {version: r42}\n",
        ["live", "--to", "r42"],
        HEAD + "    live:\n      version: r42  # current\n    beta: {version: r42}\n",
        ("r42", {}),
        id="block alias, comment after the value",
    ),
    pytest.param(
        HEAD + "    live:   {version: r41}    # flow style\n",
        ["live", "--to", "r42"],
        HEAD + "    live:   {version: r42}    # flow style\n",
        ("r42", {}),
        id="flow alias",
    ),
    pytest.param(
        HEAD + '    live:\n      version: "r41"\n',
        ["live", "--to", "r42"],
        HEAD + '    live:\n      version: "r42"\n',
        ("r42", {}),
        id="double-quoted value",
    ),
    pytest.param(
        HEAD + "    live: {version: 'r41', description: 'it''s live'}\n",
        ["live", "--to", "r42"],
        HEAD + "    live: {version: 'r42', description: 'it''s live'}\n",
        ("r42", {}),
        id="single-quoted value in a flow alias",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n",
        ["live", "--to", "17"],
        HEAD + '    live:\n      version: "17"\n',
        ("17", {}),
        id="to a published number, quoted",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41   # stays\n      description: x\n",
        ["live", "--to", "r42", "--weight", "0.1"],
        HEAD + "    live:\n      version: r41   # stays\n"
        "      routing: {r42: 0.1}\n      description: x\n",
        ("r41", {"r42": Decimal("0.1")}),
        id="canary step adds routing under a block alias",
    ),
    pytest.param(
        HEAD + "    live: {version: r41, description: x}\n",
        ["live", "--to", "r42", "--weight", "0.25"],
        HEAD + "    live: {version: r41, routing: {r42: 0.25}, description: x}\n",
        ("r41", {"r42": Decimal("0.25")}),
        id="canary step adds routing to a flow alias",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n      routing: {r42: 0.1}   # ten percent\n",
        ["live", "--to", "r42", "--weight", "0.5"],
        HEAD + "    live:\n      version: r41\n      routing: {r42: 0.5}   # ten percent\n",
        ("r41", {"r42": Decimal("0.5")}),
        id="next canary step changes the weight",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n      routing:\n        r42: 0.1  # canary\n",
        ["live", "--to", "r42", "--weight", "0.3"],
        HEAD + "    live:\n      version: r41\n      routing:\n        r42: 0.3  # canary\n",
        ("r41", {"r42": Decimal("0.3")}),
        id="block routing keeps its style and comment",
    ),
    pytest.param(
        HEAD
        + "    live:\n      version: r41\n      routing: {r42: 0.5}  # half\n"
        + "      description: x\n    # end of aliases\n",
        ["live", "--to", "r42"],
        HEAD + "    live:\n      version: r42\n      description: x\n    # end of aliases\n",
        ("r42", {}),
        id="completing the promotion removes the routing line",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n      routing:\n        r42: 0.5\n  prune: true\n",
        ["live", "--to", "r42"],
        HEAD + "    live:\n      version: r42\n  prune: true\n",
        ("r42", {}),
        id="completing removes a block routing",
    ),
    pytest.param(
        HEAD + '    live: {version: r41, routing: {r42: 0.5}, description: "x"}\n',
        ["live", "--to", "r42"],
        HEAD + '    live: {version: r42, description: "x"}\n',
        ("r42", {}),
        id="completing removes routing from a flow alias",
    ),
    pytest.param(
        HEAD + "    live: {routing: {r42: 0.5}, version: r41}\n",
        ["live", "--to", "r42"],
        HEAD + "    live: {version: r42}\n",
        ("r42", {}),
        id="completing removes a leading flow entry",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41\n      routing: {r42: 0.5}",
        ["live", "--to", "r42"],
        HEAD + "    live:\n      version: r42",
        ("r42", {}),
        id="a file without a final newline keeps none",
    ),
    pytest.param(
        HEAD + "    live: {version: r41}",
        ["live", "--to", "r42", "--weight", "0.1"],
        HEAD + "    live: {version: r41, routing: {r42: 0.1}}",
        ("r41", {"r42": Decimal("0.1")}),
        id="flow alias on a last line without newline",
    ),
    pytest.param(
        HEAD + "    live:\n      version: r41",
        ["live", "--to", "r42", "--weight", "0.1"],
        HEAD + "    live:\n      version: r41\n      routing: {r42: 0.1}",
        ("r41", {"r42": Decimal("0.1")}),
        id="routing added after a last line without newline",
    ),
]


@pytest.mark.parametrize(("original", "args", "expected", "alias_after"), PROMOTIONS)
def test_promote_changes_only_the_alias(
    tmp_path: Path,
    original: str,
    args: list[str],
    expected: str,
    alias_after: tuple[str, dict[str, Decimal]],
) -> None:
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(promote_command, tmp_path, "orders-api", *args)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_bytes().decode() == expected
    alias = loaded_function(tmp_path, "orders-api").aliases[args[0]]
    assert (alias.version, dict(alias.routing)) == alias_after


def test_promote_prints_what_changed(tmp_path: Path) -> None:
    write_repository(tmp_path, {"orders-api.yaml": (HEAD + "    live: {version: r41}\n").encode()})

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42")

    assert result.stdout == "orders-api.yaml: live: r41 -> r42\n"


def test_promote_to_where_the_alias_is_changes_nothing(tmp_path: Path) -> None:
    original = (HEAD + "    live: {version: r42}\n").encode()
    write_repository(tmp_path, {"orders-api.yaml": original})

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42")

    assert result.exit_code == 0
    assert "already on r42" in result.stdout
    assert (tmp_path / "orders-api.yaml").read_bytes() == original


def test_multi_document_file_edits_only_the_named_function(tmp_path: Path) -> None:
    other_tool = "# someone else's\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    billing = (
        "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata: {name: billing}\n"
        f'spec:\n  versions:\n    r1: {{codeSha256: "{SHA_41}"}}\n'
        "  aliases:\n    live: {version: r1}\n"
    )
    orders = HEAD + "    live:\n      version: r41 # current\n"
    original = f"{other_tool}---\n{billing}---\n{orders}...\n"
    write_repository(tmp_path, {"functions.yml": original.encode()})

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42")

    assert result.exit_code == 0, result.output
    edited = (tmp_path / "functions.yml").read_text()
    assert edited == original.replace("version: r41 # current", "version: r42 # current")
    assert loaded_function(tmp_path, "billing").aliases["live"].version == "r1"
    assert loaded_function(tmp_path, "orders-api").aliases["live"].version == "r42"


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    original = (HEAD + "    live:\n      version: r41\n").replace("\n", "\r\n").encode()
    write_repository(tmp_path, {"orders-api.yaml": original})

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42", "--weight", "0.1")

    assert result.exit_code == 0, result.output
    assert (
        tmp_path / "orders-api.yaml"
    ).read_bytes() == original + b"      routing: {r42: 0.1}\r\n"


def test_function_found_by_its_function_name(tmp_path: Path) -> None:
    original = HEAD.replace("spec:\n", "spec:\n  functionName: orders-prod\n") + (
        "    live: {version: r41}\n"
    )
    write_repository(tmp_path, {"decl/orders.yaml": original.encode()})

    result = run(promote_command, tmp_path, "orders-prod", "live", "--to", "r42", "--path", "decl")

    assert result.exit_code == 0, result.output
    assert loaded_function(tmp_path, "orders-api").aliases["live"].version == "r42"


# -- refused promotions ----------------------------------------------------------------------------

LIVE_ON_R41 = HEAD + "    live:\n      version: r41  # current\n"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["billing", "live", "--to", "r42"], "no declaration has metadata.name"),
        (["orders-api", "beta", "--to", "r42"], "has no alias 'beta' (aliases: live)"),
        (["orders-api", "live", "--to", "r99"], "'r99' is not a label of spec.versions"),
        (["orders-api", "live", "--to", "017"], "'017' is not a published version number"),
        (["orders-api", "live", "--to", "r42", "--weight", "1.5"], "the weight 1.5 is not"),
        (["orders-api", "live", "--to", "r42", "--weight", "0"], "the weight 0 is not"),
        (["orders-api", "live", "--to", "r42", "--weight", "1"], "strictly between 0 and 1"),
        (["orders-api", "live", "--to", "r42", "--weight", "ten"], "'ten' is not a number"),
        (["orders-api", "live", "--to", "r41", "--weight", "0.1"], "the alias's own version"),
        (["orders-api", "live", "--to", "r99", "--weight", "0.1"], "'r99' is not a label"),
        (["orders-api", "live", "--to", "$LATEST", "--weight", "0.1"], "to $LATEST"),
    ],
)
def test_a_bad_promotion_leaves_every_file_as_it_was(
    tmp_path: Path, args: list[str], problem: str
) -> None:
    write_repository(tmp_path, {"orders-api.yaml": LIVE_ON_R41.encode()})
    before = snapshot(tmp_path)

    result = run(promote_command, tmp_path, *args)

    assert result.exit_code == 1
    assert snapshot(tmp_path) == before
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert problem in result.stderr


def test_a_declaration_broken_by_hand_is_not_made_worse(tmp_path: Path) -> None:
    """An alias that already names an unknown label stays refused; the file is not touched."""
    original = LIVE_ON_R41 + "    beta: {version: r7}\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})
    before = snapshot(tmp_path)

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "r42")

    assert result.exit_code == 1
    assert "'r7' is not a label" in result.stderr
    assert snapshot(tmp_path) == before


def test_a_value_shared_through_an_anchor_is_refused(tmp_path: Path) -> None:
    original = HEAD + "    live: &same {version: r41}\n    beta: *same\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})
    before = snapshot(tmp_path)

    result = run(promote_command, tmp_path, "orders-api", "beta", "--to", "r42")

    assert result.exit_code == 1
    assert "YAML anchor" in result.stderr
    assert snapshot(tmp_path) == before


def test_a_function_declared_twice_by_function_name_is_ambiguous(tmp_path: Path) -> None:
    one = HEAD.replace("spec:\n", "spec:\n  functionName: orders\n") + "    live: {version: r41}\n"
    two = one.replace("name: orders-api", "name: orders-eu").replace(
        "spec:\n", "spec:\n  region: eu-west-1\n"
    )
    write_repository(tmp_path, {"a.yaml": one.encode(), "b.yaml": two.encode()})
    before = snapshot(tmp_path)

    result = run(promote_command, tmp_path, "orders", "live", "--to", "r42")

    assert result.exit_code == 1
    assert "declared more than once" in result.stderr
    assert snapshot(tmp_path) == before


def test_a_label_yaml_1_1_reads_as_a_boolean_is_quoted_in_a_file_that_says_it_is_yaml_1_1(
    tmp_path: Path,
) -> None:
    """``y`` is a label, but in a ``%YAML 1.1`` file a plain ``y`` is the boolean true: written
    plain, the alias would point at ``True`` and the edit be refused."""
    original = (
        f"%YAML 1.1\n---\n{HEAD}".replace("r42:   # next release", '"y":   # next release')
        + "    live: {version: r41}\n"
    )
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(promote_command, tmp_path, "orders-api", "live", "--to", "y")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_text().endswith('    live: {version: "y"}\n')
    assert loaded_function(tmp_path, "orders-api").aliases["live"].version == "y"
