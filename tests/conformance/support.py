"""Assertions the conformance tests share: exact error codes, statuses and messages."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.backends import HANDLER, ROLE, RUNTIME, Backend, make_zip

NUMBERS_OF_NO_VERSION = ["0", "02", "99999999999999999999999"]
"""Version numbers that no version can have: numbering starts at 1 and prints no leading zeros
(rule L7), and the last is past any counter (and past a 64-bit integer)."""
NUMBER_IDS = ["zero", "leading-zero", "past-int64"]


def next_marker(page: Mapping[str, object]) -> str | None:
    """The NextMarker of a list page, or ``None`` on the last page, where Lambda leaves it out."""
    marker = page.get("NextMarker")
    return None if marker is None else str(marker)


def status_of(response: Any) -> int:
    """The HTTP status of a boto3 response or of a ClientError's response."""
    return int(response["ResponseMetadata"]["HTTPStatusCode"])


@contextmanager
def lambda_error(
    code: str, status: int, message: str | re.Pattern[str] | None = None
) -> Iterator[pytest.ExceptionInfo[ClientError]]:
    """Expect the block to fail with this error code and HTTP status, and this message if given.

    A string message must match exactly; a compiled pattern must match the whole message.
    """
    with pytest.raises(ClientError) as caught:
        yield caught
    response = caught.value.response
    error = response["Error"]
    actual = (error.get("Code"), status_of(response))
    assert actual == (code, status), f"expected {(code, status)}, got {actual}: {error}"
    if isinstance(message, str):
        assert error.get("Message") == message, f"expected message {message!r}, got {error}"
    elif message is not None:
        assert message.fullmatch(error.get("Message", "")), f"expected {message}, got {error}"


def create_function(backend: Backend, name: str = "fn", **members: Any) -> dict[str, Any]:
    """CreateFunction with the backend's role and a small zip, and whatever configuration
    ``members`` add; returns the answer once the function is Active."""
    defaults: dict[str, Any] = {
        "Runtime": RUNTIME,
        "Role": ROLE,
        "Handler": HANDLER,
        "Code": {"ZipFile": make_zip()},
    }
    created: dict[str, Any] = dict(
        backend.client().create_function(FunctionName=name, **{**defaults, **members})
    )
    backend.wait_active(name)
    return created


def update_configuration(backend: Backend, name: str = "fn", **members: Any) -> dict[str, Any]:
    """UpdateFunctionConfiguration; returns the answer once the update has finished."""
    updated: dict[str, Any] = dict(
        backend.client().update_function_configuration(FunctionName=name, **members)
    )
    backend.wait_update_finished(name)
    return updated
