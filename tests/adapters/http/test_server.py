"""The controller's HTTP endpoints, spoken to over real HTTP on a free port.

``Controller`` stands in for the loop behind the server: flags the probes read, a status
document, and a count of webhook deliveries that reached it.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import http.client
import json
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from controller.adapters.http.base import declared_length
from controller.adapters.http.server import MAX_WEBHOOK_BODY, ControllerServer
from controller.adapters.metrics import FunctionStatus, Metrics
from controller.errors import ConfigurationError

SECRET = b"s3cret-webhook-key"
PUSH = json.dumps({"ref": "refs/heads/main", "after": "0123abcd"}).encode()


@dataclass
class Controller:
    """What the server asks of the controller, with the answers a test sets."""

    healthy: bool = True
    ready: bool = False
    pushes: int = 0
    status_document: dict[str, Any] = field(
        default_factory=lambda: {"revision": "0123abcd", "functions": {"orders-api": "synced"}}
    )
    status_error: Exception | None = None

    def status(self) -> Mapping[str, Any]:
        if self.status_error is not None:
            raise self.status_error
        return self.status_document

    def on_push(self) -> None:
        self.pushes += 1


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        assert self.headers["Content-Type"] == "application/json"
        return json.loads(self.body)


def make_server(
    state: Controller,
    *,
    secret: bytes | None = SECRET,
    metrics: Metrics | None = None,
    port: int = 0,
) -> ControllerServer:
    return ControllerServer(
        "127.0.0.1",
        port,
        metrics=(metrics or Metrics(CollectorRegistry())).registry,
        status=state.status,
        healthy=lambda: state.healthy,
        ready=lambda: state.ready,
        on_push=state.on_push,
        webhook_secret=secret,
    )


@pytest.fixture
def state() -> Controller:
    return Controller()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry(), version="9.9.9")


@pytest.fixture
def server(state: Controller, metrics: Metrics) -> Iterator[ControllerServer]:
    with make_server(state, metrics=metrics) as running:
        yield running


def call(
    server: ControllerServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """One request on its own connection; http.client adds the Content-Length of ``body``."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def raw_request(server: ControllerServer, head: bytes) -> Reply:
    """Send a request head as given, without the body it may announce, and read the answer."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head)
        response = http.client.HTTPResponse(sock)
        try:
            response.begin()
            return Reply(response.status, response.headers, response.read())
        finally:
            response.close()


def hub_signature(body: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


# --- /metrics, /healthz, /readyz, /status -------------------------------------------------------


def test_metrics_serves_the_registry_in_the_prometheus_text_format(
    server: ControllerServer, metrics: Metrics
) -> None:
    metrics.functions([FunctionStatus("orders-api", "eu-west-1", "drifted", {"live": True})])
    reply = call(server, "GET", "/metrics")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(reply.body.decode())}
    drift = families["lambda_gitops_alias_drift"].samples
    assert [(s.labels["alias"], s.value) for s in drift] == [("live", 1.0)]
    assert families["lambda_gitops_build_info"].samples[0].labels == {"version": "9.9.9"}


def test_metrics_are_compressed_when_the_client_accepts_gzip(server: ControllerServer) -> None:
    reply = call(server, "GET", "/metrics", headers={"Accept-Encoding": "gzip"})
    assert reply.status == 200
    assert reply.headers["Content-Encoding"] == "gzip"
    assert b"lambda_gitops_build_info" in gzip.decompress(reply.body)


def test_metrics_speak_openmetrics_to_a_client_that_asks_for_it(server: ControllerServer) -> None:
    """Prometheus asks for OpenMetrics first; the answer must parse as OpenMetrics."""
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    reply = call(server, "GET", "/metrics", headers={"Accept": accept})
    assert reply.headers["Content-Type"].startswith("application/openmetrics-text")
    parsed = openmetrics_families(reply.body.decode())  # type: ignore[no-untyped-call]
    names = {f.name for f in parsed}
    assert {"lambda_gitops_reconcile", "lambda_gitops_build_info"} <= names


def test_healthz_follows_the_loop(server: ControllerServer, state: Controller) -> None:
    reply = call(server, "GET", "/healthz")
    assert (reply.status, reply.body) == (200, b"ok\n")
    state.healthy = False
    assert call(server, "GET", "/healthz").status == 503
    state.healthy = True
    assert call(server, "GET", "/healthz").status == 200


def test_readyz_turns_ready_once_the_controller_is(
    server: ControllerServer, state: Controller
) -> None:
    assert call(server, "GET", "/readyz").status == 503
    state.ready = True
    reply = call(server, "GET", "/readyz")
    assert (reply.status, reply.body) == (200, b"ok\n")


def test_head_answers_the_headers_without_a_body(server: ControllerServer) -> None:
    reply = call(server, "HEAD", "/healthz")
    assert (reply.status, reply.body) == (200, b"")
    assert reply.headers["Content-Length"] == "3"


def test_status_is_the_controllers_document_as_json(
    server: ControllerServer, state: Controller
) -> None:
    reply = call(server, "GET", "/status")
    assert reply.status == 200
    assert reply.json() == state.status_document


def test_requests_share_a_keep_alive_connection(server: ControllerServer) -> None:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        for path in ("/healthz", "/status", "/metrics"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert not response.will_close
    finally:
        connection.close()


def test_an_unknown_path_is_a_json_404(server: ControllerServer) -> None:
    reply = call(server, "GET", "/nowhere")
    assert reply.status == 404
    assert reply.json() == {"error": "no endpoint /nowhere"}


@pytest.mark.parametrize(("method", "path"), [("POST", "/metrics"), ("DELETE", "/status")])
def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(
    server: ControllerServer, method: str, path: str
) -> None:
    reply = call(server, method, path)
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"
    assert "error" in reply.json()


def test_a_method_http_server_does_not_know_is_a_405_not_a_501(server: ControllerServer) -> None:
    """An unknown method is the client's mistake, answered as any method a path does not take."""
    reply = raw_request(server, b"BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"
    assert raw_request(server, b"BREW /nowhere HTTP/1.1\r\nHost: x\r\n\r\n").status == 404


def test_a_malformed_request_is_a_json_400(server: ControllerServer) -> None:
    reply = raw_request(server, b"NONSENSE\r\n\r\n")
    assert reply.status == 400
    assert "error" in reply.json()


def test_a_handler_that_raises_answers_500_and_the_server_keeps_serving(
    server: ControllerServer, state: Controller
) -> None:
    state.status_error = RuntimeError("the status page broke: token=abc")
    reply = call(server, "GET", "/status")
    assert reply.status == 500
    assert reply.json() == {"error": "internal error; see the log"}
    assert call(server, "GET", "/healthz").status == 200


def test_a_port_in_use_is_a_configuration_error(server: ControllerServer) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    second = make_server(Controller(), port=port)
    with pytest.raises(ConfigurationError, match=rf"127\.0\.0\.1:{port}.*in use.*--listen"):
        second.start()


def test_url_names_the_bound_port_and_stop_releases_it(state: Controller) -> None:
    server = make_server(state)
    server.start()
    port = int(server.url.rsplit(":", 1)[1])
    assert port > 0
    server.stop()
    with make_server(state, port=port) as again:  # the port is free again
        assert again.url == f"http://127.0.0.1:{port}"


def test_stop_closes_open_keep_alive_and_silent_connections(state: Controller) -> None:
    server = make_server(state)
    server.start()
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    idle = http.client.HTTPConnection(host, int(port), timeout=5)
    silent = socket.create_connection((host, int(port)), timeout=5)
    try:
        idle.request("GET", "/healthz")
        idle.getresponse().read()
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2
        assert silent.recv(1) == b""  # the server closed its end
    finally:
        idle.close()
        silent.close()


def test_a_silent_client_is_dropped_after_the_socket_timeout(
    state: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    from controller.adapters.http import server as server_module

    monkeypatch.setattr(server_module._Handler, "timeout", 0.2)
    with make_server(state) as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as silent:
            silent.sendall(b"GET /healthz HTTP/1.1\r\n")  # and never the rest of the head
            started = time.monotonic()
            assert silent.recv(1024) == b""
            assert time.monotonic() - started < 2


# --- POST /webhook ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            {"X-Hub-Signature-256": hub_signature(PUSH), "X-GitHub-Event": "push"}, id="github"
        ),
        pytest.param(
            {"X-Gitlab-Token": SECRET.decode(), "X-Gitlab-Event": "Push Hook"}, id="gitlab"
        ),
        pytest.param({"X-Signature-256": hub_signature(PUSH)}, id="generic"),
        pytest.param({"X-Signature-256": hub_signature(PUSH).upper()}, id="generic-upper-hex"),
    ],
)
def test_a_signed_push_is_accepted_and_triggers_one_fetch(
    server: ControllerServer, state: Controller, headers: dict[str, str]
) -> None:
    reply = call(server, "POST", "/webhook", PUSH, headers)
    assert reply.status == 202
    assert reply.json() == {"accepted": True}
    assert state.pushes == 1


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-signature"),
        pytest.param({"X-Hub-Signature-256": hub_signature(PUSH, b"wrong")}, id="github-wrong"),
        pytest.param({"X-Hub-Signature-256": hub_signature(PUSH + b" ")}, id="github-other-body"),
        pytest.param({"X-Hub-Signature-256": ""}, id="github-empty"),
        pytest.param(
            {"X-Hub-Signature-256": hmac.new(SECRET, PUSH, hashlib.sha256).hexdigest()},
            id="github-without-prefix",
        ),
        pytest.param({"X-Gitlab-Token": "s3cret-webhook-ke"}, id="gitlab-wrong"),
        pytest.param({"X-Gitlab-Token": "s3cret-wébhook-key"}, id="gitlab-non-ascii"),
        pytest.param({"X-Signature-256": hub_signature(b"{}")}, id="generic-other-body"),
        pytest.param({"X-Signature": hub_signature(PUSH)}, id="unknown-header"),
        pytest.param(
            {"X-Hub-Signature-256": hub_signature(PUSH), "X-Gitlab-Token": "wrong"},
            id="one-good-one-wrong",
        ),
    ],
)
def test_a_missing_or_wrong_signature_is_401_and_triggers_nothing(
    server: ControllerServer, state: Controller, headers: dict[str, str]
) -> None:
    reply = call(server, "POST", "/webhook", PUSH, headers)
    assert reply.status == 401
    assert state.pushes == 0
    assert "missing or wrong signature" in reply.json()["error"]
    text = reply.body.decode() + str(reply.headers)
    assert SECRET.decode() not in text
    assert hub_signature(PUSH).removeprefix("sha256=") not in text


