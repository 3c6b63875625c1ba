"""Fuzzing the emulator's HTTP endpoint: whatever a client sends to the paths of Lambda's API
(functions, their configuration, tags, concurrency and code signing), the answer is a Lambda
answer, never a 5xx (no fault is injected here), and the emulator goes on serving.

Most examples call ``EmulatorServer.respond`` directly, which is where the parsing and the rules
live; a smaller number go over real sockets, with odd framing (Content-Length values that lie,
chunked bodies, stray header fields), to cover the HTTP layer too. The state is shared by the
examples of a test, so later requests meet the functions, versions and aliases earlier ones made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_emulator import Caller, EmulatorServer
from lambda_emulator.wire import Response
from tests.emulator.conftest import ROLE, code
from tests.rawhttp import Answer, exchange

SENTINEL = Caller("123456789012", "zz-sentinel-1")
"""Where the function lives that shows the emulator still serves; no fuzzed request goes there."""
REGIONS = ["us-east-1", "eu-west-1", "us-west-2"]
NUMBERS = ["0", "1", "2", "02", "-1", "1.5", "99999999999999999999999", "9" * 400, "\u0661"]
WORDS = ["fn", "$LATEST", "$latest", "live", "2024", "", " ", "a" * 200, "%ff", "%00", "\u00e9"]
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


HOSTILE_BODIES = {
    "100000-brackets": b"[" * 100_000,
    "lone-surrogate": b'{"Name": "\\ud800"}',
    "nan": b'{"FunctionVersion": NaN}',
    "infinite-memory": b'{"MemorySize": 1e999}',
    "utf-16": b"\xff\xfe{\x00}\x00",
    "unterminated-5000-digits": b'{"Name": "' + b"9" * 5000,
}


def hostile(name: str) -> bytes:
    """A body by name, so that a failing example shows the name rather than 100 kB of it."""
    return HOSTILE_BODIES[name]


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.sampled_from(NUMBERS + WORDS),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(NUMBERS + WORDS) | st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
MEMBERS = [
    "FunctionName",
    "Name",
    "FunctionVersion",
    "Description",
    "RevisionId",
    "RoutingConfig",
    "Code",
    "ZipFile",
    "S3Bucket",
    "S3Key",
    "Publish",
    "DryRun",
    "CodeSha256",
    "Role",
    "Runtime",
    "Handler",
    "Timeout",
    "MemorySize",
    "PackageType",
    "DeadLetterConfig",
    "Environment",
    "Layers",
    "VpcConfig",
    "TracingConfig",
    "EphemeralStorage",
    "Architectures",
    "LoggingConfig",
    "SnapStart",
    "KMSKeyArn",
    "FileSystemConfigs",
    "Tags",
    "CodeSigningConfigArn",
    "ReservedConcurrentExecutions",
]
NESTED_MEMBERS = [
    "Variables",
    "SubnetIds",
    "SecurityGroupIds",
    "Ipv6AllowedForDualStack",
    "Mode",
    "Size",
    "LogFormat",
    "LogGroup",
    "ApplicationLogLevel",
    "SystemLogLevel",
    "ApplyOn",
    "Arn",
    "LocalMountPath",
]
"""The members of the configuration's structures: ``Environment.Variables`` and the others."""
routing = st.fixed_dictionaries(
    {
        "AdditionalVersionWeights": st.dictionaries(
            st.sampled_from(NUMBERS) | st.text(max_size=4), json_values, max_size=2
        )
    }
)
structures = st.dictionaries(
    st.sampled_from(NESTED_MEMBERS),
    json_values
    | st.dictionaries(st.text(max_size=6) | st.sampled_from(WORDS), st.text(max_size=6), max_size=3)
    | st.lists(st.text(max_size=12) | st.sampled_from(WORDS), max_size=3),
    max_size=3,
)
objects = st.dictionaries(
    st.sampled_from(MEMBERS),
    json_values | routing | structures | st.sampled_from(NUMBERS + WORDS),
    max_size=6,
)
bodies = st.one_of(
    st.just(b""),
    objects.map(lambda document: json.dumps(document).encode()),
    objects.map(lambda document: json.dumps(document).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.integers(min_value=60, max_value=100_000).map(deep),
    st.sampled_from(sorted(HOSTILE_BODIES)).map(hostile),
)
function_names = st.one_of(
    st.just("fn"),
    st.sampled_from(["other", "fn:1", "fn:02", "fn:0", "fn:$LATEST", "fn:live"]),
    st.sampled_from(NUMBERS + WORDS),
    st.builds(
        lambda region, qualifier: f"arn:aws:lambda:{region}:123456789012:function:fn{qualifier}",
        st.sampled_from([*REGIONS, "zz-fake-9"]),
        st.sampled_from(["", ":1", ":99999999999999999999999", ":live"]),
    ),
    st.text(max_size=12),
)
FUNCTIONS = "/2015-03-31/functions"
OPERATIONS = [
    ("GET", FUNCTIONS),
    ("POST", FUNCTIONS),
    ("GET", FUNCTIONS + "/{f}"),
    ("DELETE", FUNCTIONS + "/{f}"),
    ("GET", FUNCTIONS + "/{f}/configuration"),
    ("PUT", FUNCTIONS + "/{f}/configuration"),
    ("PUT", FUNCTIONS + "/{f}/code"),
    ("GET", FUNCTIONS + "/{f}/versions"),
    ("POST", FUNCTIONS + "/{f}/versions"),
    ("GET", FUNCTIONS + "/{f}/aliases"),
    ("POST", FUNCTIONS + "/{f}/aliases"),
    ("GET", FUNCTIONS + "/{f}/aliases/{a}"),
    ("PUT", FUNCTIONS + "/{f}/aliases/{a}"),
    ("DELETE", FUNCTIONS + "/{f}/aliases/{a}"),
    ("GET", "/2020-06-30/functions/{f}/code-signing-config"),
    ("PUT", "/2020-06-30/functions/{f}/code-signing-config"),
    ("DELETE", "/2020-06-30/functions/{f}/code-signing-config"),
    ("GET", "/2017-03-31/tags/{f}"),
    ("POST", "/2017-03-31/tags/{f}"),
    ("DELETE", "/2017-03-31/tags/{f}"),
    ("GET", "/2019-09-30/functions/{f}/concurrency"),
    ("PUT", "/2017-10-31/functions/{f}/concurrency"),
    ("DELETE", "/2017-10-31/functions/{f}/concurrency"),
    ("GET", "/2016-08-19/account-settings"),
]
"""Every operation the emulator serves, as a method and a path; the tag operations' ``{f}`` is
their resource ARN."""
queries = st.dictionaries(
    st.sampled_from(["Qualifier", "FunctionVersion", "Marker", "MaxItems", "tagKeys", "x", ""]),
    st.sampled_from(NUMBERS + WORDS + ["ALL", "fn:1", "fn:99999999999999999999999"]),
    max_size=3,
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])


