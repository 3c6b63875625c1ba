"""The careful HTTP GET shared by the clients of the controller: ``lambda-gitops status`` reading
a controller's ``/status``, and a rollout's analysis asking Prometheus.

Both take an address a person configured, so both follow the same rules: credentials in the
URL become HTTP Basic authentication and the URL is used without them; no redirect is followed
(it could carry the credentials elsewhere, and neither server redirects); the body is read up to
a limit and before a deadline, so a server that floods or drips cannot hold the caller.
"""

from __future__ import annotations

import base64
import time
import urllib.request
from typing import Any
from urllib.parse import SplitResult, unquote, urlunsplit

READ_CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    """The body went past the limit; nothing more of it was read."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Take a redirect as the answer it is, an ``HTTPError``, not a request to somewhere else."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(_NoRedirects)
"""A urllib opener that follows no redirect."""


def basic_authorization(parts: SplitResult) -> str | None:
    """The ``Authorization`` header for the URL's ``user:password``, if it holds any."""
    if parts.username is None and parts.password is None:
        return None
    pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def without_userinfo(parts: SplitResult, path: str | None = None) -> str:
    """The URL with no ``user:password@`` (and with ``path``, if given), no query, no fragment."""
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path if path is None else path, "", ""))


def read_bounded(response: Any, limit: int, deadline: float) -> bytes:
    """At most ``limit`` bytes of the body, read before ``deadline`` (``time.monotonic``):
    ``BodyTooLarge`` past the limit, ``TimeoutError`` past the deadline."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(min(READ_CHUNK, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        if time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(chunks)


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def failure_reason(error: object) -> str:
    """Why a connection failed, in a few words: the system's message, not the exception's
    repr."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return one_line(str(error) or type(error).__name__, 200)
