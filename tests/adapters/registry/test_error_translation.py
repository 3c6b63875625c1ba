"""botocore's errors become the project's own, once, in the adapter, keeping AWS's words."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from controller.adapters.registry.aws import translated
from controller.errors import (
    AccessDenied,
    Conflict,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    RegistryError,
    Throttled,
    Transient,
    UpdateInProgress,
)


def client_error(code: str, message: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "HTTPStatusCode": status,
                "HTTPHeaders": {},
                "HostId": "",
                "RequestId": "test",
                "RetryAttempts": 0,
            },
        },
        "PublishVersion",
    )


BUSY = "The operation cannot be performed at this time. An update is in progress for resource: x"


@pytest.mark.parametrize(
    ("code", "message", "status", "expected"),
    [
        ("ResourceNotFoundException", "Function not found: arn", 404, NotFound),
        ("ResourceConflictException", "Alias already exists: arn", 409, Conflict),
        ("ResourceConflictException", BUSY, 409, UpdateInProgress),
        (
            "ResourceConflictException",
            "The operation cannot be performed at this time. The function is currently in the "
            "following state: Pending",
            409,
            UpdateInProgress,
        ),
        (
            "PreconditionFailedException",
            "The Revision Id provided does not match",
            412,
            PreconditionFailed,
        ),
        (
            "InvalidParameterValueException",
            "CodeSHA256 (a) is different from current",
            400,
            PreconditionFailed,
        ),
        (
            "InvalidParameterValueException",
            "Number of items in AdditionalVersionWeights",
            400,
            InvalidRequest,
        ),
        ("ValidationException", "1 validation error detected", 400, InvalidRequest),
        ("TooManyRequestsException", "Rate exceeded", 429, Throttled),
        ("ThrottlingException", "Rate exceeded", 400, Throttled),
        ("ServiceException", "internal", 500, Transient),
        ("SomethingNew", "a 503 nobody modelled", 503, Transient),
        ("ConflictException", "moto's code for a duplicate alias", 409, Conflict),
        ("AccessDeniedException", "not authorized", 403, AccessDenied),
        ("UnrecognizedClientException", "bad token", 403, AccessDenied),
    ],
)
def test_a_client_error_becomes_the_type_of_what_to_do_next(
    code: str, message: str, status: int, expected: type[RegistryError]
) -> None:
    with pytest.raises(RegistryError) as raised, translated("PublishVersion"):
        raise client_error(code, message, status)
    assert type(raised.value) is expected
    assert (raised.value.code, raised.value.message) == (code, message)
    assert raised.value.operation == "PublishVersion"
    assert isinstance(raised.value.__cause__, ClientError)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), Transient),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), Transient),
        (NoCredentialsError(), AccessDenied),
    ],
)
def test_transport_and_credential_failures_are_classified(
    error: Exception, expected: type[RegistryError]
) -> None:
    with pytest.raises(expected), translated("ListAliases"):
        raise error


def test_the_message_names_the_operation_and_the_aws_code() -> None:
    with pytest.raises(RegistryError) as raised, translated("UpdateAlias"):
        raise client_error("PreconditionFailedException", "The Revision Id provided", 412)
    assert str(raised.value) == "UpdateAlias: PreconditionFailedException: The Revision Id provided"
