"""Section J of docs/lambda-rules.md: the values of a configuration AWS refuses, and in which
words (rules L57-L60)."""

# ruff: noqa: N802 - test names carry the rule id as LAMBDA_RULES.md spells it (L21d)

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.backends import ACCOUNT, Backend, moto_breaks
from tests.conformance.support import create_function, lambda_error, update_configuration

RUNTIMES = (
    "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
    "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, "
    "java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]"
)
ENVIRONMENT_TOO_LARGE = (
    "Lambda was unable to configure your environment variables because the environment "
    "variables you have provided exceeded the 4KB limit. String measured: "
)
LAYER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:deps"


def refused_create(backend: Backend, **members: Any) -> None:
    """Make a CreateFunction that the ``lambda_error`` around it expects to be refused."""
    create_function(backend, **members)


@pytest.mark.rule("L57")
@pytest.mark.parametrize("runtime", ["java8", "python3.7", "go1.x"])
@moto_breaks("creates functions with runtimes AWS no longer supports")
def test_L57_runtimes_no_longer_supported_are_refused(
    lambda_backend: Backend, runtime: str
) -> None:
    with lambda_error(
        "InvalidParameterValueException",
        400,
        f"The runtime parameter of {runtime} is no longer supported for creating or updating "
        "AWS Lambda functions. We recommend you use a supported runtime while creating or "
        "updating functions.",
    ):
        refused_create(lambda_backend, Runtime=runtime)


@pytest.mark.rule("L57")
@pytest.mark.parametrize("runtime", ["PYTHON3.9", "python9"])
@moto_breaks("accepts any runtime")
def test_L57_unknown_runtimes_are_refused_with_the_list_of_runtimes(
    lambda_backend: Backend, runtime: str
) -> None:
    with lambda_error(
        "InvalidParameterValueException",
        400,
        f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum "
        f"value set: {RUNTIMES} or be a valid ARN",
    ):
        refused_create(lambda_backend, Runtime=runtime)


@pytest.mark.rule("L57")
@pytest.mark.parametrize("runtime", ["python3.8", "nodejs16.x", "python3.14"])
def test_L57_the_runtimes_aws_lists_are_accepted(lambda_backend: Backend, runtime: str) -> None:
    create_function(lambda_backend)

    updated = update_configuration(lambda_backend, Runtime=runtime)

    assert updated["Runtime"] == runtime


@pytest.mark.rule("L58")
@moto_breaks("accepts an environment larger than 4 KB")
def test_L58_an_environment_over_4_kb_is_refused(lambda_backend: Backend) -> None:
    """Measured as compact JSON: ``{"LARGE":"x..."}`` of 4097 bytes is one too many."""
    value = "x" * (4097 - len('{"LARGE":""}'))

    with lambda_error(
        "InvalidParameterValueException",
        400,
        ENVIRONMENT_TOO_LARGE + '{"LARGE":"' + value + '"}',
    ):
        refused_create(lambda_backend, Environment={"Variables": {"LARGE": value}})


@pytest.mark.rule("L58")
def test_L58_an_environment_of_4_kb_is_accepted(lambda_backend: Backend) -> None:
    value = "x" * (4096 - len('{"LARGE":""}'))

    created = create_function(lambda_backend, Environment={"Variables": {"LARGE": value}})

    assert created.get("Environment") == {"Variables": {"LARGE": value}}


@pytest.mark.rule("L58")
@moto_breaks("accepts the environment variables Lambda reserves for itself")
def test_L58_reserved_environment_variables_are_refused(lambda_backend: Backend) -> None:
    create_function(lambda_backend)

    with lambda_error(
        "InvalidParameterValueException",
        400,
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported "
        "for modification. Reserved keys used in this request: AWS_REGION",
    ):
        lambda_backend.client().update_function_configuration(
            FunctionName="fn", Environment={"Variables": {"AWS_REGION": "eu-west-1"}}
        )


@pytest.mark.rule("L58")
@pytest.mark.parametrize("name", ["A", "1ST", "MY-VAR"])
@moto_breaks("accepts any environment variable name")
def test_L58_a_variable_name_outside_the_pattern_is_refused_without_its_value(
    lambda_backend: Backend, name: str
) -> None:
    """The value is sensitive: AWS does not quote it, nor the name."""
    with lambda_error(
        "ValidationException",
        400,
        "1 validation error detected: Value at 'environment.variables' failed to satisfy "
        "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
        "pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
    ):
        refused_create(lambda_backend, Environment={"Variables": {name: "secret-value"}})


@pytest.mark.rule("L59")
@moto_breaks("answers layers it has not published as not found, before it counts them")
def test_L59_more_than_5_layers_are_refused(lambda_backend: Backend) -> None:
    layers = [f"{LAYER}{n}:1" for n in range(6)]

    with lambda_error(
        "InvalidParameterValueException", 400, "Cannot reference more than 5 layers."
    ):
        refused_create(lambda_backend, Layers=layers)