def quote(text: str) -> str:
    """Percent-encode what may not appear in a request target, keeping what the fuzz put in."""
    return "".join(c if 0x21 <= ord(c) < 0x7F and c not in "?#" else f"%{ord(c):02X}" for c in text)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, str]:
    """A method and a request target: mostly an operation the emulator serves, on names and
    parameters that test its edges, sometimes any method on any path under its prefix."""
    if draw(st.integers(min_value=0, max_value=4)):
        method, template = draw(st.sampled_from(OPERATIONS))
    else:
        method = draw(methods)
        template = draw(
            st.sampled_from(["", "/{f}", "/{f}/", "/{f}/nothing", "/{f}/aliases/{a}/x"]).map(
                lambda suffix: FUNCTIONS + suffix
            )
            | st.sampled_from(["/2017-03-31/tags/", "/2017-03-31/tags/{f}/x", "/2016-08-19/"])
        )
    path = template.format(
        f=quote(draw(function_names)),
        a=quote(draw(st.sampled_from(["live", "other"]) | st.sampled_from(NUMBERS + WORDS))),
    )
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in draw(queries).items())
    return method, f"{path}?{query}" if query else path


authorizations = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.builds(
        lambda key, region: (
            f"AWS4-HMAC-SHA256 Credential={key}/20240101/{region}/lambda/aws4_request, "
            "SignedHeaders=host, Signature=00"
        ),
        st.sampled_from(["testing", "210987654321", "123456789012", "x"]),
        st.sampled_from(REGIONS),
    ),
)


def assert_lambda_error_body(body: dict[str, Any]) -> None:
    """A client's error, with its message under the member its error's shape names (L51):
    ``Message`` for a missing resource, ``message`` for the others; AWS leaves ``Type`` out of
    a few answers, and says ``User`` in the others."""
    assert body.get("Type", "User") == "User", body
    assert len(body.keys() & {"Message", "message"}) == 1, body


