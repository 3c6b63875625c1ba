"""``spec.versions.LABEL.configuration``: the fields a version must have besides its code.

Each field is checked against Lambda's limits with an error at its line that says what to
write; an environment value is never quoted in an error (it may be a secret); the JSON Schema
agrees with the parser. ``function(spec)`` puts the first line of ``spec`` on line 6 of the
file, so the configuration's first field is on line 10.
"""

from __future__ import annotations

import json
import string
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from controller.core.configuration import Configuration, environment
from controller.core.declarations import json_schema
from tests.core.declarations.support import SHA_A, SHA_B, function, parse

LAYER = "arn:aws:lambda:eu-west-1:123456789012:layer:deps:7"


def declared(configuration: str, *, region: str = "") -> str:
    """A function with one version, r1, whose configuration block is ``configuration``
    (written as YAML lines under ``configuration:``, the first on file line 10)."""
    lines = "\n".join("      " + line for line in configuration.strip("\n").splitlines())
    spec = f"""
versions:
  r1:
    codeSha256: "{SHA_A}"
    configuration:
{lines}
aliases:
  live: {{version: r1}}
"""
    return function(spec + (f"region: {region}\n" if region else ""))


def only_error(text: str) -> tuple[str, str]:
    declarations = parse(("f.yaml", text))
    assert declarations.functions == ()
    (error,) = declarations.errors
    return str(error.location), error.message


# -- what a valid block becomes --------------------------------------------------------------------


def test_every_field_reaches_the_desired_version() -> None:
    text = declared(
        f"""
environment:
  STAGE: prod
  FEATURE_X: "on"
  API_KEY: {{value: "k-123", secret: true}}
  PLAIN: {{value: "x"}}
memorySize: 512
timeout: 30
ephemeralStorage: 1024
runtime: python3.13
handler: app.handler
layers: [{LAYER}]
architectures: [arm64]
"""
    )

    declarations = parse(("f.yaml", text))

    assert declarations.errors == ()
    (desired,) = declarations.functions
    version = desired.versions["r1"]
    assert version.configuration == Configuration(
        environment=environment(
            {"STAGE": "prod", "FEATURE_X": "on", "API_KEY": "k-123", "PLAIN": "x"}
        ),
        memory_size=512,
        timeout=30,
        ephemeral_storage=1024,
        runtime="python3.13",
        handler="app.handler",
        layers=(LAYER,),
        architectures=("arm64",),
    )
    assert version.secrets == {"API_KEY"}


def test_only_the_fields_given_are_declared() -> None:
    (desired,) = parse(("f.yaml", declared("memorySize: 256"))).functions

    assert desired.versions["r1"].configuration == Configuration(memory_size=256)
    assert desired.versions["r1"].secrets == frozenset()


def test_an_empty_environment_declares_no_variables() -> None:
    (desired,) = parse(("f.yaml", declared("environment: {}"))).functions

    assert desired.versions["r1"].configuration == Configuration(environment=())


# -- Lambda's limits, each at its line -----------------------------------------------------------


