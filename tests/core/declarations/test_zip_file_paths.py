"""``code.zipFile`` is read from the folder of the file that declares it, and stays inside the
repository: ``..`` climbs at most to the root, and no symbolic link leads out.

This is how kustomize, SAM's ``CodeUri`` and Compose read the paths they are given, so that a
declaration and its package move together. A path written from the repository's root, as
zipFile paths were once read, gets an error that says how to write it now.
"""

from __future__ import annotations

import pytest

from controller.core.model import RepoZip
from tests.core.declarations.support import SHA_A, FakeTree, function, parse

TREE = FakeTree(
    {
        "artifacts": "directory",
        "artifacts/root.zip": "file",
        "functions": "directory",
        "functions/beside.zip": "file",
        "functions/dist": "directory",
        "functions/dist/nested.zip": "file",
        "functions/link.zip": ("symlink", "../artifacts/root.zip"),
        "functions/up": ("symlink", "../.."),
        "functions/escape.zip": ("symlink", "/etc/passwd"),
    }
)


def declaring(zip_file: str) -> str:
    return function(
        f'versions:\n  r1:\n    codeSha256: "{SHA_A}"\n    code: {{zipFile: {zip_file}}}'
    )


@pytest.mark.parametrize(
    ("file", "zip_file", "resolved"),
    [
        ("functions/orders.yaml", "beside.zip", "functions/beside.zip"),
        ("functions/orders.yaml", "./dist/nested.zip", "functions/dist/nested.zip"),
        ("functions/orders.yaml", "../artifacts/root.zip", "artifacts/root.zip"),
        ("functions/orders.yaml", "link.zip", "artifacts/root.zip"),
        ("functions/dist/orders.yaml", "../../artifacts/root.zip", "artifacts/root.zip"),
        ("orders.yaml", "artifacts/root.zip", "artifacts/root.zip"),
    ],
)
def test_a_zip_file_is_read_from_the_folder_of_its_declaration(
    file: str, zip_file: str, resolved: str
) -> None:
    declarations = parse((file, declaring(zip_file)), tree=TREE)

    assert declarations.errors == ()
    [orders] = declarations.functions
    assert orders.versions["r1"].code == RepoZip(resolved)


@pytest.mark.parametrize(
    ("zip_file", "words"),
    [
        ("../../outside.zip", "leads outside the repository through '..'"),
        ("up/outside.zip", "leads outside the repository through the symbolic link 'functions/up'"),
        ("escape.zip", "points outside the repository to '/etc/passwd'"),
        ("/etc/passwd", "is an absolute path; write a path relative to the folder of the"),
    ],
)
def test_a_zip_file_must_stay_inside_the_repository(zip_file: str, words: str) -> None:
    [error] = parse(("functions/orders.yaml", declaring(zip_file)), tree=TREE).errors

    assert str(error).startswith("functions/orders.yaml:9: spec.versions.r1.code.zipFile: ")
    assert words in error.message


def test_a_path_from_the_root_is_an_error_that_says_how_to_write_it_now() -> None:
    [error] = parse(("functions/orders.yaml", declaring("artifacts/root.zip")), tree=TREE).errors

    assert str(error) == (
        "functions/orders.yaml:9: spec.versions.r1.code.zipFile: 'artifacts/root.zip' does not "
        "exist in folder test ('functions/artifacts' is absent); commit the zip file or correct "
        "the path; zipFile is relative to the folder of its file (functions/): to name "
        "'artifacts/root.zip', write '../artifacts/root.zip'"
    )
