"""Reading one message: every spelling of a function, every event name, and hostile input.

A message comes from a queue anyone with ``sqs:SendMessage`` can write to, so whatever it holds
gives a ``ChangeEvent``, an ``Ignored`` or a ``Malformed``, never an exception: the properties
at the end feed the parser arbitrary JSON (bounded) and arbitrary text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.events import (
    MAX_CLOCK_AHEAD,
    MAX_EVENT_AGE,
    MAX_MESSAGE_BYTES,
    OPERATIONS,
    Caller,
    ChangeEvent,
    Ignored,
    Malformed,
    ManagedFunctions,
    WriterIdentity,
    event_lag,
    event_pattern,
    judge,
    parse_event,
)
from controller.core.model import FunctionId
from tests.core.events.forging import fields, forge

ACCOUNT = "123456789012"
OTHER = "210987654321"
PROPERTIES = settings(max_examples=300, deadline=None)


def event(
    function_name: object = "orders-api",
    *,
    event_name: object = "UpdateAlias20150331",
    account: object = ACCOUNT,
    region: object = "us-east-1",
    **detail: Any,
) -> dict[str, Any]:
    """An EventBridge event of a CloudTrail record, as the samples have it."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/jane"},
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": "lambda.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "requestParameters": {"functionName": function_name, "name": "live"},
        "responseElements": None,
        "eventID": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "recipientAccountId": account,
    }
    record.update(detail)
    return {
        "version": "0",
        "id": "6f4b2c1e-9d3a-4f8e-b1c7-2a5e8d0f3b94",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.lambda",
        "account": account,
        "time": "2024-05-01T12:00:03Z",
        "region": region,
        "resources": [],
        "detail": record,
    }


def parsed(message: dict[str, Any]) -> ChangeEvent:
    result = parse_event(json.dumps(message))
    assert isinstance(result, ChangeEvent), result
    return result


@pytest.mark.parametrize(
    ("spelled", "function"),
    [
        ("orders-api", FunctionId(ACCOUNT, "us-east-1", "orders-api")),
        ("orders-api:live", FunctionId(ACCOUNT, "us-east-1", "orders-api")),
        ("orders-api:$LATEST", FunctionId(ACCOUNT, "us-east-1", "orders-api")),
        (f"{OTHER}:function:orders-api", FunctionId(OTHER, "us-east-1", "orders-api")),
        (f"{OTHER}:function:orders-api:7", FunctionId(OTHER, "us-east-1", "orders-api")),
        (
            f"arn:aws:lambda:eu-west-1:{OTHER}:function:orders-api",
            FunctionId(OTHER, "eu-west-1", "orders-api"),
        ),
        (
            f"arn:aws:lambda:eu-west-1:{OTHER}:function:orders-api:live",
            FunctionId(OTHER, "eu-west-1", "orders-api"),
        ),
        (
            f"arn:aws-cn:lambda:cn-north-1:{OTHER}:function:orders-api",
            FunctionId(OTHER, "cn-north-1", "orders-api"),
        ),
        ("function:orders-api", FunctionId(ACCOUNT, "us-east-1", "orders-api")),
        ("etl-job-2:live", FunctionId(ACCOUNT, "us-east-1", "etl-job-2")),
        (
            f"eu-west-1:{OTHER}:function:orders-api",
            FunctionId(OTHER, "eu-west-1", "orders-api"),
        ),
        (
            f"arn:aws:lambda:eusc-de-east-1:{OTHER}:function:orders-api",
            FunctionId(OTHER, "eusc-de-east-1", "orders-api"),
        ),
        # The partition is not checked against the region: a partition the project does not
        # know yet must not make a real event malformed, and a lying one costs one read.
        (
            f"arn:aws-cn:lambda:us-east-1:{OTHER}:function:orders-api",
            FunctionId(OTHER, "us-east-1", "orders-api"),
        ),
    ],
)
def test_every_spelling_of_a_function_is_one_identity(spelled: str, function: FunctionId) -> None:
    """A name is in the event's account and region; a partial ARN brings its account, an ARN
    its account and region; a version or alias qualifier names the same function."""
    assert parsed(event(spelled)).function == function


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    "suffix", ["", "20150331", "20150331v2", "20170331v3", "20150331V2", "20991231v10beta", "20"]
)
def test_each_operation_with_or_without_its_api_version(operation: str, suffix: str) -> None:
    assert parsed(event(event_name=f"{operation}{suffix}")).operation == operation


