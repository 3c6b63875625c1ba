"""A threading HTTP server that can be stopped cleanly, shared by the controller's endpoints
and the emulated registry.

The standard library's ``ThreadingHTTPServer`` stops accepting on ``shutdown()`` but leaves
keep-alive connections, and the threads serving them, running: boto3 and Prometheus both keep
their connections open, so a server that is stopped would still hold sockets (and tests would
see ``ResourceWarning``). This one tracks its connections and ends them on ``close_connections``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ClosingHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that can close its clients' keep-alive connections on stop."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        join_timeout: float = 10.0,
    ) -> None:
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._join_timeout = join_timeout
        self._thread: threading.Thread | None = None
        super().__init__(address, handler)

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
        self.shutdown()
        self.close_connections()
        self.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

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

    def close_connections(self) -> None:
        """End every open connection, then wait for its thread to finish its request."""
        with self._lock:
            connections, workers = list(self._connections), list(self._workers)
        for connection in connections:
            with contextlib.suppress(OSError):  # the client may have closed it first
                connection.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout=self._join_timeout)
