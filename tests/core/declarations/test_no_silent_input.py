"""No silent input: a document meant as a declaration is never read as another tool's.

A typo in ``apiVersion`` or ``kind`` used to make a declaration someone else's document, so the
function silently left the desired state. Now a ``kind: Function`` document, or one whose
``apiVersion`` is a near miss of ``lambda-gitops/v1``, is a declaration with an error and a
did-you-mean; everything else is ignored and listed, with why, for ``validate -v``.
"""

from __future__ import annotations

import pytest

from tests.core.declarations.support import HEADER, parse
from tests.core.declarations.test_hostile_input import alias_bomb

DID_YOU_MEAN = "did you mean 'lambda-gitops/v1'?"

NEAR_MISSES = {
    "lambda-gitop/v1": "apiVersion: lambda-gitop/v1",
    "lamda-gitops/v1": "apiVersion: lamda-gitops/v1",
    "lambda-gitops/v2": "apiVersion: lambda-gitops/v2",
    "lambda_gitops/v1": "apiVersion: lambda_gitops/v1",
    "Lambda-Gitops/v1": "apiVersion: Lambda-Gitops/v1",
    "another tool's apiVersion": "apiVersion: apps/v1",
    "a number": "apiVersion: 1",
}


def declaration(api_version_line: str | None, kind: str = "Function") -> str:
    """``orders`` with ``api_version_line`` as its first line (none: no apiVersion at all)."""
    header = HEADER.replace("kind: Function", f"kind: {kind}")
    if api_version_line is None:
        return header.replace("apiVersion: lambda-gitops/v1\n", "") + "  {}\n"
    return header.replace("apiVersion: lambda-gitops/v1", api_version_line) + "  {}\n"