def assert_lambda_answer(response: Response) -> None:
    """Never a 5xx; every 4xx a Lambda error; every body one JSON can carry."""
    assert response.status < 500, response
    if response.status == 204:
        assert response.body is None
        return
    assert isinstance(response.body, dict)
    json.dumps(response.body)  # what the server will send must be JSON
    if response.status >= 400:
        assert response.error_code, response
        assert_lambda_error_body(response.body)


def seeded(tmp_path: Path) -> EmulatorServer:
    """A started emulator with a function in every region the fuzz uses, and the sentinel."""
    server = EmulatorServer(tmp_path / "fuzz.sqlite")
    server.start()
    for caller in [SENTINEL, *(Caller("123456789012", region) for region in REGIONS)]:
        store = server.store
        store.create_function(
            caller, "fn", code=code("1"), role=ROLE, runtime="python3.12", handler="app.handler"
        )
        store.publish_version(caller, "fn")
        store.update_function_code(caller, "fn", code("2"))
        store.publish_version(caller, "fn")
        store.create_alias(caller, "fn", "live", function_version="1", routing={"2": 0.1})
    return server


def sentinel_answers(server: EmulatorServer) -> bool:
    authorization = (
        f"AWS4-HMAC-SHA256 Credential=testing/20240101/{SENTINEL.region}/lambda/aws4_request"
    )
    return server.respond("GET", "/2015-03-31/functions/fn", authorization, b"").status == 200


def test_any_request_gets_a_lambda_answer_and_the_emulator_keeps_serving(tmp_path: Path) -> None:
    server = seeded(tmp_path)
    try:

        @SETTINGS
        @given(call=calls(), authorization=authorizations, body=bodies)
        def check(call: tuple[str, str], authorization: str | None, body: bytes) -> None:
            method, target = call
            assert_lambda_answer(server.respond(method, target, authorization, body))
            assert sentinel_answers(server)

        check()
    finally:
        server.stop()


# --- over real sockets --------------------------------------------------------------------------

header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=30)
content_lengths = st.one_of(
    st.none(),
    st.sampled_from(["-1", "0", "1_0", " 7 ", "\u0661", "abc", "99999999999999999999", "1e3"]),
    st.integers(min_value=0, max_value=300).map(str),
)
extra_headers = st.lists(
    st.tuples(
        st.sampled_from(
            ["Content-Type", "Expect", "Transfer-Encoding", "X-Amz-Date", "Host", "Content-Length"]
        )
        | st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True),
        header_values,
    ),
    max_size=4,
)


@dataclass(frozen=True)
class RawRequest:
    """A request as bytes, and whether it is a HEAD (whose answer has no body)."""

    data: bytes
    head: bool

    def __repr__(self) -> str:
        """Short, since a failing example is printed and a body may be 500 kB."""
        return f"RawRequest({self.data[:400]!r}, {len(self.data)} bytes, head={self.head})"


@st.composite
def raw_requests(draw: st.DrawFn) -> RawRequest:
    """A request with header fields and a Content-Length that may lie. ``Connection: close``
    comes first and last, so that whichever of repeated fields a parser keeps, exactly one
    answer comes back."""
    method, target = draw(calls())
    if not draw(st.integers(min_value=0, max_value=9)):
        method = draw(st.from_regex(r"[A-Z]{1,8}", fullmatch=True))
    body = draw(bodies)
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    authorization = draw(authorizations)
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    lines += [f"{name}: {value}" for name, value in draw(extra_headers)]
    length = draw(content_lengths)
    if length is not None:
        lines.append(f"Content-Length: {length}")
    elif draw(st.booleans()):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    # UTF-8, as a client that puts text in a header field sends it; lone surrogates too.
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass")
    return RawRequest(head + body, method == "HEAD")


def assert_lambda_http_answer(answer: Answer, *, head: bool) -> None:
    assert answer.status < 500, answer
    if answer.status == 204 or head:
        return
    document: Any = json.loads(answer.body)
    assert isinstance(document, dict)
    if answer.status >= 400:
        assert answer.headers.get("x-amzn-errortype"), answer
        assert_lambda_error_body(document)


def test_any_bytes_over_http_get_lambda_answers_and_the_emulator_keeps_serving(
    tmp_path: Path,
) -> None:
    server = seeded(tmp_path)
    try:

        @settings(SETTINGS, max_examples=60)
        @given(request=raw_requests())
        def check(request: RawRequest) -> None:
            answers = exchange(server.endpoint_url, request.data, head=request.head)
            assert len(answers) == 1, answers
            assert_lambda_http_answer(answers[0], head=request.head)
            assert sentinel_answers(server)

        check()
    finally:
        server.stop()
