"""Lambda's versions and aliases as the emulated registry keeps them, independent of HTTP.

``EmulatorStore`` holds every rule of LAMBDA_RULES.md that concerns state: version numbering,
preconditions, routing checks, deletion rules, the Pending/InProgress windows and when RevisionIds
change. The HTTP layer and the emulator commands are thin shells over it, so a change made out of
band from the command line obeys exactly the rules a boto3 call does.

Each public method is one transaction. The Pending and InProgress windows end lazily: the first
request that touches a function after its window has ended settles it, inside that request's own
transaction, so that no background thread has to run and several processes can share the file.

Every write that succeeds appends a ``WriteRecord`` to the file's write log in its own
transaction, so that a test can prove from the emulator's side who wrote what, and when: that no
write was made outside a controller's scope, or by a replica that had lost its lease. A write
that is refused leaves no record, since its transaction rolls back. A write counts whether or
not it found anything to change (a PublishVersion with nothing new, a DeleteAlias of a missing
alias), because what such a test must rule out is the attempt; a ``DryRun`` is not a write.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, Literal, NoReturn, TypeVar

from lambda_emulator.configuration import Configuration, ConfigurationChange
from lambda_emulator.database import Database
from lambda_emulator.packages import CodePackage
from lambda_emulator.tags import (
    TaggedResource,
    parse_taggable_resource,
    tag_count_refusal,
    tag_key_violations,
    tag_violations,
    tags_refusal,
)
from lambda_emulator.validation import (
    BARE_NAME_MAX,
    HANDLER_PATTERN,
    LATEST,
    ROLE_PATTERN,
    FunctionName,
    LambdaApiError,
    Violation,
    alias_name_violations,
    check,
    code_signing_config_not_found,
    code_signing_config_violations,
    conflict,
    description_violations,
    enum_violations,
    function_version_violations,
    invalid_parameter,
    is_version_number,
    java_list,
    max_items_violations,
    merge_qualifier,
    not_found,
    parse_function_name,
    precondition_failed,
    routing_violations,
    runtime_error,
    string_violations,
    version_number,
)

T = TypeVar("T")

LIST_PAGE_CAP = 50
"""ListVersionsByFunction returns at most 50 items a page whatever MaxItems says (rule L24);
ListFunctions is given the same cap."""

_MAX_SEQUENCE = 2**63 - 1
"""SQLite's largest integer: no write log gets near it, and SQLite refuses to compare past it."""
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY_SIZE = 128
ACCOUNT_CONCURRENCY = 1000
"""The concurrent executions of an account and region: AWS's default quota (L55)."""
MINIMUM_UNRESERVED_CONCURRENCY = 100
"""What reservations must leave unreserved in an account and region (L55)."""
ACCOUNT_LIMITS = {
    "TotalCodeSize": 80530636800,
    "CodeSizeUnzipped": 262144000,
    "CodeSizeZipped": 52428800,
}
"""GetAccountSettings's fixed limits, AWS's defaults: 75 GB of code, 250 MB unzipped and 50 MB
zipped per package (Developer Guide, ``gettingstarted-limits``)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, and where: the account and region a request is made in, and the access
    key id it was signed with, if it was signed (the emulator commands sign nothing)."""

    account: str
    region: str
    access_key_id: str | None = None


WriteOperation = Literal[
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "PublishVersion",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "DeleteFunction",
    "TagResource",
    "UntagResource",
    "PutFunctionConcurrency",
    "DeleteFunctionConcurrency",
    "DeleteFunctionCodeSigningConfig",
]
"""The operations the write log records: every one that changes a function, a version, an
alias, or a function's tags and concurrency."""


@dataclass(frozen=True, slots=True)
class WriteRecord:
    """One write that succeeded, as the write log keeps it.

    ``sequence`` counts up from 1 across the whole file and is never reused; ``at`` is the
    wall-clock time of the write, in seconds since the epoch. ``qualifier`` is the alias of an
    alias write, the ``Qualifier`` of a DeleteFunction, or the version that a PublishVersion (or
    a ``Publish=true`` CreateFunction or UpdateFunctionCode) answered with; ``access_key_id`` is
    the caller's, when its request was signed.
    """

    sequence: int
    at: float
    operation: str
    account: str
    region: str
    function_name: str
    qualifier: str | None
    access_key_id: str | None


@dataclass(frozen=True, slots=True)
class VersionConfig:
    """The configuration of ``$LATEST`` or of a published version, as Lambda reports it.

    ``function_arn`` is already the ARN the operation shows: unqualified, ``:$LATEST``, a version
    or an alias (rules L32, L43).
    """

    function_name: str
    function_arn: str
    version: str
    code_sha256: str
    code_size: int
    description: str
    role: str
    runtime: str | None
    handler: str | None
    timeout: int
    memory_size: int
    package_type: str
    dead_letter_target: str | None
    last_modified: str
    revision_id: str
    state: str
    last_update_status: str | None
    configuration: Configuration = field(default_factory=Configuration)

    @property
    def unqualified_arn(self) -> str:
        """The function's ARN without a qualifier."""
        prefix, _, rest = self.function_arn.partition(":function:")
        return f"{prefix}:function:{rest.split(':')[0]}"

    @property
    def region(self) -> str:
        """The region the function is in, read from its ARN."""
        return self.function_arn.split(":")[3]

    @property
    def account(self) -> str:
        """The account the function belongs to, read from its ARN."""
        return self.function_arn.split(":")[4]


@dataclass(frozen=True, slots=True)
class FunctionDetails:
    """GetFunction's answer: a version's configuration, and what belongs to the function
    whichever version is asked for: its tags (L53) and reserved concurrency (L55)."""

    configuration: VersionConfig
    tags: Mapping[str, str]
    reserved_concurrency: int | None


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """GetAccountSettings's figures for an account and region (L55)."""

    total_code_size: int
    function_count: int
    unreserved_concurrency: int


