"""Hostile input: bodies, numbers and framing a client should never send still get a Lambda
error, never a 500, and leave nothing behind in the state."""

# ruff: noqa: N802 - test names carry the rule id as docs/lambda-rules.md spells it (L61)

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from lambda_emulator import Caller, EmulatorServer
from lambda_emulator.server import MAX_REQUEST_BYTES
from lambda_emulator.wire import MAX_JSON_DEPTH
from tests.emulator.conftest import ROLE, code

HOME = Caller("123456789012", "us-east-1")
FUNCTIONS = "/2015-03-31/functions"
NOT_PARSED = "Could not parse request body into json: "


@pytest.fixture
def server(emulator: EmulatorServer) -> EmulatorServer:
    """The emulator, holding ``fn`` with versions 1 and 2."""
    store = emulator.store
    store.create_function(
        HOME, "fn", code=code("1"), role=ROLE, runtime="python3.12", handler="app.handler"
    )
    store.publish_version(HOME, "fn")
    store.update_function_code(HOME, "fn", code("2"))
    store.publish_version(HOME, "fn")
    return emulator


def answer(server: EmulatorServer, method: str, target: str, body: bytes = b"") -> Any:
    """The status, error code and body of one request, made without sockets."""
    response = server.respond(method, target, None, body)
    return response.status, response.error_code, response.body


def nested(depth: int) -> bytes:
    """An alias body whose Description sits ``depth`` levels deep in arrays."""
    inner = json.dumps({"Name": "live", "FunctionVersion": "1"}).encode()
    return b"[" * (depth - 1) + inner + b"]" * (depth - 1)


# --- bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"{not json", "Expecting property name", id="not-json"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "deeper than 64", id="100000-deep"),
        pytest.param(nested(MAX_JSON_DEPTH + 1), "deeper than 64", id="65-deep"),
        pytest.param(b'["Name", "live"]', "expected an object", id="an-array"),
        pytest.param(b'"live"', "expected an object", id="a-string"),
        pytest.param(b"\xff\xfe{}", "codec can't decode", id="not-utf-8"),
        pytest.param(b'{"Name": "live", "Description": "\\ud800"}', "surrogates", id="surrogate"),
        pytest.param(b'{"Name": "live", "FunctionVersion": NaN}', "NaN", id="nan"),
        pytest.param(b'{"Name": "' + b"9" * 5000, "Unterminated", id="unterminated"),
        # Without its closing quote, a string's brackets count as nesting: a 400 either way.
        pytest.param(b'{"Name": "' + b"[" * 5000, "deeper than 64", id="unterminated-brackets"),
        pytest.param(b'{"Name": ' + b"9" * 5000 + b"}", "digits", id="5000-digit-number"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_invalid_request_content(
    server: EmulatorServer, body: bytes, reason: str
) -> None:
    status, error, document = answer(server, "POST", f"{FUNCTIONS}/fn/aliases", body)

    assert (status, error) == (400, "InvalidRequestContentException")
    assert document["Type"] == "User"
    assert document["message"].startswith(NOT_PARSED)
    assert reason in document["message"]
    assert server.store.list_aliases(HOME, "fn").items == []


def test_a_body_nested_to_the_bound_is_parsed(server: EmulatorServer) -> None:
    """Brackets inside strings nest nothing, and a body as deep as the bound is still read (it
    fails later, as an array rather than an object)."""
    deep_text = json.dumps({"Name": "live", "FunctionVersion": "1", "Description": "[" * 200})
    status, _, alias = answer(server, "POST", f"{FUNCTIONS}/fn/aliases", deep_text.encode())
    assert (status, alias["Description"]) == (201, "[" * 200)

    status, error, document = answer(
        server, "POST", f"{FUNCTIONS}/fn/aliases", nested(MAX_JSON_DEPTH)
    )
    assert (status, error) == (400, "InvalidRequestContentException")
    assert document["message"] == NOT_PARSED + "expected an object"


def test_a_weight_too_large_for_a_double_is_out_of_range(server: EmulatorServer) -> None:
    body = b'{"Name": "live", "FunctionVersion": "1", "RoutingConfig": '
    body += b'{"AdditionalVersionWeights": {"2": 1' + b"0" * 400 + b"}}}"

    status, error, document = answer(server, "POST", f"{FUNCTIONS}/fn/aliases", body)

    assert (status, error) == (400, "ValidationException")
    assert "Value '{2=Infinity}' at 'routingConfig.additionalVersionWeights'" in document["message"]


def test_a_deep_body_for_the_faults_endpoint_is_refused_too(server: EmulatorServer) -> None:
    status, error, _ = answer(server, "PUT", "/_emulator/faults", b"[" * 100_000)
    assert (status, error) == (400, "InvalidRequestContentException")


# --- numbers and markers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        f"{FUNCTIONS}/fn/versions?Marker=99999999999999999999999",
        f"{FUNCTIONS}/fn/versions?Marker=%C2%B2",
        f"{FUNCTIONS}?Marker=fn:99999999999999999999999",
        f"{FUNCTIONS}/fn/aliases?MaxItems=1_0",
        f"{FUNCTIONS}/fn/aliases?MaxItems=%D9%A1",
        f"{FUNCTIONS}/fn/aliases?MaxItems=" + "9" * 5000,
    ],
    ids=[
        "huge-marker",
        "superscript-marker",
        "huge-function-marker",
        "underscore",
        "arabic",
        "long",
    ],
)
def test_a_marker_or_max_items_that_is_no_number_of_ours_is_invalid(
    server: EmulatorServer, target: str
) -> None:
    status, error, _ = answer(server, "GET", target)
    assert (status, error) == (400, "InvalidParameterValueException")