def test_a_github_ping_is_answered_without_a_fetch(
    server: ControllerServer, state: Controller
) -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    headers = {"X-Hub-Signature-256": hub_signature(body), "X-GitHub-Event": "ping"}
    reply = call(server, "POST", "/webhook", body, headers)
    assert reply.status == 200
    assert reply.json() == {"accepted": False, "event": "ping"}
    assert state.pushes == 0


def test_an_unsigned_ping_is_still_401(server: ControllerServer, state: Controller) -> None:
    reply = call(server, "POST", "/webhook", b"{}", {"X-GitHub-Event": "ping"})
    assert reply.status == 401


def test_a_body_of_exactly_one_mebibyte_is_accepted(
    server: ControllerServer, state: Controller
) -> None:
    body = b"x" * MAX_WEBHOOK_BODY
    reply = call(server, "POST", "/webhook", body, {"X-Signature-256": hub_signature(body)})
    assert reply.status == 202
    assert state.pushes == 1


def test_a_larger_body_is_413_before_it_is_read(
    server: ControllerServer, state: Controller
) -> None:
    """The server answers from the Content-Length alone; the body is never sent here."""
    size = MAX_WEBHOOK_BODY + 1
    reply = raw_request(
        server,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\n"
        + f"Content-Length: {size}\r\nX-Signature-256: sha256=00\r\n\r\n".encode(),
    )
    assert reply.status == 413
    assert reply.headers["Connection"] == "close"
    assert state.pushes == 0


