"""A threading HTTP server that can be stopped cleanly and holds up under bursts, shared by the
controller's endpoints and the emulated registry.

The standard library's ``ThreadingHTTPServer`` stops accepting on ``shutdown()`` but leaves
keep-alive connections, and the threads serving them, running: boto3 and Prometheus both keep
their connections open, so a server that is stopped would still hold sockets (and tests would
see ``ResourceWarning``). This one tracks its connections and ends them on ``close_connections``.

Under a burst it has three more problems, each fixed here:

- It listens with a backlog of 5, so that of a thousand clients connecting at once most were
  refused or left retrying their SYN. The backlog here is ``BACKLOG`` (the kernel caps it at
  ``net.core.somaxconn``).
- It starts a thread per connection without limit. Here a connection takes one of
  ``max_handlers`` slots before its thread starts; past the bound, connections wait in the
  backlog, where they cost the kernel a little memory instead of costing the process a thread.
- An idle keep-alive connection holds its slot until its client sends again or its socket times
  out, so while every slot is taken (``saturated``) the handlers answer with ``Connection:
  close`` and free their slots for the clients waiting behind them. Otherwise keep-alive stays,
  since boto3 relies on it for speed.

The socketserver base prints the traceback of any error that ends a connection (a client that
went away mid-answer, or a bug) to stderr, between the JSON log lines. Here such errors go to an
``on_error`` callback instead, as a ``ConnectionFault``, and the owner of the server decides how
to log them.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

BACKLOG = 1024
"""Connections the kernel queues before the server accepts them; Linux caps it at
``net.core.somaxconn`` (4096 by default since 5.4)."""
_SLOT_POLL_SECONDS = 0.05
"""How often the accepting thread, waiting for a free slot, checks whether the server stops."""


def declared_length(header: str | None, limit: int) -> int | None:
    """A request's ``Content-Length``: the number of bytes, ``limit + 1`` for any size above
    ``limit`` (however many digits it has: ``int()`` refuses over 4,300, and nobody needs the
    exact figure of a size refused), or ``None`` when it is not a number of bytes. Leading
    zeros and surrounding blanks are allowed, as HTTP allows them."""
    text = (header or "").strip()
    # isascii() too, since isdigit() also accepts digits int() refuses, such as "²".
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(limit)):
        return limit + 1
    return min(int(digits), limit + 1)


@dataclass(frozen=True, slots=True)
class ConnectionFault:
    """An error met while serving one client connection: ``client`` is ``host:port``."""

    client: str
    error: BaseException

    @classmethod
    def at(cls, client_address: Any, error: BaseException) -> ConnectionFault:
        """The fault of ``error`` on the connection from ``client_address``, as the socket
        module gives it: ``(host, port)``, or a longer tuple for IPv6."""
        if isinstance(client_address, tuple) and len(client_address) >= 2:
            return cls(f"{client_address[0]}:{client_address[1]}", error)
        return cls(str(client_address), error)

    @property
    def disconnected(self) -> bool:
        """Whether the client went away mid-exchange (a reset, a broken pipe, a timeout).

        That is routine on any server, since clients give up and networks drop connections;
        any other error is a bug in a handler.
        """
        return isinstance(self.error, ConnectionError | TimeoutError)


FaultReporter = Callable[[ConnectionFault], None]
"""What a server calls with each error met while serving a connection."""


class ClosingHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server with a bounded number of handler threads, a deep backlog, errors
    reported through ``on_error``, and a ``stop`` that closes its clients' connections.

    Handlers should answer with ``Connection: close`` while ``saturated`` is true.
    """

    daemon_threads = True
    request_queue_size = BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        on_error: FaultReporter,
        max_handlers: int,
        join_timeout: float = 10.0,
    ) -> None:
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._join_timeout = join_timeout
        self._thread: threading.Thread | None = None
        self._on_error = on_error
        self._max_handlers = max_handlers
        self._slots = threading.BoundedSemaphore(max_handlers)
        self._busy = 0
        self._stopping = threading.Event()
        super().__init__(address, handler)

    @property
    def saturated(self) -> bool:
        """Whether every handler slot is taken, so that a new connection would have to wait."""
        return self._busy >= self._max_handlers

    def serve_in_background(self, name: str, *, poll_interval: float = 0.05) -> None:
        """Serve from a daemon thread; ``poll_interval`` is how long ``stop`` may wait for the
        serving loop to notice."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=name,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, end every client connection, release the port, join the thread."""
        self._stopping.set()  # before shutdown(), which waits for a loop that may wait for a slot
        self.shutdown()
        self.close_connections()
        self.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def process_request(self, request: Any, client_address: Any) -> None:
        """Start the connection's thread once a slot is free; until then the next connections
        wait in the kernel's backlog, since this runs on the accepting thread."""
        while not self._slots.acquire(timeout=_SLOT_POLL_SECONDS):
            if self._stopping.is_set():
                self.shutdown_request(request)
                return
        with self._lock:
            self._busy += 1
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release_slot()  # no thread started, so none will release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
            self._workers.add(threading.current_thread())
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.discard(request)
                self._workers.discard(threading.current_thread())
            self._release_slot()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Report the error that ended a connection through ``on_error``, never to stderr."""
        error = sys.exc_info()[1]
        if error is None:  # the base class calls this only from an except block
            return
        self._on_error(ConnectionFault.at(client_address, error))

    def close_connections(self) -> None:
        """End every open connection, then wait for its thread to finish its request."""
        with self._lock:
            connections, workers = list(self._connections), list(self._workers)
        for connection in connections:
            with contextlib.suppress(OSError):  # the client may have closed it first
                connection.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout=self._join_timeout)

    def _release_slot(self) -> None:
        with self._lock:
            self._busy -= 1
        self._slots.release()


class JsonRequestHandler(BaseHTTPRequestHandler):
    """What both servers' handlers share: HTTP/1.1 keep-alive, one entry point for every
    method, errors of the request line in the server's own JSON, and no line per request.

    A subclass implements ``serve`` (answer the request read so far) and ``refuse`` (answer a
    request the base class could not parse), and calls ``close_if_saturated`` before it writes,
    so that clients waiting for a handler slot get one.
    """

    protocol_version = "HTTP/1.1"

    def serve(self) -> None:
        """Answer the request whose line and headers have been read."""
        raise NotImplementedError

    def refuse(self, status: int, message: str) -> None:
        """Answer a request the base class refused before any ``do_*`` method ran."""
        raise NotImplementedError

    # The do_* names are the ones BaseHTTPRequestHandler dispatches to; each server routes every
    # method itself, so that an unknown one gets its 405 or 404 rather than the base's 501.
    def do_GET(self) -> None:
        self.serve()

    def do_HEAD(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def do_PUT(self) -> None:
        self.serve()

    def do_DELETE(self) -> None:
        self.serve()

    def do_PATCH(self) -> None:
        self.serve()

    def do_OPTIONS(self) -> None:
        self.serve()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The base class's error answer, in the server's JSON rather than in HTML.

        A method without a ``do_*`` handler (the base class's 501) is no server fault: it goes
        to ``serve`` like any other, which answers 405 or 404 as the path calls for.
        """
        if code == HTTPStatus.NOT_IMPLEMENTED:
            self.serve()
            return
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # The base class assumes HTTP/0.9, which has no status line, until it has parsed a
            # request line; a client that sent a malformed one should still see the status.
            self.request_version = "HTTP/1.1"
        self.refuse(code, message or explain or HTTPStatus(code).phrase)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a line per request would drown the log lines that matter."""

    def close_if_saturated(self) -> None:
        """Close the connection after this answer while every handler slot is taken."""
        server = self.server
        if isinstance(server, ClosingHTTPServer) and server.saturated:
            self.close_connection = True


class BackgroundServer:
    """A server that serves from a thread of its own between ``start`` and ``stop``, and as a
    context manager: ``with Server(...) as server:``."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
