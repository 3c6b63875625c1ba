"""Reading declarations from real Git repositories and folders made in a temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import git
import pytest

from controller.adapters.git.reader import (
    CommitCodeReader,
    FolderCodeReader,
    load_commit,
    load_folder,
    read_repo_file,
)
from controller.core.model import RepoZip
from controller.errors import ConfigurationError
from tests.core.declarations.support import SHA_A, SHA_B, function


def declaring(name: str, zip_file: str | None = None) -> str:
    code = f"\n    code: {{zipFile: {zip_file}}}" if zip_file else ""
    spec = f'versions:\n  r1:\n    codeSha256: "{SHA_A}"{code}\naliases:\n  live: {{version: r1}}'
    return function(spec).replace("name: orders\n", f"name: {name}\n")


def commit(repo: git.Repo, files: dict[str, str | bytes], message: str = "change") -> str:
    for name, content in files.items():
        path = Path(str(repo.working_tree_dir), name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        repo.index.add([name])
    return repo.index.commit(message).hexsha


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    with git.Repo.init(tmp_path / "decl", initial_branch="main") as repository:
        with repository.config_writer() as config:
            config.set_value("user", "name", "test")
            config.set_value("user", "email", "test@example.com")
        return repository


def names(repo_path: Path, ref: str, subpath: str = "") -> list[str]:
    declarations = load_commit(repo_path, ref, subpath, default_region="eu-west-1")
    assert declarations.errors == ()
    return [f.name for f in declarations.functions]


def test_the_committed_content_is_read_not_the_working_tree(repo: git.Repo) -> None:
    root = Path(str(repo.working_tree_dir))
    sha = commit(repo, {"functions/a.yaml": declaring("committed")})
    (root / "functions/a.yaml").write_text(declaring("edited"))
    (root / "functions/new.yaml").write_text(declaring("untracked"))

    declarations = load_commit(root, "main", default_region="eu-west-1")

    assert declarations.revision == sha
    assert [f.name for f in declarations.functions] == ["committed"]


def test_a_branch_a_tag_and_a_sha_each_give_their_own_commit(repo: git.Repo) -> None:
    root = Path(str(repo.working_tree_dir))
    first = commit(repo, {"a.yaml": declaring("first")})
    repo.create_tag("v1", message="annotated")
    repo.create_head("release", first)
    commit(repo, {"a.yaml": declaring("second")})

    assert names(root, "main") == ["second"]
    assert names(root, "v1") == ["first"]
    assert names(root, "release") == ["first"]
    assert names(root, first[:10]) == ["first"]
    assert names(root, "HEAD~1") == ["first"]


def test_only_yaml_files_under_the_subpath_are_read(repo: git.Repo) -> None:
    root = Path(str(repo.working_tree_dir))
    commit(
        repo,
        {
            "outside.yaml": declaring("outside"),
            "decl/b.yml": declaring("b"),
            "decl/deep/a.yaml": declaring("a"),
            "decl/notes.txt": "not: yaml: at all",
        },
    )

    assert names(root, "main", "decl") == ["b", "a"]
    assert names(root, "main", "./decl/") == ["b", "a"]
    assert names(root, "main") == ["b", "a", "outside"]


def test_file_names_in_errors_are_relative_to_the_repository_root(repo: git.Repo) -> None:
    root = Path(str(repo.working_tree_dir))
    commit(repo, {"decl/bad.yaml": function("region: Europe")})

    declarations = load_commit(root, "main", "decl", default_region="eu-west-1")

    assert [str(e.location) for e in declarations.errors] == ["decl/bad.yaml:6"]


def test_a_bare_repository_is_read_the_same_way(repo: git.Repo, tmp_path: Path) -> None:
    sha = commit(repo, {"a.yaml": declaring("a", "artifacts/a.zip"), "artifacts/a.zip": b"PK"})
    bare = tmp_path / "bare.git"
    repo.clone(str(bare), bare=True).close()

    declarations = load_commit(bare, "main", default_region="eu-west-1")

    assert declarations.revision == sha
    (desired,) = declarations.functions
    assert desired.versions["r1"].code == RepoZip("artifacts/a.zip")
    assert CommitCodeReader(bare, sha).read("artifacts/a.zip") == b"PK"


@pytest.mark.parametrize(
    ("ref", "subpath", "words"),
    [
        ("no-such-branch", "", "the ref 'no-such-branch' does not name a commit"),
        ("0" * 40, "", "does not name a commit"),
        ("main", "missing", "the declarations path 'missing' does not exist at 'main'"),
        ("main", "a.yaml", "'a.yaml' is not a folder"),
        ("main", "../elsewhere", "must be a folder inside the repository"),
    ],
)
def test_an_unknown_ref_or_subpath_is_a_configuration_error(
    repo: git.Repo, ref: str, subpath: str, words: str
) -> None:
    commit(repo, {"a.yaml": declaring("a")})

    with pytest.raises(ConfigurationError, match=words.replace("(", r"\(")):
        load_commit(Path(str(repo.working_tree_dir)), ref, subpath, default_region="eu-west-1")


def test_a_folder_that_is_not_a_repository_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is not a Git repository"):
        load_commit(tmp_path, "main", default_region="eu-west-1")


def test_a_zip_file_must_be_in_the_commit_not_just_on_disk(repo: git.Repo) -> None:
    root = Path(str(repo.working_tree_dir))
    commit(repo, {"a.yaml": declaring("a", "artifacts/a.zip")})
    (root / "artifacts").mkdir()
    (root / "artifacts/a.zip").write_bytes(b"PK uncommitted")

    declarations = load_commit(root, "main", default_region="eu-west-1")

    (error,) = declarations.errors
    assert str(error).startswith("a.yaml:9: spec.versions.r1.code.zipFile: 'artifacts/a.zip'")
    assert "does not exist in commit" in error.message


def test_symbolic_links_in_the_commit_are_followed_inside_and_refused_outside(
    repo: git.Repo,
) -> None:
    root = Path(str(repo.working_tree_dir))
    (root / "artifacts").mkdir()
    (root / "artifacts/real.zip").write_bytes(b"PK real")
    os.symlink("real.zip", root / "artifacts/link.zip")
    os.symlink("/etc/passwd", root / "artifacts/escape.zip")
    os.symlink("../..", root / "artifacts/up")
    repo.index.add(["artifacts/real.zip", "artifacts/link.zip", "artifacts/escape.zip"])
    repo.index.add(["artifacts/up"])
    text = (
        declaring("inside", "artifacts/link.zip")
        + "---\n"
        + declaring("absolute", "artifacts/escape.zip")
        + "---\n"
        + declaring("climbing", "artifacts/up/x.zip")
    )
    sha = commit(repo, {"a.yaml": text})

    declarations = load_commit(root, "main", default_region="eu-west-1")

    (inside,) = declarations.functions
    assert inside.versions["r1"].code == RepoZip("artifacts/real.zip")
    assert read_repo_file(root, sha, "artifacts/real.zip") == b"PK real"
    assert [e.key for e in declarations.invalid] == ["absolute", "climbing"]
    messages = [str(e) for e in declarations.errors]
    assert "symbolic link 'artifacts/escape.zip', which points outside" in messages[0]
    assert "through the symbolic link 'artifacts/up'" in messages[1]


def test_reading_a_file_absent_from_the_commit_raises_file_not_found(repo: git.Repo) -> None:
    root = Path(str(repo.working_tree_dir))
    sha = commit(repo, {"a.yaml": declaring("a")})

    with pytest.raises(FileNotFoundError, match=r"missing\.zip"):
        CommitCodeReader(root, sha).read("missing.zip")


def test_a_folder_is_read_as_it_is_on_disk(tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions/b.yaml").write_text(declaring("b", "../artifacts/b.zip"))
    (tmp_path / "functions/a.yml").write_text(declaring("a"))
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts/b.zip").write_bytes(b"PK b")

    declarations = load_folder(tmp_path, default_region="eu-west-1")

    assert declarations.revision == ""
    assert [f.name for f in declarations.functions] == ["a", "b"]
    assert declarations.functions[1].versions["r1"].code == RepoZip("artifacts/b.zip")
    assert FolderCodeReader(tmp_path).read("artifacts/b.zip") == b"PK b"


def test_a_subfolder_of_a_working_tree_names_files_from_the_repository_root(
    repo: git.Repo,
) -> None:
    root = Path(str(repo.working_tree_dir))
    (root / "decl").mkdir()
    (root / "decl/a.yaml").write_text(declaring("a", "../artifacts/a.zip"))
    (root / "artifacts").mkdir()
    (root / "artifacts/a.zip").write_bytes(b"PK")

    declarations = load_folder(root / "decl", default_region="eu-west-1")

    assert declarations.errors == ()
    assert [f.name for f in declarations.functions] == ["a"]
    assert declarations.functions[0].location is not None
    assert declarations.functions[0].location.file == "decl/a.yaml"
    assert declarations.functions[0].versions["r1"].code == RepoZip("artifacts/a.zip")


def test_a_single_file_can_be_validated(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(function("region: Europe"))
    (tmp_path / "b.yaml").write_text(declaring("b"))

    declarations = load_folder(tmp_path / "a.yaml", default_region="eu-west-1")

    assert [str(e) for e in declarations.errors] == [
        "a.yaml:6: spec.region: 'Europe' is not an AWS region name; write one such as 'eu-west-1'"
    ]


def test_a_folder_symlink_that_leads_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.zip"
    outside.write_bytes(b"PK secret")
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink(outside, root / "code.zip")
    (root / "a.yaml").write_text(declaring("a", "code.zip"))

    declarations = load_folder(root, default_region="eu-west-1")

    (error,) = declarations.errors
    assert "symbolic link 'code.zip', which points outside" in error.message
    with pytest.raises(FileNotFoundError):
        FolderCodeReader(root).read("code.zip")


def test_a_missing_folder_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_folder(tmp_path / "nope", default_region="eu-west-1")


def test_the_folder_and_the_commit_readers_agree(repo: git.Repo) -> None:
    root = Path(str(repo.working_tree_dir))
    text = declaring("a") + "---\n" + function(f'versions: {{"1": {{codeSha256: "{SHA_B}"}}}}')
    commit(repo, {"x/a.yaml": text, "x/broken.yaml": "a: [\n"})

    from_commit = load_commit(root, "main", default_region="eu-west-1")
    from_folder = load_folder(root, default_region="eu-west-1")

    assert from_commit.functions == from_folder.functions
    assert from_commit.errors == from_folder.errors
    assert [str(e.location) for e in from_folder.broken_files] == ["x/broken.yaml:2"]
