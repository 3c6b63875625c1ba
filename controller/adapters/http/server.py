"""The controller's HTTP endpoints: metrics, probes, status, and the Git push webhook.

Prometheus scrapes ``/metrics``; Kubernetes probes ``/healthz`` (the loop is alive) and ``/readyz``
(the first source sync is done and the registry was reached); an operator reads ``/status``; and a
Git host calls ``POST /webhook`` on a push so that the controller fetches at once instead of at
the next poll. It is the standard library's threading HTTP server speaking HTTP/1.1, because the
traffic is a scrape and a few probes a minute and needs no dependency of its own.

The webhook is the one endpoint that changes what the controller does, so it is verified before
anything else happens. A request must carry at least one of these headers, and every one of them
that it carries must match the secret from ``--webhook-secret-file``:

- ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``, as GitHub sends it;
- ``X-Gitlab-Token: <secret>``, as GitLab sends it;
- ``X-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``, the same HMAC under a generic name
  for any other sender (Gitea, a CI job, ``curl``).

Every comparison is constant-time (``hmac.compare_digest``), so that response times leak nothing
about the secret. Without a configured secret the webhook is disabled and answers 404: an
unauthenticated trigger would let anyone make the controller hammer its Git remote. The body is
limited to 1 MiB and must come with a ``Content-Length``: the size is checked before a byte of the
body is read, and a chunked body, whose size is unknown up front, is refused. Neither the secret
nor a received signature ever appears in a response or a log line.

A slow or silent client cannot hold a thread forever (every socket has a timeout), a handler that
raises answers 500 and the server keeps serving, and ``stop`` closes every open connection. A
burst (every replica of a Prometheus scraping at once, a Git host redelivering a backlog of
pushes) waits in a deep listen backlog for one of ``MAX_HANDLERS`` threads rather than being
refused; the shared server in ``controller.adapters.http.base`` explains how. An error that ends a
connection is logged here: a client that went away at debug level, anything else as an error.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from controller.adapters.http.base import (
    BackgroundServer,
    ClosingHTTPServer,
    ConnectionFault,
    FaultReporter,
    JsonRequestHandler,
    declared_length,
)
from controller.adapters.logging import get_logger
from controller.errors import ConfigurationError

MAX_WEBHOOK_BODY = 1024 * 1024
"""Git hosts send a push event in a few kilobytes; GitHub caps its payloads at 25 MB, but this
endpoint only needs to know that a push happened, so anything larger is refused unread."""
SOCKET_TIMEOUT_SECONDS = 10.0
"""How long a connection may stay silent, mid-request or between keep-alive requests, before the
server drops it and frees its thread."""
MAX_HANDLERS = 32
"""Connections served at once; more wait in the listen backlog. Each request here takes well
under a millisecond, so 32 threads answer a burst of a thousand scrapes in moments."""
GITHUB_HEADER = "X-Hub-Signature-256"
GITLAB_HEADER = "X-Gitlab-Token"
GENERIC_HEADER = "X-Signature-256"
_GZIP_MINIMUM = 1024
"""Below this many bytes, compressing costs more than it saves."""


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Where the endpoints listen and the webhook's secret; ``Settings.http`` builds it."""

    listen: str
    """``HOST:PORT``; ``[::]:8080`` for IPv6."""
    webhook_secret_file: Path | None = None

    def address(self) -> tuple[str, int]:
        """``listen`` as a host and a port number."""
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ConfigurationError(
                f"--listen {self.listen!r} is not HOST:PORT; write for example 0.0.0.0:8080"
            )
        return host.strip("[]"), int(port)

    def webhook_secret(self) -> bytes | None:
        """The webhook's shared secret, or ``None`` when the webhook is off."""
        path = self.webhook_secret_file
        if path is None:
            return None
        try:
            secret = path.read_bytes().strip()
        except OSError as error:
            raise ConfigurationError(
                f"--webhook-secret-file {path}: cannot read it ({error.strerror})"
            ) from error
        if not secret:
            raise ConfigurationError(f"--webhook-secret-file {path} is empty")
        return secret