@pytest.mark.parametrize(
    "event_name",
    [
        "DeleteFunctionConcurrency20171031",
        "DeleteFunctionUrlConfig20211031",
        "CreateFunctionUrlConfig20211031",
        "UpdateFunctionCodeSigningConfig",
        "UpdateAliasX",
        "UpdateAlias2",
        "UpdateAlias1920",
        "UpdateAlias20150331 ",
        "UpdateAlias20150331-v2",
        "updatealias20150331",
        "GetAlias20150331",
        "ListAliases20150331",
        "Invoke",
    ],
)
def test_lookalike_and_read_only_calls_are_ignored(event_name: str) -> None:
    assert isinstance(parse_event(json.dumps(event(event_name=event_name))), Ignored)


def test_a_failed_call_is_ignored() -> None:
    failed = event(errorCode="ResourceConflictException", errorMessage="busy")
    result = parse_event(json.dumps(failed))
    assert isinstance(result, Ignored)
    assert result.reason == "UpdateAlias failed (detail.errorCode is set): nothing changed"


def test_the_account_comes_from_the_envelope_else_the_record_else_is_left_open() -> None:
    message = event()
    message["account"] = OTHER
    assert parsed(message).function.account == OTHER
    del message["account"]  # moto's envelope has none
    assert parsed(message).function.account == ACCOUNT
    del message["detail"]["recipientAccountId"]
    assert parsed(message).function == FunctionId(None, "us-east-1", "orders-api")


def test_the_records_region_wins_and_the_envelopes_stands_in() -> None:
    message = event(region="eu-west-1")
    message["region"] = "us-west-2"
    assert parsed(message).function.region == "eu-west-1"
    del message["detail"]["awsRegion"]
    assert parsed(message).function.region == "us-west-2"


def test_a_record_without_its_request_names_the_function_of_its_response() -> None:
    message = event(
        requestParameters=None,
        responseElements={"functionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f:7"},
    )
    assert parsed(message).function == FunctionId(ACCOUNT, "us-east-1", "f")


def test_the_caller_and_the_time() -> None:
    message = event(
        userIdentity={
            "type": "AssumedRole",
            "arn": "arn:aws:sts::1:assumed-role/r/s",
            "accessKeyId": "ASIA1",
        }
    )
    change = parsed(message)
    assert change.caller == Caller("arn:aws:sts::1:assumed-role/r/s", "ASIA1")
    assert change.happened_at == 1714564800.0
    message["detail"]["eventTime"] = "yesterday"
    assert parsed(message).happened_at == 1714564803.0  # EventBridge's time stands in


@pytest.mark.parametrize(
    ("event_time", "happened_at"),
    [
        ("1970-01-01T00:00:00Z", 0.0),  # a time, though a falsy one: not replaced by "time"
        ("0001-01-01T00:00:00Z", -62135596800.0),
        ("0001-01-01T00:00:00+23:59", -62135683140.0),
        ("9999-12-31T23:59:59Z", 253402300799.0),
        ("2024-05-01T12:00:00", 1714564803.0),  # no time zone: EventBridge's time stands in
        ("2024-13-01T12:00:00Z", 1714564803.0),
        (1714564800, 1714564803.0),
        (None, 1714564803.0),
    ],
)
def test_any_event_time_is_read_without_raising(event_time: object, happened_at: float) -> None:
    assert parsed(event(eventTime=event_time)).happened_at == happened_at


@pytest.mark.parametrize(
    ("happened_at", "received_at", "lag"),
    [
        (1000.0, 1002.5, 2.5),
        (1000.0, 1000.0 - MAX_CLOCK_AHEAD, 0.0),  # CloudTrail's clock a little ahead: no lag
        (1000.0, 999.0 - MAX_CLOCK_AHEAD, None),
        (1000.0, 1000.0 + MAX_EVENT_AGE, MAX_EVENT_AGE),
        (1000.0, 1001.0 + MAX_EVENT_AGE, None),
        (-62135596800.0, 1714564800.0, None),  # year 1
        (253402300799.0, 1714564800.0, None),  # year 9999
        (None, 1714564800.0, None),
        (float("nan"), 1714564800.0, None),
        (float("-inf"), 1714564800.0, None),
        (1714564800.0, float("inf"), None),
    ],
)
def test_the_lag_is_only_one_an_event_in_the_queue_can_have(
    happened_at: float | None, received_at: float, lag: float | None
) -> None:
    """A forged or wrong eventTime gives no lag, not an absurd or negative sample."""
    assert event_lag(happened_at, received_at) == lag


