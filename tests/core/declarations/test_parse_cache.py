"""Declarations parsed once per file version: the cache by blob id, and that it changes nothing.

A commit that changes one file of many must parse that one file; and whatever the cache holds,
reading a revision with it gives exactly what reading it afresh gives: the same functions, the
same errors at the same lines, the same checks across files.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.adapters.git.reader import load_commit
from controller.core.declarations import Declarations
from controller.core.declarations.parser import ParseCache
from tests.core.declarations.support import SHA_A, SHA_B

REGION = "eu-west-1"


def declaration(name: str, live: str = "r1", extra: str = "") -> str:
    return (
        "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata:\n"
        f"  name: {name}\nspec:\n"
        f'  versions:\n    r1: {{codeSha256: "{SHA_A}"}}\n    r2: {{codeSha256: "{SHA_B}"}}\n'
        f"{extra}"
        f"  aliases:\n    live: {{version: {live}}}\n"
    )


class Repository:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.path), "-c", "user.name=t", "-c", "user.email=t@e", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def commit(self, files: dict[str, str | None]) -> str:
        for name, text in files.items():
            target = self.path / name
            if text is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", "change")
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    return Repository(tmp_path / "declarations")


def read(repository: Repository, revision: str, cache: ParseCache | None = None) -> Declarations:
    return load_commit(repository.path, revision, default_region=REGION, cache=cache)


def test_a_commit_that_changes_one_file_parses_one_file(repository: Repository) -> None:
    first = repository.commit({f"f{i:02}.yaml": declaration(f"fn-{i}") for i in range(20)})
    cache = ParseCache()
    read(repository, first, cache)
    assert cache.parsed == 20

    second = repository.commit({"f07.yaml": declaration("fn-7", live="r2")})
    declarations = read(repository, second, cache)

    assert cache.parsed == 21
    assert declarations == read(repository, second)


def test_a_zip_file_added_later_makes_the_unchanged_declaration_valid(
    repository: Repository,
) -> None:
    """A file's result depends on the repository around it; the cache asks again."""
    code = f'    r3: {{codeSha256: "{SHA_A}", code: {{zipFile: app.zip}}}}\n'
    with_code = declaration("fn", extra="").replace("  aliases:", code + "  aliases:")
    first = repository.commit({"fn.yaml": with_code})
    cache = ParseCache()
    before = read(repository, first, cache)
    second = repository.commit({"app.zip": "zip bytes"})

    after = read(repository, second, cache)

    assert [str(e) for e in before.errors]
    assert after == read(repository, second)
    assert after.errors == ()


def test_a_duplicate_across_files_is_found_with_cached_files_too(repository: Repository) -> None:
    first = repository.commit({"a.yaml": declaration("fn"), "b.yaml": declaration("other")})
    cache = ParseCache()
    read(repository, first, cache)
    second = repository.commit({"b.yaml": declaration("fn")})

    cached = read(repository, second, cache)

    assert cached == read(repository, second)
    assert [str(e.location) for e in cached.errors] == ["a.yaml:4", "b.yaml:4"]
    third = repository.commit({"b.yaml": declaration("other")})
    assert read(repository, third, cache).errors == ()


def test_the_cache_is_bounded(repository: Repository) -> None:
    revision = repository.commit({f"f{i}.yaml": declaration(f"fn-{i}") for i in range(10)})
    cache = ParseCache(max_files=4)

    read(repository, revision, cache)
    read(repository, revision, cache)

    assert cache.parsed == 20  # nothing fits twice, and nothing grows past four


FILE_TEXTS = st.sampled_from(
    [
        declaration("fn-a"),
        declaration("fn-a", live="r2"),
        declaration("fn-b"),
        declaration("fn-b", live="r3"),  # an unknown label: invalid
        "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata: {name: [x}\n",  # broken YAML
        "apiVersion: apps/v1\nkind: Deployment\n",  # another tool's
        None,  # the file removed
    ]
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["a.yaml", "b.yaml", "c/d.yaml"]), FILE_TEXTS),
        min_size=1,
        max_size=4,
    )
)
def test_with_or_without_the_cache_every_revision_reads_the_same(
    tmp_path_factory: pytest.TempPathFactory, history: list[dict[str, str | None]]
) -> None:
    repository = Repository(tmp_path_factory.mktemp("history"))
    cache = ParseCache()
    present: set[str] = set()
    for change in history:
        applied = {n: t for n, t in change.items() if t is not None or n in present}
        present |= {n for n, t in applied.items() if t is not None}
        present -= {n for n, t in applied.items() if t is None}
        revision = repository.commit(applied)
        assert read(repository, revision, cache) == read(repository, revision)


def test_the_listing_follows_renames_symbolic_links_and_older_revisions(
    repository: Repository,
) -> None:
    """The next revision's files are found from the last one's and the difference of the two
    commits; every kind of change lists what a fresh listing lists."""
    cache = ParseCache()
    first = repository.commit({"a.yaml": declaration("fn-a"), "b/c.yml": declaration("fn-c")})
    read(repository, first, cache)
    repository.git("mv", "a.yaml", "b/a.yaml")
    (repository.path / "link.yaml").symlink_to("b/c.yml")
    second = repository.commit({"notes.txt": "not a declaration"})
    (repository.path / "link.yaml").unlink()
    (repository.path / "b" / "c.yml").unlink()
    (repository.path / "b" / "c.yml").symlink_to("a.yaml")  # a file turned into a link
    third = repository.commit({"d.yaml": declaration("fn-d")})

    for revision in (second, third, first, third):  # forwards, backwards and the same again
        assert read(repository, revision, cache) == read(repository, revision)
    assert [f.name for f in read(repository, third, cache).functions] == ["fn-a", "fn-d"]


def test_a_listing_whose_commit_is_gone_is_listed_afresh(repository: Repository) -> None:
    """After a force-push and a prune the last commit no longer exists: no difference can be
    taken from it, and the revision is listed in full."""
    base = repository.commit({"a.yaml": declaration("fn-a")})
    cache = ParseCache()
    doomed = repository.commit({"b.yaml": declaration("fn-b")})
    read(repository, doomed, cache)
    repository.git("reset", "-q", "--hard", base)
    repository.git("reflog", "expire", "--expire=now", "--all")
    repository.git("gc", "-q", "--prune=now")
    replaced = repository.commit({"c.yaml": declaration("fn-c")})

    assert [f.name for f in read(repository, replaced, cache).functions] == ["fn-a", "fn-c"]


def test_a_listing_of_one_folder_is_not_taken_for_another(repository: Repository) -> None:
    revision = repository.commit(
        {"one/a.yaml": declaration("fn-a"), "two/b.yaml": declaration("fn-b")}
    )
    cache = ParseCache()
    load_commit(repository.path, revision, "one", default_region=REGION, cache=cache)

    other = load_commit(repository.path, revision, "two", default_region=REGION, cache=cache)

    assert [f.name for f in other.functions] == ["fn-b"]
