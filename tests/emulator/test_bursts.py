"""The emulated registry under bursts and broken clients: every connection of a burst is answered,
and a connection that ends badly is reported through the callback, never to stderr."""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.adapters.http.base import ConnectionFault
from lambda_emulator import EmulatorServer
from lambda_emulator.server import log_connection_fault
from lambda_emulator.wire import Response
from tests.burst import burst, get
from tests.emulator.conftest import create
from tests.polling import wait_until


class Faults:
    """The faults a server reports, kept for the test to read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: list[ConnectionFault] = []

    def __call__(self, fault: ConnectionFault) -> None:
        with self._lock:
            self.seen.append(fault)

    def bugs(self) -> list[ConnectionFault]:
        """The faults other than a client going away."""
        with self._lock:
            return [fault for fault in self.seen if not fault.disconnected]


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def server(tmp_path: Path, faults: Faults) -> Iterator[EmulatorServer]:
    with EmulatorServer(tmp_path / "state.sqlite", on_error=faults) as running:
        yield running


def connect(server: EmulatorServer) -> socket.socket:
    host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


@pytest.mark.timeout(180)
def test_two_hundred_simultaneous_connections_are_all_answered(
    server: EmulatorServer, client_factory: Any, faults: Faults
) -> None:
    create(client_factory(server))

    statuses = burst(server.endpoint_url, [get("/2015-03-31/functions/orders/aliases")] * 200)

    assert statuses == [200] * 200
    assert faults.bugs() == []


def test_a_client_gone_mid_answer_is_reported_to_the_callback_not_stderr(
    server: EmulatorServer,
    faults: Faults,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked, may_answer = threading.Event(), threading.Event()
    respond = EmulatorServer.respond

    def held(self: EmulatorServer, *args: Any) -> Response:
        asked.set()
        may_answer.wait(timeout=30)
        return respond(self, *args)

    monkeypatch.setattr(EmulatorServer, "respond", held)
    sock = connect(server)
    sock.sendall(b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n\r\n")
    assert asked.wait(timeout=10)
    # Closing with a zero linger time resets the connection, so the answer meets a dead socket.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    may_answer.set()

    wait_until(lambda: faults.seen, 10, "the fault to be reported")
    assert [fault.disconnected for fault in faults.seen] == [True]
    assert capfd.readouterr().err == ""


def test_a_bug_answers_500_and_is_reported_to_the_callback_not_stderr(
    server: EmulatorServer,
    faults: Faults,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: EmulatorServer, *args: Any) -> Response:
        raise KeyError("a bug")

    monkeypatch.setattr(EmulatorServer, "respond", broken)
    with connect(server) as sock:
        sock.sendall(b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(12) == b"HTTP/1.1 500"

    # Closing with the answer unread may also report the client as gone; that is not the bug.
    (fault,) = wait_until(faults.bugs, 10, "the fault to be reported")
    assert type(fault.error) is KeyError
    assert capfd.readouterr().err == ""


def test_the_default_callback_logs_a_gone_client_at_debug_and_a_bug_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="lambda_emulator")
    log_connection_fault(ConnectionFault("127.0.0.1:5000", ConnectionResetError(104, "reset")))
    log_connection_fault(ConnectionFault("127.0.0.1:5001", ValueError("bad state")))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "client 127.0.0.1:5000 went away: ConnectionResetError"),
        (logging.ERROR, "emulator connection from 127.0.0.1:5001 failed: ValueError: bad state"),
    ]