class ControllerServer(BackgroundServer):
    """The controller's endpoints on ``host:port``, served from a daemon thread.

    The callables are the server's only view of the controller: ``status`` gives the JSON body of
    ``/status``, ``healthy`` and ``ready`` answer the probes, and ``on_push`` is called once per
    verified webhook delivery; it should only signal the loop, since the Git host waits for the
    answer. ``webhook_secret`` of ``None`` disables the webhook. ``on_error`` receives each
    connection that an error ended; by default it is logged (``log_connection_fault``).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: CollectorRegistry,
        status: Callable[[], Mapping[str, Any]],
        healthy: Callable[[], bool],
        ready: Callable[[], bool],
        on_push: Callable[[], None],
        webhook_secret: bytes | None,
        on_error: FaultReporter | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.metrics = metrics
        self.status = status
        self.healthy = healthy
        self.ready = ready
        self.on_push = on_push
        self._webhook_secret = webhook_secret
        self.on_error = on_error or log_connection_fault
        self._httpd: _HttpServer | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, with the port actually bound when 0 was asked for."""
        if self._httpd is None:
            raise ConfigurationError("the controller's HTTP server is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Bind ``host:port`` and serve from a daemon thread."""
        if self._httpd is not None:
            return
        try:
            httpd = _HttpServer((self.host, self.port), self)
        except OSError as error:
            if error.errno == 98:  # EADDRINUSE
                raise ConfigurationError(
                    f"cannot listen on {self.host}:{self.port}: the port is in use; stop what "
                    "listens there or pass another --listen HOST:PORT"
                ) from error
            raise ConfigurationError(
                f"cannot listen on {self.host}:{self.port}: {error.strerror or error}; "
                "pass another --listen HOST:PORT"
            ) from error
        self._httpd = httpd
        httpd.serve_in_background("lambda-gitops-http")

    def stop(self) -> None:
        """Stop accepting, close every client connection, and release the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.stop()

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """Which sender a delivery proves to come from (``github``, ``gitlab``, ``generic``).

        ``headers`` maps the signature headers present, under their names as this module spells
        them, to their values. The answer is ``None`` when no signature header is present, or
        when any present one does not match. Every present header is checked, and checked in
        full, so that the time taken does not depend on which one fails.
        """
        secret = self._webhook_secret
        if secret is None:
            return None
        expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
        received = {
            "github": _signature_bytes(headers.get(GITHUB_HEADER)),
            "gitlab": _token_bytes(headers.get(GITLAB_HEADER)),
            "generic": _signature_bytes(headers.get(GENERIC_HEADER)),
        }
        wanted = {"github": expected, "gitlab": secret, "generic": expected}
        present = [sender for sender, value in received.items() if value is not None]
        results = [
            hmac.compare_digest(received[sender] or b"", wanted[sender]) for sender in present
        ]
        if not results or not all(results):
            return None
        return present[0]

    @property
    def webhook_enabled(self) -> bool:
        """Whether a webhook secret is configured."""
        return self._webhook_secret is not None


def log_connection_fault(fault: ConnectionFault) -> None:
    """Log an error that ended a connection, as one line among the controller's own.

    A client that went away (a reset, a broken pipe) is routine and logged at debug level, so
    that a scraper that gives up does not look like a fault; anything else is a bug in a handler
    and logged as an error, with the exception's type and message.
    """
    log = get_logger("controller.adapters.http.server")
    if fault.disconnected:
        log.debug(
            "http client went away", client=fault.client, error_type=type(fault.error).__name__
        )
        return
    log.error(
        "http connection failed",
        client=fault.client,
        error_type=type(fault.error).__name__,
        error=str(fault.error),
    )


def _token_bytes(value: str | None) -> bytes | None:
    """A header value as the bytes the client sent, for a constant-time comparison.

    ``compare_digest`` refuses ``str`` with non-ASCII characters; http.server decodes header
    bytes as Latin-1, so encoding back as Latin-1 restores them exactly.
    """
    if value is None:
        return None
    return value.strip().encode("latin-1", errors="replace")


def _signature_bytes(value: str | None) -> bytes | None:
    """A ``sha256=<hex>`` header as bytes, in lower case: upper-case hex is the same digest."""
    if value is None:
        return None
    return value.strip().lower().encode("latin-1", errors="replace")


class _HttpServer(ClosingHTTPServer):
    """The shared closing server, knowing the controller its handlers answer for."""

    def __init__(self, address: tuple[str, int], controller: ControllerServer) -> None:
        self.controller = controller
        super().__init__(
            address,
            _Handler,
            on_error=controller.on_error,
            max_handlers=MAX_HANDLERS,
            join_timeout=SOCKET_TIMEOUT_SECONDS,
        )


class _Reply:
    """One response, built whole before anything is written."""

    def __init__(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})


def _json(status: HTTPStatus, document: Mapping[str, Any], **headers: str) -> _Reply:
    body = json.dumps(document, sort_keys=True).encode() + b"\n"
    return _Reply(status, body, "application/json", headers=headers)


def _text(status: HTTPStatus, text: str) -> _Reply:
    return _Reply(status, text.encode() + b"\n", "text/plain; charset=utf-8")


def _error(status: HTTPStatus, message: str, **headers: str) -> _Reply:
    return _json(status, {"error": message}, **headers)


_ENDPOINTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "/metrics": ("GET", "HEAD"),
        "/healthz": ("GET", "HEAD"),
        "/readyz": ("GET", "HEAD"),
        "/status": ("GET", "HEAD"),
        "/webhook": ("POST",),
    }
)
"""Each path and the methods it answers; any other method on it is a 405."""


class _Handler(JsonRequestHandler):
    """Answers one request at a time off a keep-alive connection."""

    server_version = "lambda-gitops"
    timeout = SOCKET_TIMEOUT_SECONDS  # StreamRequestHandler applies it to the socket
    _body_read: bool

    @property
    def controller(self) -> ControllerServer:
        return cast(_HttpServer, self.server).controller

    def serve(self) -> None:
        self._serve()

    def refuse(self, status: int, message: str) -> None:
        self._write(_error(HTTPStatus(status), message))

    def _serve(self) -> None:
        self._body_read = False
        try:
            reply = self._route()
        except Exception:  # noqa: BLE001 - a bug must answer 500, not kill the connection's thread
            get_logger("controller.adapters.http.server").exception(
                "http handler failed", method=self.command, path=self._path()
            )
            reply = _error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; see the log")
        if not self._body_read and self._has_body():
            # An unread body would be taken for the next request on this connection.
            self.close_connection = True
        self._write(reply)

    def _path(self) -> str:
        return self.path.split("?", maxsplit=1)[0]

    def _route(self) -> _Reply:
        path = self._path()
        allowed = _ENDPOINTS.get(path)
        if allowed is None:
            return _error(HTTPStatus.NOT_FOUND, f"no endpoint {path}")
        if self.command not in allowed:
            return _error(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{path} answers {' and '.join(allowed)}, not {self.command}",
                Allow=", ".join(allowed),
            )
        return self._answer(path, self.controller)

    def _answer(self, path: str, controller: ControllerServer) -> _Reply:
        if path == "/webhook":
            return self._webhook(controller)
        if path == "/metrics":
            return self._metrics(controller.metrics)
        if path == "/status":
            return _json(HTTPStatus.OK, controller.status())
        if path == "/healthz":
            return _probe(controller.healthy(), "the loop is not making progress")
        return _probe(controller.ready(), "the first source sync or registry call is pending")

    def _metrics(self, registry: CollectorRegistry) -> _Reply:
        encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
        body = encoder(registry)
        accepted = self.headers.get("Accept-Encoding", "")
        gzip_ok = "gzip" in [token.split(";")[0].strip() for token in accepted.split(",")]
        if gzip_ok and len(body) >= _GZIP_MINIMUM:
            return _Reply(
                HTTPStatus.OK,
                gzip.compress(body, compresslevel=6),
                content_type,
                headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
            )
        return _Reply(HTTPStatus.OK, body, content_type, headers={"Vary": "Accept-Encoding"})

    def _webhook(self, controller: ControllerServer) -> _Reply:
        """Verify a push notification, then tell the loop to fetch."""
        log = get_logger("controller.adapters.http.server")
        if not controller.webhook_enabled:
            return _error(
                HTTPStatus.NOT_FOUND,
                "the webhook is disabled; start the controller with "
                "--webhook-secret-file FILE to enable it",
            )
        body_or_refusal = self._read_webhook_body()
        if isinstance(body_or_refusal, _Reply):
            log.warning("webhook refused", status=int(body_or_refusal.status))
            return body_or_refusal
        signatures = {
            name: value
            for name in (GITHUB_HEADER, GITLAB_HEADER, GENERIC_HEADER)
            if (value := self.headers.get(name)) is not None
        }
        sender = controller.verify_webhook(signatures, body_or_refusal)
        if sender is None:
            log.warning("webhook refused", status=401, reason="missing or wrong signature")
            return _error(
                HTTPStatus.UNAUTHORIZED,
                f"missing or wrong signature: send {GITHUB_HEADER}, {GITLAB_HEADER} or "
                f"{GENERIC_HEADER} made with the webhook secret",
            )
        if sender == "github" and self.headers.get("X-GitHub-Event") == "ping":
            # GitHub sends a ping when a webhook is created: proof that the secret works,
            # not a push.
            return _json(HTTPStatus.OK, {"accepted": False, "event": "ping"})
        controller.on_push()
        log.info("webhook accepted", sender=sender)
        return _json(HTTPStatus.ACCEPTED, {"accepted": True})

    def _read_webhook_body(self) -> bytes | _Reply:
        """The body, or the refusal to send when it is too large or does not arrive whole."""
        refusal = self._refuse_body()
        if refusal is not None:
            return refusal
        # _refuse_body has made sure it is a number of bytes within the limit.
        length = declared_length(self.headers["Content-Length"], MAX_WEBHOOK_BODY) or 0
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            self.close_connection = True
            return _error(HTTPStatus.REQUEST_TIMEOUT, "the body did not arrive in time")
        if len(body) != length:
            # The client closed its side mid-body; the answer is likely to go nowhere.
            self.close_connection = True
            return _error(HTTPStatus.BAD_REQUEST, "the body ended before its Content-Length")
        self._body_read = True
        return body

    def _refuse_body(self) -> _Reply | None:
        """Judge the body by its headers alone, so that a refused body is never read."""
        if self.headers.get("Transfer-Encoding") is not None:
            return _error(
                HTTPStatus.LENGTH_REQUIRED,
                "a chunked body is not accepted; send the body with a Content-Length",
            )
        declared = self.headers.get("Content-Length")
        if declared is None:
            return _error(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is required")
        length = declared_length(declared, MAX_WEBHOOK_BODY)
        if length is None:
            return _error(HTTPStatus.BAD_REQUEST, "the Content-Length is not a number of bytes")
        if length > MAX_WEBHOOK_BODY:
            return _error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body is over {MAX_WEBHOOK_BODY} bytes, which is all that is accepted",
            )
        return None

    def _has_body(self) -> bool:
        headers = getattr(self, "headers", None)
        if headers is None:
            return False
        return headers.get("Transfer-Encoding") is not None or (
            headers.get("Content-Length", "0").strip() not in ("", "0")
        )

    def _write(self, reply: _Reply) -> None:
        """Send the status line, headers and body with an exact Content-Length.

        While every handler slot is taken, the connection is closed after the answer, so that an
        idle keep-alive client does not keep a waiting one from being served.
        """
        self.close_if_saturated()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)


def _probe(passing: bool, failing: str) -> _Reply:
    if passing:
        return _text(HTTPStatus.OK, "ok")
    return _text(HTTPStatus.SERVICE_UNAVAILABLE, failing)
