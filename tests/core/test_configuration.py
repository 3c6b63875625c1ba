"""The configuration a version snapshots, as a value: compared as Lambda normalises it, shown
without a secret, and held to the limits the emulator and botocore hold it to.

The core imports neither the emulator nor botocore, so it keeps its own copy of Lambda's
limits; the first tests keep the copies equal.
"""

from __future__ import annotations

import re
from dataclasses import replace

import botocore.session
import pytest

from controller.core import configuration
from controller.core.configuration import (
    NOTHING,
    Configuration,
    changes,
    describe,
    environment,
    environment_size,
)
from lambda_emulator import configuration as emulated
from lambda_emulator import validation
from lambda_emulator.store import _configuration_violations

LAMBDA_MODEL = botocore.session.get_session().get_service_model("lambda")


def shape_metadata(name: str) -> dict[str, object]:
    return dict(LAMBDA_MODEL.shape_for(name).metadata)


# -- the copies of Lambda's limits ------------------------------------------------------------


def test_the_runtimes_are_the_emulators_in_aws_order_and_all_in_botocores_enum() -> None:
    assert configuration.RUNTIMES == validation.RUNTIMES
    assert configuration.RETIRED_RUNTIMES == validation.DEPRECATED_RUNTIMES
    enum = set(LAMBDA_MODEL.shape_for("Runtime").enum)  # type: ignore[attr-defined]
    assert set(configuration.RUNTIMES) <= enum
    assert set(configuration.RETIRED_RUNTIMES) <= enum


def test_the_environment_rules_are_the_emulators_and_botocores() -> None:
    assert set(emulated.RESERVED_ENVIRONMENT_KEYS) == configuration.RESERVED_ENVIRONMENT_NAMES
    assert configuration.ENVIRONMENT_LIMIT_BYTES == emulated.ENVIRONMENT_LIMIT_BYTES
    assert configuration.ENVIRONMENT_NAME_PATTERN.pattern == emulated.ENVIRONMENT_KEY_PATTERN
    assert (
        configuration.ENVIRONMENT_NAME_PATTERN.pattern
        == shape_metadata("EnvironmentVariableName")["pattern"]
    )
    variables = {"STAGE": "prod", "GREETING": "grüß dich"}
    assert environment_size(variables) == len(emulated.environment_text(variables).encode())


def test_the_layer_rules_are_the_emulators_and_botocores() -> None:
    assert configuration.LAYER_VERSION_PATTERN.pattern == emulated.LAYER_VERSION_PATTERN
    botocore_pattern = str(shape_metadata("LayerVersionArn")["pattern"])
    assert f"({configuration.LAYER_VERSION_PATTERN.pattern})" == botocore_pattern
    assert shape_metadata("LayerVersionArn")["max"] == configuration.LAYER_ARN_MAX
    assert configuration.LAYERS_LIMIT == emulated.LAYERS_LIMIT


def test_the_ranges_and_enums_are_the_emulators() -> None:
    assert configuration.EPHEMERAL_STORAGE_RANGE == emulated.EPHEMERAL_STORAGE_RANGE
    assert configuration.ARCHITECTURES == emulated.ARCHITECTURES
    assert configuration.HANDLER_PATTERN.pattern == shape_metadata("Handler")["pattern"]
    assert shape_metadata("Handler")["max"] == configuration.HANDLER_MAX
    # botocore's model allows more memory, time and storage for Managed Instances; the
    # emulator, like the core, keeps the limits of ordinary functions (rule L60).
    assert shape_metadata("MemorySize")["min"] == configuration.MEMORY_RANGE[0]
    assert shape_metadata("Timeout")["min"] == configuration.TIMEOUT_RANGE[0]
    low_timeout, high_timeout = configuration.TIMEOUT_RANGE
    low_memory, high_memory = configuration.MEMORY_RANGE
    assert _configuration_violations(low_timeout, low_memory) == []
    assert _configuration_violations(high_timeout, high_memory) == []
    assert len(_configuration_violations(low_timeout - 1, low_memory - 1)) == 2
    assert len(_configuration_violations(high_timeout + 1, high_memory + 1)) == 2


# -- comparing --------------------------------------------------------------------------------

LIVE = Configuration(
    environment=environment({"STAGE": "prod", "API_KEY": "k-123"}),
    memory_size=512,
    timeout=30,
    ephemeral_storage=512,
    runtime="python3.12",
    handler="app.handler",
    layers=("arn:aws:lambda:eu-west-1:123456789012:layer:deps:7",),
    architectures=("x86_64",),
)