@pytest.mark.parametrize(
    ("header", "length"),
    [
        ("0", 0),
        (" 12 ", 12),
        ("0" * 5000 + "7", 7),
        ("100", 100),
        ("101", 101),
        ("1" + "0" * 5000, 101),
        ("lots", None),
        ("-1", None),
        ("1_0", None),
        ("²", None),
        (None, None),
    ],
)
def test_a_declared_length_is_a_number_of_bytes_up_to_just_past_the_limit(
    header: str | None, length: int | None
) -> None:
    assert declared_length(header, 100) == length


@pytest.mark.parametrize("digits", [8, 5000], ids=["eight-digits", "five-thousand-digits"])
def test_a_content_length_of_many_digits_is_413_not_a_crash(
    server: ControllerServer, state: Controller, digits: int
) -> None:
    """int() refuses a number of more than 4,300 digits: such a size is too large, and the
    answer says so without quoting it back."""
    reply = raw_request(
        server,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\n"
        + f"Content-Length: 1{'0' * (digits - 1)}\r\nX-Signature-256: sha256=00\r\n\r\n".encode(),
    )
    assert reply.status == 413
    assert len(reply.body) < 200
    assert state.pushes == 0


@pytest.mark.parametrize(
    ("head", "status"),
    [
        pytest.param(b"Transfer-Encoding: chunked\r\n", 411, id="chunked"),
        pytest.param(b"", 411, id="no-content-length"),
        pytest.param(b"Content-Length: lots\r\n", 400, id="bad-content-length"),
        pytest.param(b"Content-Length: -1\r\n", 400, id="negative-content-length"),
    ],
)
def test_a_body_of_unknown_size_is_refused(
    server: ControllerServer, state: Controller, head: bytes, status: int
) -> None:
    reply = raw_request(
        server,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Gitlab-Token: "
        + SECRET
        + b"\r\n"
        + head
        + b"\r\n",
    )
    assert reply.status == status
    assert state.pushes == 0


def test_without_a_secret_the_webhook_is_disabled(state: Controller) -> None:
    with make_server(state, secret=None) as server:
        reply = call(server, "POST", "/webhook", PUSH, {"X-Hub-Signature-256": hub_signature(PUSH)})
    assert reply.status == 404
    assert "--webhook-secret-file" in reply.json()["error"]
    assert state.pushes == 0


def test_get_webhook_is_405(server: ControllerServer, state: Controller) -> None:
    reply = call(server, "GET", "/webhook")
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST"
    assert state.pushes == 0


def test_a_failing_on_push_answers_500_and_the_next_delivery_works(
    state: Controller, metrics: Metrics
) -> None:
    calls: list[int] = []

    def on_push() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the loop is gone")

    server = ControllerServer(
        "127.0.0.1",
        0,
        metrics=metrics.registry,
        status=state.status,
        healthy=lambda: True,
        ready=lambda: True,
        on_push=on_push,
        webhook_secret=SECRET,
    )
    with server:
        headers = {"X-Signature-256": hub_signature(PUSH)}
        assert call(server, "POST", "/webhook", PUSH, headers).status == 500
        assert call(server, "POST", "/webhook", PUSH, headers).status == 202
    assert len(calls) == 2
