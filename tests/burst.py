"""Bursts of simultaneous HTTP requests, for the load tests of the controller and the emulator.

A burst opens every connection first and only then sends every request, so that the server
sees them all at once, as it would when every replica of a Prometheus scrapes together or a Git
host redelivers a backlog of pushes. It runs on one asyncio loop, since a thousand client
threads would cost the machine more than the server under test does. Each exchange has a
deadline, and an exchange that fails is reported as the name of its error rather than raised,
so that a test can show how many of the burst were lost and how.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

EXCHANGE_TIMEOUT_SECONDS = 60.0
"""Generous on purpose: it only turns a hang into a failure the test can show."""


def burst(url: str, requests: Sequence[bytes]) -> list[int | str]:
    """Send each request on a connection of its own, all at once, and read each answer.

    The result lists, in the order of ``requests``, the status of each answer, or the name of
    the error that ended its exchange (a refused or reset connection, a timeout).
    """
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return asyncio.run(_burst(host, int(port), requests))


def get(path: str, *headers: str) -> bytes:
    """A keep-alive ``GET`` request, as a scraper sends it."""
    return _head("GET", path, [*headers, "Content-Length: 0"])


def post(path: str, body: bytes, *headers: str) -> bytes:
    """A ``POST`` request with ``body`` and its ``Content-Length``."""
    return _head("POST", path, [*headers, f"Content-Length: {len(body)}"]) + body


def _head(method: str, path: str, headers: list[str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _burst(host: str, port: int, requests: Sequence[bytes]) -> list[int | str]:
    opened = await asyncio.gather(*(_open(host, port) for _ in requests), return_exceptions=True)
    try:
        results = await asyncio.gather(
            *(
                _exchange(connection, request)
                for connection, request in zip(opened, requests, strict=True)
            ),
            return_exceptions=True,
        )
    finally:
        await asyncio.gather(
            *(_close(connection) for connection in opened if isinstance(connection, tuple))
        )
    return [result if isinstance(result, int) else type(result).__name__ for result in results]


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(host, port), EXCHANGE_TIMEOUT_SECONDS)


async def _exchange(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | BaseException,
    request: bytes,
) -> int:
    """Send ``request`` and read the whole answer; its status."""
    if isinstance(connection, BaseException):
        raise connection
    reader, writer = connection
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), EXCHANGE_TIMEOUT_SECONDS)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await asyncio.wait_for(reader.readexactly(length), EXCHANGE_TIMEOUT_SECONDS)
    return int(status_line.split(" ", 2)[1])


async def _close(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
    writer = connection[1]
    writer.close()
    with contextlib.suppress(OSError):  # the server may have reset it
        await writer.wait_closed()