@pytest.mark.parametrize("line", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_a_function_with_a_wrong_api_version_is_an_error_with_a_did_you_mean(line: str) -> None:
    declarations = parse(("orders.yaml", declaration(line)))

    [error] = declarations.errors
    assert str(error).startswith("orders.yaml:1: apiVersion")
    assert DID_YOU_MEAN in error.message
    assert declarations.functions == ()
    assert declarations.ignored == ()
    # It is invalid, not absent: the controller keeps the function as last applied.
    [invalid] = declarations.invalid
    assert invalid.name == "orders"
    assert invalid.ref is not None


def test_a_function_with_no_api_version_is_an_error_that_says_what_to_add() -> None:
    [error] = parse(("orders.yaml", declaration(None))).errors

    assert str(error) == (
        "orders.yaml:1: apiVersion is missing; did you mean apiVersion: lambda-gitops/v1? "
        "(every kind: Function document under the declarations path is read as a declaration)"
    )


def test_a_misspelled_api_version_key_is_named() -> None:
    [error] = parse(("orders.yaml", declaration("apiversion: lambda-gitops/v1"))).errors

    assert str(error) == (
        "orders.yaml:1: apiVersion is missing and 'apiversion' is no field; did you mean "
        "apiVersion: lambda-gitops/v1?"
    )


@pytest.mark.parametrize("kind", ["Deployment", "Fucntion"])
def test_a_near_api_version_is_ours_whatever_the_kind(kind: str) -> None:
    declarations = parse(("orders.yaml", declaration("apiVersion: lamda-gitops/v1", kind)))

    messages = [str(error) for error in declarations.errors]
    assert messages[0] == (
        "orders.yaml:1: apiVersion: 'lamda-gitops/v1' is not this controller's; " + DID_YOU_MEAN
    )
    assert messages[1].startswith(f"orders.yaml:2: kind: '{kind}' is not a kind of")


@pytest.mark.parametrize(
    ("kind", "advice"),
    [
        ("function", "did you mean 'Function'?"),
        ("Fucntion", "did you mean 'Function'?"),
        ("Alias", "the only kind is Function"),
    ],
)
def test_a_wrong_kind_with_our_api_version_says_what_was_meant(kind: str, advice: str) -> None:
    [error] = parse(("orders.yaml", declaration("apiVersion: lambda-gitops/v1", kind))).errors

    assert (
        str(error) == f"orders.yaml:2: kind: {kind!r} is not a kind of lambda-gitops/v1; {advice}"
    )


def test_another_tools_function_is_refused_with_where_it_belongs() -> None:
    text = "apiVersion: openfaas.com/v1\nkind: Function\nmetadata: {name: x}\nspec: {image: y}\n"

    [error] = parse(("openfaas.yaml", text)).errors

    assert str(error) == (
        "openfaas.yaml:1: apiVersion: 'openfaas.com/v1' is not this controller's, but the kind "
        f"is Function; {DID_YOU_MEAN} (another tool's Function belongs outside the declarations "
        "path)"
    )


def test_an_alias_bomb_in_a_function_of_another_api_version_is_still_refused_unexpanded() -> None:
    bomb = alias_bomb(9).replace(b"lambda-gitops/v1", b"apps/v1").decode()

    [error] = parse(("bomb.yaml", bomb)).errors

    assert str(error).startswith("bomb.yaml:1: the file expands to more than 100000 values")


@pytest.mark.parametrize(
    "other",
    [
        "apiVersion: apps/v1\nkind: Deployment\n",
        "apiVersion: lambda.services.k8s.aws/v1alpha1\nkind: Alias\n",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n",
        "apiVersion: gitops/v1\nkind: Thing\n",
    ],
)
def test_documents_that_are_plainly_another_tools_are_still_ignored(other: str) -> None:
    declarations = parse(("other.yaml", other))

    assert declarations.errors == ()
    assert len(declarations.ignored) == 1


def test_every_ignored_document_is_listed_with_its_line_and_why() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\n"
        "---\n"
        "---\n- a\n- list\n"
        "---\nplain text\n"
        "---\n# a comment\n"
        "---\nservices: {web: {image: nginx}}\n"
        "---\napiVersion: {a: b}\nkind: 'hello world'\n"
    )

    declarations = parse(("other.yaml", text), ("empty.yaml", ""), ("comment.yaml", "# hi\n"))

    assert [str(ignored) for ignored in declarations.ignored] == [
        "comment.yaml:1: ignored: no YAML document (the file is empty, or holds only comments)",
        "empty.yaml:1: ignored: no YAML document (the file is empty, or holds only comments)",
        "other.yaml:1: ignored: apiVersion apps/v1, kind Deployment: not a lambda-gitops document",
        "other.yaml:3: ignored: an empty document",
        "other.yaml:5: ignored: the document is a list, not a mapping: not a lambda-gitops "
        "document",
        "other.yaml:7: ignored: the document is text, not a mapping: not a lambda-gitops document",
        "other.yaml:9: ignored: an empty document",
        "other.yaml:12: ignored: no apiVersion, no kind: not a lambda-gitops document",
        "other.yaml:14: ignored: apiVersion (a mapping), kind 'hello world': not a lambda-gitops "
        "document",
    ]
    assert declarations.is_valid


def test_the_documents_of_a_file_that_does_not_parse_are_not_listed_as_ignored() -> None:
    text = "apiVersion: apps/v1\nkind: Deployment\n---\na: [\n"

    declarations = parse(("broken.yaml", text))

    assert declarations.ignored == ()
    assert [error.location.file for error in declarations.errors] == ["broken.yaml"]


def test_a_valid_declaration_is_not_listed_as_ignored() -> None:
    declarations = parse(("orders.yaml", declaration("apiVersion: lambda-gitops/v1")))

    assert declarations.ignored == ()


def test_a_long_value_is_never_cut_short_so_that_a_pasted_secret_stays_maskable() -> None:
    secret = "ghp_" + "x" * 80
    ours = declaration("apiVersion: lambda-gitops/v1", kind=f"'{secret}'")
    other = f"apiVersion: apps/v1\nkind: '{secret}'\n"

    declarations = parse(("ours.yaml", ours), ("other.yaml", other))

    [error] = declarations.errors
    assert f"kind: '{secret}' is not a kind of" in error.message
    [ignored] = declarations.ignored
    assert ignored.reason == "apiVersion apps/v1, kind (a long text): not a lambda-gitops document"
