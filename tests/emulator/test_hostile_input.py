"""Hostile input: numbers a client should never send still get a Lambda error, never a 500,
and leave nothing behind in the state."""

from __future__ import annotations

from typing import Any

import pytest

from controller.registry.emulator import Caller, EmulatorServer
from tests.emulator.conftest import ROLE, code

HOME = Caller("123456789012", "us-east-1")
FUNCTIONS = "/2015-03-31/functions"
NOT_PARSED = "Could not parse request body into json: "


@pytest.fixture
def server(emulator: EmulatorServer) -> EmulatorServer:
    """The emulator, holding ``fn`` with versions 1 and 2."""
    store = emulator.store
    store.create_function(
        HOME, "fn", code=code("1"), role=ROLE, runtime="python3.12", handler="app.handler"
    )
    store.publish_version(HOME, "fn")
    store.update_function_code(HOME, "fn", code("2"))
    store.publish_version(HOME, "fn")
    return emulator


def answer(server: EmulatorServer, method: str, target: str, body: bytes = b"") -> Any:
    """The status, error code and body of one request, made without sockets."""
    response = server.respond(method, target, None, body)
    return response.status, response.error_code, response.body


# --- numbers and markers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        f"{FUNCTIONS}/fn/versions?Marker=99999999999999999999999",
        f"{FUNCTIONS}/fn/versions?Marker=%C2%B2",
        f"{FUNCTIONS}?Marker=fn:99999999999999999999999",
    ],
    ids=["huge-marker", "superscript-marker", "huge-function-marker"],
)
def test_a_marker_that_is_no_number_of_ours_is_invalid(server: EmulatorServer, target: str) -> None:
    status, error, _ = answer(server, "GET", target)
    assert (status, error) == (400, "InvalidParameterValueException")


def test_deleting_version_zero_leaves_latest_in_place(server: EmulatorServer) -> None:
    """Version 0 is how the state file keeps ``$LATEST``; a client's ``0`` must not reach it."""
    status, _, _ = answer(server, "DELETE", f"{FUNCTIONS}/fn?Qualifier=0")
    assert status == 204
    status, _, _ = answer(server, "GET", f"{FUNCTIONS}/fn")
    assert status == 200


def test_a_leading_zero_does_not_get_past_the_alias_protection(server: EmulatorServer) -> None:
    """L35 compares the qualifier with the aliases' versions as text: ``02`` must not delete
    version 2 from under an alias on ``2``."""
    server.store.create_alias(HOME, "fn", "live", function_version="2")

    status, _, _ = answer(server, "DELETE", f"{FUNCTIONS}/fn?Qualifier=02")

    assert status == 204
    assert [v.version for v in server.store.list_versions(HOME, "fn").items] == [
        "$LATEST",
        "1",
        "2",
    ]