@pytest.mark.rule("L59")
@moto_breaks("answers layers it has not published as not found, before it compares them")
def test_L59_two_versions_of_one_layer_are_refused(lambda_backend: Backend) -> None:
    with lambda_error(
        "InvalidParameterValueException",
        400,
        "Two different versions of the same layer are not allowed to be referenced in the same "
        f"function. {LAYER}:1 and {LAYER}:2 are versions of the same layer.",
    ):
        refused_create(lambda_backend, Layers=[f"{LAYER}:1", f"{LAYER}:2"])


@pytest.mark.rule("L59")
@moto_breaks("answers layers it has not published as not found, whatever their region")
def test_L59_layers_of_another_region_are_refused(lambda_backend: Backend) -> None:
    with lambda_error(
        "InvalidParameterValueException",
        400,
        "Layers are not in the same region as the function. Layers are expected to be in region "
        "us-east-1.",
    ):
        refused_create(lambda_backend, Layers=[f"arn:aws:lambda:eu-west-1:{ACCOUNT}:layer:deps:1"])


@pytest.mark.rule("L59")
@moto_breaks("answers a layer ARN without a version with HTTP 500")
def test_L59_a_layer_arn_without_its_version_is_refused(lambda_backend: Backend) -> None:
    with lambda_error(
        "ValidationException",
        400,
        re.compile(
            re.escape(f"1 validation error detected: Value '[{LAYER}]' at 'layers' failed to ")
            + ".*Member must satisfy regular expression pattern: .*"
        ),
    ):
        refused_create(lambda_backend, Layers=[LAYER])


@pytest.mark.rule("L59")
@moto_breaks("answers layers it has not published as not found")
def test_L59_layers_are_kept_with_their_arn(lambda_backend: Backend) -> None:
    """The emulator keeps no layers, so it takes any well-formed layer version to exist."""
    created = create_function(lambda_backend, Layers=[f"{LAYER}:3"])

    assert [layer["Arn"] for layer in created.get("Layers", [])] == [f"{LAYER}:3"]


ARCHITECTURES: list[tuple[list[str], str]] = [
    (
        ["x86_64", "arm64"],
        "Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must "
        "have length less than or equal to 1",
    ),
    (
        ["X86_64"],
        "Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be "
        "null]",
    ),
]
ENUMS: list[tuple[dict[str, Any], str]] = [
    (
        {"SnapStart": {"ApplyOn": "invalidOption"}},
        "Value 'invalidOption' at 'snapStart.applyOn' failed to satisfy constraint: Member must "
        "satisfy enum value set: [PublishedVersions, None]",
    ),
    (
        {"TracingConfig": {"Mode": "Always"}},
        "Value 'Always' at 'tracingConfig.mode' failed to satisfy constraint: Member must "
        "satisfy enum value set: [Active, PassThrough]",
    ),
    (
        {"LoggingConfig": {"LogFormat": "XML"}},
        "Value 'XML' at 'loggingConfig.logFormat' failed to satisfy constraint: Member must "
        "satisfy enum value set: [JSON, Text]",
    ),
]


@pytest.mark.rule("L60")
@pytest.mark.parametrize(("architectures", "violation"), ARCHITECTURES, ids=["two", "upper-case"])
@moto_breaks("quotes the architectures as a Python list in its message")
def test_L60_architectures_outside_their_shape_are_refused(
    lambda_backend: Backend, architectures: list[str], violation: str
) -> None:
    with lambda_error("ValidationException", 400, f"1 validation error detected: {violation}"):
        refused_create(lambda_backend, Architectures=architectures)


@pytest.mark.rule("L60")
def test_L60_ephemeral_storage_over_10240_mb_is_refused(lambda_backend: Backend) -> None:
    with lambda_error(
        "ValidationException",
        400,
        "1 validation error detected: Value '20480' at 'ephemeralStorage.size' failed to satisfy "
        "constraint: Member must have value less than or equal to 10240",
    ):
        refused_create(lambda_backend, EphemeralStorage={"Size": 20480})


@pytest.mark.rule("L60")
@pytest.mark.parametrize(
    ("members", "violation"),
    [pytest.param(members, violation, id=next(iter(members))) for members, violation in ENUMS],
)
@moto_breaks("checks neither SnapStart, TracingConfig nor LoggingConfig")
def test_L60_members_outside_their_enum_are_refused(
    lambda_backend: Backend, members: dict[str, Any], violation: str
) -> None:
    with lambda_error("ValidationException", 400, f"1 validation error detected: {violation}"):
        refused_create(lambda_backend, **members)


@pytest.mark.rule("L60")
def test_L60_configuration_members_inside_their_shape_are_kept(lambda_backend: Backend) -> None:
    members: dict[str, Any] = {
        "Architectures": ["arm64"],
        "TracingConfig": {"Mode": "Active"},
        "MemorySize": 1024,
        "Timeout": 900,
    }

    created = create_function(lambda_backend, **members)

    assert {member: created.get(member) for member in members} == members
