"""The controller's endpoints under bursts and broken clients: every request of a burst is
answered, and a connection that ends badly is reported through the callback, never to stderr.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry

from controller.adapters.http import server as server_module
from controller.adapters.http.base import ConnectionFault
from controller.adapters.http.server import ControllerServer, log_connection_fault
from controller.adapters.metrics import FunctionStatus, Metrics
from tests.burst import burst, get, post
from tests.polling import wait_until

SECRET = b"burst-webhook-secret"
PUSH = json.dumps({"ref": "refs/heads/main", "after": "0123abcd"}).encode()


class Recorder:
    """The controller behind the server: counts pushes, keeps the faults it is told of, and
    can hold ``/status`` until a test lets it answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pushes = 0
        self.faults: list[ConnectionFault] = []
        self.fault_seen = threading.Event()
        self.status_asked = threading.Event()
        self.status_may_answer = threading.Event()
        self.status_may_answer.set()

    def on_push(self) -> None:
        with self._lock:
            self.pushes += 1

    def on_error(self, fault: ConnectionFault) -> None:
        with self._lock:
            self.faults.append(fault)
        self.fault_seen.set()

    def status(self) -> dict[str, Any]:
        self.status_asked.set()
        self.status_may_answer.wait(timeout=30)
        return {"revision": "0123abcd"}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder) -> Iterator[ControllerServer]:
    metrics = Metrics(CollectorRegistry())
    metrics.functions(
        [FunctionStatus(f"function-{n}", "eu-west-1", "synced", {"live": False}) for n in range(20)]
    )
    with ControllerServer(
        "127.0.0.1",
        0,
        metrics=metrics.registry,
        status=recorder.status,
        healthy=lambda: True,
        ready=lambda: True,
        on_push=recorder.on_push,
        webhook_secret=SECRET,
        on_error=recorder.on_error,
    ) as running:
        yield running


def connect(server: ControllerServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


# --- bursts -------------------------------------------------------------------------------------


@pytest.mark.timeout(180)
def test_a_thousand_simultaneous_scrapes_are_all_answered(
    server: ControllerServer, recorder: Recorder
) -> None:
    statuses = burst(server.url, [get("/metrics")] * 1000)

    assert statuses == [200] * 1000
    assert call_status(server, "/healthz") == 200  # and the server still serves
    assert [f for f in recorder.faults if not f.disconnected] == []


@pytest.mark.timeout(180)
def test_three_hundred_simultaneous_signed_webhooks_are_all_accepted(
    server: ControllerServer, recorder: Recorder
) -> None:
    signature = "sha256=" + hmac.new(SECRET, PUSH, hashlib.sha256).hexdigest()
    request = post("/webhook", PUSH, f"X-Hub-Signature-256: {signature}", "X-GitHub-Event: push")

    statuses = burst(server.url, [request] * 300)

    assert statuses == [202] * 300
    assert recorder.pushes == 300


def call_status(server: ControllerServer, path: str) -> int:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


# --- keep-alive and the bound on handler threads ------------------------------------------------


def exchange(sock: socket.socket, path: str) -> http.client.HTTPResponse:
    """One keep-alive GET on an open socket; the whole answer."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.read()
    return response


def test_keep_alive_stays_while_handler_threads_are_free(server: ControllerServer) -> None:
    with connect(server) as sock:
        first = exchange(sock, "/healthz")
        second = exchange(sock, "/readyz")  # the same connection serves the next request
    assert (first.status, second.status) == (200, 200)
    assert first.headers["Connection"] is None


def test_past_the_bound_clients_wait_and_are_served_with_connection_close(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two handler threads and an idle keep-alive client holding one, every other client
    is still served, each on a connection closed after its answer so that the next one can be.
    """
    monkeypatch.setattr(server_module, "MAX_HANDLERS", 2)
    with (
        ControllerServer(
            "127.0.0.1",
            0,
            metrics=CollectorRegistry(),
            status=recorder.status,
            healthy=lambda: True,
            ready=lambda: True,
            on_push=recorder.on_push,
            webhook_secret=None,
        ) as server,
        connect(server) as idle,
    ):
        assert exchange(idle, "/healthz").headers["Connection"] is None  # kept alive, and idle
        for _ in range(3):
            with connect(server) as sock:
                answer = exchange(sock, "/healthz")
                assert (answer.status, answer.headers["Connection"]) == (200, "close")
                assert sock.recv(1) == b""  # the server closed its end


def test_stop_returns_while_a_client_waits_for_a_handler_thread(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "MAX_HANDLERS", 1)
    server = ControllerServer(
        "127.0.0.1",
        0,
        metrics=CollectorRegistry(),
        status=recorder.status,
        healthy=lambda: True,
        ready=lambda: True,
        on_push=recorder.on_push,
        webhook_secret=None,
    )
    server.start()
    with connect(server) as silent, connect(server) as waiting:
        waiting.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        server.stop()  # the silent client holds the only thread; the other waits in the backlog
        assert ended_unanswered(silent)
        assert ended_unanswered(waiting)


def ended_unanswered(sock: socket.socket) -> bool:
    """Whether the server ended the connection without a byte of answer: closed or reset."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


# --- errors on a connection ---------------------------------------------------------------------


def test_a_client_gone_mid_answer_is_reported_to_the_callback_not_stderr(
    server: ControllerServer, recorder: Recorder, capfd: pytest.CaptureFixture[str]
) -> None:
    recorder.status_may_answer.clear()
    sock = connect(server)
    sock.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
    assert recorder.status_asked.wait(timeout=10)
    # Closing with a zero linger time resets the connection, so the answer meets a dead socket.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    recorder.status_may_answer.set()

    assert recorder.fault_seen.wait(timeout=10)
    assert [fault.disconnected for fault in recorder.faults] == [True]
    assert isinstance(recorder.faults[0].error, ConnectionError)
    assert capfd.readouterr().err == ""
    assert call_status(server, "/healthz") == 200


def test_an_error_escaping_a_handler_is_reported_to_the_callback_not_stderr(
    server: ControllerServer,
    recorder: Recorder,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_write(self: object, reply: object) -> None:
        raise RuntimeError("the writer broke")

    monkeypatch.setattr(server_module._Handler, "_write", broken_write)
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1) == b""  # the connection ends without an answer

    wait_until(lambda: recorder.faults, 10, "the fault to be reported")
    (fault,) = recorder.faults
    assert (fault.disconnected, str(fault.error)) == (False, "the writer broke")
    assert capfd.readouterr().err == ""


def test_the_default_callback_logs_a_gone_client_at_debug_and_a_bug_as_an_error() -> None:
    with structlog.testing.capture_logs() as logs:
        log_connection_fault(ConnectionFault("127.0.0.1:5000", BrokenPipeError(32, "Broken pipe")))
        log_connection_fault(ConnectionFault("127.0.0.1:5001", ValueError("bad state")))
    assert logs == [
        {
            "event": "http client went away",
            "client": "127.0.0.1:5000",
            "error_type": "BrokenPipeError",
            "log_level": "debug",
        },
        {
            "event": "http connection failed",
            "client": "127.0.0.1:5001",
            "error_type": "ValueError",
            "error": "bad state",
            "log_level": "error",
        },
    ]
