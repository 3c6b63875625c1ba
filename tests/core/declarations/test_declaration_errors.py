"""Every error names the file and the line of the offending key, the field, the value and the fix.

``function(spec)`` puts the first line of ``spec`` on line 6 of the file.
"""

from __future__ import annotations

import pytest

from controller.core.declarations import Declarations
from tests.core.declarations.support import HEADER, SHA_A, SHA_B, FakeTree, function, parse

TWO_VERSIONS = f"""
versions:
  r41: {{codeSha256: "{SHA_A}"}}
  r42: {{codeSha256: "{SHA_B}"}}
aliases:
"""
"""Spec lines 1-4 (file lines 6-9); an alias added after it starts on file line 10."""


def with_alias(alias: str) -> str:
    return function(TWO_VERSIONS + "  " + alias)


LONG = "x" * 257

ERRORS = [
    # -- the shape of the document --
    pytest.param(
        HEADER + "  versions: [\n",
        "f.yaml:7:",
        ["YAML syntax error"],
        id="YAML syntax, at the parser's line",
    ),
    pytest.param(
        HEADER.replace("spec:", "spek:") + "  {}\n",
        "f.yaml:5:",
        ["unknown field 'spek'", "allowed fields are: apiVersion, kind, metadata, spec"],
        id="unknown top-level field, naming the allowed ones",
    ),
    pytest.param(
        function(f'versions:\n  r41:\n    codeSha256: "{SHA_A}"\n    descripton: typo'),
        "f.yaml:9:",
        ["unknown field 'descripton'", "spec.versions.r41", "codeSha256, description, code"],
        id="unknown field in a version",
    ),
    pytest.param(
        with_alias("live: {version: r41, weight: 0.5}"),
        "f.yaml:10:",
        ["unknown field 'weight'", "spec.aliases.live", "version, routing, description"],
        id="unknown field in an alias",
    ),
    pytest.param(
        HEADER.replace("  name: orders\n", "  labels: {}\n") + "  {}\n",
        "f.yaml:4:",
        ["unknown field 'labels'", "allowed fields are: name"],
        id="unknown field in metadata",
    ),
    pytest.param(
        "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata: {}\nspec: {}\n",
        "f.yaml:3:",
        ["metadata.name is missing"],
        id="missing metadata.name",
    ),
    pytest.param(
        "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata: {name: orders}\n",
        "f.yaml:1:",
        ["spec is missing"],
        id="missing spec",
    ),
    pytest.param(
        HEADER.replace("v1", "v2") + "  {}\n",
        "f.yaml:1:",
        ["apiVersion: 'lambda-gitops/v2' is unknown", "lambda-gitops/v1"],
        id="unknown apiVersion",
    ),
    pytest.param(
        HEADER.replace("kind: Function", "kind: Functoin") + "  {}\n",
        "f.yaml:2:",
        ["kind: 'Functoin'", "did you mean 'Function'?"],
        id="misspelled kind with our apiVersion",
    ),
    pytest.param(
        HEADER.replace("kind: Function", "kind: Alias") + "  {}\n",
        "f.yaml:2:",
        ["kind: 'Alias'", "the only kind is Function"],
        id="unknown kind with our apiVersion",
    ),
    # -- names --
    pytest.param(
        with_alias('"2024": {version: r41}'),
        "f.yaml:10:",
        ["alias name '2024'", "only of digits", "L10"],
        id="alias name all digits",
    ),
    pytest.param(
        with_alias('"bad name": {version: r41}'),
        "f.yaml:10:",
        ["alias name 'bad name'", "L10"],
        id="alias name with a space",
    ),
    pytest.param(
        with_alias(f"{'a' * 129}: {{version: r41}}"),
        "f.yaml:10:",
        ["alias name 'aaaa", "1 to 128"],
        id="alias name over 128 characters",
    ),
    pytest.param(
        function(f'versions:\n  r41: {{codeSha256: "{SHA_A}"}}\n  42: {{codeSha256: "{SHA_B}"}}'),
        "f.yaml:8:",
        ["version label '42'", "only of digits", "'r42'"],
        id="version label that looks like a number",
    ),
    pytest.param(
        function("functionName: orders api"),
        "f.yaml:6:",
        ["spec.functionName", "'orders api'", "L44"],
        id="malformed function name",
    ),
    pytest.param(
        function(f"functionName: {'f' * 65}"),
        "f.yaml:6:",
        ["spec.functionName", "1 to 64"],
        id="function name over 64 characters",
    ),
    pytest.param(
        function("functionName: arn:aws:lambda:eu-west-1:123456789012:function:orders:live"),
        "f.yaml:6:",
        ["names the function's 'live' qualifier", "declare its aliases under spec.aliases"],
        id="function ARN with a qualifier",
    ),
    pytest.param(
        function("functionName: arn:aws:lambda:eu-west-1:12345678901:function:orders"),
        "f.yaml:6:",
        ["not an unqualified Lambda function ARN", "12-digit account"],
        id="function ARN with an 11-digit account",
    ),
    pytest.param(
        function("functionName: arn:aws:lambda:Europe:123456789012:function:orders"),
        "f.yaml:6:",
        ["'Europe' is not an AWS region name"],
        id="function ARN with a bad region",
    ),
    pytest.param(
        HEADER.replace("name: orders", "name: orders.eu") + "  {}\n",
        "f.yaml:4:",
        ["metadata.name 'orders.eu' is also the function name", "set spec.functionName"],
        id="metadata.name that cannot be a function name",
    ),
    pytest.param(
        function("region: Europe"),
        "f.yaml:6:",
        ["spec.region", "'Europe' is not an AWS region name", "eu-west-1"],
        id="region that is not a region name",
    ),
    pytest.param(
        function(
            "functionName: arn:aws:lambda:us-east-1:123456789012:function:orders\nregion: eu-west-1"
        ),
        "f.yaml:7:",
        ["spec.region 'eu-west-1' contradicts the region 'us-east-1'"],
        id="region that contradicts the ARN",
    ),
    # -- versions --
    pytest.param(
        function('versions:\n  r41: {codeSha256: "abc="}'),
        "f.yaml:7:",
        ["spec.versions.r41.codeSha256", "'abc='", "not a base64 SHA-256", "44 characters"],
        id="codeSha256 too short",
    ),
    pytest.param(
        function(f'versions:\n  r41: {{codeSha256: "{SHA_A[:-2]}!="}}'),
        "f.yaml:7:",
        ["spec.versions.r41.codeSha256", "not a base64 SHA-256"],
        id="codeSha256 not base64",
    ),
    pytest.param(
        function(f'versions:\n  r41: {{codeSha256: "{"A" * 44}"}}'),
        "f.yaml:7:",
        ["not a base64 SHA-256"],
        id="codeSha256 that decodes to 33 bytes",
    ),
    pytest.param(
        function(f'versions:\n  r41:\n    codeSha256: "{SHA_A}"\n    description: {LONG}'),
        "f.yaml:9:",
        ["spec.versions.r41.description", "257 characters", "at most 256"],
        id="version description over 256 characters",
    ),
    pytest.param(
        function(f'versions:\n  r41:\n    codeSha256: "{SHA_A}"\n    code: {{}}'),
        "f.yaml:9:",
        ["spec.versions.r41.code", "exactly one of zipFile or s3"],
        id="code source with neither zipFile nor s3",
    ),
    pytest.param(
        function(
            f'versions:\n  r41:\n    codeSha256: "{SHA_A}"\n    code: {{zipFile: /etc/passwd}}'
        ),
        "f.yaml:9:",
        ["code.zipFile", "'/etc/passwd' is an absolute path"],
        id="zipFile absolute",
    ),
    pytest.param(
        function(
            f'versions:\n  r41:\n    codeSha256: "{SHA_A}"\n'
            "    code: {zipFile: artifacts/../../x.zip}"
        ),
        "f.yaml:9:",
        ["code.zipFile", "leads outside the repository through '..'"],
        id="zipFile leaving the repository",
    ),
    pytest.param(
        function(
            f'versions:\n  r41:\n    codeSha256: "{SHA_A}"\n'
            "    code:\n      zipFile: artifacts/missing.zip"
        ),
        "f.yaml:10:",
        ["code.zipFile", "'artifacts/missing.zip' does not exist in folder test"],
        id="zipFile absent",
    ),
    pytest.param(
        function(
            f'versions:\n  r41:\n    codeSha256: "{SHA_A}"\n'
            "    code: {zipFile: artifacts/escape.zip}"
        ),
        "f.yaml:9:",
        ["code.zipFile", "symbolic link 'artifacts/escape.zip'", "outside the repository"],
        id="zipFile through a symbolic link to an absolute path",
    ),
    pytest.param(
        function(
            f'versions:\n  r41:\n    codeSha256: "{SHA_A}"\n    code: {{zipFile: artifacts/up.zip}}'
        ),
        "f.yaml:9:",
        ["code.zipFile", "through the symbolic link 'artifacts/up.zip'"],
        id="zipFile through a relative symbolic link that climbs out",
    ),
    # -- aliases --
    pytest.param(
        with_alias("live: {version: r43}"),
        "f.yaml:10:",
        ["spec.aliases.live.version 'r43'", "not a label", "labels: r41, r42"],
        id="alias version that is an unknown label",
    ),
    pytest.param(
        with_alias("live: {version: '017'}"),
        "f.yaml:10:",
        ["'017' is not a published version number", "leading zeros"],
        id="alias version number with a leading zero",
    ),
    pytest.param(
        with_alias("live: {version: 1.5}"),
        "f.yaml:10:",
        ["spec.aliases.live.version must be text, not 1.5"],
        id="alias version that is a fraction",
    ),
    pytest.param(
        with_alias("live:\n    version: r41\n    description: " + LONG),
        "f.yaml:12:",
        ["spec.aliases.live.description", "257 characters"],
        id="alias description over 256 characters",
    ),
    pytest.param(
        with_alias("live:\n    version: r41\n    routing: {r43: 0.1}"),
        "f.yaml:12:",
        ["spec.aliases.live.routing", "'r43' is not a label"],
        id="routing to an unknown label",
    ),
    pytest.param(
        with_alias("live:\n    version: r41\n    routing: {$LATEST: 0.1}"),
        "f.yaml:12:",
        ["spec.aliases.live.routing", "cannot be routed to $LATEST", "L21c"],
        id="routing to $LATEST",
    ),
    pytest.param(
        with_alias("live:\n    version: r41\n    routing:\n      r42: 0.1\n      '7': 0.1"),
        "f.yaml:12:",
        ["spec.aliases.live.routing: 2 entries", "at most one", "L21a"],
        id="two routing entries",
    ),
    pytest.param(
        with_alias("live: {version: r41, routing: {r42: 0}}"),
        "f.yaml:10:",
        ["spec.aliases.live.routing.r42", "weight 0 is not strictly between 0 and 1"],
        id="weight 0",
    ),
    pytest.param(
        with_alias("live: {version: r41, routing: {r42: 1}}"),
        "f.yaml:10:",
        ["weight 1 is not strictly between 0 and 1"],
        id="weight 1",
    ),
    pytest.param(
        with_alias("live: {version: r41, routing: {r42: 1.5}}"),
        "f.yaml:10:",
        ["weight 1.5 is not strictly between 0 and 1"],
        id="weight above 1",
    ),
    pytest.param(
        with_alias("live: {version: r41, routing: {r42: -0.1}}"),
        "f.yaml:10:",
        ["weight -0.1 is not strictly between 0 and 1"],
        id="negative weight",
    ),
    pytest.param(
        with_alias("live: {version: r41, routing: {r42: true}}"),
        "f.yaml:10:",
        ["spec.aliases.live.routing.r42", "weight true is not a number"],
        id="weight that is a boolean",
    ),
    pytest.param(
        with_alias("live: {version: r41, routing: {r42: '0.1'}}"),
        "f.yaml:10:",
        ["weight '0.1' is not a number"],
        id="weight that is a string",
    ),
    pytest.param(
        with_alias("live: {version: r41, routing: {r42: .nan}}"),
        "f.yaml:10:",
        ["weight nan is not strictly between 0 and 1"],
        id="weight that is not a number at all",
    ),
    pytest.param(
        with_alias("live:\n    version: r41\n    routing: {r41: 0.1}"),
        "f.yaml:12:",
        ["'r41' is the alias's own version", "L21d"],
        id="routing to the alias's own label",
    ),
    pytest.param(
        with_alias("live:\n    version: 17\n    routing: {17: 0.1}"),
        "f.yaml:12:",
        ["'17' is the alias's own version", "L21d"],
        id="routing to the alias's own number",
    ),
    pytest.param(
        function(
            f'versions:\n  a: {{codeSha256: "{SHA_A}"}}\n  b: {{codeSha256: "{SHA_A}"}}\n'
            "aliases:\n  live: {version: a, routing: {b: 0.5}}"
        ),
        "f.yaml:10:",
        ["'b' has the same codeSha256 as 'a'", "L21d"],
        id="routing to a label with the same code as the alias's version",
    ),
    pytest.param(
        with_alias("live:\n    version: $LATEST\n    routing: {r42: 0.1}"),
        "f.yaml:12:",
        ["spec.aliases.live.routing", "alias on $LATEST cannot split traffic", "L21e"],
        id="$LATEST with routing",
    ),
    pytest.param(
        function("prune: yes"),
        "f.yaml:6:",
        ["spec.prune must be true or false, not 'yes'"],
        id="prune that is not a boolean",
    ),
    pytest.param(
        function("adopt: 'true'"),
        "f.yaml:6:",
        ["spec.adopt must be true or false"],
        id="adopt that is not a boolean",
    ),
]

