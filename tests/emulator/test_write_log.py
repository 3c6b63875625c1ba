"""The write log: every write that succeeded, in order, with who made it and where; nothing for
a write that was refused; kept in the state file, across restarts and between processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_emulator import (
    Caller,
    EmulatorServer,
    EmulatorStore,
    LambdaApiError,
    WriteRecord,
)
from lambda_emulator.database import SCHEMA_VERSION
from tests.backends import make_zip
from tests.emulator.conftest import ROLE, code, create, write_old_state_file

HOME = Caller("123456789012", "us-east-1")
NOW = 1_700_000_000.0
StoreFactory = Callable[..., EmulatorStore]


def new_function(store: EmulatorStore, name: str = "orders", caller: Caller = HOME) -> None:
    store.create_function(
        caller, name, code=code(name), role=ROLE, runtime="python3.12", handler="app.handler"
    )


def logged(store: EmulatorStore, since: int = 0) -> list[tuple[str, str, str | None]]:
    """The log as (operation, function, qualifier) triples, which is what most tests read."""
    return [(r.operation, r.function_name, r.qualifier) for r in store.write_log(since)]


def test_every_write_operation_is_logged_in_order_with_who_and_where(
    emulator: EmulatorServer, client_factory: Callable[..., Any]
) -> None:
    lambda_ = client_factory(emulator, access_key="AKIDWRITER", region="eu-west-1")
    create(lambda_, "orders")
    lambda_.update_function_code(FunctionName="orders", ZipFile=make_zip("two"))
    lambda_.update_function_configuration(FunctionName="orders", Description="second")
    lambda_.publish_version(FunctionName="orders")
    lambda_.create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    lambda_.update_alias(FunctionName="orders", Name="live", Description="moved")
    lambda_.delete_alias(FunctionName="orders", Name="live")
    lambda_.delete_function(FunctionName="orders", Qualifier="1")
    lambda_.delete_function(FunctionName="orders")

    records = emulator.store.write_log()

    assert [(r.operation, r.qualifier) for r in records] == [
        ("CreateFunction", None),
        ("UpdateFunctionCode", None),
        ("UpdateFunctionConfiguration", None),
        ("PublishVersion", "1"),
        ("CreateAlias", "live"),
        ("UpdateAlias", "live"),
        ("DeleteAlias", "live"),
        ("DeleteFunction", "1"),
        ("DeleteFunction", None),
    ]
    assert [r.sequence for r in records] == list(range(1, 10))
    assert {(r.account, r.region, r.function_name, r.access_key_id) for r in records} == {
        ("123456789012", "eu-west-1", "orders", "AKIDWRITER")
    }


def test_a_record_holds_the_store_clock_and_the_published_version(
    store_factory: StoreFactory,
) -> None:
    store = store_factory(clock=lambda: NOW)
    store.create_function(
        HOME,
        "orders",
        code=code("1"),
        role=ROLE,
        runtime="python3.12",
        handler="app.handler",
        publish=True,
    )
    store.update_function_code(HOME, "orders", code("2"), publish=True)

    assert store.write_log() == [
        WriteRecord(1, NOW, "CreateFunction", "123456789012", "us-east-1", "orders", "1", None),
        WriteRecord(2, NOW, "UpdateFunctionCode", "123456789012", "us-east-1", "orders", "2", None),
    ]


def test_a_function_arn_names_the_account_and_region_written_in(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    other = Caller("210987654321", "ap-south-1", access_key_id="210987654321")
    new_function(store, caller=other)
    store.publish_version(HOME, "arn:aws:lambda:ap-south-1:210987654321:function:orders")

    (_, published) = store.write_log()
    assert (published.account, published.region, published.access_key_id) == (
        "210987654321",
        "ap-south-1",
        None,
    )


def test_writes_that_change_nothing_are_still_logged_but_a_dry_run_is_not(
    store_factory: StoreFactory,
) -> None:
    """A test proving that no write was attempted out of scope must see these attempts too."""
    store = store_factory()
    new_function(store)
    store.publish_version(HOME, "orders")
    store.publish_version(HOME, "orders")  # nothing new: answers version 1 again (L2)
    store.delete_alias(HOME, "orders", "missing")  # L17: no error
    store.delete_function(HOME, "orders", "9")  # L38: no error
    store.update_function_code(HOME, "orders", code("2"), dry_run=True)

    assert logged(store) == [
        ("CreateFunction", "orders", None),
        ("PublishVersion", "orders", "1"),
        ("PublishVersion", "orders", "1"),
        ("DeleteAlias", "orders", "missing"),
        ("DeleteFunction", "orders", "9"),
    ]


def test_refused_writes_are_not_logged(
    emulator: EmulatorServer, client_factory: Callable[..., Any]
) -> None:
    lambda_ = client_factory(emulator)
    create(lambda_, "orders")
    lambda_.publish_version(FunctionName="orders")
    lambda_.create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    before = emulator.store.write_log()
    refused: list[Callable[[], object]] = [
        # 412: a stale RevisionId
        lambda: lambda_.update_alias(FunctionName="orders", Name="live", RevisionId="stale"),
        lambda: lambda_.publish_version(FunctionName="orders", RevisionId="stale"),
        # 409: a duplicate alias, and a version an alias points to
        lambda: lambda_.create_alias(FunctionName="orders", Name="live", FunctionVersion="1"),
        lambda: lambda_.delete_function(FunctionName="orders", Qualifier="1"),
        # 404: a missing version, alias and function
        lambda: lambda_.create_alias(FunctionName="orders", Name="beta", FunctionVersion="7"),
        lambda: lambda_.update_alias(FunctionName="orders", Name="beta", FunctionVersion="1"),
        lambda: lambda_.delete_function(FunctionName="nothing"),
        # 400: a validation error
        lambda: lambda_.create_alias(FunctionName="orders", Name="2024", FunctionVersion="1"),
    ]
    for write in refused:
        with pytest.raises(ClientError):
            write()

    assert emulator.store.write_log() == before


def test_a_write_refused_while_an_update_is_in_progress_is_not_logged(
    store_factory: StoreFactory,
) -> None:
    store = store_factory(update_seconds=3600)  # L6: the function stays Pending meanwhile
    new_function(store)
    with pytest.raises(LambdaApiError) as refused:
        store.publish_version(HOME, "orders")
    assert refused.value.status == 409
    assert logged(store) == [("CreateFunction", "orders", None)]


def test_a_transaction_block_logs_all_its_writes_or_none(store_factory: StoreFactory) -> None:
    store = store_factory()
    new_function(store)
    with store.transaction():
        store.update_function_code(HOME, "orders", code("2"))
        store.update_function_configuration(HOME, "orders", description="x")

    def write_then_fail() -> None:
        with store.transaction():
            store.create_alias(HOME, "orders", "live", function_version="$LATEST")
            raise RuntimeError("the block fails after a write")

    with pytest.raises(RuntimeError):
        write_then_fail()

    assert [operation for operation, _, _ in logged(store)] == [
        "CreateFunction",
        "UpdateFunctionCode",
        "UpdateFunctionConfiguration",
    ]


def test_since_gives_only_the_writes_after_it(store_factory: StoreFactory) -> None:
    store = store_factory()
    new_function(store, "a")
    new_function(store, "b")
    new_function(store, "c")

    assert logged(store, since=1) == [("CreateFunction", "b", None), ("CreateFunction", "c", None)]
    assert logged(store, since=3) == []
    assert logged(store, since=-5) == logged(store)
    assert logged(store, since=2**70) == []


def test_the_log_survives_reopening_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with EmulatorStore(path) as first:
        new_function(first, "a")
    with EmulatorStore(path) as second:
        new_function(second, "b")
        assert [(r.sequence, r.function_name) for r in second.write_log()] == [(1, "a"), (2, "b")]


def test_a_version_1_state_file_is_upgraded_and_keeps_its_functions(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    write_old_state_file(path, version=1)

    with EmulatorStore(path) as store:
        assert store.get_function(HOME, "orders").function_name == "orders"
        assert store.write_log() == []
        store.publish_version(HOME, "orders")
        assert logged(store) == [("PublishVersion", "orders", "1")]
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("SELECT version FROM emulator_schema").fetchone() == (
            SCHEMA_VERSION,
        )
    finally:
        connection.close()


def read_writes(server: EmulatorServer, query: str = "") -> Any:
    with urllib.request.urlopen(
        f"{server.endpoint_url}/_emulator/writes{query}", timeout=10
    ) as page:
        return json.load(page)


def test_the_log_is_shared_by_processes_and_served_over_http(
    emulator: EmulatorServer, client_factory: Callable[..., Any]
) -> None:
    """A command run in another process on the same file shows in the server's log."""
    create(client_factory(emulator, access_key="AKIDSERVER"), "orders")
    published = subprocess.run(
        [
            sys.executable,
            "-m",
            "lambda_emulator",
            "publish",
            "orders",
            "--state",
            str(emulator.state),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        check=False,
        timeout=60,
    )
    assert published.returncode == 0, published.stderr

    writes = read_writes(emulator)["writes"]

    assert [(w["operation"], w["qualifier"], w["access_key_id"]) for w in writes] == [
        ("CreateFunction", None, "AKIDSERVER"),
        ("PublishVersion", "1", None),
    ]
    assert set(writes[0]) == {
        "sequence",
        "at",
        "operation",
        "account",
        "region",
        "function_name",
        "qualifier",
        "access_key_id",
    }
    assert read_writes(emulator, "?since=1")["writes"] == writes[1:]


@pytest.mark.parametrize("since", ["-1", "x", "1.5", "9" * 40])
def test_a_since_that_is_no_sequence_number_is_a_400(emulator: EmulatorServer, since: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        read_writes(emulator, f"?since={since}")
    assert refused.value.code == 400
    assert json.load(refused.value)["Type"] == "User"
    refused.value.close()
