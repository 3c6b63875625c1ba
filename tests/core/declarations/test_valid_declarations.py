"""What a valid declaration becomes: exactly the desired-state values the planner consumes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from controller.core.model import (
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionRef,
    RepoZip,
    S3Code,
    SourceLocation,
)
from tests.core.declarations.support import SHA_A, SHA_B, FakeTree, function, parse

ZIP_TREE = FakeTree({"artifacts": "directory", "artifacts/orders.zip": "file"})

VALID = [
    pytest.param(
        function("{}"),
        DesiredFunction(
            name="orders",
            ref=FunctionRef("orders", "eu-west-1"),
            versions={},
            aliases={},
            location=SourceLocation("f.yaml", 1),
        ),
        id="an empty spec defaults the function name and region",
    ),
    pytest.param(
        function(
            f"""
            functionName: orders-prod
            region: us-east-2
            versions:
              r41: {{codeSha256: "{SHA_A}"}}
              r42:
                codeSha256: "{SHA_B}"
                description: release 42
                code: {{zipFile: ./artifacts//orders.zip}}
            aliases:
              live: {{version: r41}}
              canary:
                version: r41
                routing: {{r42: 0.1}}
                description: 10% to r42
            prune: true
            suspend: true
            adopt: true
            """
        ),
        DesiredFunction(
            name="orders",
            ref=FunctionRef("orders-prod", "us-east-2"),
            versions={
                "r41": DesiredVersion("r41", SHA_A),
                "r42": DesiredVersion("r42", SHA_B, "release 42", RepoZip("artifacts/orders.zip")),
            },
            aliases={
                "live": DesiredAlias("live", "r41"),
                "canary": DesiredAlias("canary", "r41", {"r42": Decimal("0.1")}, "10% to r42"),
            },
            prune=True,
            suspend=True,
            location=SourceLocation("f.yaml", 1),
            adopt=True,
        ),
        id="every field of the design's example, and adopt",
    ),
    pytest.param(
        function(
            """
            functionName: arn:aws:lambda:ap-south-1:210987654321:function:orders
            aliases:
              live: {version: 17, routing: {18: 0.25}}
              edge: {version: "$LATEST"}
              2024-01-02: {version: "3"}
            """
        ),
        DesiredFunction(
            name="orders",
            ref=FunctionRef(
                "arn:aws:lambda:ap-south-1:210987654321:function:orders",
                "ap-south-1",
                "210987654321",
            ),
            versions={},
            aliases={
                "live": DesiredAlias("live", "17", {"18": Decimal("0.25")}),
                "edge": DesiredAlias("edge", "$LATEST"),
                "2024-01-02": DesiredAlias("2024-01-02", "3"),
            },
            location=SourceLocation("f.yaml", 1),
        ),
        id="an ARN gives region and account; unquoted numbers and date-like names are text",
    ),
    pytest.param(
        function(
            f"""
            functionName: arn:aws-cn:lambda:cn-north-1:210987654321:function:orders
            region: cn-north-1
            versions:
              v1.2.3: {{codeSha256: "{SHA_A}", code: {{s3: {{bucket: b, key: k}}}}}}
              v1.2.4:
                codeSha256: "{SHA_B}"
                code: {{s3: {{bucket: b, key: k2, objectVersion: "7"}}}}
            aliases:
              live: {{version: v1.2.3, routing: {{v1.2.4: 0.005}}}}
            """
        ),
        DesiredFunction(
            name="orders",
            ref=FunctionRef(
                "arn:aws-cn:lambda:cn-north-1:210987654321:function:orders",
                "cn-north-1",
                "210987654321",
            ),
            versions={
                "v1.2.3": DesiredVersion("v1.2.3", SHA_A, code=S3Code("b", "k")),
                "v1.2.4": DesiredVersion("v1.2.4", SHA_B, code=S3Code("b", "k2", "7")),
            },
            aliases={"live": DesiredAlias("live", "v1.2.3", {"v1.2.4": Decimal("0.005")})},
            location=SourceLocation("f.yaml", 1),
        ),
        id="s3 code sources, dotted labels and a region that agrees with the ARN",
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_a_valid_declaration_becomes_the_expected_desired_function(
    text: str, expected: DesiredFunction
) -> None:
    declarations = parse(("f.yaml", text), tree=ZIP_TREE)

    assert declarations.errors == ()
    assert declarations.functions == (expected,)


def test_weights_are_exact_decimals_not_binary_floats() -> None:
    text = function(
        f"""
        versions: {{a: {{codeSha256: "{SHA_A}"}}, b: {{codeSha256: "{SHA_B}"}}}}
        aliases: {{live: {{version: a, routing: {{b: 0.3}}}}}}
        """
    )

    (desired,) = parse(("f.yaml", text)).functions

    assert desired.aliases["live"].routing == {"b": Decimal("0.3")}
    assert str(desired.aliases["live"].routing["b"]) == "0.3"


def test_versions_and_aliases_keep_their_declaration_order() -> None:
    text = function(
        f"""
        versions: {{z: {{codeSha256: "{SHA_A}"}}, a: {{codeSha256: "{SHA_B}"}}}}
        aliases: {{zz: {{version: z}}, aa: {{version: a}}}}
        """
    )

    (desired,) = parse(("f.yaml", text)).functions

    assert list(desired.versions) == ["z", "a"]
    assert list(desired.aliases) == ["zz", "aa"]


def test_a_file_holds_several_documents_and_empty_ones_are_skipped() -> None:
    second = function("{}").replace("name: orders", "name: payments")
    text = f"---\n{function('{}')}---\n---\n# only a comment\n---\n{second}"

    declarations = parse(("f.yaml", text))

    assert [(f.name, f.location) for f in declarations.functions] == [
        ("orders", SourceLocation("f.yaml", 2)),
        ("payments", SourceLocation("f.yaml", 12)),
    ]


@pytest.mark.parametrize(
    "other",
    [
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n",
        "apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: 1}\n",
        "services: {web: {image: nginx}}\n",
        "- a list\n- of things\n",
        "just a scalar\n",
    ],
    ids=[
        "another kind",
        "another tool's Deployment",
        "no apiVersion nor kind",
        "a list",
        "a scalar",
    ],
)
def test_documents_of_other_tools_are_ignored(other: str) -> None:
    declarations = parse(("f.yaml", f"{other}---\n{function('{}')}"))

    assert declarations.errors == ()
    assert [f.name for f in declarations.functions] == ["orders"]
    [ignored] = declarations.ignored
    assert ignored.location == SourceLocation("f.yaml", 1)
    assert "not a lambda-gitops document" in ignored.reason


def test_files_are_read_in_path_order_whatever_order_they_come_in() -> None:
    def named(name: str) -> str:
        return function("{}").replace("name: orders", f"name: {name}")

    declarations = parse(("b/z.yaml", named("z")), ("a.yaml", named("a")), ("b/a.yml", named("m")))

    assert [f.name for f in declarations.functions] == ["a", "m", "z"]
    assert declarations.revision == ""


def test_a_byte_order_mark_is_not_an_error() -> None:
    declarations = parse(("f.yaml", "\ufeff" + function("{}")))

    assert declarations.is_valid
    assert [f.name for f in declarations.functions] == ["orders"]