def test_deleting_version_zero_leaves_latest_in_place(server: EmulatorServer) -> None:
    """Version 0 is how the state file keeps ``$LATEST``; a client's ``0`` must not reach it."""
    status, _, _ = answer(server, "DELETE", f"{FUNCTIONS}/fn?Qualifier=0")
    assert status == 204
    status, _, _ = answer(server, "GET", f"{FUNCTIONS}/fn")
    assert status == 200


def test_a_leading_zero_does_not_get_past_the_alias_protection(server: EmulatorServer) -> None:
    """L35 compares the qualifier with the aliases' versions as text: ``02`` must not delete
    version 2 from under an alias on ``2``."""
    server.store.create_alias(HOME, "fn", "live", function_version="2")

    status, _, _ = answer(server, "DELETE", f"{FUNCTIONS}/fn?Qualifier=02")

    assert status == 204
    assert [v.version for v in server.store.list_versions(HOME, "fn").items] == [
        "$LATEST",
        "1",
        "2",
    ]


# --- framing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["//[x", "//host:99999/x", "/2015-03-31/functions/fn#frag?x"])
def test_a_target_that_looks_like_a_url_is_routed_as_a_path(
    server: EmulatorServer, target: str
) -> None:
    status, error, _ = answer(server, "GET", target)
    assert status in (200, 404)
    assert error in (None, "UnknownOperationException")