@pytest.mark.parametrize(
    ("declared", "satisfied"),
    [
        (NOTHING, True),
        (Configuration(memory_size=512), True),
        (Configuration(memory_size=256), False),
        (Configuration(environment=environment({"API_KEY": "k-123", "STAGE": "prod"})), True),
        (Configuration(environment=environment({"STAGE": "prod"})), False),
        (Configuration(environment=()), False),
        (Configuration(layers=()), False),
        (Configuration(architectures=("arm64",)), False),
        (replace(LIVE, timeout=30), True),
    ],
    ids=[
        "nothing declared: any configuration",
        "a field with the live value",
        "a field with another value",
        "the same variables, in another order",
        "a variable fewer: the environment is compared whole",
        "no variables declared, some live",
        "no layers declared, one live",
        "another architecture",
        "every field as live",
    ],
)
def test_a_declared_configuration_is_satisfied_by_a_live_one_with_every_declared_field(
    declared: Configuration, satisfied: bool
) -> None:
    assert declared.satisfied_by(LIVE) is satisfied


def test_an_unreported_field_satisfies_no_declaration_of_it() -> None:
    assert not Configuration(runtime="python3.12").satisfied_by(NOTHING)


def test_an_empty_environment_is_one_with_no_variables() -> None:
    assert Configuration(environment=environment({})).satisfied_by(Configuration(environment=()))


def test_two_declarations_conflict_only_on_a_field_both_set_differently() -> None:
    assert Configuration(memory_size=512).conflicts_with(Configuration(memory_size=256))
    assert not Configuration(memory_size=512).conflicts_with(Configuration(timeout=3))
    assert not NOTHING.conflicts_with(LIVE)


def test_an_update_sets_only_what_live_lacks_and_leaves_the_rest() -> None:
    declared = Configuration(memory_size=1024, timeout=30)

    assert declared.unmet_by(LIVE) == Configuration(memory_size=1024)
    assert declared.over(LIVE) == replace(LIVE, memory_size=1024)


# -- in words, without a secret ------------------------------------------------------------------


def test_repr_names_the_variables_and_shows_no_value() -> None:
    text = repr(LIVE)

    assert "API_KEY" in text
    assert "STAGE" in text
    assert "k-123" not in text
    assert "prod" not in text
    assert "memory_size=512" in text


def test_a_publish_is_described_field_by_field_and_a_secret_by_name_only() -> None:
    declared = Configuration(
        environment=environment({"STAGE": "prod", "API_KEY": "k-123"}),
        memory_size=512,
        layers=("arn:aws:lambda:eu-west-1:123456789012:layer:deps:7",),
    )

    assert describe(declared, {"API_KEY"}) == [
        "environment.API_KEY (secret)",
        'environment.STAGE "prod"',
        "memorySize 512",
        "layers [arn:aws:lambda:eu-west-1:123456789012:layer:deps:7]",
    ]
    assert describe(Configuration(environment=())) == ["environment {}"]


def test_a_change_is_described_field_by_field_and_a_secret_says_only_that_it_changed() -> None:
    before = Configuration(
        environment=environment({"STAGE": "dev", "API_KEY": "old-key", "GONE": "x"}),
        memory_size=256,
        timeout=30,
    )
    after = Configuration(
        environment=environment({"STAGE": "prod", "API_KEY": "new-key", "NEW": "y"}),
        memory_size=512,
    )

    phrases = changes(before, after, {"API_KEY"})

    assert phrases == [
        "environment.API_KEY (secret, changed)",
        "-environment.GONE",
        '+environment.NEW "y"',
        'environment.STAGE "dev" -> "prod"',
        "memorySize 256 -> 512",
        "timeout 30 -> (not declared)",
    ]
    assert not any("key" in phrase for phrase in phrases if "API_KEY" not in phrase)
    assert changes(NOTHING, after, {"API_KEY"}) == [
        "environment.API_KEY (secret)",
        'environment.NEW "y"',
        'environment.STAGE "prod"',
        "memorySize (not declared) -> 512",
    ]
    assert changes(after, NOTHING) == [
        "environment no longer declared",
        "memorySize 512 -> (not declared)",
    ]


def test_no_phrase_ever_holds_a_secret_value() -> None:
    secret = "s3cr3t-value-42"
    declared = Configuration(environment=environment({"API_KEY": secret}))
    other = Configuration(environment=environment({"API_KEY": "other-" + secret}))

    shown = [
        *describe(declared, {"API_KEY"}),
        *changes(declared, other, {"API_KEY"}),
        *changes(NOTHING, declared, {"API_KEY"}),
        repr(declared),
    ]

    assert not any(re.search("s3cr3t", phrase) for phrase in shown), shown
