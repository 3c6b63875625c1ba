"""Helpers for the emulated registry's own tests: boto3 clients, zip files, a store factory."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambda_emulator import EmulatorServer, EmulatorStore, database
from lambda_emulator.packages import CodePackage, from_sha256
from tests.backends import make_zip

ROLE = "arn:aws:iam::123456789012:role/emulated"


def sha(label: str) -> str:
    """A valid CodeSha256 derived from ``label``."""
    return base64.b64encode(hashlib.sha256(label.encode()).digest()).decode()


def code(label: str) -> CodePackage:
    """A code package known only by its hash."""
    return from_sha256(sha(label))


def lambda_client(
    endpoint_url: str,
    *,
    region: str = "us-east-1",
    access_key: str = "testing",
    max_attempts: int = 1,
) -> Any:
    """A boto3 Lambda client on ``endpoint_url``; retries are off unless asked for."""
    return boto3.client(
        "lambda",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": max_attempts}),
    )


@pytest.fixture
def client_factory() -> Iterator[Callable[..., Any]]:
    """boto3 clients, each closed at the end of the test so that no socket is left open."""
    clients: list[Any] = []

    def make(server: EmulatorServer, **kwargs: Any) -> Any:
        client = lambda_client(server.endpoint_url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(emulator: EmulatorServer, client_factory: Callable[..., Any]) -> Any:
    """A boto3 client of the default emulator."""
    return client_factory(emulator)


@pytest.fixture
def store_factory(tmp_path: Path) -> Iterator[Callable[..., EmulatorStore]]:
    """Stores on files in the test's folder, each closed at the end of the test."""
    stores: list[EmulatorStore] = []

    def make(path: Path | None = None, **kwargs: Any) -> EmulatorStore:
        store = EmulatorStore(path or tmp_path / "state.sqlite", **kwargs)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def create(client: Any, name: str = "orders", **kwargs: Any) -> dict[str, Any]:
    """Create a function through boto3 with a small zip."""
    response: dict[str, Any] = client.create_function(
        FunctionName=name,
        Role=ROLE,
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": make_zip(name)},
        **kwargs,
    )
    return response


def write_old_state_file(
    path: Path, version: int, function: str = "orders", *, published: bool = False
) -> None:
    """A state file as an emulator of schema ``version`` left it, holding ``function`` with its
    ``$LATEST`` settled (and, if ``published``, version 1 published from it): version 1's
    schema and the migrations that came before ``version``, and rows with only the columns
    that schema had."""
    connection = sqlite3.connect(path)
    try:
        script = database._VERSION_1 + "".join(
            database._MIGRATIONS[step] for step in range(1, version)
        )
        connection.executescript(script)
        connection.execute("INSERT INTO emulator_schema (version) VALUES (?)", (version,))
        connection.execute(
            "INSERT INTO functions (id, account, region, name) VALUES (1, ?, ?, ?)",
            ("123456789012", "us-east-1", function),
        )
        for number in (0, 1) if published else (0,):
            connection.execute(
                "INSERT INTO configs (function_id, number, code_sha256, code_size, description,"
                " latest_description, role, runtime, handler, timeout, memory_size, package_type,"
                " dead_letter_target, last_modified, revision_id, state, last_update_status,"
                " settle_at) VALUES (1, ?, ?, 0, '', '', ?, 'python3.12', 'app.handler', 3, 128,"
                " 'Zip', NULL, '2024-01-01T00:00:00.000+0000', ?, 'Active', 'Successful', NULL)",
                (number, sha(function), ROLE, f"rev-{number}"),
            )
        if published:
            connection.execute("UPDATE functions SET next_version = 2")
        connection.commit()
    finally:
        connection.close()
