"""Raw HTTP/1.1 exchanges for the fuzz tests: bytes in, every answer parsed strictly out.

``http.client`` would tidy up what a fuzz test sends (it adds headers, refuses some bytes) and
forgive what the server answers, so these tests speak to the socket themselves: the request goes
out exactly as generated, the sending side is then closed (so that a body shorter than its
``Content-Length`` ends instead of waiting), and what comes back must parse as HTTP/1.1
answers, each with a status line, headers and exactly the body its ``Content-Length`` says.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

READ_TIMEOUT_SECONDS = 30.0
"""A server that has not answered by then is taken to hang."""


@dataclass(frozen=True)
class Answer:
    """One parsed answer: its status, its header fields (names lower-cased), its body."""

    status: int
    headers: dict[str, str]
    body: bytes


def exchange(url: str, request: bytes, *, head: bool = False) -> list[Answer]:
    """Send ``request`` on a connection of its own and parse every answer until the server
    closes it; ``head`` when the request is a ``HEAD``, whose answers have no body (see
    ``parse``).

    Interim ``1xx`` answers (``100 Continue``) are left out. A timeout raises ``TimeoutError``,
    and bytes that are not HTTP answers raise ``ValueError`` naming them.
    """
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=READ_TIMEOUT_SECONDS) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before reading it all, which is its right
        received = bytearray()
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # closing with unread bytes from the client resets; what arrived still counts
    return parse(bytes(received), head=head)


def parse(stream: bytes, *, head: bool = False) -> list[Answer]:
    """The answers in ``stream``, strictly; with ``head``, answers to a ``HEAD`` request."""
    answers: list[Answer] = []
    rest = stream
    while rest:
        block, separator, rest = rest.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError(f"an answer without the end of its head: {block[:200]!r}")
        status_line, *lines = block.decode("latin-1").split("\r\n")
        version, _, remainder = status_line.partition(" ")
        if version != "HTTP/1.1" or not remainder[:3].isdigit():
            raise ValueError(f"not a status line: {status_line[:200]!r}")
        status = int(remainder[:3])
        headers: dict[str, str] = {}
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError(f"not a header field: {line[:200]!r}")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            continue
        length = int(headers.get("content-length", "0"))
        if status in (204, 304) or (head and len(rest) != length):
            # A HEAD's answer has no body, unless the request was too malformed for the server
            # to know that it was a HEAD: then the body follows, and ends the stream.
            length = 0
        if len(rest) < length:
            raise ValueError(f"a body of {len(rest)} bytes where {length} were announced")
        answers.append(Answer(status, headers, rest[:length]))
        rest = rest[length:]
    return answers
