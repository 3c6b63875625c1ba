"""Section F of LAMBDA_RULES.md: throttling and botocore's retries (rules L40-L42).

Real AWS throttles at its own quotas; the emulator throttles at ``Faults(rate_limit=...)``
requests a second, which is how these tests make a throttled request happen on purpose.
"""

# ruff: noqa: N802 - test names carry the rule id as LAMBDA_RULES.md spells it (L21d)

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_emulator import Faults
from tests.backends import Backend, RetryMode, moto_breaks
from tests.conformance.support import lambda_error, status_of

THROTTLED_BODY = {"Reason": "CallerRateLimitExceeded", "Type": "User", "message": "Rate exceeded"}


def exhaust_rate_quota(backend: Backend, name: str, *, attempts: int = 10) -> None:
    """Call GetFunction with a client that does not retry until one call is throttled."""
    lambda_ = backend.client()
    for _ in range(attempts):
        try:
            lambda_.get_function(FunctionName=name)
        except ClientError as error:
            if status_of(error.response) == 429:
                return
            raise
    raise AssertionError(f"{attempts} calls in a burst were all admitted")


@pytest.mark.rule("L40")
@pytest.mark.skip(
    reason="L40: the quotas (100 GetFunction/s, 15/s for the rest) are those of real AWS; the "
    "emulator's rate limit is a setting, checked under L41 and L42"
)
def test_L40_control_plane_calls_are_limited_per_account_and_region(
    lambda_backend: Backend,
) -> None:
    raise AssertionError("not observable")


@pytest.mark.rule("L41")
@moto_breaks("never throttles")
def test_L41_a_burst_over_the_rate_quota_gets_429_rate_exceeded(lambda_backend: Backend) -> None:
    lambda_backend.create_function("fn")
    lambda_backend.inject_faults(Faults(rate_limit=2))
    lambda_ = lambda_backend.client()
    raw_bodies: list[bytes] = []

    def keep_throttled_body(response_dict: dict[str, Any], **_: Any) -> None:
        if response_dict["status_code"] == 429:
            raw_bodies.append(response_dict["body"])

    lambda_.meta.events.register("before-parse.lambda.GetFunction", keep_throttled_body)

    with lambda_error("TooManyRequestsException", 429, "Rate exceeded") as caught:
        for _ in range(10):
            lambda_.get_function(FunctionName="fn")

    assert caught.value.response.get("Reason") == "CallerRateLimitExceeded"
    assert json.loads(raw_bodies[0]) == THROTTLED_BODY


@pytest.mark.rule("L41")
def test_L41_requests_within_the_rate_quota_are_admitted(lambda_backend: Backend) -> None:
    lambda_backend.create_function("fn")
    lambda_backend.inject_faults(Faults(rate_limit=1000))
    lambda_ = lambda_backend.client()

    statuses = [status_of(lambda_.get_function(FunctionName="fn")) for _ in range(10)]

    assert statuses == [200] * 10


@pytest.mark.rule("L42")
@pytest.mark.parametrize(("retry_mode", "max_attempts"), [("standard", 3), ("legacy", 5)])
@moto_breaks("never throttles, so there is no throttled call to retry")
def test_L42_a_throttled_call_is_retried_until_it_succeeds(
    lambda_backend: Backend, retry_mode: RetryMode, max_attempts: int
) -> None:
    """The quota is lifted as soon as the first attempt is throttled, so that the retry is
    admitted whatever delay botocore's backoff picks."""
    lambda_backend.create_function("fn")
    lambda_backend.inject_faults(Faults(rate_limit=1))
    exhaust_rate_quota(lambda_backend, "fn")
    lambda_ = lambda_backend.client(retry_mode=retry_mode, max_attempts=max_attempts)
    attempts: list[int] = []

    def lift_quota_once_throttled(response: Any, **_: Any) -> None:
        status = response[0].status_code if response else 0
        attempts.append(status)
        if status == 429:
            lambda_backend.inject_faults(Faults())

    lambda_.meta.events.register_first("needs-retry.lambda.GetFunction", lift_quota_once_throttled)

    found = lambda_.get_function(FunctionName="fn")

    assert status_of(found) == 200
    assert attempts == [429, 200]


@pytest.mark.rule("L42")
@pytest.mark.parametrize(("retry_mode", "max_attempts"), [("standard", 3), ("legacy", 5)])
def test_L42_not_found_is_not_retried(
    lambda_backend: Backend, retry_mode: RetryMode, max_attempts: int
) -> None:
    lambda_ = lambda_backend.client(retry_mode=retry_mode, max_attempts=max_attempts)
    attempts: list[int] = []
    lambda_.meta.events.register(
        "needs-retry.lambda.GetFunction",
        lambda response, **_: attempts.append(response[0].status_code if response else 0),
    )

    with lambda_error("ResourceNotFoundException", 404):
        lambda_.get_function(FunctionName="nope")
    assert attempts == [404]


@pytest.mark.rule("L42")
@pytest.mark.parametrize(("retry_mode", "max_attempts"), [("standard", 3), ("legacy", 5)])
@moto_breaks("never has an update in progress, so never answers 409")
def test_L42_a_conflict_with_an_update_in_progress_is_not_retried(
    lambda_backend: Backend, retry_mode: RetryMode, max_attempts: int
) -> None:
    lambda_backend.create_function("fn")
    lambda_backend.inject_faults(Faults(update_seconds=5))
    lambda_ = lambda_backend.client(retry_mode=retry_mode, max_attempts=max_attempts)
    lambda_.update_function_configuration(FunctionName="fn", Description="in progress")
    attempts: list[int] = []
    lambda_.meta.events.register(
        "needs-retry.lambda.PublishVersion",
        lambda response, **_: attempts.append(response[0].status_code if response else 0),
    )

    with lambda_error("ResourceConflictException", 409):
        lambda_.publish_version(FunctionName="fn")
    assert attempts == [409]
