"""``spec.retainVersions``: a whole number of at least 1, ``all``, or absent; anything else is
an error at its line that says what to write, and the JSON Schema agrees with the parser.

``function(spec)`` puts the first line of ``spec`` on line 6 of the file.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from controller.core.declarations import json_schema
from controller.core.model import KEEP_ALL
from tests.core.declarations.support import SHA_A, function, parse

SPEC = f"""
versions:
  r41: {{codeSha256: "{SHA_A}"}}
aliases:
  live: {{version: r41}}
"""
"""Spec lines 1-4 (file lines 6-9): ``retainVersions`` added after it is on file line 10."""


def declared(value: str) -> str:
    return function(SPEC + f"retainVersions: {value}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5), ("1", 1), ("all", KEEP_ALL), ("null", None)],
    ids=["a number", "one, the least", "all: never delete", "null: the controller's default"],
)
def test_a_valid_retain_versions_reaches_the_desired_function(
    value: str, expected: int | str | None
) -> None:
    declarations = parse(("f.yaml", declared(value)))

    assert declarations.errors == ()
    (desired,) = declarations.functions
    assert desired.retain_versions == expected


def test_without_retain_versions_the_controller_default_applies() -> None:
    (desired,) = parse(("f.yaml", function(SPEC))).functions

    assert desired.retain_versions is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", ["spec.retainVersions: 0 would keep no version", "at least 1", "or all"]),
        ("-1", ["spec.retainVersions: -1 would keep no version"]),
        ("ten", ["spec.retainVersions: 'ten' is not a number of versions", "whole number"]),
        ("1.5", ["spec.retainVersions: 1.5 is not a whole number"]),
        ("3.0", ["spec.retainVersions: 3.0 has a decimal point; write the whole number 3"]),
        ("true", ["spec.retainVersions: true is not a number of versions"]),
        ('"5"', ["spec.retainVersions: '5' is text, not a number; write it without quotes"]),
        ("All", ["spec.retainVersions: 'All' is not all; write all in lower case"]),
        ("[3]", ["spec.retainVersions: [3] is not a number of versions"]),
    ],
    ids=[
        "zero",
        "negative",
        "a word",
        "a fraction",
        "a whole number with a point",
        "a boolean",
        "quoted",
        "All",
        "a list",
    ],
)
def test_a_bad_retain_versions_is_an_error_at_its_line(value: str, words: list[str]) -> None:
    declarations = parse(("f.yaml", declared(value)))

    assert declarations.functions == ()
    (error,) = declarations.errors
    assert str(error.location) == "f.yaml:10"
    for word in words:
        assert word in error.message, error.message


def test_an_invalid_retain_versions_keeps_the_function_untouched_not_the_others() -> None:
    bad = declared("0")
    good = function(SPEC).replace("name: orders", "name: billing")

    declarations = parse(("orders.yaml", bad), ("billing.yaml", good))

    assert [f.name for f in declarations.functions] == ["billing"]
    assert [bad.name for bad in declarations.invalid] == ["orders"]


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema())


def as_json(text: str) -> Any:
    return json.loads(json.dumps(YAML(typ="safe").load(text)))


def test_the_schema_describes_retain_versions() -> None:
    spec = json_schema()["$defs"]["FunctionSpec"]["properties"]["retainVersions"]

    assert "newest" in spec["description"]
    assert "all" in spec["description"]


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["all", "ALL", "All", " all", "5", "01", "ten", "1e3"]),
    st.lists(st.integers(0, 5), max_size=2),
    st.dictionaries(st.sampled_from(["all", "n"]), st.integers(0, 5), max_size=2),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_any_retain_versions_is_a_setting_or_an_error_at_its_line_and_the_schema_agrees(
    value: object,
) -> None:
    text = function(SPEC + "retainVersions: " + json.dumps(value))
    declarations = parse(("f.yaml", text))
    schema_errors = list(validator().iter_errors(as_json(text)))

    if declarations.functions:
        (desired,) = declarations.functions
        retained = desired.retain_versions
        assert retained is None or retained == KEEP_ALL or (type(retained) is int and retained >= 1)
        assert schema_errors == []
    else:
        (error,) = declarations.errors
        assert str(error.location) == "f.yaml:10"
        assert error.message.startswith("spec.retainVersions: ")
        # JSON Schema counts 1.0 as the integer 1; the parser asks for it written as one.
        integral = isinstance(value, float) and value.is_integer()
        assert schema_errors != [] or integral