ESCAPING_TREE = FakeTree(
    {
        "artifacts": "directory",
        "artifacts/escape.zip": ("symlink", "/etc/passwd"),
        "artifacts/up.zip": ("symlink", "../../outside.zip"),
    }
)


@pytest.mark.parametrize(("text", "where", "words"), ERRORS)
def test_an_invalid_declaration_is_reported_at_the_offending_line(
    text: str, where: str, words: list[str]
) -> None:
    declarations = parse(("f.yaml", text), tree=ESCAPING_TREE)

    assert declarations.functions == ()
    messages = [str(error) for error in declarations.errors]
    matching = [m for m in messages if m.startswith(where + " ")]
    assert matching, f"no error at {where}: {messages}"
    assert any(all(word in m for word in words) for m in matching), messages


def errors_of(declarations: Declarations) -> list[str]:
    return [str(error) for error in declarations.errors]


def test_the_same_function_declared_twice_is_refused_in_both_places() -> None:
    first = function("functionName: orders-api")
    second = function("functionName: orders-api").replace("name: orders\n", "name: orders2\n")

    declarations = parse(("a.yaml", first), ("b/c.yaml", second))

    assert declarations.functions == ()
    assert errors_of(declarations) == [
        "a.yaml:6: function 'orders-api' in eu-west-1 is also declared at b/c.yaml:6; "
        "declare each function once",
        "b/c.yaml:6: function 'orders-api' in eu-west-1 is also declared at a.yaml:6; "
        "declare each function once",
    ]


