"""Hostile and broken input: whatever a file under the declarations path holds, the parser
answers with ``FILE:LINE`` errors for that file alone, in bounded time and memory.

Every file under ``--path`` is read, another tool's included, and whoever can push decides what
is in them. Each input that once escaped the parser as an exception (and so stopped every pass,
for every function) is an explicit case here; the property tests look for their neighbours.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.adapters.git.reader import load_commit, load_folder
from controller.cli.main import main
from controller.core.declarations import parse_declarations
from controller.core.declarations.parser import FileContent, ParseLimits, Unread
from tests.core.declarations.support import SHA_A, FakeTree, function

VALID = function(
    f"""
    versions: {{r1: {{codeSha256: "{SHA_A}"}}}}
    aliases: {{live: {{version: r1}}}}
    """
)
"""A valid declaration of ``orders``, in a file of its own beside the hostile one."""

POISON = {
    "an unhashable key": "{a, {b: {}}}\n",
    "a bare !!int": "!!int\n",
    "!!int on text": "a: !!int abc\n",
    "!!float on text": "a: !!float abc\n",
    "!!bool on a word": "a: !!bool maybe\n",
    "300 open brackets": "x: " + "[" * 300 + "\n",
    "300 nested sequences": "x: " + "[" * 300 + "]" * 300 + "\n",
    "3000 nested mappings": "x: " + "{a: " * 3000 + "}" * 3000 + "\n",
    "a block nested 100 deep": "".join(f"{'  ' * i}k{i}:\n" for i in range(100))
    + "  " * 100
    + "v\n",
    "an undefined alias": "a: *nowhere\n",
    "a duplicate key": "a: 1\na: 2\n",
    "a null byte": "a: \x00\n",
}
"""Whole files that once raised, or could: each must be an error of its file."""

VALUE_POISON = {
    "!!int on text": "!!int abc",
    "!!float on text": "!!float abc",
    "!!bool on a word": "!!bool maybe",
    "a bare !!int": "!!int",
    "an unhashable key": "{a, {b: {}}}",
    "300 nested sequences": "[" * 300 + "]" * 300,
}
"""The same inputs as a value inside a declaration that is otherwise valid."""


def parsed(*files: tuple[str, FileContent], limits: ParseLimits | None = None) -> list[str]:
    declarations = parse_declarations(
        files, default_region="eu-west-1", tree=FakeTree(), limits=limits or ParseLimits()
    )
    assert [f.name for f in declarations.functions] == (
        ["orders"] if any(name == "valid.yaml" for name, _ in files) else []
    )
    return [str(error) for error in declarations.errors]


@pytest.mark.parametrize("text", POISON.values(), ids=POISON.keys())
def test_a_poisoned_file_is_an_error_of_its_own_and_the_other_files_go_ahead(text: str) -> None:
    errors = parsed(("poison.yaml", text.encode()), ("valid.yaml", VALID.encode()))

    [error] = errors
    assert error.startswith("poison.yaml:")
    assert int(error.split(":")[1]) >= 1


@pytest.mark.parametrize("value", VALUE_POISON.values(), ids=VALUE_POISON.keys())
def test_a_poisoned_value_inside_a_declaration_is_an_error_at_its_line(value: str) -> None:
    poisoned = VALID.replace("  name: orders\n", f"  name: orders\n  note: {value}\n")

    errors = parsed(("poison.yaml", poisoned.encode()), ("valid.yaml", VALID.encode()))

    [error] = errors
    assert error.startswith(("poison.yaml:4:", "poison.yaml:5:")), error


def test_a_value_its_tag_does_not_fit_is_not_quoted_in_the_error() -> None:
    """A secret environment value with a stray tag must not reach the error (and the log)."""
    secret = "s3cr3t-9f8e7d"
    poisoned = VALID.replace(
        "  name: orders\n", f"  name: orders\n  note: {{value: !!int {secret}, secret: true}}\n"
    )

    [error] = parsed(("poison.yaml", poisoned.encode()), ("valid.yaml", VALID.encode()))

    assert error.startswith("poison.yaml:5:"), error
    assert "not a valid !!int" in error
    assert secret not in error


def alias_bomb(levels: int) -> bytes:
    """About 500 bytes that expand to 9**levels values."""
    lines = [
        "apiVersion: lambda-gitops/v1",
        "kind: Function",
        "a0: &a0 [x, x, x, x, x, x, x, x, x]",
    ]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("levels", [6, 9])
def test_an_alias_bomb_is_refused_before_it_expands(levels: int) -> None:
    errors = parsed(("bomb.yaml", alias_bomb(levels)), ("valid.yaml", VALID.encode()))

    assert errors == [
        "bomb.yaml:1: the file expands to more than 100000 values through YAML aliases (an "
        "alias bomb?); write the values out, or remove the aliases"
    ]


def test_aliases_that_nest_deeper_than_the_limit_once_expanded_are_refused() -> None:
    lines = ["apiVersion: lambda-gitops/v1", "a0: &a0 [[[[x]]]]"]
    lines += [f"a{i}: &a{i} [[[[*a{i - 1}]]]]" for i in range(1, 12)]

    [error] = parsed(("deep.yaml", ("\n".join(lines) + "\n").encode()))

    assert "nested more than 32 levels deep once its aliases are expanded" in error


def test_another_tools_aliases_cost_nothing_since_its_documents_are_not_expanded() -> None:
    other_tool = alias_bomb(9).replace(b"lambda-gitops/v1", b"apps/v1")
    other_tool = other_tool.replace(b"kind: Function", b"kind: Deployment")

    assert parsed(("compose.yaml", other_tool), ("valid.yaml", VALID.encode())) == []


def test_a_file_over_the_size_limit_is_refused_unparsed() -> None:
    big = b"items:\n" + b"  - abcdefghijklmnop\n" * 60_000  # 1.2 MB

    [error] = parsed(("big.yaml", big), ("valid.yaml", VALID.encode()))

    assert error.startswith(f"big.yaml:1: the file is {len(big)} bytes; declaration files may")


def test_a_file_the_loader_left_unread_is_reported_with_its_size() -> None:
    [error] = parsed(("huge.yaml", Unread(50_000_000)), ("valid.yaml", VALID.encode()))

    assert error.startswith("huge.yaml:1: the file is 50000000 bytes")


def test_too_many_documents_in_one_file_are_refused() -> None:
    text = "---\na: 1\n" * 11

    [error] = parsed(("many.yaml", text.encode()), limits=ParseLimits(documents=10))

    assert error == "many.yaml:22: the file holds more than 10 YAML documents; split it"


def test_the_revision_budget_leaves_the_files_past_it_unread(tmp_path: Path) -> None:
    (tmp_path / "a-valid.yaml").write_text(VALID.replace("orders", "first"))
    (tmp_path / "b-valid.yaml").write_text(VALID.replace("orders", "second"))
    limits = ParseLimits(revision_bytes=len(VALID.replace("orders", "first")) + 10)

    declarations = load_folder(tmp_path, default_region="eu-west-1", limits=limits)

    assert [f.name for f in declarations.functions] == ["first"]
    [error] = [str(e) for e in declarations.errors]
    assert error.startswith("b-valid.yaml:1: not read: the declaration files of this revision")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_a_commit_with_a_huge_file_is_read_without_reading_the_file(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "valid.yaml").write_text(VALID)
    (tmp_path / "huge.yaml").write_bytes(b"x: " + b"y" * (3 * 1024 * 1024) + b"\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "huge")

    declarations = load_commit(tmp_path, "HEAD", default_region="eu-west-1")

    assert [f.name for f in declarations.functions] == ["orders"]
    [error] = [str(e) for e in declarations.errors]
    assert error.startswith(f"huge.yaml:1: the file is {3 * 1024 * 1024 + 4} bytes")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("text", POISON.values(), ids=POISON.keys())
def test_validate_reports_a_poisoned_file_as_file_and_line(tmp_path: Path, text: str) -> None:
    (tmp_path / "valid.yaml").write_text(VALID)
    (tmp_path / "poison.yaml").write_text(text)

    result = subprocess.run(
        [sys.executable, "-m", "controller", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("poison.yaml:"), result.stderr


# -- properties -----------------------------------------------------------------------------------

YAML_PIECES = st.sampled_from(
    [
        "a",
        "b",
        ": ",
        "- ",
        "\n",
        "  ",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "&x ",
        "*x",
        "&y ",
        "*y",
        "!!int ",
        "!!float ",
        "!!bool ",
        "!!str ",
        "!!map ",
        "!!seq ",
        "!!set ",
        "!!binary ",
        "!!timestamp ",
        "!!null ",
        "!custom ",
        "? ",
        "---\n",
        "...\n",
        "'",
        '"',
        "|",
        ">",
        "#",
        "<<: ",
        "%YAML 1.1\n",
        "%TAG ! tag:x,2000:\n",
        "abc",
        "1",
        "0x1F",
        "1e400",
        ".nan",
        "2024-01-02",
        "maybe",
        "~",
        "\t",
        "\\",
        "\x00",
        "\ufeff",
        "é",
        "apiVersion: lambda-gitops/v1\n",
        "kind: Function\n",
        "metadata:\n",
        "spec:\n",
        "  name: x\n",
        "  versions:\n",
        "  aliases:\n",
        "    live: {version: r1}\n",
    ]
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_contained(files: list[tuple[str, bytes]]) -> None:
    """Parse ``files`` beside a valid one: nothing raises, the valid one survives, and every
    error names one of the given files at a line."""
    names = {name for name, _ in files}
    declarations = parse_declarations(
        [*files, ("valid.yaml", VALID.encode())], default_region="eu-west-1", tree=FakeTree()
    )
    functions = [f.name for f in declarations.functions]
    assert "orders" in functions or any(b"orders" in data for _, data in files)
    for error in declarations.errors:
        assert error.location.file in names | {"valid.yaml"}
        assert error.location.line >= 1
        assert error.message


@SETTINGS
@given(st.lists(YAML_PIECES, max_size=60).map("".join))
def test_random_yaml_never_escapes_the_parser(text: str) -> None:
    assert_contained([("random.yaml", text.encode("utf-8", "surrogatepass"))])


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_escape_the_parser(data: bytes) -> None:
    assert_contained([("bytes.yaml", data)])


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(VALID)), st.integers(0, 3), YAML_PIECES),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_declarations_never_escape_the_parser(
    edits: list[tuple[int, int, str]],
) -> None:
    text = VALID.replace("orders", "mutant")
    for position, removed, inserted in edits:
        text = text[:position] + inserted + text[position + removed :]
    assert_contained([("mutant.yaml", text.encode())])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_validate_answers_random_yaml_with_errors_or_success(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "random.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        result = CliRunner().invoke(main, ["validate", folder], catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1)


def test_both_readers_refuse_a_zip_file_inside_the_git_folder(tmp_path: Path) -> None:
    """validate FOLDER used to accept ``code.zipFile: .git/config``, which no commit holds."""
    git(tmp_path, "init", "-q")
    declaration = VALID.replace(
        '{r1: {codeSha256: "', '{r1: {code: {zipFile: .git/config}, codeSha256: "'
    )
    (tmp_path / "valid.yaml").write_text(declaration)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "zip in .git")

    from_folder = subprocess.run(
        [sys.executable, "-m", "controller", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    from_commit = load_commit(tmp_path, "HEAD", default_region="eu-west-1")

    assert from_folder.returncode == 1
    assert "leads into the repository's .git folder" in from_folder.stderr
    [error] = from_commit.errors
    assert "leads into the repository's .git folder" in error.message
