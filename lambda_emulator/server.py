"""The emulated registry's HTTP endpoint: sockets, threads, faults and the stats page.

boto3 and the AWS CLI reach it through ``endpoint_url`` exactly as they reach Lambda. It is the
standard library's threading HTTP server speaking HTTP/1.1, so that a client's keep-alive
connection is reused, with every response sent whole with its exact ``Content-Length``. The
request counters are readable from Python and at ``GET /_emulator/stats``, so that a test or a
benchmark can read them from a separate ``serve`` process.

Up to ``MAX_HANDLERS`` connections are served at once and more wait in the listen backlog (see
``controller.adapters.http.base``); a connection left idle for ``IDLE_TIMEOUT_SECONDS`` is dropped
so that a client that never closes its pool cannot hold a slot forever. Errors met on a connection
go to an ``on_error`` callback, by default the standard ``logging`` module under this module's name:
a client that went away at debug level, so that the emulator stays quiet, and a bug as an error.
The emulator uses the standard library's logging rather than the controller's structlog setup
because it is a package of its own.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from http import HTTPStatus
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs

from controller.adapters.http.base import (
    BackgroundServer,
    ClosingHTTPServer,
    ConnectionFault,
    FaultReporter,
    JsonRequestHandler,
)
from controller.errors import ConfigurationError, LambdaGitopsError
from lambda_emulator.faults import FaultInjector, Faults
from lambda_emulator.store import Caller, EmulatorStore
from lambda_emulator.validation import DEFAULT_ACCOUNT, LambdaApiError
from lambda_emulator.wire import (
    Api,
    Request,
    Response,
    caller,
    error_response,
    parse_object,
    route,
    throttled_response,
)

CONTROL_PREFIX = "/_emulator/"
"""Paths of the emulator's own: ``stats`` (GET), ``faults`` (GET, PUT) and ``writes`` (GET);
never counted."""
_MAX_LINE = 65536
_MAX_HEADERS = 100
MAX_REQUEST_BYTES = 70167211
"""The largest request AWS takes for CreateFunction (recorded in LocalStack's
``test_oversized_request_create_lambda``; rule L61). A larger one is refused from its
Content-Length, before a byte of it is read: a client error, not a reason to read gigabytes.
Whether AWS's other operations have the same bound is unverified; the emulator gives them it."""
MAX_HANDLERS = 128
"""Connections served at once. The controller opens up to 20 per account and region, a test a
few; past the bound, connections wait in the backlog and are served in turn."""
IDLE_TIMEOUT_SECONDS = 60.0
"""How long a connection may stay silent before it is dropped: longer than any pause a test
makes between two calls on one client, and the same as botocore's own read timeout."""