@PROPERTIES
@given(st.floats() | st.none(), st.floats())
def test_a_lag_is_none_or_a_finite_number_of_seconds_within_the_queues_retention(
    happened_at: float | None, received_at: float
) -> None:
    lag = event_lag(happened_at, received_at)
    assert lag is None or 0.0 <= lag <= MAX_EVENT_AGE


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "not JSON"),
        ("{", "not JSON"),
        ("[1, 2]", "a JSON array, not an object"),
        ('"text"', "a JSON string, not an object"),
        ("null", "a JSON null, not an object"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),
        (" " * (MAX_MESSAGE_BYTES + 1), "more than SQS holds"),
        (json.dumps({"source": "aws.lambda"}), "detail-type missing"),
        (
            json.dumps({**event(), "source": "aws.ec2"}),
            "(detail-type 'AWS API Call via CloudTrail', source a string of 7 characters)",
        ),
        (json.dumps({**event(), "detail": "x"}), "detail is a string of 1 character, not an"),
        (json.dumps({**event(), "detail": [1]}), "detail is an array, not an object"),
        (
            json.dumps(event(eventSource="s3.amazonaws.com")),
            "eventSource is a string of 16 characters, not lambda.amazonaws.com",
        ),
        (json.dumps(event(event_name=7)), "eventName is a number, not a string"),
        (json.dumps(event(region=None)), "region is missing"),
        (json.dumps(event(region="moon-1")), "region is a string of 6 characters, not an AWS"),
        (json.dumps(event(region={"a": 1})), "region is missing"),
        (json.dumps(event(None)), "names no function"),
        (json.dumps(event("")), "names no function"),
        (
            json.dumps(event("orders api")),
            "UpdateAlias: requestParameters.functionName (a string of 10 characters) is not a "
            "Lambda function name or ARN",
        ),
        (json.dumps(event("x" * 65)), "is not a Lambda function name"),
        (json.dumps(event("arn:aws:lambda:orders-api")), "is not a Lambda function name"),
        (json.dumps(event("orders-api:live:7")), "is not a Lambda function name"),
        (json.dumps(event("orders-api:")), "is not a Lambda function name"),
        (json.dumps(event("orders-api\n")), "is not a Lambda function name"),
        (json.dumps(event("x" * 10_000)), "(a string of 10000 characters) is not a Lambda"),
    ],
)
def test_malformed_messages_say_why(body: str, reason: str) -> None:
    result = parse_event(body)
    assert isinstance(result, Malformed)
    assert reason in result.reason
    assert len(result.reason) < 300


def test_a_reason_quotes_little_of_what_it_got() -> None:
    result = parse_event(json.dumps(event("a" * 5000)))
    assert isinstance(result, Malformed)
    assert len(result.reason) < 200


def test_managed_functions_match_by_identity_and_an_open_account_matches_any() -> None:
    ours = FunctionId(ACCOUNT, "us-east-1", "orders-api")
    theirs = FunctionId(OTHER, "us-east-1", "orders-api")
    unknown = FunctionId(None, "us-east-1", "billing-worker")  # declared offline, bare name
    managed = ManagedFunctions([ours, theirs, unknown])
    assert managed.matching(FunctionId(ACCOUNT, "us-east-1", "orders-api")) == (ours,)
    assert managed.matching(FunctionId(None, "us-east-1", "orders-api")) == (ours, theirs)
    assert managed.matching(FunctionId(OTHER, "us-east-1", "billing-worker")) == (unknown,)
    assert managed.matching(FunctionId(ACCOUNT, "eu-west-1", "orders-api")) == ()


def test_the_verdict_asks_about_the_function_before_the_caller() -> None:
    ours = FunctionId(ACCOUNT, "us-east-1", "orders-api")
    managed = ManagedFunctions([ours])
    writer = WriterIdentity(access_key_ids=frozenset({"AKIAOWN"}))
    someone = parse_event(json.dumps(event()))
    own = parse_event(json.dumps(event(userIdentity={"accessKeyId": "AKIAOWN"})))
    other = parse_event(
        json.dumps(event("billing-worker", userIdentity={"accessKeyId": "AKIAOWN"}))
    )
    assert judge(someone, managed, writer).functions == (ours,)
    assert judge(someone, managed, writer).result == "matched"
    assert judge(own, managed, writer).result == "self"
    assert judge(other, managed, writer).result == "unmanaged"
    assert judge(Malformed("x"), managed, writer).result == "malformed"
    assert judge(Ignored("x"), managed, writer).result == "unmanaged"


