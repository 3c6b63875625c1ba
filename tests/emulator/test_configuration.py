"""The configuration a version snapshots, as plain values: how a change merges, how it is stored,
and which values AWS refuses (``lambda_emulator.configuration``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_emulator.configuration import (
    Configuration,
    ConfigurationChange,
    FileSystemConfig,
    LoggingChange,
    LoggingConfig,
    VpcConfig,
    environment_text,
)

LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:deps"

texts = st.text(max_size=12)
configurations = st.builds(
    Configuration,
    environment=st.none() | st.dictionaries(texts, texts, max_size=4),
    layers=st.lists(texts, max_size=3).map(tuple),
    vpc=st.none()
    | st.builds(
        VpcConfig, st.lists(texts, max_size=2).map(tuple), st.lists(texts, max_size=2).map(tuple)
    ),
    tracing_mode=st.sampled_from(["Active", "PassThrough"]),
    ephemeral_storage=st.integers(min_value=512, max_value=10240),
    architectures=st.sampled_from([("x86_64",), ("arm64",)]),
    logging=st.builds(
        LoggingConfig, texts, st.none() | texts, st.none() | texts, st.none() | texts
    ),
    snap_start=st.sampled_from(["None", "PublishedVersions"]),
    kms_key_arn=st.none() | texts,
    file_systems=st.lists(st.builds(FileSystemConfig, texts, texts), max_size=1).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(configurations)
def test_what_is_stored_reads_back_the_same(configuration: Configuration) -> None:
    assert Configuration.from_json(configuration.to_json()) == configuration


@settings(max_examples=100, deadline=None)
@given(configurations, configurations)
def test_equal_configurations_are_stored_as_equal_text(
    first: Configuration, second: Configuration
) -> None:
    """Published versions are compared by value; the stored text agrees with that."""
    assert (first.to_json() == second.to_json()) == (first == second)


def test_an_empty_document_is_lambdas_defaults() -> None:
    """What a row written before the configuration column existed holds."""
    assert Configuration.from_json("{}") == Configuration()
    assert Configuration.from_json("") == Configuration()


def test_a_change_keeps_what_it_does_not_name() -> None:
    current = Configuration(environment={"A": "1"}, layers=(f"{LAYER}:1",), tracing_mode="Active")

    updated = current.updated(ConfigurationChange(ephemeral_storage=2048))

    assert updated == Configuration(
        environment={"A": "1"},
        layers=(f"{LAYER}:1",),
        tracing_mode="Active",
        ephemeral_storage=2048,
    )


def test_an_empty_environment_and_layers_replace_the_old_ones() -> None:
    current = Configuration(environment={"A": "1"}, layers=(f"{LAYER}:1",))

    updated = current.updated(ConfigurationChange(environment={}, layers=()))

    assert (updated.environment, updated.layers) == ({}, ())


def test_an_empty_kms_key_removes_it() -> None:
    current = Configuration(kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k")
    assert current.updated(ConfigurationChange(kms_key_arn="")).kms_key_arn is None


@pytest.mark.parametrize(
    ("current", "change", "expected"),
    [
        (LoggingConfig(), LoggingChange(log_format="JSON"), LoggingConfig("JSON", "INFO", "INFO")),
        (
            LoggingConfig("JSON", "DEBUG", "WARN"),
            LoggingChange(log_group="orders"),
            LoggingConfig("JSON", "DEBUG", "WARN", "orders"),
        ),
        (
            LoggingConfig("JSON", "DEBUG", "WARN", "orders"),
            LoggingChange(log_format="Text"),
            LoggingConfig("Text", None, None, "orders"),
        ),
        (
            LoggingConfig(),
            LoggingChange(log_format="JSON", application_log_level="ERROR"),
            LoggingConfig("JSON", "ERROR", "INFO"),
        ),
    ],
    ids=["to-json", "group-only", "back-to-text", "one-level"],
)
def test_logging_merges_as_aws_merges_it(
    current: LoggingConfig, change: LoggingChange, expected: LoggingConfig
) -> None:
    """Levels exist with JSON only, INFO when not given (LocalStack's recordings; L49)."""
    updated = Configuration(logging=current).updated(ConfigurationChange(logging=change))
    assert updated.logging == expected


def test_the_default_log_group_is_spelled_out_for_comparisons() -> None:
    assert Configuration().resolved("orders").logging.log_group == "/aws/lambda/orders"
    named = Configuration(logging=LoggingConfig(log_group="mine"))
    assert named.resolved("orders").logging.log_group == "mine"


def test_the_environment_is_measured_as_compact_utf_8_json() -> None:
    assert environment_text({"A": "é", "B": ""}) == '{"A":"é","B":""}'


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ConfigurationChange(environment={"AWS_REGION": "x", "LAMBDA_TASK_ROOT": "y"}),
            "Reserved keys used in this request: AWS_REGION, LAMBDA_TASK_ROOT",
        ),
        (
            ConfigurationChange(layers=tuple(f"{LAYER}{n}:1" for n in range(6))),
            "Cannot reference more than 5 layers.",
        ),
        (
            ConfigurationChange(layers=(f"{LAYER}:1", f"{LAYER}:1")),
            f"{LAYER}:1 and {LAYER}:1 are versions of the same layer.",
        ),
    ],
    ids=["reserved-keys", "six-layers", "one-layer-twice"],
)
def test_values_refused_on_their_merits(change: ConfigurationChange, message: str) -> None:
    refusal = change.refusal("us-east-1")
    assert refusal is not None
    assert (refusal.code, refusal.status) == ("InvalidParameterValueException", 400)
    assert message in refusal.message


def test_a_change_within_every_shape_has_no_violation() -> None:
    change = ConfigurationChange(
        environment={"STAGE": "prod"},
        layers=(f"{LAYER}:1", "arn:aws:lambda:::awslayer:AWSLambda-Python"),
        vpc=VpcConfig(("subnet-0a1",), ("sg-0B2",)),
        tracing_mode="Active",
        ephemeral_storage=10240,
        architectures=("arm64",),
        logging=LoggingChange("JSON", "TRACE", "WARN", "/custom/group#1"),
        snap_start="PublishedVersions",
        kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k",
        file_systems=(
            FileSystemConfig(
                "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0",
                "/mnt/data",
            ),
        ),
    )
    assert change.violations() == []
    assert change.refusal("us-east-1") is None
