"""The state file is refused, untouched, when it is not ours or cannot be written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from controller.errors import ConfigurationError
from lambda_emulator import EmulatorServer, EmulatorStore, StateFileMissing
from lambda_emulator.database import SCHEMA_VERSION
from tests.emulator.test_store import HOME, new_function


def test_a_text_file_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    with pytest.raises(ConfigurationError, match=r"notes\.txt is not an emulator state file"):
        EmulatorStore(path)
    assert path.read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_another_sqlite_database_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE users (name TEXT)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(ConfigurationError, match="SQLite database of something else"):
        EmulatorStore(path)
    assert path.read_bytes() == before


def test_a_read_only_file_is_refused_even_for_root(tmp_path: Path) -> None:
    """Permission bits are read as well as access(2), which always allows root."""
    path = tmp_path / "state.sqlite"
    EmulatorStore(path).close()
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        with pytest.raises(ConfigurationError, match="is read-only"):
            EmulatorStore(path)
    finally:
        path.chmod(0o644)
    assert path.read_bytes() == before


def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ConfigurationError, match="read-only folder"):
            EmulatorStore(folder / "state.sqlite")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_a_path_under_a_file_is_refused(tmp_path: Path) -> None:
    """A path whose folder is a file cannot be written by anyone, root included."""
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(ConfigurationError, match="is not a folder"):
        EmulatorStore(blocker / "state.sqlite")
    assert blocker.read_text() == "x"


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    EmulatorStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute("UPDATE emulator_schema SET version = 99")
    connection.commit()
    connection.close()
    with pytest.raises(ConfigurationError, match="schema version 99"):
        EmulatorStore(path)


def test_a_new_file_is_created_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    EmulatorStore(path).close()
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        (version,) = connection.execute("SELECT version FROM emulator_schema").fetchone()
        assert version == SCHEMA_VERSION
    finally:
        connection.close()


def test_a_reader_that_must_not_create_the_file_is_refused_and_nothing_is_made(
    tmp_path: Path,
) -> None:
    path = tmp_path / "missing.sqlite"
    with pytest.raises(StateFileMissing, match=r"missing\.sqlite does not exist"):
        EmulatorStore(path, create=False)
    with pytest.raises(StateFileMissing), EmulatorServer(path, create_state=False):
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_reader_that_must_not_create_the_file_opens_one_that_exists(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with EmulatorStore(path) as store:
        new_function(store)

    with EmulatorStore(path, create=False) as store:
        assert [f.function_name for f in store.list_functions(HOME).items] == ["orders"]
