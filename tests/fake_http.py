"""A small HTTP server of the test's own, for clients that must survive whatever a server says.

``answering(answer)`` starts a server on 127.0.0.1 that answers every GET with ``answer`` (a
function of the request handler; ``reply`` builds the usual one) and records each request's path
and headers, so that a test can check what the client sent as well as what it made of the
answer. Every server is shut down at the end of the test.

Registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Answer = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Received:
    """One request the server received."""

    path: str
    headers: dict[str, str]


@pytest.fixture
def answering() -> Iterator[Callable[[Answer], tuple[str, list[Received]]]]:
    """Start HTTP servers that answer every GET with ``answer``; each returns its URL and the
    requests it received."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Answer) -> tuple[str, list[Received]]:
        received: list[Received] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                received.append(Received(self.path, dict(self.headers)))
                answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", received

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def reply(status_code: int, body: bytes, content_type: str, **headers: str) -> Answer:
    """An answer of ``status_code`` with ``body``, its ``Content-Length`` and ``headers``."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status_code)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return answer