def exchange(server: EmulatorServer, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send raw bytes, end the request side, and read the whole answer."""
    host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: -5\r\n\r\n",
        b"Content-Length: 1_0\r\n\r\n0123456789",
        b"Content-Length: \xd9\xa1\r\n\r\n0",
        b"Content-Length: " + b"9" * 30 + b"\r\n\r\n",
        b"Transfer-Encoding: chunked\r\n\r\n-5\r\nabc\r\n0\r\n\r\n",
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["negative", "underscore", "arabic-digit", "30-digits", "negative-chunk", "bad-chunk"],
)
def test_malformed_framing_is_a_400_over_http(server: EmulatorServer, framing: bytes) -> None:
    status, document = exchange(
        server, b"POST /2015-03-31/functions/fn/aliases HTTP/1.1\r\n" + framing
    )
    assert status == 400
    assert document["Type"] == "User"


def test_a_100000_deep_body_over_http_is_a_400(server: EmulatorServer) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    request = b"POST /2015-03-31/functions/fn/aliases HTTP/1.1\r\n"
    request += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    status, document = exchange(server, request)
    assert status == 400
    assert document["message"].startswith(NOT_PARSED)


# --- the configuration, tags and the size of a request ------------------------------------------


@pytest.mark.rule("L61")
@pytest.mark.parametrize(
    ("target", "operation"),
    [
        (FUNCTIONS, "CreateFunction"),
        (f"{FUNCTIONS}/fn/code", "UpdateFunctionCode"),
        ("/2015-03-31/functions/fn/nothing", "requested"),
    ],
)
def test_L61_a_request_past_lambdas_bound_is_refused_from_its_length_unread(
    server: EmulatorServer, target: str, operation: str
) -> None:
    """The refusal comes from Content-Length alone: the test sends no byte of the body, and
    the answer still comes, with the connection closed."""
    request = f"PUT {target} HTTP/1.1\r\nContent-Length: {MAX_REQUEST_BYTES + 1}\r\n\r\n"
    if operation == "CreateFunction":
        request = request.replace("PUT", "POST", 1)

    status, document = exchange(server, request.encode())

    assert status == 413
    assert document["message"] == (
        f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the {operation} operation"
    )
    assert answer(server, "GET", f"{FUNCTIONS}/fn")[0] == 200


@pytest.mark.rule("L61")
def test_L61_a_chunked_body_past_the_bound_is_refused_as_it_grows(server: EmulatorServer) -> None:
    size = f"{MAX_REQUEST_BYTES + 1:x}".encode()
    request = b"PUT /2015-03-31/functions/fn/code HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"

    status, document = exchange(server, request + size + b"\r\n")

    assert (status, document["Type"]) == (413, "User")


WRONG_TYPES = {
    "environment-list": {"Environment": ["STAGE=prod"]},
    "variables-list": {"Environment": {"Variables": ["STAGE", "prod"]}},
    "variable-number": {"Environment": {"Variables": {"STAGE": 1}}},
    "variable-null": {"Environment": {"Variables": {"STAGE": None}}},
    "layers-string": {"Layers": "arn:aws:lambda:us-east-1:123456789012:layer:x:1"},
    "layers-numbers": {"Layers": [1, 2]},
    "subnets-string": {"VpcConfig": {"SubnetIds": "subnet-1"}},
    "dual-stack-text": {"VpcConfig": {"Ipv6AllowedForDualStack": "yes"}},
    "storage-text": {"EphemeralStorage": {"Size": "512"}},
    "logging-list": {"LoggingConfig": ["JSON"]},
    "file-systems-strings": {"FileSystemConfigs": ["arn"]},
    "tracing-number": {"TracingConfig": {"Mode": 1}},
}


@pytest.mark.parametrize("members", WRONG_TYPES.values(), ids=WRONG_TYPES)
def test_configuration_members_of_the_wrong_type_are_invalid_request_content(
    server: EmulatorServer, members: dict[str, Any]
) -> None:
    before = server.store.get_function(HOME, "fn")

    status, error, document = answer(
        server, "PUT", f"{FUNCTIONS}/fn/configuration", json.dumps(members).encode()
    )

    assert (status, error) == (400, "InvalidRequestContentException")
    assert document["message"].startswith(NOT_PARSED)
    assert server.store.get_function(HOME, "fn") == before


def test_a_megabyte_of_environment_is_refused_and_nothing_is_kept(server: EmulatorServer) -> None:
    """Far past the 4 KB of L58; AWS quotes what it measured, so the answer is as large."""
    members = {"Environment": {"Variables": {"BIG": "x" * 1_000_000}}}
    before = server.store.get_function(HOME, "fn")

    status, error, document = answer(
        server, "PUT", f"{FUNCTIONS}/fn/configuration", json.dumps(members).encode()
    )

    assert (status, error) == (400, "InvalidParameterValueException")
    assert "exceeded the 4KB limit" in document["message"]
    assert server.store.get_function(HOME, "fn") == before


def test_an_environment_of_many_small_variables_is_measured_whole(server: EmulatorServer) -> None:
    variables = {f"V{n:05d}": "" for n in range(1000)}  # 9 bytes each: 9 KB in all

    status, error, _ = answer(
        server,
        "PUT",
        f"{FUNCTIONS}/fn/configuration",
        json.dumps({"Environment": {"Variables": variables}}).encode(),
    )

    assert (status, error) == (400, "InvalidParameterValueException")


def test_a_secret_in_a_badly_named_variable_is_not_echoed(server: EmulatorServer) -> None:
    members = {"Environment": {"Variables": {"bad name": "hunter2-secret"}}}

    status, error, document = answer(
        server, "PUT", f"{FUNCTIONS}/fn/configuration", json.dumps(members).encode()
    )

    assert (status, error) == (400, "ValidationException")
    assert "hunter2" not in json.dumps(document)
    assert "bad name" not in json.dumps(document)


TAGS = "/2017-03-31/tags/" + "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn"
HOSTILE_TAGS = {
    "key-129": {"k" * 129: "v"},
    "value-257": {"k": "v" * 257},
    "empty-key": {"": "v"},
    "control-character": {"k\u0007": "v"},
    "angle-brackets": {"<script>": "v"},
}


@pytest.mark.parametrize("tags", HOSTILE_TAGS.values(), ids=HOSTILE_TAGS)
def test_tags_outside_aws_alphabet_or_lengths_are_refused_and_none_kept(
    server: EmulatorServer, tags: dict[str, str]
) -> None:
    status, error, _ = answer(server, "POST", TAGS, json.dumps({"Tags": tags}).encode())

    assert (status, error) == (400, "ValidationException")
    assert server.store.list_tags(HOME, TAGS.rsplit("/", 1)[1].replace("%3A", ":")) == {}


def test_tags_in_any_script_are_accepted(server: EmulatorServer) -> None:
    tags = {"équipe": "コマース", "cost centre": "42", "a:b/c=d+e-f@g_h.i": ""}

    status, _, _ = answer(server, "POST", TAGS, json.dumps({"Tags": tags}).encode())

    assert status == 204
    assert answer(server, "GET", TAGS)[2] == {"Tags": tags}


@pytest.mark.parametrize(
    "resource",
    [
        "%00",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3A" + "a" * 10000,
        "arn%3Aaws%3As3%3A%3A%3Abucket",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn%3A%3A",
    ],
    ids=["nul", "past-10000-characters", "another-service", "empty-qualifier"],
)
def test_a_resource_that_is_no_lambda_arn_is_a_validation_error(
    server: EmulatorServer, resource: str
) -> None:
    status, error, _ = answer(server, "GET", f"/2017-03-31/tags/{resource}")
    assert (status, error) == (400, "ValidationException")


def test_untagging_thousands_of_keys_is_refused_by_shape_or_done(server: EmulatorServer) -> None:
    keys = "&".join(f"tagKeys=k{n}" for n in range(5000))

    status, _, _ = answer(server, "DELETE", f"{TAGS}?{keys}")

    assert status == 204
    assert server.store.list_tags(HOME, TAGS.rsplit("/", 1)[1].replace("%3A", ":")) == {}
