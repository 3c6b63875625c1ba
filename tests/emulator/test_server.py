"""The HTTP endpoint: routing, the wire details boto3 relies on, faults and the stats page."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from controller.errors import ConfigurationError
from lambda_emulator import EmulatorServer, Faults
from lambda_emulator.faults import MAX_COUNTED_FUNCTIONS, FaultInjector
from tests.backends import make_zip
from tests.emulator.conftest import create

ServerFactory = Callable[..., EmulatorServer]
ClientFactory = Callable[..., Any]


def raw(server: EmulatorServer, method: str, path: str, body: bytes = b"") -> tuple[int, Any]:
    """One request over a fresh connection: the status and the decoded JSON body, if any."""
    host, port = server.endpoint_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "UnknownOperationException"),
        ("GET", "/2015-03-31/functions/f/unknown", 404, "UnknownOperationException"),
        ("PATCH", "/2015-03-31/functions/f/aliases", 405, "MethodNotAllowedException"),
        ("POST", "/2015-03-31/functions/f", 405, "MethodNotAllowedException"),
    ],
)
def test_unknown_paths_and_methods_get_a_json_error(
    emulator: EmulatorServer, method: str, path: str, status: int, code: str
) -> None:
    host, port = emulator.endpoint_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        body = json.loads(response.read())
        assert (response.status, response.headers["x-amzn-ErrorType"]) == (status, code)
        assert body["Type"] == "User"
        assert body["message"]
    finally:
        connection.close()


def test_a_malformed_body_is_a_400_not_a_traceback(emulator: EmulatorServer) -> None:
    status, body = raw(emulator, "POST", "/2015-03-31/functions", b"{not json")
    assert status == 400
    assert "Traceback" not in body["message"]


def test_204_has_no_body_and_keep_alive_goes_on(emulator: EmulatorServer, client: Any) -> None:
    """DeleteAlias answers 204 without a body; the connection serves the next request."""
    create(client)
    host, port = emulator.endpoint_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("DELETE", "/2015-03-31/functions/orders/aliases/none")
        response = connection.getresponse()
        assert (response.status, response.read()) == (204, b"")
        assert response.headers["Content-Length"] is None
        connection.request("GET", "/2015-03-31/functions/orders/aliases")
        second = connection.getresponse()
        assert json.loads(second.read()) == {"Aliases": []}
    finally:
        connection.close()


def test_boto3_raises_the_modelled_exceptions(client: Any) -> None:
    create(client)
    with pytest.raises(client.exceptions.ResourceConflictException):
        create(client)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_alias(FunctionName="orders", Name="live")
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="unzip"):
        client.update_function_code(FunctionName="orders", ZipFile=b"not a zip")


def test_code_from_the_s3_stand_in_folder(emulator: EmulatorServer, client: Any) -> None:
    assert emulator.s3_root is not None
    (emulator.s3_root / "builds" / "orders").mkdir(parents=True)
    (emulator.s3_root / "builds" / "orders" / "r2.zip").write_bytes(make_zip("r2"))
    create(client)
    updated = client.update_function_code(
        FunctionName="orders", S3Bucket="builds", S3Key="orders/r2.zip"
    )
    assert updated["CodeSize"] == len(make_zip("r2"))
    with pytest.raises(client.exceptions.InvalidParameterValueException) as caught:
        client.update_function_code(FunctionName="orders", S3Bucket="builds", S3Key="nope.zip")
    message = caught.value.response["Error"]["Message"]
    assert message.startswith("Error occurred while GetObject. S3 Error Code: NoSuchKey.")
    assert "'builds'" in message
    assert "'nope.zip'" in message


def test_accounts_come_from_twelve_digit_access_keys(
    emulator: EmulatorServer, client_factory: ClientFactory
) -> None:
    """An access key id of twelve digits names the account; others use the default one."""
    mine = client_factory(emulator)
    theirs = client_factory(emulator, access_key="210987654321", region="eu-west-1")
    create(mine)
    created = create(theirs)
    assert created["FunctionArn"] == "arn:aws:lambda:eu-west-1:210987654321:function:orders"
    assert (
        mine.get_function(FunctionName=created["FunctionArn"])["Configuration"]["FunctionArn"]
        == created["FunctionArn"]
    )
    assert len(mine.list_functions()["Functions"]) == 1


def test_throttling_answers_429_with_the_aws_body(
    emulator_factory: ServerFactory, client_factory: ClientFactory
) -> None:
    """L41: past the quota, HTTP 429 TooManyRequestsException with AWS's exact body."""
    server = emulator_factory(Faults(rate_limit=2))
    client = client_factory(server)
    client.list_functions()
    client.list_functions()
    with pytest.raises(client.exceptions.TooManyRequestsException) as caught:
        client.list_functions()
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "CallerRateLimitExceeded"
    assert error["Error"]["Message"] == "Rate exceeded"
    status, body = raw(server, "GET", "/2015-03-31/functions")
    assert (status, body) == (
        429,
        {"Reason": "CallerRateLimitExceeded", "Type": "User", "message": "Rate exceeded"},
    )
    throttled = server.throttled_counts()["ListFunctions"]
    assert throttled >= 2
    assert server.request_counts()["ListFunctions"] >= throttled + 2