def test_a_name_and_an_arn_of_the_same_function_in_one_account_are_the_same_function() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders"
    first = function(f"functionName: {arn}")
    second = function(f"functionName: {arn}").replace("name: orders\n", "name: other\n")

    declarations = parse(("a.yaml", first), ("b.yaml", second))

    assert [str(e.location) for e in declarations.errors] == ["a.yaml:6", "b.yaml:6"]


def test_the_same_function_name_in_two_accounts_is_two_functions() -> None:
    def in_account(account: str, name: str) -> str:
        arn = f"arn:aws:lambda:eu-west-1:{account}:function:orders"
        return function(f"functionName: {arn}").replace("name: orders\n", f"name: {name}\n")

    declarations = parse(
        ("a.yaml", in_account("111111111111", "staging")),
        ("b.yaml", in_account("222222222222", "production")),
    )

    assert declarations.errors == ()
    assert [f.ref.account for f in declarations.functions] == ["111111111111", "222222222222"]


def test_the_same_name_in_two_regions_is_two_functions() -> None:
    text = function("region: eu-west-1") + "---\n"
    text += function("region: us-east-1").replace("name: orders\n", "name: orders-us\n")

    declarations = parse(("f.yaml", text))

    assert declarations.errors == ()
    assert [f.ref.region for f in declarations.functions] == ["eu-west-1", "us-east-1"]