def test_the_pattern_names_each_operation_and_its_versioned_names() -> None:
    names = event_pattern()["detail"]["eventName"]
    assert [n for n in names if isinstance(n, str)] == list(OPERATIONS)
    assert [n["prefix"] for n in names if isinstance(n, dict)] == [f"{o}20" for o in OPERATIONS]
    assert event_pattern() is not event_pattern()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=40,
)


@PROPERTIES
@given(json_values)
def test_any_json_is_read_without_raising(value: object) -> None:
    assert isinstance(parse_event(json.dumps(value)), (ChangeEvent, Ignored, Malformed))


@PROPERTIES
@given(st.text(max_size=200))
def test_any_text_is_read_without_raising(text: str) -> None:
    assert isinstance(parse_event(text), (ChangeEvent, Ignored, Malformed))


@PROPERTIES
@given(st.lists(st.tuples(fields, json_values), min_size=1, max_size=4))
def test_a_real_event_with_any_field_replaced_is_read_without_raising(
    changes: list[tuple[str, object]],
) -> None:
    """Replacing any field of a real event by any JSON value gives one of the three results,
    and a change still names a function Lambda could have: its name is a valid one."""
    result = parse_event(json.dumps(forge(event(), changes)))
    assert isinstance(result, (ChangeEvent, Ignored, Malformed))
    if isinstance(result, ChangeEvent):
        assert 1 <= len(result.function.name) <= 64
        assert result.function.account is None or len(result.function.account) == 12


SECRET = "hunter2-PASSWORD"
"""What a forged message may carry anywhere (a forged record's environment variable, a URL with
credentials); no reason may quote a character run of it."""
secret_values = st.sampled_from(
    [
        SECRET,
        f"https://admin:{SECRET}@example.com/x",
        f"orders-api:{SECRET}",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{SECRET}:x",
        f"{SECRET}\n\x00\u2028",
        {"Variables": {"DB_PASSWORD": SECRET}},
        [SECRET],
    ]
)


@PROPERTIES
@given(st.lists(st.tuples(fields, secret_values), min_size=1, max_size=3))
def test_a_reason_never_quotes_the_message(changes: list[tuple[str, object]]) -> None:
    """Whatever field holds a secret, the reason (logged with each malformed message) tells
    what is wrong with it without a character of it."""
    message = event(environment={"variables": {"DB_PASSWORD": SECRET}})
    result = parse_event(json.dumps(forge(message, changes)))
    if isinstance(result, (Ignored, Malformed)):
        assert "hunter2" not in result.reason
        assert "PASSWORD" not in result.reason


@pytest.mark.parametrize(
    "message",
    [
        {**event(), "source": f"https://user:{SECRET}@example.com"},
        {**event(), "detail-type": SECRET},
        event(eventSource=SECRET),
        event(event_name=f"UpdateAlias{SECRET}"),
        event(errorCode=SECRET),
        event(region=SECRET),
        event(f"https://user:{SECRET}@example.com"),
        event(requestParameters=None, responseElements={"functionArn": f"{SECRET}!"}),
    ],
)
def test_a_malformed_or_ignored_message_is_described_not_quoted(message: dict[str, Any]) -> None:
    result = parse_event(json.dumps(message))
    assert isinstance(result, (Ignored, Malformed))
    assert "hunter2" not in result.reason


@pytest.mark.parametrize(
    "body",
    [
        '{"detail": ' + "1" * 5000 + "}",  # past Python's limit of digits in an int from text
        '{"detail": 1' + "0" * 5000 + ".5}",
        '{"source": NaN, "detail-type": Infinity, "detail": -Infinity}',
        '{"source": "aws.lambda", "source": "aws.ec2"}',
        "{" * 10_000 + "}" * 10_000,
        '{"a": "' + "x" * 262_000 + '"}',
    ],
)
def test_numbers_past_pythons_limits_deep_nesting_and_odd_literals_are_malformed(
    body: str,
) -> None:
    assert isinstance(parse_event(body), Malformed)
