"""The JSON Schema that editors and CI use agrees with the parser on what a declaration is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from ruamel.yaml import YAML

from controller.adapters.git.reader import load_folder
from controller.core.declarations import json_schema
from tests.core.declarations.support import SHA_A, SHA_B, function

EXAMPLE = function(
    f"""
    functionName: orders-api
    region: eu-west-1
    versions:
      r41: {{codeSha256: "{SHA_A}"}}
      r42:
        codeSha256: "{SHA_B}"
        description: release 42
        code: {{zipFile: artifacts/orders-api-r42.zip}}
      r43:
        codeSha256: "{SHA_B}"
        code: {{s3: {{bucket: b, key: k, objectVersion: v}}}}
    aliases:
      live: {{version: r41}}
      old: {{version: 17}}
      canary: {{version: r41, routing: {{r42: 0.1}}, description: 10% to r42}}
    prune: false
    suspend: false
    adopt: true
    retainVersions: 10
    """
)


def as_json(text: str) -> Any:
    return json.loads(json.dumps(YAML(typ="safe").load(text)))


def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_schema_has_a_dialect_a_title_and_help_on_fields() -> None:
    schema = json_schema()

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "lambda-gitops Function"
    version = schema["$defs"]["VersionSpec"]["properties"]
    assert "CodeSha256" in version["codeSha256"]["description"]
    assert set(schema["$defs"]["FunctionSpec"]["properties"]) == {
        "functionName",
        "region",
        "versions",
        "aliases",
        "prune",
        "suspend",
        "adopt",
        "retainVersions",
    }


def test_the_example_declaration_is_valid_against_the_schema() -> None:
    assert list(validator().iter_errors(as_json(EXAMPLE))) == []


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("unknown: 1", "an unknown field"),
        ('aliases: {"2024": {version: r1}}', "an all-digit alias name"),
        ('versions: {"42": {codeSha256: "' + SHA_A + '"}}', "an all-digit label"),
        ("aliases: {live: {version: r1, routing: {r2: 1}}}", "a weight of 1"),
        ("aliases: {live: {version: r1, routing: {r2: 0.1, r3: 0.1}}}", "two routes"),
        ('versions: {r1: {codeSha256: "abc"}}', "a short codeSha256"),
        ("region: Europe", "a bad region"),
        ("prune: yes", "a string for a boolean"),
        ("retainVersions: 0", "no version kept"),
        ("retainVersions: many", "a word for a number of versions"),
    ],
)
def test_the_schema_refuses_what_the_parser_refuses(spec: str, why: str) -> None:
    errors = list(validator().iter_errors(as_json(function(spec))))

    assert errors, why


EXAMPLES = Path(__file__).parents[3] / "config" / "examples" / "declarations"


def test_the_shipped_example_declarations_are_valid_for_the_schema_and_the_loader() -> None:
    loaded = load_folder(EXAMPLES, default_region="eu-west-1", root=EXAMPLES)
    documents = [
        document
        for file in sorted(EXAMPLES.rglob("*.yaml"))
        for document in YAML(typ="safe").load_all(file.read_text())
        if document and document.get("kind") == "Function"
    ]

    assert loaded.errors == ()
    assert len(loaded.functions) == len(documents) > 0
    for document in documents:
        assert list(validator().iter_errors(as_json_value(document))) == []


def as_json_value(document: object) -> Any:
    return json.loads(json.dumps(document))