def test_the_same_metadata_name_twice_is_refused_in_both_places() -> None:
    text = function("functionName: a") + "---\n" + function("functionName: b")

    declarations = parse(("f.yaml", text))

    assert errors_of(declarations) == [
        "f.yaml:4: metadata.name 'orders' is also declared at f.yaml:11; names must be unique "
        "in an account and region",
        "f.yaml:11: metadata.name 'orders' is also declared at f.yaml:4; names must be unique "
        "in an account and region",
    ]


def test_an_invalid_function_does_not_hide_valid_ones_in_its_file_or_in_other_files() -> None:
    bad = function("region: Europe").replace("name: orders\n", "name: bad\n")
    good = function("{}")
    other = function("{}").replace("name: orders\n", "name: payments\n")

    declarations = parse(("a.yaml", f"{bad}---\n{good}"), ("b.yaml", other))

    assert [f.name for f in declarations.functions] == ["orders", "payments"]
    (invalid,) = declarations.invalid
    assert invalid.key == "bad"
    assert str(invalid.location) == "a.yaml:1"
    assert [str(e) for e in invalid.errors] == [
        "a.yaml:6: spec.region: 'Europe' is not an AWS region name; write one such as 'eu-west-1'"
    ]


def test_an_invalid_function_still_names_the_function_to_leave_alone() -> None:
    text = function('functionName: orders-api\nversions: {r1: {codeSha256: "x"}}')

    (invalid,) = parse(("f.yaml", text)).invalid

    assert invalid.name == "orders"
    assert invalid.ref is not None
    assert (invalid.ref.name, invalid.ref.region) == ("orders-api", "eu-west-1")