@pytest.mark.parametrize(
    ("configuration", "line", "words"),
    [
        ("memorySize: 64", 10, ["configuration.memorySize: 64 MB is outside", "128 to 10240"]),
        ("memorySize: 10241", 10, ["128 to 10240"]),
        ('memorySize: "512"', 10, ["'512' is text, not a number; write it without quotes"]),
        ("memorySize: 1.5", 10, ["1.5 is not a whole number of MB"]),
        ("memorySize: true", 10, ["true is not a whole number"]),
        ("timeout: 0", 10, ["timeout: 0 seconds is outside Lambda's limits", "1 to 900"]),
        ("timeout: 901", 10, ["1 to 900"]),
        ("ephemeralStorage: 256", 10, ["ephemeralStorage: 256 MB", "512 to 10240"]),
        ("runtime: python3.7", 10, ["no longer", "rule L57", "python3.14"]),
        ("runtime: pyhton3.12", 10, ["not a runtime Lambda accepts", "did you mean 'python3.12'"]),
        ("runtime: Python3.12", 10, ["not a runtime Lambda accepts"]),
        ("handler: app handler", 10, ["not a handler Lambda accepts", "without spaces"]),
        ("handler: ''", 10, ["not a handler"]),
        ("layers: [arn:aws:lambda:eu-west-1:123456789012:layer:deps]", 10, ["not a layer version"]),
        ("layers: " + LAYER, 10, ["must be a list of layer version ARNs"]),
        (
            "layers: ["
            + ", ".join(f"{LAYER[:-1]}{n}".replace("deps", f"d{n}") for n in range(6))
            + "]",
            10,
            ["6 layers", "at most 5", "rule L59"],
        ),
        (f"layers: [{LAYER}, {LAYER[:-1]}8]", 10, ["two versions of one layer", "rule L59"]),
        ("architectures: [X86_64]", 10, ["[x86_64] or [arm64]", "rule L60"]),
        ("architectures: [x86_64, arm64]", 10, ["exactly one"]),
        ("architectures: arm64", 10, ["[x86_64] or [arm64]"]),
        ("environment: {1X: a}", 10, ["environment variable name '1X'", "rule L58"]),
        ("environment: {A: a}", 10, ["name 'A' is not one Lambda accepts"]),
        ("environment: {AWS_REGION: a}", 10, ["AWS_REGION is a variable Lambda sets itself"]),
        ("environment: {PORT: 8080}", 10, ["the value is a number, not text; quote it"]),
        ("environment: {ON: true}", 10, ["the value is true or false, not text"]),
        ("environment: {KEY: {value: 1}}", 10, ["value is a number, not text"]),
        ("environment: {KEY: {secret: true}}", 10, ["value is missing"]),
        (
            "environment: {KEY: {value: x, secret: 'yes'}}",
            10,
            ["secret is text; write true or false"],
        ),
        ("environment: {KEY: {value: x, hidden: true}}", 10, ["unknown field 'hidden'"]),
        ("environment: {KEY: {valueFrom: {ssm: /p}}}", 10, ["valueFrom", "not supported yet"]),
        ("environment: [A=1]", 10, ["environment must be a mapping", "not shown here"]),
        ("memory: 512", 10, ["unknown field 'memory'", "memorySize"]),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_field_outside_lambdas_limits_is_an_error_at_its_line(
    configuration: str, line: int, words: list[str]
) -> None:
    where, message = only_error(declared(configuration))

    assert where == f"f.yaml:{line}"
    assert "spec.versions.r1.configuration" in message, message
    for word in words:
        assert word in message, message


def test_an_environment_over_4_kb_as_lambda_counts_it_is_an_error() -> None:
    # {"A1":"xxx...","A2":"xxx..."}: 7 bytes a variable besides its value, then a comma
    # between them and the braces: 17 bytes besides the values.
    at_the_limit = {"A1": "x" * 2043, "A2": "x" * 2036}
    over = {"A1": "x" * 2043, "A2": "x" * 2037}

    assert parse(("f.yaml", declared(f"environment: {json.dumps(at_the_limit)}"))).errors == ()
    where, message = only_error(declared(f"environment: {json.dumps(over)}"))
    assert where == "f.yaml:10"
    assert "4097 bytes" in message
    assert "4096-byte limit (rule L58)" in message
    assert "xxx" not in message


def test_a_layer_of_another_region_than_the_functions_is_an_error_at_its_line() -> None:
    text = declared(f"layers: [{LAYER}]", region="us-east-1")

    where, message = only_error(text)

    assert where == "f.yaml:10"
    assert "a layer of eu-west-1, but the function is in us-east-1" in message
    assert "rule L59" in message


def test_routing_between_labels_of_one_code_needs_a_configuration_that_tells_them_apart() -> None:
    def routed(second: str) -> str:
        return function(
            f"""
versions:
  r1: {{codeSha256: "{SHA_A}", configuration: {{memorySize: 256}}}}
  r2: {{codeSha256: "{SHA_A}"{second}}}
aliases:
  live: {{version: r1, routing: {{r2: 0.1}}}}
"""
        )

    assert parse(("f.yaml", routed(", configuration: {memorySize: 512}"))).errors == ()
    where, message = only_error(routed(", configuration: {timeout: 30}"))
    assert where == "f.yaml:10"
    assert "no configuration field declared in both tells them apart" in message
    where, message = only_error(routed(""))
    assert "rule L21d" in message


# -- secrets are never quoted ---------------------------------------------------------------------

SECRET = "SuperSecretValue-4711"


@pytest.mark.parametrize(
    "environment_text",
    [
        f'{{API_KEY: {{value: "{SECRET}", secret: true, hidden: 1}}}}',
        f'{{API_KEY: {{value: "{SECRET}", secret: "{SECRET}"}}}}',
        f'{{"1API": {{value: "{SECRET}", secret: true}}}}',
        f'{{AWS_REGION: {{value: "{SECRET}", secret: true}}}}',
        f'[{{value: "{SECRET}", secret: true}}]',
        f'{{API_KEY: "{SECRET}", BIG: "{"x" * 4100}"}}',
        f'{{API_KEY: {{valueFrom: "{SECRET}"}}}}',
    ],
    ids=[
        "unknown field",
        "bad secret flag",
        "bad name",
        "reserved name",
        "a list",
        "too big",
        "valueFrom",
    ],
)
def test_no_error_about_an_environment_quotes_a_value(environment_text: str) -> None:
    declarations = parse(("f.yaml", declared(f"environment: {environment_text}")))

    assert declarations.errors
    for error in declarations.errors:
        assert SECRET not in str(error)


def test_a_secret_value_is_not_in_the_repr_of_the_desired_state() -> None:
    text = declared(f'environment: {{API_KEY: {{value: "{SECRET}", secret: true}}}}')

    (desired,) = parse(("f.yaml", text)).functions

    assert SECRET not in repr(desired)
    assert "API_KEY" in repr(desired)


# -- the JSON Schema agrees ----------------------------------------------------------------------


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema())


def as_json(text: str) -> Any:
    return json.loads(json.dumps(YAML(typ="safe").load(text)))


def test_the_schema_describes_the_configuration_block() -> None:
    definitions = json_schema()["$defs"]
    version = definitions["VersionSpec"]["properties"]["configuration"]
    block = definitions["ConfigurationSpec"]["properties"]

    assert "ConfigurationSpec" in json.dumps(version)
    assert set(block) == {
        "environment",
        "memorySize",
        "timeout",
        "ephemeralStorage",
        "runtime",
        "handler",
        "layers",
        "architectures",
    }
    assert validator().is_valid(as_json(declared("memorySize: 512")))
    assert not validator().is_valid(as_json(declared("memorySize: 64")))
    assert not validator().is_valid(as_json(declared("environment: {AWS_REGION1: {secret: true}}")))


NAMES = st.one_of(
    st.sampled_from(["STAGE", "API_KEY", "AWS_REGION", "_HANDLER", "A", "a1", "1A", "X-Y"]),
    st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=6),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
VALUES = st.one_of(
    SCALARS,
    st.fixed_dictionaries(
        {},
        optional={"value": SCALARS, "secret": st.one_of(st.booleans(), SCALARS), "x": SCALARS},
    ),
)
BLOCKS = st.fixed_dictionaries(
    {},
    optional={
        "environment": st.one_of(SCALARS, st.dictionaries(NAMES, VALUES, max_size=4)),
        "memorySize": st.one_of(st.integers(0, 20000), SCALARS),
        "timeout": st.one_of(st.integers(-1, 1000), SCALARS),
        "ephemeralStorage": st.one_of(st.integers(0, 20000), SCALARS),
        "runtime": st.one_of(st.sampled_from(["python3.13", "python3.7", "go1.x"]), SCALARS),
        "handler": st.one_of(st.sampled_from(["app.handler", "a b"]), SCALARS),
        "layers": st.one_of(
            st.lists(st.sampled_from([LAYER, LAYER[:-1] + "8", "arn:x"]), max_size=6), SCALARS
        ),
        "architectures": st.one_of(
            st.lists(st.sampled_from(["x86_64", "arm64", "ARM64"]), max_size=2), SCALARS
        ),
        "unknown": SCALARS,
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BLOCKS, st.text(string.ascii_letters, min_size=8, max_size=8))
def test_any_configuration_block_is_desired_state_or_errors_at_its_lines_without_a_value(
    block: dict[str, Any], marker: str
) -> None:
    """Whatever the block holds, the parser gives a version or errors at lines of the block,
    never raises, never quotes an environment value, and the JSON Schema agrees on validity."""
    secret = f"secret-{marker}"
    environment_block = block.get("environment")
    if isinstance(environment_block, dict):
        environment_block["SECRET_ONE"] = {"value": secret, "secret": True}
    text = function(
        f"""
versions:
  r1:
    codeSha256: "{SHA_A}"
    configuration: {json.dumps(block)}
  r2: {{codeSha256: "{SHA_B}"}}
"""
    )

    declarations = parse(("f.yaml", text))
    schema_errors = list(validator().iter_errors(as_json(text)))

    if declarations.functions:
        (desired,) = declarations.functions
        assert desired.versions["r1"].configuration is not None
        assert schema_errors == [], [e.message for e in schema_errors]
    else:
        assert declarations.errors
        for error in declarations.errors:
            assert str(error.location) == "f.yaml:9" or error.location.line >= 9
            assert "spec.versions.r1.configuration" in error.message, error.message
            assert secret not in error.message
        # JSON Schema counts 1.0 as the integer 1, cannot measure the 4 KB limit, and cannot
        # tell two versions of one layer apart; each is narrower in the parser, never wider.
        integral = any(isinstance(v, float) and v.is_integer() for v in block.values())
        layers = block.get("layers")
        one_layer_twice = isinstance(layers, list) and len(
            {str(arn).rsplit(":", 1)[0] for arn in layers}
        ) < len(layers)
        assert schema_errors != [] or integral or one_layer_twice
