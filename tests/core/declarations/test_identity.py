"""One function, one declaration: every spelling Lambda accepts names the same function.

Lambda takes a function as a bare name, a partial ARN (``ACCOUNT:function:NAME``) or a full ARN,
each optionally followed by a qualifier. A declaration names a whole function, so it takes the
three unqualified spellings; any two of them that resolve to the same function are one function
declared twice, and both places are named. Without this, ``run`` applied both declarations in
turn and moved the alias back and forth at every pass.
"""

from __future__ import annotations

import itertools

import pytest

from controller.core.model import FunctionId
from tests.core.declarations.support import SHA_A, SHA_B, function, parse

OWN = "123456789012"
OTHER = "210987654321"
REGION = "us-east-1"

SPELLINGS = {
    "name": "orders-api",
    "partial ARN": f"{OWN}:function:orders-api",
    "full ARN": f"arn:aws:lambda:{REGION}:{OWN}:function:orders-api",
}
QUALIFIED = {
    "name with a version": "orders-api:7",
    "name with an alias": "orders-api:live",
    "name with $LATEST": "orders-api:$LATEST",
    "partial ARN with an alias": f"{OWN}:function:orders-api:live",
    "full ARN with a version": f"arn:aws:lambda:{REGION}:{OWN}:function:orders-api:7",
}


def declared(label: str, function_name: str, sha: str = SHA_A, region: str = REGION) -> str:
    return function(
        f"""
        functionName: "{function_name}"
        region: {region}
        versions: {{r1: {{codeSha256: "{sha}"}}}}
        aliases: {{live: {{version: r1}}}}
        """,
        header=f"apiVersion: lambda-gitops/v1\nkind: Function\nmetadata:\n  name: {label}\nspec:\n",
    )


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_unqualified_spelling_names_the_function_in_the_controllers_account(
    spelling: str,
) -> None:
    declarations = parse(("f.yaml", declared("orders", SPELLINGS[spelling])), account=OWN)

    [desired] = declarations.functions
    assert desired.ref.identity == FunctionId(OWN, REGION, "orders-api")
    assert desired.ref.account == OWN


@pytest.mark.parametrize(
    ("first", "second"), list(itertools.combinations_with_replacement(SPELLINGS, 2))
)
@pytest.mark.parametrize("account", [OWN, None], ids=["account known", "account unknown"])
def test_two_spellings_of_one_function_are_refused_in_both_places(
    first: str, second: str, account: str | None
) -> None:
    declarations = parse(
        ("a.yaml", declared("orders", SPELLINGS[first], SHA_A)),
        ("b.yaml", declared("orders-again", SPELLINGS[second], SHA_B)),
        account=account,
    )

    assert declarations.functions == ()
    messages = [str(error) for error in declarations.errors]
    assert len(messages) == 2
    assert messages[0].startswith("a.yaml:6: function 'orders-api' in us-east-1")
    assert "also declared at b.yaml:6" in messages[0]
    assert "also declared at a.yaml:6" in messages[1]


def test_an_arn_of_another_account_is_another_function_when_the_account_is_known() -> None:
    declarations = parse(
        ("a.yaml", declared("orders", "orders-api")),
        (
            "b.yaml",
            declared("orders-other", f"arn:aws:lambda:{REGION}:{OTHER}:function:orders-api"),
        ),
        account=OWN,
    )

    assert declarations.errors == ()
    assert sorted(f.ref.identity.account or "" for f in declarations.functions) == [OWN, OTHER]


def test_with_the_account_unknown_a_bare_name_may_be_any_accounts_and_says_so() -> None:
    declarations = parse(
        ("a.yaml", declared("orders", "orders-api")),
        (
            "b.yaml",
            declared("orders-other", f"arn:aws:lambda:{REGION}:{OTHER}:function:orders-api"),
        ),
    )

    assert declarations.functions == ()
    assert all("set `account` in the configuration" in str(e) for e in declarations.errors)


@pytest.mark.parametrize("spelling", QUALIFIED)
def test_a_qualified_spelling_is_refused_with_the_unqualified_one_to_write(spelling: str) -> None:
    declarations = parse(("f.yaml", declared("orders", QUALIFIED[spelling])), account=OWN)

    [error] = declarations.errors
    assert str(error.location) == "f.yaml:6"
    assert "declaration names the whole function" in error.message
    assert "orders-api" in error.message


def test_the_same_metadata_name_in_two_regions_or_accounts_is_allowed() -> None:
    def in_place(region: str, account: str) -> str:
        arn = f"arn:aws:lambda:{region}:{account}:function:orders-api"
        return declared("orders", arn, region=region)

    declarations = parse(
        ("a.yaml", in_place("us-east-1", OWN)),
        ("b.yaml", in_place("eu-west-1", OWN)),
        ("c.yaml", in_place("us-east-1", OTHER)),
        account=OWN,
    )

    assert declarations.errors == ()
    assert len(declarations.functions) == 3


def test_the_same_metadata_name_for_two_functions_of_one_place_is_refused() -> None:
    declarations = parse(
        ("a.yaml", declared("orders", "orders-api")),
        ("b.yaml", declared("orders", "billing-api")),
        account=OWN,
    )

    assert declarations.functions == ()
    assert [str(e.location) for e in declarations.errors] == ["a.yaml:4", "b.yaml:4"]