def test_an_invalid_function_without_a_name_is_keyed_by_its_place() -> None:
    text = "x: 1\n---\napiVersion: lambda-gitops/v1\nkind: Function\nmetadata: {}\nspec: {}\n"

    (invalid,) = parse(("f.yaml", text)).invalid

    assert (invalid.name, invalid.ref, invalid.key) == (None, None, "f.yaml:3")


def test_a_file_that_does_not_parse_is_broken_not_empty() -> None:
    broken = function("{}") + "---\nspec: {versions: [\n"
    fine = function("{}").replace("name: orders\n", "name: payments\n")

    declarations = parse(("a.yaml", broken), ("b.yaml", fine))

    assert [f.name for f in declarations.functions] == ["payments"]
    assert declarations.invalid == ()
    (error,) = declarations.broken_files
    assert error.location.file == "a.yaml"
    assert error.location.line == 9
    assert "YAML syntax error" in error.message
    assert "stays as last applied" in error.message
    assert not declarations.is_valid


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"a: 1\nb: \xff\n", 2, "not UTF-8"),
        (b"apiVersion: lambda-gitops/v1\napiVersion: x\n", 2, "duplicate key"),
        (b"a: &x [1]\nb: *y\n", 2, "YAML syntax error"),
        (b"a: b: c\n", 1, "YAML syntax error"),
    ],
    ids=["not UTF-8", "a duplicate key", "an undefined YAML alias", "a mapping in a scalar"],
)
def test_unreadable_yaml_makes_the_file_broken(data: bytes, line: int, words: str) -> None:
    from controller.core.declarations import parse_declarations

    declarations = parse_declarations(
        [("f.yaml", data)], default_region="eu-west-1", tree=FakeTree()
    )

    (error,) = declarations.broken_files
    assert (error.location.line, words in error.message) == (line, True), error


def test_errors_are_sorted_by_file_and_line() -> None:
    bad_b = function("region: Europe")
    bad_a = function("functionName: 'a b'").replace("name: orders\n", "name: second\n")

    declarations = parse(("b.yaml", bad_b), ("a.yaml", "x: [\n"), ("a2.yaml", bad_a))

    assert [str(e.location) for e in declarations.errors] == ["a.yaml:2", "a2.yaml:6", "b.yaml:6"]


def test_several_problems_in_one_function_are_all_reported() -> None:
    text = function(f'versions:\n  "1": {{codeSha256: "{SHA_A}", extra: 2}}\nprune: 3')

    messages = errors_of(parse(("f.yaml", text)))

    assert len(messages) == 3
    assert [m.split(":")[1] for m in messages] == ["7", "7", "8"]


def test_a_bad_default_region_is_a_configuration_error_not_a_declaration_error() -> None:
    from controller.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="default region 'Europe'"):
        parse(("f.yaml", function("{}")), region="Europe")
