"""``add_alias`` and ``declare_adoption``: what ``import`` adds to a declaration that exists,
in the file's own style, validated like every edit, and never changing what is declared.

The new lines are compared with the expected text exactly, so indentation, quoting and the
bytes around them are checked together.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from controller.errors import EditRefused
from controller.review.edits import Edit, SourceFile, add_alias, declare_adoption
from tests.core.declarations.support import FakeTree
from tests.review.edit.support import SHA_41, SHA_42

HEAD = "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata:\n  name: orders-api\nspec:\n"
VERSIONS = (
    f'  versions:\n    r41:\n      codeSha256: "{SHA_41}"\n    r42:\n      codeSha256: "{SHA_42}"\n'
)


def added(
    source: str, alias: str = "canary", routing: dict[str, Decimal] | None = None, **kw: str
) -> Edit:
    return add_alias(
        [SourceFile("orders-api.yaml", source.encode())],
        "orders-api",
        alias,
        kw.get("version", "r41"),
        routing=routing,
        description=kw.get("description", ""),
        default_region="us-east-1",
        tree=FakeTree(),
    )


@pytest.mark.parametrize(
    ("aliases", "new"),
    [
        pytest.param(
            "  aliases:\n    live:   # production\n      version: r41\n",
            "    canary:\n      version: r41\n      routing: {r42: 0.1}\n"
            '      description: "10%"\n',
            id="after the last block alias, in its indentation",
        ),
        pytest.param(
            "  aliases:\n      live:\n          version: 'r41'\n",
            "      canary:\n          version: 'r41'\n          routing: {r42: 0.1}\n"
            '          description: "10%"\n',
            id="odd indentation and quoting are copied",
        ),
        pytest.param(
            "  aliases:\n    live: {version: r41}   # flow\n",
            '    canary: {version: r41, routing: {r42: 0.1}, description: "10%"}\n',
            id="a flow-style alias gets a flow-style neighbour",
        ),
    ],
)
def test_an_alias_is_added_after_the_last_one_in_the_same_style(aliases: str, new: str) -> None:
    edit = added(HEAD + VERSIONS + aliases, routing={"r42": Decimal("0.1")}, description="10%")

    assert edit.after.decode() == HEAD + VERSIONS + aliases + new
    assert edit.summary == "orders-api.yaml: orders-api: alias canary added (on r41 + 10% to r42)"


def test_a_flow_aliases_mapping_gets_a_flow_entry() -> None:
    source = HEAD + VERSIONS + "  aliases: {live: {version: r41}}  # all\n"

    edit = added(source)

    assert edit.after.decode() == HEAD + VERSIONS + (
        "  aliases: {live: {version: r41}, canary: {version: r41}}  # all\n"
    )


def test_a_spec_without_aliases_gets_an_aliases_mapping_at_its_end() -> None:
    source = HEAD + VERSIONS + "  prune: false\n"

    edit = added(source, version="$LATEST")

    assert edit.after.decode() == source + "  aliases:\n    canary:\n      version: $LATEST\n"


def test_an_empty_aliases_mapping_is_filled() -> None:
    edit = added(HEAD + VERSIONS + "  aliases: {}\n")

    assert edit.after.decode() == HEAD + VERSIONS + "  aliases: {canary: {version: r41}}\n"


def test_a_declared_alias_is_never_changed() -> None:
    with pytest.raises(EditRefused, match="already declares alias 'canary'; move it with promote"):
        added(HEAD + VERSIONS + "  aliases:\n    canary: {version: r42}\n")


def test_an_alias_that_would_be_invalid_leaves_the_file_alone() -> None:
    with pytest.raises(EditRefused, match="left unchanged") as refused:
        added(HEAD + VERSIONS, routing={"r41": Decimal("0.1")})

    assert "rule L21d" in str(refused.value)


def adoption(source: str) -> Edit:
    return declare_adoption(
        [SourceFile("orders-api.yaml", source.encode())],
        "orders-api",
        default_region="us-east-1",
        tree=FakeTree(),
    )


def test_adopt_is_added_at_the_end_of_the_spec() -> None:
    source = HEAD + VERSIONS + "  aliases:\n    live: {version: r41}  # production\n"

    edit = adoption(source)

    assert edit.after.decode() == source + "  adopt: true\n"
    assert edit.summary == "orders-api.yaml: orders-api: adopt: true added"


@pytest.mark.parametrize("declared", ["true", "false"])
def test_a_declared_adopt_is_left_as_it_is(declared: str) -> None:
    source = HEAD + VERSIONS + f"  adopt: {declared}   # decided by the team\n"

    edit = adoption(source)

    assert not edit.changed
    assert edit.summary == f"orders-api.yaml: orders-api: adopt is already declared ({declared})"
