"""The emulated registry's SQLite state file: opening it safely, its schema, its transactions.

One file holds every account and region, and several processes use it at once: the ``serve``
process and emulator commands run from a shell or a CI job. WAL mode lets readers go on while one
process writes; every write runs in a ``BEGIN IMMEDIATE`` transaction so that two writers queue on
the busy timeout instead of failing half-way with "database is locked". A file that is not ours
is refused before anything is written to it, so a mistyped ``--state`` never damages a file.
A reader that must not create the file (``create=False``: the controller's read-only commands)
opens it in SQLite's ``mode=rw``, so a missing file is refused rather than made, even if it
disappears between the check and the open.

The schema carries a version. A file of an older version is brought up to date when it is
opened, in one write transaction that checks the version again first, since another process may
be upgrading the same file; a file of a newer version is refused, since this emulator cannot
know what it holds.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from controller.errors import ConfigurationError

SCHEMA_VERSION = 3
BUSY_TIMEOUT_SECONDS = 30.0
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StateFileMissing(ConfigurationError):
    """The state file does not exist, and the caller asked not to create it."""


_WRITES = """
-- Every write that succeeded, in the order of its transaction's commit: appended in the
-- transaction of the write itself, so a refused or rolled-back write leaves no row, and never
-- updated or deleted, so that a sequence number (the rowid, one more than the largest) is never
-- handed out twice. AUTOINCREMENT would promise that even after deletes, at the cost of one more
-- page written per write, which nearly doubled what logging a write costs.
CREATE TABLE writes (
    sequence INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    operation TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    function_name TEXT NOT NULL,
    qualifier TEXT,
    access_key_id TEXT
);
"""
_CONFIGURATION = """
-- The configuration a version snapshots besides its code and the columns of version 1, as the
-- JSON of lambda_emulator.configuration.Configuration. A row written before this column existed
-- reads '{}', which is Lambda's defaults, as those rows were.
ALTER TABLE configs ADD COLUMN configuration TEXT NOT NULL DEFAULT '{}';
-- The reserved concurrency PutFunctionConcurrency sets, NULL while the function has none.
ALTER TABLE functions ADD COLUMN reserved_concurrency INTEGER;
-- A function's tags: the function's, not a version's, so no row of configs holds them.
CREATE TABLE tags (
    function_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (function_id, key)
) WITHOUT ROWID;
"""
_MIGRATIONS: dict[int, str] = {1: _WRITES, 2: _CONFIGURATION}
"""The statements that take a file from each version to the next."""

_VERSION_1 = """
CREATE TABLE emulator_schema (version INTEGER NOT NULL);
CREATE TABLE functions (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    next_version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (account, region, name)
);
-- One row per version of a function, number 0 being $LATEST. settle_at is the end of the
-- Pending/InProgress window, NULL once the row has settled.
CREATE TABLE configs (
    function_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    code_sha256 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    description TEXT NOT NULL,
    latest_description TEXT NOT NULL,
    role TEXT NOT NULL,
    runtime TEXT,
    handler TEXT,
    timeout INTEGER NOT NULL,
    memory_size INTEGER NOT NULL,
    package_type TEXT NOT NULL,
    dead_letter_target TEXT,
    last_modified TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    state TEXT NOT NULL,
    last_update_status TEXT,
    settle_at REAL,
    PRIMARY KEY (function_id, number)
) WITHOUT ROWID;
CREATE INDEX configs_unsettled ON configs (settle_at) WHERE settle_at IS NOT NULL;
CREATE TABLE aliases (
    function_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    function_version TEXT NOT NULL,
    routing_version TEXT,
    routing_weight REAL,
    description TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    PRIMARY KEY (function_id, name)
) WITHOUT ROWID;
CREATE INDEX aliases_by_version ON aliases (function_id, function_version);
CREATE INDEX aliases_by_routing ON aliases (function_id, routing_version);
"""
_SCHEMA = _VERSION_1 + "".join(_MIGRATIONS[version] for version in sorted(_MIGRATIONS))
"""A new file's schema: the first version's and every migration since, so that a new file and
an upgraded one are the same."""


class Database:
    """A pool of connections to one state file; each thread takes one for a transaction.

    The HTTP server starts a thread per client connection, so connections are pooled rather than
    kept per thread: a connection serves one transaction at a time, whichever thread runs it.
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self._create = create
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._closed = False
        if not create and not path.exists():
            raise StateFileMissing(f"the emulator state file {path} does not exist")
        _refuse_unusable(path)
        first = self._connect()
        try:
            _prepare(first, path)
        except BaseException:
            self._discard(first)
            raise
        self._idle.append(first)

    def close(self) -> None:
        """Close every connection; the file stays as it is, ready for the next process."""
        with self._lock:
            self._closed = True
            connections, self._all, self._idle = self._all, [], []
        for connection in connections:
            connection.close()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction, committed when the block ends without error.

        Writers take the write lock up front (``BEGIN IMMEDIATE``): taking it later, after
        reading, can fail at once in WAL mode when another process wrote in between.
        """
        connection = self._acquire()
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        except sqlite3.OperationalError as error:
            raise ConfigurationError(
                f"the emulator state file {self.path} cannot be used: {error}"
            ) from error
        finally:
            self._release(connection)

    def _connect(self) -> sqlite3.Connection:
        # mode=rw opens an existing file and never creates one, as a plain path would.
        target = self.path if self._create else f"{self.path.resolve().as_uri()}?mode=rw"
        try:
            connection = sqlite3.connect(
                target,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
                uri=not self._create,
            )
        except sqlite3.Error as error:
            if not self._create and not self.path.exists():
                raise StateFileMissing(
                    f"the emulator state file {self.path} does not exist"
                ) from error
            raise ConfigurationError(
                f"cannot open the emulator state file {self.path}: {error}; "
                "check that its folder exists and is writable"
            ) from error
        connection.row_factory = sqlite3.Row
        with self._lock:
            self._all.append(connection)
        return connection

    def _acquire(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise ConfigurationError(f"the emulator state file {self.path} is closed")
            if self._idle:
                return self._idle.pop()
        connection = self._connect()
        _configure(connection)
        return connection

    def _release(self, connection: sqlite3.Connection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(connection)
                return
        connection.close()

    def _discard(self, connection: sqlite3.Connection) -> None:
        with self._lock:
            self._all.remove(connection)
        connection.close()


def _refuse_unusable(path: Path) -> None:
    """Refuse a state path that SQLite could not write, before SQLite touches it.

    The checks read permission bits as well as asking ``os.access``: a root process may write
    anything, but a file or folder marked read-only was marked so on purpose.
    """
    folder = path.parent
    if not folder.is_dir():
        raise ConfigurationError(
            f"the emulator state file {path} cannot be created: {folder} is not a folder; "
            "pass a --state path inside an existing folder"
        )
    if not _writable(folder):
        raise ConfigurationError(
            f"the emulator state file {path} is in a read-only folder: SQLite needs to create "
            f"its journal files next to it; make {folder} writable or choose another --state"
        )
    if not path.exists():
        return
    if not path.is_file():
        raise ConfigurationError(
            f"the emulator state file {path} is not a regular file; choose another --state"
        )
    if not _writable(path):
        raise ConfigurationError(
            f"the emulator state file {path} is read-only; make it writable (chmod u+w) "
            "or choose another --state"
        )
    with path.open("rb") as handle:
        header = handle.read(len(_SQLITE_MAGIC))
    if header and header != _SQLITE_MAGIC:
        raise ConfigurationError(
            f"{path} is not an emulator state file (it is not an SQLite database); "
            "pass a new file name to --state, or move that file away"
        )


def _writable(path: Path) -> bool:
    mode = path.stat().st_mode
    return os.access(path, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _configure(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA synchronous = NORMAL")


def _prepare(connection: sqlite3.Connection, path: Path) -> None:
    """Check that the file is empty or ours, then create the schema and switch to WAL."""
    try:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.DatabaseError as error:
        raise ConfigurationError(
            f"{path} is not a usable emulator state file ({error}); "
            "pass a new file name to --state, or move that file away"
        ) from error
    if tables and "emulator_schema" not in tables:
        raise ConfigurationError(
            f"{path} is an SQLite database of something else, not an emulator state file; "
            "pass a new file name to --state"
        )
    try:
        if not tables:
            _create_schema(connection)
        (version,) = connection.execute("SELECT version FROM emulator_schema").fetchone()
        if version < SCHEMA_VERSION:
            version = _migrate(connection)
        if version != SCHEMA_VERSION:
            raise ConfigurationError(
                f"{path} holds emulator state of schema version {version}, but this emulator "
                f"reads version {SCHEMA_VERSION}; pass a new file name to --state"
            )
        connection.execute("PRAGMA journal_mode = WAL")
        _configure(connection)
    except sqlite3.Error as error:
        raise ConfigurationError(
            f"the emulator state file {path} cannot be written ({error}); "
            "make it and its folder writable, or choose another --state"
        ) from error


def _migrate(connection: sqlite3.Connection) -> int:
    """Bring the file up to ``SCHEMA_VERSION``, one version at a time; the version it has now."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        (version,) = connection.execute("SELECT version FROM emulator_schema").fetchone()
        while version < SCHEMA_VERSION:  # another process may have done it while this one waited
            _execute_script(connection, _MIGRATIONS[version])
            version += 1
        connection.execute("UPDATE emulator_schema SET version = ?", (version,))
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return int(version)


def _execute_script(connection: sqlite3.Connection, script: str) -> None:
    """Run each statement of ``script`` inside the transaction that is open: ``executescript``
    would commit it first."""
    for statement in script.split(";"):
        if statement.strip():
            connection.execute(statement)


def _create_schema(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        exists = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'emulator_schema'"
        ).fetchone()
        if exists is None:  # another process may have created it while this one waited
            _execute_script(connection, _SCHEMA)
            connection.execute(
                "INSERT INTO emulator_schema (version) VALUES (?)", (SCHEMA_VERSION,)
            )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