def test_the_quota_is_per_account_and_region(
    emulator_factory: ServerFactory, client_factory: ClientFactory
) -> None:
    server = emulator_factory(Faults(rate_limit=1))
    east = client_factory(server)
    west = client_factory(server, region="eu-west-1")
    other = client_factory(server, access_key="210987654321")
    for client in (east, west, other):
        client.list_functions()
    with pytest.raises(ClientError):
        east.list_functions()


def test_faults_can_change_at_runtime(
    emulator: EmulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory(emulator)
    emulator.faults = Faults(rate_limit=1)
    client.list_functions()
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.list_functions()
    emulator.faults = Faults()
    for _ in range(5):
        client.list_functions()


def test_transient_errors_follow_the_seed(
    emulator_factory: ServerFactory, client_factory: ClientFactory
) -> None:
    """The same seed gives the same sequence of 500s and 503s."""

    def statuses(server: EmulatorServer) -> list[int]:
        client = client_factory(server)
        seen = []
        for _ in range(40):
            try:
                client.list_functions()
                seen.append(200)
            except ClientError as error:
                seen.append(error.response["ResponseMetadata"]["HTTPStatusCode"])
        return seen

    first = statuses(emulator_factory(Faults(error_rate=0.5, seed=7)))
    second = statuses(emulator_factory(Faults(error_rate=0.5, seed=7)))
    assert first == second
    assert {200, 500, 503} == set(first)


def test_transient_errors_are_retried_by_boto3(
    emulator_factory: ServerFactory, client_factory: ClientFactory
) -> None:
    server = emulator_factory(Faults(error_rate=0.3, seed=1))
    client = client_factory(server, max_attempts=10)
    for _ in range(10):
        client.list_functions()
    assert server.request_counts()["ListFunctions"] > 10


def test_latency_is_added_to_every_call(
    emulator_factory: ServerFactory, client_factory: ClientFactory
) -> None:
    server = emulator_factory(Faults(latency_ms=150))
    client = client_factory(server)
    started = time.monotonic()
    client.list_functions()
    assert time.monotonic() - started >= 0.15


def test_the_update_window_refuses_publishes_until_it_ends(
    emulator_factory: ServerFactory, client_factory: ClientFactory
) -> None:
    """L6 and L28 through boto3: 409 while InProgress, then Successful with a new RevisionId."""
    server = emulator_factory(Faults(update_seconds=0.3))
    client = client_factory(server)
    assert create(client)["State"] == "Pending"
    with pytest.raises(client.exceptions.ResourceConflictException, match="state: Pending"):
        client.publish_version(FunctionName="orders")
    time.sleep(0.35)
    active = client.get_function(FunctionName="orders")["Configuration"]
    assert active["State"] == "Active"
    updating = client.update_function_code(FunctionName="orders", ZipFile=make_zip("two"))
    assert updating["LastUpdateStatus"] == "InProgress"
    with pytest.raises(client.exceptions.ResourceConflictException, match="update is in progress"):
        client.publish_version(FunctionName="orders")
    client.get_waiter("function_updated_v2").wait(
        FunctionName="orders", WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )
    done = client.get_function(FunctionName="orders")["Configuration"]
    assert done["LastUpdateStatus"] == "Successful"
    assert done["RevisionId"] != updating["RevisionId"]
    assert client.publish_version(FunctionName="orders")["Version"] == "1"


def test_stats_count_requests_per_operation(emulator: EmulatorServer, client: Any) -> None:
    create(client)
    client.get_function(FunctionName="orders")
    client.get_function(FunctionName="orders")
    with urllib.request.urlopen(f"{emulator.endpoint_url}/_emulator/stats", timeout=10) as page:
        stats = json.load(page)
    assert stats == {"requests": {"CreateFunction": 1, "GetFunction": 2}, "throttled": {}}
    assert emulator.request_counts() == {"CreateFunction": 1, "GetFunction": 2}


def test_requests_are_counted_per_function_they_name(emulator: EmulatorServer, client: Any) -> None:
    create(client)  # names the function in its body, not in its path: not counted
    client.get_function(FunctionName="orders")
    client.list_aliases(FunctionName="orders")
    client.list_functions()  # names no function

    assert emulator.function_request_counts() == {"orders": 2}


def test_per_function_counts_are_bounded() -> None:
    injector = FaultInjector(Faults())
    for index in range(MAX_COUNTED_FUNCTIONS + 10):
        injector.admit("GetFunction", "123456789012", "us-east-1", f"fn-{index}")
    injector.admit("GetFunction", "123456789012", "us-east-1", "fn-0")

    counts = injector.function_request_counts()
    assert len(counts) == MAX_COUNTED_FUNCTIONS
    assert counts["fn-0"] == 2
    assert injector.request_counts() == {"GetFunction": MAX_COUNTED_FUNCTIONS + 11}


def test_a_port_in_use_is_a_configuration_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = EmulatorServer(tmp_path / "state.sqlite", port=port)
        with pytest.raises(ConfigurationError, match=f"port {port} on 127.0.0.1 is in use"):
            server.start()


def test_stopping_closes_open_keep_alive_connections(tmp_path: Path) -> None:
    server = EmulatorServer(tmp_path / "state.sqlite")
    server.start()
    host, port = server.endpoint_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", "/2015-03-31/functions")
        connection.getresponse().read()
        server.stop()

        def request_again() -> None:
            # The request may still be written into the socket's buffer; reading then fails.
            connection.request("GET", "/2015-03-31/functions")
            connection.getresponse()

        with pytest.raises((ConnectionError, http.client.HTTPException, urllib.error.URLError)):
            request_again()
    finally:
        connection.close()


def test_faults_change_over_http(emulator: EmulatorServer, client: Any) -> None:
    """``PUT /_emulator/faults`` changes the named faults of a running server, for a test or
    benchmark that drives a separate ``serve`` process."""
    status, body = raw(emulator, "PUT", "/_emulator/faults", b'{"rate_limit": 1}')
    assert status == 200
    assert body["rate_limit"] == 1
    assert emulator.faults == Faults(rate_limit=1)
    client.list_functions()
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.list_functions()
    status, body = raw(emulator, "PUT", "/_emulator/faults", b'{"error_rate": 2}')
    assert status == 400
    assert "error_rate is a probability" in body["message"]
    status, body = raw(emulator, "PUT", "/_emulator/faults", b'{"colour": 1}')
    assert (status, "unknown faults: colour" in body["message"]) == (400, True)
    assert raw(emulator, "GET", "/_emulator/faults") == (200, body_of(Faults(rate_limit=1)))


def body_of(faults: Faults) -> dict[str, Any]:
    return {
        "latency_ms": faults.latency_ms,
        "rate_limit": faults.rate_limit,
        "update_seconds": faults.update_seconds,
        "error_rate": faults.error_rate,
        "seed": faults.seed,
    }


@pytest.mark.parametrize(
    "faults",
    [
        {"latency_ms": -1},
        {"rate_limit": 0},
        {"update_seconds": -0.5},
        {"error_rate": 1.5},
    ],
)
def test_impossible_faults_are_refused(faults: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="invalid faults"):
        Faults(**faults)


def test_an_http_method_without_a_handler_is_a_json_405(emulator: EmulatorServer) -> None:
    status, body = raw(emulator, "FROB", "/2015-03-31/functions")
    assert status == 405
    assert body["Type"] == "User"
