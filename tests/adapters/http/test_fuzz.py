"""Fuzzing the controller's endpoints over HTTP: whatever a client sends to /metrics, /healthz,
/readyz, /status or /webhook (any method, header fields, body and Content-Length, true or not),
the answer comes, parses, is never a 5xx, and the server goes on answering.

The request line always names HTTP/1.x or a malformed version: to an HTTP/2 request line the
standard library rightly answers 505 HTTP Version Not Supported, and to a two-word HTTP/0.9 one
it answers a bare body, which is the protocol, not a fault.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from controller.adapters.http.base import ConnectionFault
from controller.adapters.http.server import ControllerServer
from controller.adapters.metrics import FunctionStatus, Metrics
from tests.rawhttp import Answer, exchange

SECRET = b"fuzz-webhook-secret"
PATHS = ["/metrics", "/healthz", "/readyz", "/status", "/webhook"]


@dataclass(frozen=True)
class RawRequest:
    """A request as bytes, and whether it is a HEAD (whose answer has no body)."""

    data: bytes
    head: bool

    def __repr__(self) -> str:
        """Short, since a failing example is printed and a body may be large."""
        return f"RawRequest({self.data[:400]!r}, {len(self.data)} bytes, head={self.head})"


@pytest.fixture
def faults() -> list[ConnectionFault]:
    return []


@pytest.fixture
def server(faults: list[ConnectionFault]) -> Iterator[ControllerServer]:
    metrics = Metrics(CollectorRegistry())
    metrics.functions([FunctionStatus("orders-api", "eu-west-1", "drifted", {"live": True})])
    with ControllerServer(
        "127.0.0.1",
        0,
        metrics=metrics.registry,
        status=lambda: {"revision": "0123abcd"},
        healthy=lambda: True,
        ready=lambda: True,
        on_push=lambda: None,
        webhook_secret=SECRET,
        on_error=faults.append,
    ) as running:
        yield running


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()


text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF), max_size=30)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=300),
    st.just(json.dumps({"ref": "refs/heads/main", "after": "0123abcd"}).encode()),
    st.integers(min_value=1, max_value=200_000).map(lambda size: b"x" * size),
)
content_lengths = st.one_of(
    st.sampled_from(["-1", "0", "1_0", " 7 ", "\u0661", "abc", "1e3", "1048577"]),
    st.sampled_from(["99999999999999999999", "1" + "0" * 5000]),
    st.integers(min_value=0, max_value=400).map(str),
)
paths = st.one_of(
    st.sampled_from(PATHS),
    st.sampled_from(PATHS).map(lambda path: path + "?x=1"),
    st.sampled_from(["/", "/webhook/", "//webhook", "/%00", "/metrics#x", "*"]),
    st.from_regex(r"/[!-~]{0,20}", fullmatch=True),
)
methods = st.one_of(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    st.from_regex(r"[A-Z]{1,8}", fullmatch=True),
)
versions = st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.x", "HTTP/11", "FOO"])
field_names = st.sampled_from(
    [
        "X-Hub-Signature-256",
        "X-Gitlab-Token",
        "X-Signature-256",
        "X-GitHub-Event",
        "Accept",
        "Accept-Encoding",
        "Transfer-Encoding",
        "Expect",
        "Content-Type",
        "Content-Length",
    ]
) | st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
field_values = st.one_of(
    text,
    st.sampled_from(
        [
            "sha256=",
            "sha256=" + "0" * 64,
            SECRET.decode(),
            "ping",
            "push",
            "gzip",
            "chunked",
            "100-continue",
            "application/openmetrics-text; version=1.0.0",
        ]
    ),
)


@st.composite
def raw_requests(draw: st.DrawFn) -> RawRequest:
    """A request with header fields, signatures and a Content-Length that may lie.
    ``Connection: close`` comes first and last, so that exactly one answer comes back."""
    method = draw(methods)
    body = draw(bodies)
    lines = [f"{method} {draw(paths)} {draw(versions)}", "Host: 127.0.0.1", "Connection: close"]
    if draw(st.booleans()):
        lines.append(f"X-Hub-Signature-256: {signature(body)}")
    lines += [
        f"{n}: {v}" for n, v in draw(st.lists(st.tuples(field_names, field_values), max_size=5))
    ]
    if draw(st.booleans()):
        length = draw(content_lengths | st.just(str(len(body))))
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass")
    return RawRequest(head + body, method == "HEAD")


def assert_answer(answer: Answer, *, head: bool) -> None:
    """Never a 5xx; a JSON body parses as JSON."""
    assert answer.status < 500, answer
    if head or not answer.body:
        return
    if answer.headers.get("content-type") == "application/json":
        document: Any = json.loads(answer.body)
        assert isinstance(document, dict)


def test_any_request_gets_an_answer_and_the_server_keeps_answering(
    server: ControllerServer, faults: list[ConnectionFault]
) -> None:
    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=raw_requests())
    def check(request: RawRequest) -> None:
        answers = exchange(server.url, request.data, head=request.head)
        assert len(answers) == 1, answers
        assert_answer(answers[0], head=request.head)
        (healthz,) = exchange(server.url, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        assert healthz.status == 200

    check()
    assert [fault for fault in faults if not fault.disconnected] == []