class EmulatorServer(BackgroundServer):
    """The emulated Lambda registry on a local port, serving from a daemon thread.

    ``faults`` may be replaced at any time; the change applies to the next request. With
    ``port=0`` the system picks a free port, which ``endpoint_url`` then names.

    A request acts in the region its SigV4 signature is scoped to, and in ``account``, except
    that an access key id made of exactly twelve digits is taken as the account: since no
    signature is checked, a test can act in several accounts just by choosing its access keys.
    A function ARN in the path names its own account and region.

    ``on_error`` receives each error met while serving a connection (``log_connection_fault``
    by default). With ``create_state=False`` a ``state`` file that does not exist is refused
    (``StateFileMissing``) instead of created, for callers that only read.
    """

    def __init__(
        self,
        state: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults = Faults(),  # noqa: B008 - a frozen value, safe to share
        account: str = DEFAULT_ACCOUNT,
        s3_root: Path | None = None,
        on_error: FaultReporter | None = None,
        create_state: bool = True,
    ) -> None:
        if not (len(account) == 12 and account.isdigit()):
            raise ConfigurationError(
                f"the account {account!r} is not a 12-digit AWS account number"
            )
        self.state = state
        self.host = host
        self.port = port
        self.account = account
        self.s3_root = s3_root
        self.create_state = create_state
        self.on_error = on_error or log_connection_fault
        self._injector = FaultInjector(faults)
        self._store: EmulatorStore | None = None
        self._api: Api | None = None
        self._httpd: _HttpServer | None = None

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._injector.faults = faults
        if self._store is not None:
            self._store.update_seconds = faults.update_seconds

    @property
    def store(self) -> EmulatorStore:
        """The store behind the endpoint, for changes made in process; only while started."""
        if self._store is None:
            raise ConfigurationError("the emulated registry is not started")
        return self._store

    @property
    def endpoint_url(self) -> str:
        """The URL to give boto3 or the AWS CLI as ``endpoint_url``."""
        if self._httpd is None:
            raise ConfigurationError("the emulated registry is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Open the state file, bind the port and serve from a daemon thread."""
        store = EmulatorStore(
            self.state, update_seconds=self.faults.update_seconds, create=self.create_state
        )
        try:
            httpd = _HttpServer((self.host, self.port), self)
        except OSError as error:
            store.close()
            if error.errno == 98:  # EADDRINUSE
                raise ConfigurationError(
                    f"port {self.port} on {self.host} is in use: {error.strerror}; "
                    "stop what listens there or pass another --port (0 picks a free one)"
                ) from error
            raise ConfigurationError(
                f"cannot listen on {self.host}:{self.port}: {error.strerror or error}"
            ) from error
        self._store, self._httpd = store, httpd
        self._api = Api(store, self.s3_root)
        httpd.serve_in_background("lambda-emulator", poll_interval=0.02)

    def stop(self) -> None:
        """Stop serving, close every client connection and the state file."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.stop()
        store, self._store, self._api = self._store, None, None
        if store is not None:
            store.close()

    def request_counts(self) -> dict[str, int]:
        """Requests received per operation name, throttled ones included."""
        return self._injector.request_counts()

    def throttled_counts(self) -> dict[str, int]:
        """Requests answered with HTTP 429, per operation name."""
        return self._injector.throttled_counts()

    def function_request_counts(self) -> dict[str, int]:
        """Requests received per function, as the request's path names it (a name or an ARN),
        throttled ones included: what one function cost, beside whatever else was running."""
        return self._injector.function_request_counts()

    def respond(self, method: str, target: str, authorization: str | None, body: bytes) -> Response:
        """Answer one HTTP request: stats, or an API call through the faults to the store."""
        path, _, query = target.partition("?")
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path.removeprefix(CONTROL_PREFIX), query, body)
        try:
            request = route(method, target, body)
        except LambdaApiError as error:
            self._injector.count("Unknown")
            return error_response(error)
        return self._call(request, caller(authorization, self.account))

    def _control(self, method: str, name: str, query: str, body: bytes) -> Response:
        """The emulator's own endpoints, for tests and benchmarks on a separate process.

        ``GET stats`` gives the request counters; ``GET faults`` the faults in force, and
        ``PUT faults`` with a JSON object of ``Faults`` fields changes those it names;
        ``GET writes?since=N`` the write log after record N (``EmulatorStore.write_log``).
        """
        if (method, name) == ("GET", "writes"):
            return self._writes(query)
        if (method, name) == ("GET", "stats"):
            stats = {"requests": self.request_counts(), "throttled": self.throttled_counts()}
            return Response(200, stats)
        if (method, name) == ("GET", "faults"):
            return Response(200, self._injector.faults_json())
        if (method, name) == ("PUT", "faults"):
            return self._set_faults(body)
        return error_response(
            LambdaApiError(
                "UnknownOperationException", 404, f"No emulator endpoint {method} {name}."
            )
        )

    def _set_faults(self, body: bytes) -> Response:
        """Change the faults a JSON object of ``Faults`` fields names; answer those in force."""
        try:
            self.faults = Faults.from_json(parse_object(body or b"{}"), self.faults)
        except LambdaApiError as error:
            return error_response(error)
        except (ValueError, ConfigurationError) as error:
            return error_response(LambdaApiError("InvalidParameterValueException", 400, str(error)))
        return Response(200, self._injector.faults_json())

    def _writes(self, query: str) -> Response:
        """``{"writes": [...]}``: the write log's records after ``since``, oldest first."""
        since = parse_qs(query).get("since", ["0"])[-1]
        if not (since.isascii() and since.isdigit() and len(since) <= 19):
            return error_response(
                LambdaApiError(
                    "InvalidParameterValueException",
                    400,
                    f"since must be the sequence number of a write, not {since!r}",
                )
            )
        store = self._store
        if store is None:
            return error_response(LambdaApiError("ServiceException", 503, "The emulator stopped."))
        records = store.write_log(int(since))
        return Response(200, {"writes": [dataclasses.asdict(record) for record in records]})

    def _call(self, request: Request, who: Caller) -> Response:
        """Pass a routed request through the faults, then to the store."""
        function = request.path_parameters.get("function")
        if not self._injector.admit(request.operation, who.account, who.region, function):
            return throttled_response()
        self._injector.delay()
        transient = self._injector.transient_error()
        if transient is not None:
            return error_response(
                LambdaApiError("ServiceException", transient.status, transient.message)
            )
        api = self._api
        if api is None:
            return error_response(LambdaApiError("ServiceException", 503, "The emulator stopped."))
        try:
            return api.handle(request, who)
        except LambdaGitopsError as error:
            return error_response(LambdaApiError("ServiceException", 500, str(error)))


def log_connection_fault(fault: ConnectionFault) -> None:
    """Log an error met on a connection: at debug level if the client went away, else as an
    error naming the exception's type and message."""
    log = logging.getLogger(__name__)
    if fault.disconnected:
        log.debug("client %s went away: %s", fault.client, type(fault.error).__name__)
        return
    log.error(
        "emulator connection from %s failed: %s: %s",
        fault.client,
        type(fault.error).__name__,
        fault.error,
    )


class _HttpServer(ClosingHTTPServer):
    """The shared closing server, knowing the emulator its handlers answer for."""

    def __init__(self, address: tuple[str, int], emulator: EmulatorServer) -> None:
        self.emulator = emulator
        super().__init__(
            address,
            _Handler,
            on_error=emulator.on_error,
            max_handlers=MAX_HANDLERS,
            join_timeout=10,
        )


class _Handler(JsonRequestHandler):
    """Reads one request at a time off a keep-alive connection and writes the answer whole."""

    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS  # StreamRequestHandler applies it to the socket
    raw_requestline: bytes
    fields: dict[str, str]
    """The request's header fields, names lower-cased."""

    def parse_request(self) -> bool:
        """Parse the request line and header fields, faster than the base class does.

        The base class parses headers with the ``email`` package, which costs more than the
        Lambda operation behind most requests; this reads the plain ``Name: value`` lines that
        HTTP clients send into a dictionary, and applies the same keep-alive rules.
        """
        self.command, self.request_version = "", "HTTP/1.1"  # for an error answer below
        words = self.raw_requestline.decode("latin-1").split()
        if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(400, f"Bad request line {self.raw_requestline[:100]!r}")
            return False
        self.command, self.path, self.request_version = words
        self.requestline = " ".join(words)
        self.fields = {}
        for _ in range(_MAX_HEADERS):
            line = self.rfile.readline(_MAX_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                break
            if len(line) > _MAX_LINE:
                self.send_error(431, "A header field is too long.")
                return False
            name, _, value = line.decode("latin-1").partition(":")
            self.fields[name.strip().lower()] = value.strip()
        else:
            self.send_error(431, "Too many header fields.")
            return False
        connection = self.fields.get("connection", "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        if self.fields.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def serve(self) -> None:
        self._serve()

    def refuse(self, status: int, message: str) -> None:
        """A request the base class could not parse, answered in Lambda's JSON."""
        self._write(error_response(LambdaApiError("BadRequestException", status, message)))

    def _serve(self) -> None:
        body = self._read_body()
        if body is None or body is _TOO_LARGE:
            self.close_connection = True  # the rest of the body was never read
            self._write(
                _bad_http("The request body is malformed.") if body is None else self._too_large()
            )
            return
        emulator = cast(_HttpServer, self.server).emulator
        try:
            response = emulator.respond(
                self.command, self.path, self.fields.get("authorization"), body
            )
        except Exception as error:  # noqa: BLE001 - a bug must answer 500, not hang the client
            emulator.on_error(ConnectionFault.at(self.client_address, error))
            response = error_response(
                LambdaApiError("ServiceException", 500, f"internal emulator error: {error!r}")
            )
        self._write(response)

    def _too_large(self) -> Response:
        """AWS's 413 for a request past its bound, naming the operation (rule L61)."""
        try:
            operation = route(self.command, self.path, b"").operation
        except LambdaApiError:
            operation = "requested"
        message = (
            f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the {operation} operation"
        )
        return error_response(LambdaApiError("RequestEntityTooLargeException", 413, message))

    def _read_body(self) -> bytes | None:
        """The whole request body, so that the next request on the connection starts clean."""
        if "chunked" in self.fields.get("transfer-encoding", "").lower():
            return self._read_chunked()
        declared = self.fields.get("content-length") or "0"
        # isascii() too, since isdigit() also accepts digits int() refuses, such as "²".
        if not (declared.isascii() and declared.isdigit()) or len(declared) > 12:
            return None
        length = int(declared)
        if length > MAX_REQUEST_BYTES:
            return _TOO_LARGE
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                size = int(self.rfile.readline(_MAX_LINE).split(b";")[0].strip() or b"0", 16)
            except ValueError:
                return None
            if size < 0:  # read(-1) would wait for the end of the stream
                return None
            total += size
            if total > MAX_REQUEST_BYTES:
                return _TOO_LARGE
            if size == 0:
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields, which no operation uses
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(_MAX_LINE)

    def _write(self, response: Response) -> None:
        """Send the status line, headers and body in one write, with an exact Content-Length.

        One write keeps a keep-alive client from waiting on a second packet, and building the
        header block here skips the date formatting ``send_response`` does for every answer.
        While every handler slot is taken, the connection is closed after the answer, so that
        the clients waiting for a slot get one.
        """
        self.close_if_saturated()
        phrase = _REASONS.get(response.status, "")
        lines = [
            f"HTTP/1.1 {response.status} {phrase}",
            "Server: lambda-gitops-emulator",
            f"x-amzn-RequestId: {uuid.uuid4()}",
        ]
        if response.error_code is not None:
            lines.append(f"x-amzn-ErrorType: {response.error_code}")
        payload = b""
        if response.status != 204:  # a 204 has neither a body nor a Content-Length
            payload = json.dumps(response.body, separators=(",", ":")).encode()
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + payload)


_TOO_LARGE = b"<too large>"
"""What ``_read_body`` answers for a body past ``MAX_REQUEST_BYTES``; compared by identity."""


def _bad_http(message: str) -> Response:
    return error_response(LambdaApiError("BadRequestException", 400, message))


_REASONS = {status.value: status.phrase for status in HTTPStatus}