@dataclass(frozen=True, slots=True)
class AliasConfig:
    """An alias as Lambda reports it; ``routing`` is empty when there is none (rule L20)."""

    alias_arn: str
    name: str
    function_version: str
    routing: Mapping[str, float]
    description: str
    revision_id: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list operation; ``next_marker`` is ``None`` on the last one."""

    items: list[T]
    next_marker: str | None


@dataclass(frozen=True, slots=True)
class _Function:
    id: int
    account: str
    region: str
    name: str
    next_version: int

    def arn(self, qualifier: str | None = None) -> str:
        return function_arn(self.region, self.account, self.name, qualifier)


class _NeedsWrite(Exception):
    """A read found a window to settle: the request is run again as a write."""


@dataclass(slots=True)
class _Tx:
    connection: sqlite3.Connection
    now: float
    writable: bool


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    """A function ARN as AWS prints it, qualified when ``qualifier`` is given (rule L43)."""
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier is not None else arn


class EmulatorStore:
    """The emulated registry's state and rules, over one SQLite file shared between processes.

    ``update_seconds`` is the length of the Pending (creation) and InProgress (update) windows;
    it may be changed at any time and applies to the writes that follow. ``clock`` gives the
    wall-clock time, which the windows are measured in because other processes read them too.
    """

    def __init__(
        self,
        path: Path,
        *,
        update_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
        create: bool = True,
    ) -> None:
        self.update_seconds = update_seconds
        self._clock = clock
        self._database = Database(path, create=create)
        self._local = threading.local()

    @property
    def path(self) -> Path:
        """The state file."""
        return self._database.path

    def close(self) -> None:
        """Close the state file."""
        self._database.close()

    def __enter__(self) -> EmulatorStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run every store call of the block in one write transaction: all or nothing."""
        with self._database.transaction(write=True) as connection:
            self._local.tx = _Tx(connection, self._clock(), writable=True)
            try:
                yield
            finally:
                self._local.tx = None

    # Functions

    def create_function(
        self,
        caller: Caller,
        function_name: str,
        *,
        code: CodePackage,
        role: str | None,
        runtime: str | None = None,
        handler: str | None = None,
        description: str = "",
        timeout: int | None = None,
        memory_size: int | None = None,
        dead_letter_target: str | None = None,
        package_type: str = "Zip",
        publish: bool = False,
        configuration: ConfigurationChange | None = None,
        tags: Mapping[str, str] | None = None,
        code_signing_config_arn: str | None = None,
    ) -> VersionConfig:
        """CreateFunction: a new function, ``Pending`` until its creation window ends (L32).

        ``configuration`` holds what the request sets of the rest of the configuration (L48,
        L49); ``tags`` are the function's from the start (L53). With ``publish`` the response
        carries ``Version: "1"`` but an unqualified ARN, as AWS's does (L32).
        """
        parsed = parse_function_name(function_name)
        change = configuration or ConfigurationChange()
        violations = [
            *string_violations(parsed.name, "functionName", max_length=BARE_NAME_MAX),
            *(
                [Violation(None, "role", "Member must not be null")]
                if role is None
                else string_violations(role, "role", max_length=10000, pattern=ROLE_PATTERN)
            ),
            *description_violations(description),
            *string_violations(handler, "handler", max_length=128, pattern=HANDLER_PATTERN),
            *enum_violations(package_type, "packageType", ("Zip", "Image")),
            *_configuration_violations(timeout, memory_size),
            *change.violations(),
            *tag_violations(tags or {}),
            *code_signing_config_violations(code_signing_config_arn),
        ]
        check(violations)
        if parsed.qualifier is not None:
            # AWS's text for this case is not recorded (unverified); the code is the one it
            # uses for a FunctionName whose parts do not fit the operation.
            raise invalid_parameter(
                f"A function is created without a version or alias: {function_name}"
            )
        if package_type == "Zip" and (not runtime or not handler):
            raise invalid_parameter(
                "Runtime and Handler are mandatory parameters for functions created with "
                "deployment packages."
            )
        account = parsed.account or caller.account
        region = parsed.region or caller.region
        refusal = (
            runtime_error(runtime)  # L57
            or change.refusal(region)  # L58, L59
            or tag_count_refusal(len(tags or {}))  # L54
        )
        if refusal is not None:
            raise refusal
        if code_signing_config_arn:  # L56: the emulator keeps no code signing configurations
            raise code_signing_config_not_found(code_signing_config_arn)
        settings = Configuration().updated(change).resolved(parsed.name)

        def create(tx: _Tx) -> VersionConfig:
            exists = tx.connection.execute(
                "SELECT 1 FROM functions WHERE account = ? AND region = ? AND name = ?",
                (account, region, parsed.name),
            ).fetchone()
            if exists is not None:
                raise conflict(f"Function already exist: {parsed.name}")
            cursor = tx.connection.execute(
                "INSERT INTO functions (account, region, name) VALUES (?, ?, ?)",
                (account, region, parsed.name),
            )
            function = _Function(int(cursor.lastrowid or 0), account, region, parsed.name, 1)
            tx.connection.execute(
                "INSERT INTO configs (function_id, number, code_sha256, code_size, description,"
                " latest_description, role, runtime, handler, timeout, memory_size, package_type,"
                " dead_letter_target, last_modified, revision_id, state, last_update_status,"
                " settle_at, configuration) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " 'Pending', NULL, ?, ?)",
                (
                    function.id,
                    code.sha256,
                    code.size,
                    description,
                    description,
                    role,
                    runtime,
                    handler,
                    timeout or DEFAULT_TIMEOUT,
                    memory_size or DEFAULT_MEMORY_SIZE,
                    package_type,
                    dead_letter_target or None,
                    _timestamp(tx.now),
                    _revision(),
                    tx.now + self.update_seconds,
                    settings.to_json(),
                ),
            )
            tx.connection.executemany(
                "INSERT INTO tags (function_id, key, value) VALUES (?, ?, ?)",
                [(function.id, key, value) for key, value in (tags or {}).items()],
            )
            version = LATEST
            if publish:  # the new version is Pending with the function (L32)
                version = self._publish(tx, function, None, pending=True).version
            latest = self._config(tx, function, 0, function.arn())
            self._log(tx, "CreateFunction", caller, function, version if publish else None)
            return replace(latest, version=version)

        return self._run(create, write=True)

    def get_function(
        self, caller: Caller, function_name: str, qualifier: str | None = None
    ) -> VersionConfig:
        """GetFunctionConfiguration: ``$LATEST``, a version or an alias's version.

        Qualifiers are case-sensitive (L46) and must agree with one in an ARN (L45).
        """
        parsed = parse_function_name(function_name, namespaced=True)
        wanted = merge_qualifier(parsed, qualifier)

        def get(tx: _Tx) -> VersionConfig:
            return self._lookup(tx, self._function(tx, caller, parsed, wanted), wanted)

        return self._run(get, write=False)

    def describe_function(
        self, caller: Caller, function_name: str, qualifier: str | None = None
    ) -> FunctionDetails:
        """GetFunction: the configuration ``get_function`` answers, with the function's tags
        and reserved concurrency, read in the same transaction (L53, L55)."""
        parsed = parse_function_name(function_name, namespaced=True)
        wanted = merge_qualifier(parsed, qualifier)

        def get(tx: _Tx) -> FunctionDetails:
            function = self._function(tx, caller, parsed, wanted)
            configuration = self._lookup(tx, function, wanted)
            return FunctionDetails(
                configuration, self._tags(tx, function), self._reserved_concurrency(tx, function)
            )

        return self._run(get, write=False)

    def _lookup(self, tx: _Tx, function: _Function, wanted: str | None) -> VersionConfig:
        """The configuration a qualifier names, shown with the ARN the request used."""
        self._settle(tx, function)
        if wanted is None:
            return self._config(tx, function, 0, function.arn())
        if wanted == LATEST:
            return self._config(tx, function, 0, function.arn(LATEST))
        if is_version_number(wanted):
            return self._version(tx, function, wanted, function.arn(wanted))
        alias = self._alias_row(tx, function, wanted)
        if alias is None:
            raise not_found(f"Function not found: {function.arn(wanted)}")
        target = str(alias["function_version"])
        return self._version(tx, function, target, function.arn(wanted))

    def update_function_code(
        self,
        caller: Caller,
        function_name: str,
        code: CodePackage,
        *,
        publish: bool = False,
        dry_run: bool = False,
        revision_id: str | None = None,
        architectures: Sequence[str] | None = None,
    ) -> VersionConfig:
        """UpdateFunctionCode: new code for ``$LATEST``, ``InProgress`` until its window ends.

        ``$LATEST`` gets a new RevisionId now and another when the update settles (L28). With
        ``publish`` the response is the published version's (L29); ``dry_run`` checks the
        request and changes nothing (L31). ``architectures`` is the one configuration member
        this operation sets (L49).
        """
        parsed = _latest_only(parse_function_name(function_name))
        change = ConfigurationChange(
            architectures=None if architectures is None else tuple(architectures)
        )
        check(change.violations())

        def update(tx: _Tx) -> VersionConfig:
            function = self._function(tx, caller, parsed, None)
            self._settle(tx, function)
            latest = self._config(tx, function, 0, function.arn())
            _require_idle(latest)  # L6
            _require_revision(latest, revision_id)  # L30
            if dry_run:  # L31
                return latest
            tx.connection.execute(
                "UPDATE configs SET code_sha256 = ?, code_size = ?, configuration = ? "
                "WHERE function_id = ? AND number = 0",
                (
                    code.sha256,
                    code.size,
                    latest.configuration.updated(change).resolved(function.name).to_json(),
                    function.id,
                ),
            )
            self._start_update(tx, function)
            if publish:  # L29: the new version's config, Pending while $LATEST is InProgress
                published = self._publish(tx, function, None, pending=True)
                self._log(tx, "UpdateFunctionCode", caller, function, published.version)
                return published
            self._log(tx, "UpdateFunctionCode", caller, function, None)
            return self._config(tx, function, 0, function.arn())

        return self._run(update, write=True)

    def update_function_configuration(
        self,
        caller: Caller,
        function_name: str,
        *,
        description: str | None = None,
        role: str | None = None,
        runtime: str | None = None,
        handler: str | None = None,
        timeout: int | None = None,
        memory_size: int | None = None,
        dead_letter_target: str | None = None,
        revision_id: str | None = None,
        configuration: ConfigurationChange | None = None,
    ) -> VersionConfig:
        """UpdateFunctionConfiguration: change ``$LATEST``'s settings; fields left out stay.

        An empty ``dead_letter_target`` removes the dead-letter queue. The update runs through
        the same InProgress window and RevisionId changes as a code update (L28, L30), and
        ``configuration`` is merged into ``$LATEST``'s as AWS merges it (L48, L49). The shape
        of each value is checked first; then that the function is idle and the RevisionId
        current (L6, L50); then the values AWS refuses on their merits (L57, L58, L59).
        """
        parsed = _latest_only(parse_function_name(function_name))
        change = configuration or ConfigurationChange()
        check(
            [
                *description_violations(description),
                *string_violations(role, "role", max_length=10000, pattern=ROLE_PATTERN),
                *string_violations(handler, "handler", max_length=128, pattern=HANDLER_PATTERN),
                *_configuration_violations(timeout, memory_size),
                *change.violations(),
            ]
        )
        changes: dict[str, object] = {
            "description": description,
            "role": role,
            "runtime": runtime,
            "handler": handler,
            "timeout": timeout,
            "memory_size": memory_size,
        }
        settings = {column: value for column, value in changes.items() if value is not None}
        if dead_letter_target is not None:
            settings["dead_letter_target"] = dead_letter_target or None

        def update(tx: _Tx) -> VersionConfig:
            function = self._function(tx, caller, parsed, None)
            self._settle(tx, function)
            latest = self._config(tx, function, 0, function.arn())
            _require_idle(latest)  # L6
            _require_revision(latest, revision_id)  # L30, L50
            refusal = runtime_error(runtime) or change.refusal(function.region)
            if refusal is not None:
                raise refusal
            merged = latest.configuration.updated(change).resolved(function.name)
            columns = {**settings, "configuration": merged.to_json()}
            assignments = ", ".join(f"{column} = ?" for column in columns)
            tx.connection.execute(
                f"UPDATE configs SET {assignments} WHERE function_id = ? AND number = 0",  # noqa: S608 - column names are ours
                (*columns.values(), function.id),
            )
            self._start_update(tx, function)
            self._log(tx, "UpdateFunctionConfiguration", caller, function, None)
            return self._config(tx, function, 0, function.arn())

        return self._run(update, write=True)

    def delete_function(
        self, caller: Caller, function_name: str, qualifier: str | None = None
    ) -> None:
        """DeleteFunction: the whole function (L39), or one version (L34-L38).

        ``$LATEST`` is refused before the function is looked up, as AWS refuses it even for a
        function that does not exist (L36, L52).
        """
        parsed = parse_function_name(function_name, namespaced=True)
        wanted = merge_qualifier(parsed, qualifier)
        if wanted == LATEST:  # L36, L52
            raise invalid_parameter(
                "$LATEST version cannot be deleted without deleting the function."
            )

        def delete(tx: _Tx) -> None:
            function = self._function(tx, caller, parsed, None)  # L38: 404 names the function
            self._delete_function(tx, function, wanted)
            self._log(tx, "DeleteFunction", caller, function, wanted)

        self._run(delete, write=True)

    def _delete_function(self, tx: _Tx, function: _Function, wanted: str | None) -> None:
        """The function and everything of it, or the version ``wanted`` (L34-L39)."""
        if wanted is None:  # L39
            for table in ("aliases", "configs", "tags"):
                tx.connection.execute(
                    f"DELETE FROM {table} WHERE function_id = ?",  # noqa: S608 - our table names
                    (function.id,),
                )
            tx.connection.execute("DELETE FROM functions WHERE id = ?", (function.id,))
            return
        if not is_version_number(wanted):  # L37
            raise invalid_parameter("Deletion of aliases is not currently supported.")
        number = version_number(wanted)
        if number is None:  # L38: no version has this number ("0", "02", or too large)
            return
        # L35. Whether a version that an alias uses only as its routing version is protected
        # is unverified; it is protected here, since deleting it would leave the alias
        # sending traffic to nothing.
        users = [
            str(row[0])
            for row in tx.connection.execute(
                "SELECT name FROM aliases WHERE function_id = ? AND "
                "(function_version = ? OR routing_version = ?) ORDER BY name",
                (function.id, wanted, wanted),
            )
        ]
        if users:
            raise conflict(
                "Unable to delete version because the following aliases reference it: "
                + java_list(users)
            )
        # L34, L38: a version that does not exist is no error.
        tx.connection.execute(
            "DELETE FROM configs WHERE function_id = ? AND number = ?",
            (function.id, number),
        )

    def list_functions(
        self,
        caller: Caller,
        *,
        function_version: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[VersionConfig]:
        """ListFunctions: ``$LATEST`` of each function, or every version with ``ALL`` (L26)."""
        check(
            [
                *enum_violations(function_version, "functionVersion", ("ALL",)),
                *max_items_violations(max_items),
            ]
        )
        every_version = function_version == "ALL"
        after_name, after_number = _function_marker(marker)
        size = min(max_items or LIST_PAGE_CAP, LIST_PAGE_CAP)

        def list_page(tx: _Tx) -> Page[VersionConfig]:
            self._settle_region(tx, caller)
            rows = tx.connection.execute(
                "SELECT f.id, f.name, f.next_version, c.* FROM functions f "
                "JOIN configs c ON c.function_id = f.id "
                "WHERE f.account = ? AND f.region = ? AND (? OR c.number = 0) "
                "AND (f.name, c.number) > (?, ?) ORDER BY f.name, c.number LIMIT ?",
                (caller.account, caller.region, every_version, after_name, after_number, size + 1),
            ).fetchall()
            configs: list[VersionConfig] = []
            for row in rows[:size]:
                function = _Function(
                    row["id"], caller.account, caller.region, row["name"], row["next_version"]
                )
                number = int(row["number"])
                if number:
                    arn = function.arn(str(number))
                else:
                    arn = function.arn(LATEST) if every_version else function.arn()
                configs.append(_to_config(function, row, arn))
            next_marker = None
            if len(rows) > size:
                last = rows[size - 1]
                next_marker = f"{last['name']}:{last['number']}"
            return Page(configs, next_marker)

        return self._run(list_page, write=False)

    # Versions

    def publish_version(
        self,
        caller: Caller,
        function_name: str,
        *,
        code_sha256: str | None = None,
        description: str | None = None,
        revision_id: str | None = None,
    ) -> VersionConfig:
        """PublishVersion: snapshot ``$LATEST``'s code and configuration as the next version
        number (L1-L8, L48), ``Active`` at once (L47)."""
        parsed = _latest_only(parse_function_name(function_name))
        check(description_violations(description))

        def publish(tx: _Tx) -> VersionConfig:
            function = self._function(tx, caller, parsed, None)
            self._settle(tx, function)
            latest = self._config(tx, function, 0, function.arn())
            _require_idle(latest)  # L6
            _require_revision(latest, revision_id)  # L5
            if code_sha256 is not None and code_sha256 != latest.code_sha256:  # L4
                raise invalid_parameter(
                    f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in "
                    f"$LATEST ({latest.code_sha256}). Please try again with the CodeSHA256 in "
                    "$LATEST."
                )
            published = self._publish(tx, function, description, pending=False)
            self._log(tx, "PublishVersion", caller, function, published.version)
            return published

        return self._run(publish, write=True)

    def list_versions(
        self,
        caller: Caller,
        function_name: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[VersionConfig]:
        """ListVersionsByFunction: ``$LATEST``, then versions ascending, 50 a page at most (L24)."""
        parsed = parse_function_name(function_name, namespaced=True)
        check(max_items_violations(max_items))
        after = _number_marker(marker)
        size = min(max_items or LIST_PAGE_CAP, LIST_PAGE_CAP)

        def list_page(tx: _Tx) -> Page[VersionConfig]:
            function = self._function(tx, caller, parsed, None)
            self._settle(tx, function)
            rows = tx.connection.execute(
                "SELECT * FROM configs WHERE function_id = ? AND number > ? "
                "ORDER BY number LIMIT ?",
                (function.id, after, size + 1),
            ).fetchall()
            configs = [
                _to_config(function, row, function.arn(_qualifier(int(row["number"]))))
                for row in rows[:size]
            ]
            next_marker = str(rows[size - 1]["number"]) if len(rows) > size else None
            return Page(configs, next_marker)

        return self._run(list_page, write=False)

    # Aliases

    def create_alias(
        self,
        caller: Caller,
        function_name: str,
        name: str,
        *,
        function_version: str | None,
        description: str | None = None,
        routing: Mapping[str, float | None] | None = None,
    ) -> AliasConfig:
        """CreateAlias: a new alias on a version or ``$LATEST`` (L10-L14, L21)."""
        parsed = parse_function_name(function_name)
        check(
            [
                *alias_name_violations(name),
                *(
                    [Violation(None, "functionVersion", "Member must not be null")]
                    if function_version is None
                    else function_version_violations(function_version)  # L12
                ),
                *description_violations(description),  # L11
                *routing_violations(routing or {}),  # L21b, L21c
            ]
        )
        target = str(function_version)
        weights = _weights(routing)

        def create(tx: _Tx) -> AliasConfig:
            # L51: a missing function is named with the version the alias was to point at.
            function = self._function(tx, caller, parsed, target)
            self._settle(tx, function)
            if self._alias_row(tx, function, name) is not None:  # L13
                raise conflict(f"Alias already exists: {function.arn(name)}")
            self._check_routing(tx, function, target, weights)
            alias = AliasConfig(
                function.arn(name), name, target, weights, description or "", _revision()
            )
            self._write_alias(tx, function, alias, insert=True)
            self._log(tx, "CreateAlias", caller, function, name)
            return alias

        return self._run(create, write=True)

    def get_alias(self, caller: Caller, function_name: str, name: str) -> AliasConfig:
        """GetAlias; a missing alias is a 404 in GetAlias's own words (L15)."""
        parsed = parse_function_name(function_name)
        check(alias_name_violations(name))

        def get(tx: _Tx) -> AliasConfig:
            function = self._function(tx, caller, parsed, None)
            self._settle(tx, function)
            row = self._alias_row(tx, function, name)
            if row is None:
                raise not_found(f"Cannot find alias arn: {function.arn(name)}")
            return _to_alias(function, row)

        return self._run(get, write=False)

    def update_alias(
        self,
        caller: Caller,
        function_name: str,
        name: str,
        *,
        function_version: str | None = None,
        description: str | None = None,
        routing: Mapping[str, float | None] | None = None,
        revision_id: str | None = None,
    ) -> AliasConfig:
        """UpdateAlias: a partial update that always gives the alias a new RevisionId (L16-L22).

        ``routing`` of ``{}`` clears the routing; ``None`` keeps it (L20).
        """
        parsed = parse_function_name(function_name)
        check(
            [
                *alias_name_violations(name),
                *function_version_violations(function_version),  # L12
                *description_violations(description),  # L11
                *routing_violations(routing or {}),  # L21b, L21c
            ]
        )

        def update(tx: _Tx) -> AliasConfig:
            function = self._function(tx, caller, parsed, None)
            self._settle(tx, function)
            row = self._alias_row(tx, function, name)
            if row is None:  # L16
                raise not_found(f"Alias not found: {function.arn(name)}")
            current = _to_alias(function, row)
            if revision_id is not None and revision_id != current.revision_id:  # L18
                raise precondition_failed()
            # L20, L22: fields left out keep their values, and rule 21d is checked against the
            # merged result, so a promotion onto the routing version cannot go unnoticed.
            merged = AliasConfig(
                current.alias_arn,
                name,
                function_version if function_version is not None else current.function_version,
                _weights(routing) if routing is not None else current.routing,
                description if description is not None else current.description,
                _revision(),  # L19: a new RevisionId even when nothing changed
            )
            self._check_routing(tx, function, merged.function_version, merged.routing)
            self._write_alias(tx, function, merged, insert=False)
            self._log(tx, "UpdateAlias", caller, function, name)
            return merged

        return self._run(update, write=True)

    def delete_alias(self, caller: Caller, function_name: str, name: str) -> None:
        """DeleteAlias; deleting a missing alias is no error (L17)."""
        parsed = parse_function_name(function_name)
        check(alias_name_violations(name))

        def delete(tx: _Tx) -> None:
            function = self._function(tx, caller, parsed, None)
            tx.connection.execute(
                "DELETE FROM aliases WHERE function_id = ? AND name = ?", (function.id, name)
            )
            self._log(tx, "DeleteAlias", caller, function, name)

        self._run(delete, write=True)

    def list_aliases(
        self,
        caller: Caller,
        function_name: str,
        *,
        function_version: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[AliasConfig]:
        """ListAliases, optionally only those whose *primary* version is ``function_version``.

        Whether AWS also lists aliases that hold the version only in their routing is unverified
        (L23); they are left out here, as the recorded AWS response suggests.
        """
        parsed = parse_function_name(function_name)
        check([*function_version_violations(function_version), *max_items_violations(max_items)])
        after = marker or ""
        limit = max_items if max_items is not None else -1

        def list_page(tx: _Tx) -> Page[AliasConfig]:
            function = self._function(tx, caller, parsed, None)
            self._settle(tx, function)
            if function_version is None:
                rows = tx.connection.execute(
                    "SELECT * FROM aliases WHERE function_id = ? AND name > ? "
                    "ORDER BY name LIMIT ?",
                    (function.id, after, limit if limit < 0 else limit + 1),
                ).fetchall()
            else:
                rows = tx.connection.execute(
                    "SELECT * FROM aliases WHERE function_id = ? AND function_version = ? "
                    "AND name > ? ORDER BY name LIMIT ?",
                    (function.id, function_version, after, limit if limit < 0 else limit + 1),
                ).fetchall()
            more = limit >= 0 and len(rows) > limit
            shown = rows[:limit] if more else rows
            next_marker = str(shown[-1]["name"]) if more else None
            prefix = function.arn() + ":"
            return Page([_to_alias(function, row, prefix) for row in shown], next_marker)

        return self._run(list_page, write=False)

    # Tags (L53, L54)

    def tag_resource(self, caller: Caller, resource: str, tags: Mapping[str, str]) -> None:
        """TagResource: add or overwrite tags of a function; its ``$LATEST`` gets a new
        RevisionId, as AWS's does (L53); at most 50 tags (L54)."""
        target = parse_taggable_resource(resource)
        check(tag_violations(tags))

        def tag(tx: _Tx) -> None:
            function = self._tagged_function(tx, target)
            current = self._tags(tx, function)
            refusal = tags_refusal(len({**current, **tags}), tags)
            if refusal is not None:
                raise refusal
            tx.connection.executemany(
                "INSERT INTO tags (function_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (function_id, key) DO UPDATE SET value = excluded.value",
                [(function.id, key, value) for key, value in tags.items()],
            )
            self._new_latest_revision(tx, function)
            self._log(tx, "TagResource", caller, function, None)

        self._run(tag, write=True)

    def untag_resource(self, caller: Caller, resource: str, keys: Sequence[str]) -> None:
        """UntagResource: remove tags of a function; keys it does not have are no error, and
        its ``$LATEST`` gets a new RevisionId (L53)."""
        target = parse_taggable_resource(resource)
        check(tag_key_violations(keys))

        def untag(tx: _Tx) -> None:
            function = self._tagged_function(tx, target)
            tx.connection.executemany(
                "DELETE FROM tags WHERE function_id = ? AND key = ?",
                [(function.id, key) for key in keys],
            )
            self._new_latest_revision(tx, function)
            self._log(tx, "UntagResource", caller, function, None)

        self._run(untag, write=True)

    def list_tags(self, caller: Caller, resource: str) -> dict[str, str]:
        """ListTags: a function's tags, ``{}`` when it has none (L53)."""
        target = parse_taggable_resource(resource)

        def read(tx: _Tx) -> dict[str, str]:
            return self._tags(tx, self._tagged_function(tx, target))

        return self._run(read, write=False)

    # Reserved concurrency (L55)

    def put_function_concurrency(self, caller: Caller, function_name: str, reserved: int) -> int:
        """PutFunctionConcurrency: reserve concurrent executions for a function, within what
        the account must keep unreserved (L55)."""
        parsed = _function_only(parse_function_name(function_name))
        if reserved < 0:
            check(
                [
                    Violation(
                        str(reserved),
                        "reservedConcurrentExecutions",
                        "Member must have value greater than or equal to 0",
                    )
                ]
            )

        def put(tx: _Tx) -> int:
            # AWS names the function's $LATEST when it is missing (recorded).
            function = self._function(tx, caller, parsed, LATEST)
            (others,) = tx.connection.execute(
                "SELECT COALESCE(SUM(reserved_concurrency), 0) FROM functions "
                "WHERE account = ? AND region = ? AND id != ?",
                (function.account, function.region, function.id),
            ).fetchone()
            if others + reserved > ACCOUNT_CONCURRENCY - MINIMUM_UNRESERVED_CONCURRENCY:
                raise invalid_parameter(
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    "UnreservedConcurrentExecution below its minimum value of "
                    f"[{MINIMUM_UNRESERVED_CONCURRENCY}].",
                    typed=False,
                )
            tx.connection.execute(
                "UPDATE functions SET reserved_concurrency = ? WHERE id = ?",
                (reserved, function.id),
            )
            self._log(tx, "PutFunctionConcurrency", caller, function, None)
            return reserved

        return self._run(put, write=True)

    def get_function_concurrency(self, caller: Caller, function_name: str) -> int | None:
        """GetFunctionConcurrency: the reservation, ``None`` when there is none (L55)."""
        parsed = _function_only(parse_function_name(function_name))

        def get(tx: _Tx) -> int | None:
            return self._reserved_concurrency(tx, self._function(tx, caller, parsed, None))

        return self._run(get, write=False)

    def delete_function_concurrency(self, caller: Caller, function_name: str) -> None:
        """DeleteFunctionConcurrency: remove the reservation, if any (L55)."""
        parsed = _function_only(parse_function_name(function_name))

        def delete(tx: _Tx) -> None:
            function = self._function(tx, caller, parsed, None)
            tx.connection.execute(
                "UPDATE functions SET reserved_concurrency = NULL WHERE id = ?", (function.id,)
            )
            self._log(tx, "DeleteFunctionConcurrency", caller, function, None)

        self._run(delete, write=True)

    def account_settings(self, caller: Caller) -> AccountSettings:
        """GetAccountSettings: the code stored and the concurrency left unreserved in the
        caller's account and region (L55)."""

        def read(tx: _Tx) -> AccountSettings:
            (code_size,) = tx.connection.execute(
                "SELECT COALESCE(SUM(c.code_size), 0) FROM configs c JOIN functions f "
                "ON f.id = c.function_id WHERE f.account = ? AND f.region = ?",
                (caller.account, caller.region),
            ).fetchone()
            count, reserved = tx.connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(reserved_concurrency), 0) FROM functions "
                "WHERE account = ? AND region = ?",
                (caller.account, caller.region),
            ).fetchone()
            return AccountSettings(int(code_size), int(count), ACCOUNT_CONCURRENCY - reserved)

        return self._run(read, write=False)

    # Code signing (L56): the emulator keeps no code signing configurations.

    def get_function_code_signing_config(self, caller: Caller, function_name: str) -> None:
        """GetFunctionCodeSigningConfig of an existing function: it has none, which AWS answers
        with an empty body (L56)."""
        parsed = parse_function_name(function_name, namespaced=True)

        def get(tx: _Tx) -> None:
            self._function(tx, caller, parsed, None)

        self._run(get, write=False)

    def put_function_code_signing_config(
        self, caller: Caller, function_name: str, code_signing_config_arn: str
    ) -> NoReturn:
        """PutFunctionCodeSigningConfig: no configuration exists to attach. AWS checks the
        configuration before the function (recorded), so the answer is always that one."""
        parse_function_name(function_name)
        check(code_signing_config_violations(code_signing_config_arn))
        raise code_signing_config_not_found(code_signing_config_arn)

    def delete_function_code_signing_config(self, caller: Caller, function_name: str) -> None:
        """DeleteFunctionCodeSigningConfig: nothing is attached, so nothing changes (L56)."""
        parsed = parse_function_name(function_name)

        def delete(tx: _Tx) -> None:
            function = self._function(tx, caller, parsed, None)
            self._log(tx, "DeleteFunctionCodeSigningConfig", caller, function, None)

        self._run(delete, write=True)

    # The write log

    def write_log(self, since: int = 0) -> list[WriteRecord]:
        """The writes that succeeded after the one numbered ``since``, oldest first.

        Every process using the file shares the log, and it outlives them; pass the last
        ``sequence`` seen to read only what came after it.
        """

        def read(tx: _Tx) -> list[WriteRecord]:
            rows = tx.connection.execute(
                "SELECT sequence, at, operation, account, region, function_name, qualifier, "
                "access_key_id FROM writes WHERE sequence > ? ORDER BY sequence",
                (min(max(since, 0), _MAX_SEQUENCE),),
            ).fetchall()
            return [WriteRecord(*row) for row in rows]

        return self._run(read, write=False)

    # The machinery below runs inside a transaction.

    def _log(
        self,
        tx: _Tx,
        operation: WriteOperation,
        caller: Caller,
        function: _Function,
        qualifier: str | None,
    ) -> None:
        """Append a write to the log, last in its transaction, so that only success is logged."""
        tx.connection.execute(
            "INSERT INTO writes (at, operation, account, region, function_name, qualifier, "
            "access_key_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                tx.now,
                operation,
                function.account,
                function.region,
                function.name,
                qualifier,
                caller.access_key_id,
            ),
        )

    def _run(self, operation: Callable[[_Tx], T], *, write: bool) -> T:
        """Run ``operation`` in the block's transaction, or in one of its own.

        A read that finds a window to settle is run again as a write: upgrading a read
        transaction in place can fail in WAL mode when another process wrote meanwhile.
        """
        current: _Tx | None = getattr(self._local, "tx", None)
        if current is not None:
            return operation(current)
        if not write:
            try:
                with self._database.transaction(write=False) as connection:
                    return operation(_Tx(connection, self._clock(), writable=False))
            except _NeedsWrite:
                pass
        with self._database.transaction(write=True) as connection:
            return operation(_Tx(connection, self._clock(), writable=True))

    def _function(
        self, tx: _Tx, caller: Caller, parsed: FunctionName, qualifier: str | None
    ) -> _Function:
        account = parsed.account or caller.account
        region = parsed.region or caller.region
        row = tx.connection.execute(
            "SELECT id, next_version FROM functions WHERE account = ? AND region = ? AND name = ?",
            (account, region, parsed.name),
        ).fetchone()
        if row is None:
            raise not_found(
                f"Function not found: {function_arn(region, account, parsed.name, qualifier)}"
            )
        return _Function(int(row[0]), account, region, parsed.name, int(row[1]))

    def _tagged_function(self, tx: _Tx, target: TaggedResource) -> _Function:
        """The function a tag operation's ARN names; the emulator keeps no other taggable
        resource (layers, event source mappings, code signing configurations)."""
        if target.kind != "function":
            raise not_found(f"The resource you requested does not exist: {target.arn}")
        parsed = FunctionName(target.name, account=target.account, region=target.region)
        return self._function(tx, Caller(target.account, target.region), parsed, None)

    def _tags(self, tx: _Tx, function: _Function) -> dict[str, str]:
        rows = tx.connection.execute(
            "SELECT key, value FROM tags WHERE function_id = ? ORDER BY key", (function.id,)
        )
        return {str(key): str(value) for key, value in rows}

    def _reserved_concurrency(self, tx: _Tx, function: _Function) -> int | None:
        (reserved,) = tx.connection.execute(
            "SELECT reserved_concurrency FROM functions WHERE id = ?", (function.id,)
        ).fetchone()
        return None if reserved is None else int(reserved)

    def _new_latest_revision(self, tx: _Tx, function: _Function) -> None:
        """Give ``$LATEST`` a new RevisionId, as a change of its tags does (L53)."""
        self._settle(tx, function)
        tx.connection.execute(
            "UPDATE configs SET revision_id = ? WHERE function_id = ? AND number = 0",
            (_revision(), function.id),
        )

    def _settle(self, tx: _Tx, function: _Function) -> None:
        """End the windows of ``function`` that are over (L8, L28, L32)."""
        rows = tx.connection.execute(
            "SELECT function_id, number FROM configs WHERE function_id = ? "
            "AND settle_at IS NOT NULL AND settle_at <= ?",
            (function.id, tx.now),
        ).fetchall()
        self._settle_rows(tx, rows)

    def _settle_region(self, tx: _Tx, caller: Caller) -> None:
        rows = tx.connection.execute(
            "SELECT c.function_id, c.number FROM configs c JOIN functions f "
            "ON f.id = c.function_id WHERE c.settle_at IS NOT NULL AND c.settle_at <= ? "
            "AND f.account = ? AND f.region = ?",
            (tx.now, caller.account, caller.region),
        ).fetchall()
        self._settle_rows(tx, rows)

    def _settle_rows(self, tx: _Tx, rows: list[sqlite3.Row]) -> None:
        if not rows:
            return
        if not tx.writable:
            raise _NeedsWrite
        for function_id, number in rows:
            if number == 0:
                # $LATEST gets a new RevisionId as its creation or update completes (L28, L32).
                tx.connection.execute(
                    "UPDATE configs SET state = 'Active', last_update_status = 'Successful', "
                    "revision_id = ?, settle_at = NULL WHERE function_id = ? AND number = 0",
                    (_revision(), function_id),
                )
            else:
                # A version keeps its RevisionId when it becomes Active (L8).
                tx.connection.execute(
                    "UPDATE configs SET state = 'Active', last_update_status = 'Successful', "
                    "settle_at = NULL WHERE function_id = ? AND number = ?",
                    (function_id, number),
                )

    def _start_update(self, tx: _Tx, function: _Function) -> None:
        """Put ``$LATEST`` InProgress with a new RevisionId until the window ends (L28)."""
        tx.connection.execute(
            "UPDATE configs SET last_update_status = 'InProgress', revision_id = ?, "
            "last_modified = ?, settle_at = ? WHERE function_id = ? AND number = 0",
            (_revision(), _timestamp(tx.now), tx.now + self.update_seconds, function.id),
        )

    def _publish(
        self, tx: _Tx, function: _Function, description: str | None, *, pending: bool
    ) -> VersionConfig:
        """Publish ``$LATEST``, or return the latest version if nothing changed since (L2).

        Nothing changed when the code, every snapshotted column, ``$LATEST``'s description and
        the rest of the configuration are what the newest version took (L48). A version
        published by PublishVersion is ``Active`` at once (L47); one published with a
        function's creation or a code update (``pending``) is ``Pending`` until the update's
        window ends (L8, L29, L32).
        """
        latest_row = self._row(tx, function, 0)
        if latest_row is None:
            raise not_found(f"Function not found: {function.arn()}")
        newest = tx.connection.execute(
            "SELECT * FROM configs WHERE function_id = ? AND number > 0 "
            "ORDER BY number DESC LIMIT 1",
            (function.id,),
        ).fetchone()
        if (
            newest is not None
            and newest["latest_description"] == latest_row["description"]
            and all(newest[column] == latest_row[column] for column in _SNAPSHOT_COLUMNS)
            and _snapshot(function, newest) == _snapshot(function, latest_row)
        ):
            return _to_config(function, newest, function.arn(str(newest["number"])))
        number = function.next_version  # L7: a per-function counter, never reused
        tx.connection.execute(
            "UPDATE functions SET next_version = ? WHERE id = ?", (number + 1, function.id)
        )
        tx.connection.execute(
            "INSERT INTO configs (function_id, number, code_sha256, code_size, description,"
            " latest_description, role, runtime, handler, timeout, memory_size, package_type,"
            " dead_letter_target, last_modified, revision_id, state, last_update_status,"
            " settle_at, configuration) SELECT function_id, ?, code_sha256, code_size, ?,"
            " description, role, runtime, handler, timeout, memory_size, package_type,"
            " dead_letter_target, ?, ?, ?, ?, ?, configuration FROM configs"
            " WHERE function_id = ? AND number = 0",
            (
                number,
                description if description is not None else latest_row["description"],  # L3
                _timestamp(tx.now),
                _revision(),
                "Pending" if pending else "Active",
                None if pending else "Successful",
                tx.now + self.update_seconds if pending else None,
                function.id,
            ),
        )
        # L8: publishing changes $LATEST's RevisionId.
        tx.connection.execute(
            "UPDATE configs SET revision_id = ? WHERE function_id = ? AND number = 0",
            (_revision(), function.id),
        )
        return self._config(tx, function, number, function.arn(str(number)))

    def _check_routing(
        self, tx: _Tx, function: _Function, target: str, routing: Mapping[str, float]
    ) -> None:
        """The routing rules L21a and L21d-g, and that the primary version exists (L12)."""
        if len(routing) > 1:  # L21a
            raise invalid_parameter(
                "Number of items in AdditionalVersionWeights cannot be greater than 1"
            )
        if target == LATEST and routing:  # L21e, an answer AWS sends without its Type
            raise invalid_parameter(
                "$LATEST is not supported for an alias pointing to more than 1 version",
                typed=False,
            )
        if target in routing:  # L21d, and L22 on an update's merged result
            raise invalid_parameter(
                f"Invalid function version {target}. Function version {target} is already "
                "included in routing configuration."
            )
        primary = self._published_row(tx, function, target)
        if primary is None:  # L12
            raise not_found(f"Function not found: {function.arn(target)}")
        for additional in routing:
            other = self._published_row(tx, function, additional)
            if other is None:  # L21f
                raise not_found(f"Function not found: {function.arn(additional)}")
            if other["role"] != primary["role"]:  # L21g
                raise invalid_parameter(
                    "Specified versions must be associated with the same execution role"
                )
            if other["dead_letter_target"] != primary["dead_letter_target"]:
                # L21g: AWS's text for a dead-letter mismatch is unknown (unverified); the code
                # is the documented one and the words follow the role message.
                raise invalid_parameter(
                    "Specified versions must be associated with the same dead-letter queue "
                    "configuration"
                )

    def _write_alias(
        self, tx: _Tx, function: _Function, alias: AliasConfig, *, insert: bool
    ) -> None:
        routing_version, routing_weight = next(iter(alias.routing.items()), (None, None))
        values = (
            alias.function_version,
            routing_version,
            routing_weight,
            alias.description,
            alias.revision_id,
            function.id,
            alias.name,
        )
        if insert:
            tx.connection.execute(
                "INSERT INTO aliases (function_version, routing_version, routing_weight, "
                "description, revision_id, function_id, name) VALUES (?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        else:
            tx.connection.execute(
                "UPDATE aliases SET function_version = ?, routing_version = ?, "
                "routing_weight = ?, description = ?, revision_id = ? "
                "WHERE function_id = ? AND name = ?",
                values,
            )

    def _alias_row(self, tx: _Tx, function: _Function, name: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = tx.connection.execute(
            "SELECT * FROM aliases WHERE function_id = ? AND name = ?", (function.id, name)
        ).fetchone()
        return row

    def _row(self, tx: _Tx, function: _Function, number: int) -> sqlite3.Row | None:
        row: sqlite3.Row | None = tx.connection.execute(
            "SELECT * FROM configs WHERE function_id = ? AND number = ?", (function.id, number)
        ).fetchone()
        return row

    def _config(self, tx: _Tx, function: _Function, number: int, arn: str) -> VersionConfig:
        row = self._row(tx, function, number)
        if row is None:
            raise not_found(f"Function not found: {arn}")
        return _to_config(function, row, arn)

    def _published_row(self, tx: _Tx, function: _Function, qualifier: str) -> sqlite3.Row | None:
        """The row of ``$LATEST`` or of the version ``qualifier`` names, if there is one."""
        number = 0 if qualifier == LATEST else version_number(qualifier)
        return None if number is None else self._row(tx, function, number)

    def _version(self, tx: _Tx, function: _Function, qualifier: str, arn: str) -> VersionConfig:
        """The configuration of ``$LATEST`` or of a version, shown with ``arn``; 404 if none."""
        row = self._published_row(tx, function, qualifier)
        if row is None:
            raise not_found(f"Function not found: {arn}")
        return _to_config(function, row, arn)


_SNAPSHOT_COLUMNS = (
    "code_sha256",
    "role",
    "runtime",
    "handler",
    "timeout",
    "memory_size",
    "package_type",
    "dead_letter_target",
)
"""What a version snapshots of ``$LATEST`` in columns of its own; ``$LATEST``'s description and
the rest of the configuration (``_snapshot``) are compared apart."""


def _snapshot(function: _Function, row: sqlite3.Row) -> Configuration:
    """The configuration a row holds besides its columns, as published versions compare it."""
    return _configuration(row["configuration"]).resolved(function.name)


def _latest_only(parsed: FunctionName) -> FunctionName:
    """Refuse a qualifier other than ``$LATEST`` on an operation that changes ``$LATEST`` (L27).

    The text is the one AWS answers UpdateFunctionConfiguration on a version ARN with.
    """
    if parsed.qualifier not in (None, LATEST):
        raise invalid_parameter(
            "Current operation does not support versions other than $LATEST. Please set the "
            "version to $LATEST or do not set a version in your request."
        )
    return parsed


def _function_only(parsed: FunctionName) -> FunctionName:
    """Refuse any qualifier on an operation that belongs to the function as a whole, in the
    words AWS answers PutFunctionConcurrency with (recorded; L55)."""
    if parsed.qualifier is not None:
        raise invalid_parameter(
            "This operation is permitted on Lambda functions only. Aliases and versions do not "
            "support this operation. Please specify either a function name or an unqualified "
            "function ARN."
        )
    return parsed


def _require_idle(latest: VersionConfig) -> None:
    """A function being created or updated refuses publishes and updates (L6)."""
    if latest.state == "Pending":
        raise conflict(
            "The operation cannot be performed at this time. The function is currently in the "
            "following state: Pending"
        )
    if latest.last_update_status == "InProgress":
        raise conflict(
            "The operation cannot be performed at this time. An update is in progress for "
            f"resource: {latest.unqualified_arn}"
        )


def _require_revision(latest: VersionConfig, revision_id: str | None) -> None:
    if revision_id is not None and revision_id != latest.revision_id:
        raise precondition_failed()


def _configuration_violations(timeout: int | None, memory_size: int | None) -> list[Violation]:
    found: list[Violation] = []
    if timeout is not None and not 1 <= timeout <= 900:
        found.append(
            Violation(
                str(timeout),
                "timeout",
                "Member must have value less than or equal to 900"
                if timeout > 900
                else "Member must have value greater than or equal to 1",
            )
        )
    if memory_size is not None and not 128 <= memory_size <= 10240:
        found.append(
            Violation(
                str(memory_size),
                "memorySize",
                "Member must have value less than or equal to 10240"
                if memory_size > 10240
                else "Member must have value greater than or equal to 128",
            )
        )
    return found


def _to_config(function: _Function, row: sqlite3.Row, arn: str) -> VersionConfig:
    number = int(row["number"])
    return VersionConfig(
        function_name=function.name,
        function_arn=arn,
        version=_qualifier(number),
        code_sha256=row["code_sha256"],
        code_size=row["code_size"],
        description=row["description"],
        role=row["role"],
        runtime=row["runtime"],
        handler=row["handler"],
        timeout=row["timeout"],
        memory_size=row["memory_size"],
        package_type=row["package_type"],
        dead_letter_target=row["dead_letter_target"],
        last_modified=row["last_modified"],
        revision_id=row["revision_id"],
        state=row["state"],
        last_update_status=row["last_update_status"],
        configuration=_configuration(row["configuration"]),
    )


@functools.lru_cache(maxsize=1024)
def _configuration(stored: str) -> Configuration:
    """A row's configuration, read once per distinct text: the versions of a function mostly
    share one, and a list operation reads up to 50 rows."""
    return Configuration.from_json(stored)


def _to_alias(function: _Function, row: sqlite3.Row, arn_prefix: str | None = None) -> AliasConfig:
    """An alias row as a value; ``arn_prefix`` saves rebuilding the ARN for every row of a list."""
    name = row["name"]
    routing_version = row["routing_version"]
    routing = {} if routing_version is None else {routing_version: float(row["routing_weight"])}
    return AliasConfig(
        (arn_prefix or function.arn() + ":") + name,
        name,
        row["function_version"],
        routing,
        row["description"],
        row["revision_id"],
    )


def _weights(routing: Mapping[str, float | None] | None) -> dict[str, float]:
    """Weights that passed validation, so none is ``None``."""
    return {key: float(value or 0.0) for key, value in (routing or {}).items()}


def _qualifier(number: int) -> str:
    return str(number) if number else LATEST


def _number_marker(marker: str | None) -> int:
    """The version number a ListVersionsByFunction marker of ours names (``0`` for $LATEST)."""
    if marker is None:
        return -1
    number = 0 if marker == "0" else version_number(marker)
    if number is None:
        raise invalid_parameter(f"Invalid marker: {marker}")
    return number


def _function_marker(marker: str | None) -> tuple[str, int]:
    """The function name and version number a ListFunctions marker of ours names."""
    if marker is None:
        return "", -1
    name, _, text = marker.rpartition(":")
    number = 0 if text == "0" else version_number(text)
    if not name or number is None:
        raise invalid_parameter(f"Invalid marker: {marker}")
    return name, number


def _revision() -> str:
    return str(uuid.uuid4())


def _timestamp(now: float) -> str:
    """``LastModified`` as Lambda prints it: ``2024-01-02T03:04:05.678+0000``."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


__all__ = [
    "AccountSettings",
    "AliasConfig",
    "Caller",
    "EmulatorStore",
    "FunctionDetails",
    "LambdaApiError",
    "Page",
    "VersionConfig",
    "WriteRecord",
    "function_arn",
]
