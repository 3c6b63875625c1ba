"""``add-version`` declares a new version after the last one, in the file's own style.

The new lines are compared with the expected text exactly, so indentation, quoting and the bytes
around them are checked together; the controller's loader must then see the new version.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.cli.edit import add_version_command
from controller.core.configuration import Configuration, Environment, environment
from controller.core.declarations import parse_declarations
from controller.core.model import RepoZip, S3Code
from controller.review.edits import SourceFile
from controller.review.edits import add_version as add_version_edit
from tests.core.declarations.support import FakeTree
from tests.review.edit.support import (
    SHA_41,
    SHA_42,
    SHA_43,
    loaded_function,
    run,
    snapshot,
    write_repository,
)
from tests.review.hostile import LONG_NAME, environments, hostile_descriptions

HEAD = "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata:\n  name: orders-api\nspec:\n"
ALIASES = "  aliases:   # where traffic goes\n    live: {version: r41}\n"
BLOCK_VERSIONS = (
    f'  versions:\n    r41:\n      codeSha256: "{SHA_41}"\n'
    f'    r42:  # latest\n      codeSha256: "{SHA_42}"\n      description: "release 42"\n'
)


@pytest.mark.parametrize(
    ("versions", "args", "added"),
    [
        pytest.param(
            BLOCK_VERSIONS,
            ["--code-sha256", SHA_43],
            f'    r43:\n      codeSha256: "{SHA_43}"\n',
            id="from a hash, after the last version",
        ),
        pytest.param(
            BLOCK_VERSIONS,
            ["--code-sha256", SHA_43, "--description", 'release "43"'],
            f'    r43:\n      codeSha256: "{SHA_43}"\n      description: "release \\"43\\""\n',
            id="with a description that needs escaping",
        ),
        pytest.param(
            f"  versions:\n      r41:\n          codeSha256: '{SHA_41}'\n",
            ["--code-sha256", SHA_43],
            f"      r43:\n          codeSha256: '{SHA_43}'\n",
            id="odd indentation and single quotes are copied",
        ),
        pytest.param(
            f"  versions:\n    r41: {{codeSha256: {SHA_41}}}   # flow\n",
            ["--code-sha256", SHA_43],
            f"    r43: {{codeSha256: {SHA_43}}}\n",
            id="a flow-style version gets a flow-style neighbour",
        ),
    ],
)
def test_add_version_appends_in_the_same_style(
    tmp_path: Path, versions: str, args: list[str], added: str
) -> None:
    write_repository(tmp_path, {"orders-api.yaml": (HEAD + versions + ALIASES).encode()})

    result = run(add_version_command, tmp_path, "orders-api", "r43", *args)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_text() == HEAD + versions + added + ALIASES
    assert loaded_function(tmp_path, "orders-api").versions["r43"].code_sha256 == SHA_43
    assert "version r43 added" in result.stdout


def test_a_flow_versions_mapping_gets_a_flow_entry(tmp_path: Path) -> None:
    original = HEAD + f"  versions: {{r41: {{codeSha256: '{SHA_41}'}}}}  # all\n" + ALIASES
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(add_version_command, tmp_path, "orders-api", "r43", "--code-sha256", SHA_43)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_text() == original.replace(
        "'}}", f"'}}, r43: {{codeSha256: '{SHA_43}'}}}}"
    )


def test_versions_are_added_before_the_aliases_when_there_are_none(tmp_path: Path) -> None:
    original = HEAD + "  aliases:\n    live: {version: $LATEST}\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(add_version_command, tmp_path, "orders-api", "r1", "--code-sha256", SHA_43)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_text() == HEAD + (
        f'  versions:\n    r1:\n      codeSha256: "{SHA_43}"\n'
    ) + "  aliases:\n    live: {version: $LATEST}\n"


def test_crlf_and_no_final_newline_are_kept(tmp_path: Path) -> None:
    original = (HEAD + BLOCK_VERSIONS).replace("\n", "\r\n").removesuffix("\r\n")
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(add_version_command, tmp_path, "orders-api", "r43", "--code-sha256", SHA_43)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_bytes() == (
        original + f'\r\n    r43:\r\n      codeSha256: "{SHA_43}"'
    ).encode()


def test_a_zip_inside_the_repository_is_hashed_and_recorded(tmp_path: Path) -> None:
    package = b"PK\x03\x04 a deployment package"
    write_repository(
        tmp_path,
        {"orders-api.yaml": (HEAD + BLOCK_VERSIONS + ALIASES).encode(), "dist/r43.zip": package},
    )
    expected_sha = base64.b64encode(hashlib.sha256(package).digest()).decode()

    result = run(
        add_version_command, tmp_path, "orders-api", "r43", "--zip", str(tmp_path / "dist/r43.zip")
    )

    assert result.exit_code == 0, result.output
    added = (
        f'    r43:\n      codeSha256: "{expected_sha}"\n'
        "      code:\n        zipFile: dist/r43.zip\n"
    )
    assert (tmp_path / "orders-api.yaml").read_text() == HEAD + BLOCK_VERSIONS + added + ALIASES
    version = loaded_function(tmp_path, "orders-api").versions["r43"]
    assert (version.code_sha256, version.code) == (expected_sha, RepoZip("dist/r43.zip"))


@pytest.mark.parametrize(
    ("declaration", "package", "recorded"),
    [
        pytest.param(
            "functions/orders-api.yaml",
            "dist/r43.zip",
            '"../dist/r43.zip"',
            id="in another folder",
        ),
        pytest.param(
            "functions/orders-api.yaml", "functions/r43.zip", "r43.zip", id="beside the file"
        ),
        pytest.param(
            "a/b/orders-api.yaml", "a/c/r43.zip", '"../c/r43.zip"', id="in a sibling folder"
        ),
    ],
)
def test_a_zip_is_recorded_relative_to_the_declaration_files_folder(
    tmp_path: Path, declaration: str, package: str, recorded: str
) -> None:
    """code.zipFile is read from the declaring file's folder, so it is written from there (the
    editor quotes a path that starts with a dot, as any text it cannot prove reads back plain)."""
    write_repository(
        tmp_path,
        {declaration: (HEAD + BLOCK_VERSIONS + ALIASES).encode(), package: b"PK package"},
    )

    result = run(
        add_version_command, tmp_path, "orders-api", "r43", "--zip", str(tmp_path / package)
    )

    assert result.exit_code == 0, result.output
    assert f"      code:\n        zipFile: {recorded}\n" in (tmp_path / declaration).read_text()
    assert loaded_function(tmp_path, "orders-api").versions["r43"].code == RepoZip(package)


def test_a_zip_outside_the_repository_records_only_its_hash(tmp_path: Path) -> None:
    repository, outside = tmp_path / "repo", tmp_path / "build.zip"
    outside.write_bytes(b"PK elsewhere")
    write_repository(repository, {"orders-api.yaml": (HEAD + BLOCK_VERSIONS).encode()})
    expected_sha = base64.b64encode(hashlib.sha256(b"PK elsewhere").digest()).decode()

    result = run(add_version_command, repository, "orders-api", "r43", "--zip", str(outside))

    assert result.exit_code == 0, result.output
    assert "outside the repository, so only its hash is recorded" in result.stdout
    version = loaded_function(repository, "orders-api").versions["r43"]
    assert (version.code_sha256, version.code) == (expected_sha, None)


S3 = ["--s3-bucket", "example-packages", "--s3-key", "orders-api/r43.zip"]
OBJECT_VERSION = "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"


@pytest.mark.parametrize(
    ("versions", "args", "added", "code"),
    [
        pytest.param(
            BLOCK_VERSIONS,
            S3,
            f'    r43:\n      codeSha256: "{SHA_43}"\n'
            "      code:\n        s3:\n          bucket: example-packages\n"
            "          key: orders-api/r43.zip\n",
            S3Code("example-packages", "orders-api/r43.zip"),
            id="block style",
        ),
        pytest.param(
            BLOCK_VERSIONS,
            [*S3, "--s3-object-version", OBJECT_VERSION],
            f'    r43:\n      codeSha256: "{SHA_43}"\n'
            "      code:\n        s3:\n          bucket: example-packages\n"
            f"          key: orders-api/r43.zip\n          objectVersion: {OBJECT_VERSION}\n",
            S3Code("example-packages", "orders-api/r43.zip", OBJECT_VERSION),
            id="block style with an object version",
        ),
        pytest.param(
            f"  versions:\n    r41: {{codeSha256: {SHA_41}}}   # flow\n",
            S3,
            f"    r43: {{codeSha256: {SHA_43}, code: {{s3: {{bucket: example-packages, "
            "key: orders-api/r43.zip}}}\n",
            S3Code("example-packages", "orders-api/r43.zip"),
            id="flow style",
        ),
        pytest.param(
            f"  versions:\n    r41: {{codeSha256: {SHA_41}}}   # flow\n",
            [*S3, "--s3-object-version", "null"],
            f"    r43: {{codeSha256: {SHA_43}, code: {{s3: {{bucket: example-packages, "
            'key: orders-api/r43.zip, objectVersion: "null"}}}\n',
            S3Code("example-packages", "orders-api/r43.zip", "null"),
            id="flow style with an object version YAML would misread unquoted",
        ),
        pytest.param(
            f"  versions:\n    r41:\n      codeSha256: '{SHA_41}'\n      code:\n"
            "        s3: {bucket: 'old-packages', key: 'orders-api/r41.zip'}\n",
            S3,
            f"    r43:\n      codeSha256: '{SHA_43}'\n      code:\n        s3:\n"
            "          bucket: 'example-packages'\n          key: 'orders-api/r43.zip'\n",
            S3Code("example-packages", "orders-api/r43.zip"),
            id="the quoting of an earlier S3 source is copied",
        ),
    ],
)
def test_an_s3_package_is_recorded_as_the_code(
    tmp_path: Path, versions: str, args: list[str], added: str, code: S3Code
) -> None:
    write_repository(tmp_path, {"orders-api.yaml": (HEAD + versions + ALIASES).encode()})

    result = run(add_version_command, tmp_path, "orders-api", "r43", "--code-sha256", SHA_43, *args)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_text() == HEAD + versions + added + ALIASES
    version = loaded_function(tmp_path, "orders-api").versions["r43"]
    assert (version.code_sha256, version.code) == (SHA_43, code)
    assert "version r43 added" in result.stdout
    assert "code s3://example-packages/orders-api/r43.zip" in result.stdout


def test_an_s3_package_in_a_flow_versions_mapping(tmp_path: Path) -> None:
    original = HEAD + f"  versions: {{r41: {{codeSha256: '{SHA_41}'}}}}  # all\n" + ALIASES
    write_repository(tmp_path, {"orders-api.yaml": original.encode()})

    result = run(
        add_version_command, tmp_path, "orders-api", "r43", "--code-sha256", SHA_43, *S3,
        "--s3-object-version", "v1",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert (tmp_path / "orders-api.yaml").read_text() == original.replace(
        "'}}",
        f"'}}, r43: {{codeSha256: '{SHA_43}', code: {{s3: {{bucket: example-packages, "
        "key: orders-api/r43.zip, objectVersion: v1}}}}",
    )
    version = loaded_function(tmp_path, "orders-api").versions["r43"]
    assert version.code == S3Code("example-packages", "orders-api/r43.zip", "v1")


def test_an_s3_package_is_hashed_from_the_uploaded_zip(tmp_path: Path) -> None:
    repository, outside = tmp_path / "repo", tmp_path / "build.zip"
    outside.write_bytes(b"PK uploaded")
    write_repository(repository, {"orders-api.yaml": (HEAD + BLOCK_VERSIONS).encode()})
    expected_sha = base64.b64encode(hashlib.sha256(b"PK uploaded").digest()).decode()

    result = run(add_version_command, repository, "orders-api", "r43", "--zip", str(outside), *S3)

    assert result.exit_code == 0, result.output
    assert "outside the repository" not in result.stdout
    version = loaded_function(repository, "orders-api").versions["r43"]
    assert (version.code_sha256, version.code) == (
        expected_sha,
        S3Code("example-packages", "orders-api/r43.zip"),
    )


def test_the_s3_options_win_over_a_zip_inside_the_repository(tmp_path: Path) -> None:
    package = b"PK\x03\x04 a deployment package"
    write_repository(
        tmp_path,
        {"orders-api.yaml": (HEAD + BLOCK_VERSIONS + ALIASES).encode(), "dist/r43.zip": package},
    )
    expected_sha = base64.b64encode(hashlib.sha256(package).digest()).decode()

    result = run(
        add_version_command, tmp_path, "orders-api", "r43", "--zip", str(tmp_path / "dist/r43.zip"),
        *S3,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    added = (
        f'    r43:\n      codeSha256: "{expected_sha}"\n'
        "      code:\n        s3:\n          bucket: example-packages\n"
        "          key: orders-api/r43.zip\n"
    )
    assert (tmp_path / "orders-api.yaml").read_text() == HEAD + BLOCK_VERSIONS + added + ALIASES
    assert "the S3 object is recorded as the code, not dist/r43.zip" in result.stdout
    assert result.stdout.count("\n") == 1
    version = loaded_function(tmp_path, "orders-api").versions["r43"]
    assert version.code == S3Code("example-packages", "orders-api/r43.zip")


def test_the_same_label_with_the_same_hash_changes_nothing(tmp_path: Path) -> None:
    write_repository(tmp_path, {"orders-api.yaml": (HEAD + BLOCK_VERSIONS).encode()})
    before = snapshot(tmp_path)

    result = run(add_version_command, tmp_path, "orders-api", "r42", "--code-sha256", SHA_42)

    assert result.exit_code == 0
    assert "already declared with this codeSha256; nothing to change" in result.stdout
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["orders-api", "r42", "--code-sha256", SHA_43], "already declares version 'r42'"),
        (["orders-api", "r43", "--code-sha256", "abc="], "'abc=' is not a base64 SHA-256"),
        (["orders-api", "43", "--code-sha256", SHA_43], "made only of digits"),
        (["billing", "r43", "--code-sha256", SHA_43], "no declaration has metadata.name"),
        (["orders-api", "r43", "--zip", "missing.zip"], "missing.zip: not a file"),
        (["orders-api", "r43"], "give exactly one of --code-sha256 and --zip"),
        (["orders-api", "r43", "--code-sha256", SHA_43, "--zip", "x.zip"], "exactly one"),
        (["orders-api", "r43", "--code-sha256", SHA_43, "--description", "d" * 300], "256"),
        (
            ["orders-api", "r43", "--code-sha256", SHA_43, "--s3-bucket", "b"],
            "--s3-bucket needs --s3-key",
        ),
        (
            ["orders-api", "r43", "--code-sha256", SHA_43, "--s3-key", "k.zip"],
            "--s3-key needs --s3-bucket",
        ),
        (
            ["orders-api", "r43", "--code-sha256", SHA_43, "--s3-object-version", "v1"],
            "--s3-object-version needs --s3-bucket and --s3-key",
        ),
        (
            ["orders-api", "r43", "--code-sha256", SHA_43, "--s3-bucket", "", "--s3-key", "k"],
            "--s3-bucket is empty",
        ),
        (["orders-api", "r43", *S3], "give exactly one of --code-sha256 and --zip"),
        (["orders-api", "r42", "--code-sha256", SHA_43, *S3], "already declares version 'r42'"),
        (["orders-api", "r43", "--code-sha256", "abc=", *S3], "is not a base64 SHA-256"),
        (
            ["orders-api", "r43", "--zip", "dist/r43.zip", "--s3-bucket", "b"],
            "--s3-bucket needs --s3-key",
        ),
    ],
)
def test_a_bad_version_leaves_every_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], problem: str
) -> None:
    original = HEAD + BLOCK_VERSIONS + "  aliases:\n    live: {version: r41, routing: {r42: 0.1}}\n"
    write_repository(tmp_path, {"orders-api.yaml": original.encode(), "dist/r43.zip": b"PK"})
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)

    result = run(add_version_command, tmp_path, *args)

    assert result.exit_code == 1, result.output
    assert snapshot(tmp_path) == before
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert problem in result.stderr


# -- with a configuration, as import adds one to a declaration that exists -------------------------

CONFIGURATION = Configuration(
    environment=environment({"STAGE": "prod", "API_KEY": "k-4711"}),
    memory_size=512,
    runtime="python3.12",
    layers=("arn:aws:lambda:us-east-1:123456789012:layer:deps:7",),
    architectures=("arm64",),
)


@pytest.mark.parametrize(
    ("versions", "added"),
    [
        pytest.param(
            BLOCK_VERSIONS,
            f'    r43:\n      codeSha256: "{SHA_43}"\n      configuration:\n'
            '        environment:\n          API_KEY: {value: "k-4711", secret: true}\n'
            '          STAGE: "prod"\n        memorySize: 512\n        runtime: python3.12\n'
            '        layers: ["arn:aws:lambda:us-east-1:123456789012:layer:deps:7"]\n'
            "        architectures: [arm64]\n",
            id="block style",
        ),
        pytest.param(
            f"  versions:\n    r41: {{codeSha256: {SHA_41}}}\n",
            f"    r43: {{codeSha256: {SHA_43}, configuration: {{environment: {{API_KEY: "
            '{value: "k-4711", secret: true}, STAGE: "prod"}, memorySize: 512, runtime: '
            'python3.12, layers: ["arn:aws:lambda:us-east-1:123456789012:layer:deps:7"], '
            "architectures: [arm64]}}\n",
            id="flow style",
        ),
    ],
)
def test_a_version_is_added_with_its_configuration_and_secrets_marked(
    versions: str, added: str
) -> None:
    source = HEAD + versions + ALIASES

    edit = add_version_edit(
        [SourceFile("orders-api.yaml", source.encode())],
        "orders-api",
        "r43",
        SHA_43,
        default_region="us-east-1",
        tree=FakeTree(),
        configuration=CONFIGURATION,
        secrets=frozenset({"API_KEY"}),
    )

    assert edit.after.decode() == source.replace(ALIASES, added + ALIASES)


def test_add_version_takes_the_configuration_fields_a_command_line_can_say(
    tmp_path: Path,
) -> None:
    write_repository(tmp_path, {"orders-api.yaml": (HEAD + BLOCK_VERSIONS + ALIASES).encode()})

    result = run(
        add_version_command,
        tmp_path,
        "orders-api",
        "r43",
        "--code-sha256",
        SHA_43,
        "--memory-size",
        "512",
        "--timeout",
        "30",
        "--architecture",
        "arm64",
    )

    assert result.exit_code == 0, result.output
    assert "version r43 added (codeSha256" in result.output
    assert "memorySize 512, timeout 30, architectures [arm64])" in result.output
    added = loaded_function(tmp_path, "orders-api").versions["r43"]
    assert added.configuration == Configuration(
        memory_size=512, timeout=30, architectures=("arm64",)
    )


def test_add_version_refuses_a_configuration_outside_lambdas_limits_and_writes_nothing(
    tmp_path: Path,
) -> None:
    files = {"orders-api.yaml": (HEAD + BLOCK_VERSIONS + ALIASES).encode()}
    write_repository(tmp_path, files)
    before = snapshot(tmp_path)

    result = run(
        add_version_command, tmp_path, "orders-api", "r43", "--code-sha256", SHA_43,
        "--memory-size", "64",
    )  # fmt: skip

    assert result.exit_code == 1
    assert "configuration.memorySize: 64 MB is outside Lambda's limits" in result.output
    assert snapshot(tmp_path) == before


# -- values YAML would read otherwise -------------------------------------------------------------


@pytest.mark.parametrize(
    ("versions", "added"),
    [
        pytest.param(
            BLOCK_VERSIONS,
            f'    r43:\n      codeSha256: "{SHA_43}"\n      configuration:\n        environment:\n'
            f'          ? {LONG_NAME}\n          : {{value: "x", secret: true}}\n'
            '          STAGE: "prod"\n',
            id="block style",
        ),
        pytest.param(
            f"  versions:\n    r41: {{codeSha256: {SHA_41}}}\n",
            f"    r43: {{codeSha256: {SHA_43}, configuration: {{environment: {{? {LONG_NAME} : "
            '{value: "x", secret: true}, STAGE: "prod"}}}\n',
            id="flow style",
        ),
    ],
)
def test_an_environment_variable_named_past_yamls_plain_key_limit_is_an_explicit_key(
    versions: str, added: str
) -> None:
    """Lambda bounds a variable's name only by the 4 KB of the whole environment, but YAML
    reads a key written plainly only up to 1024 characters: a longer name is written ``? NAME``
    then ``: VALUE``, which reads back the same."""
    source = HEAD + versions + ALIASES
    configuration = Configuration(environment=environment({LONG_NAME: "x", "STAGE": "prod"}))

    edit = add_version_edit(
        [SourceFile("orders-api.yaml", source.encode())],
        "orders-api",
        "r43",
        SHA_43,
        default_region="us-east-1",
        tree=FakeTree(),
        configuration=configuration,
        secrets=frozenset({LONG_NAME}),
    )

    assert edit.after.decode() == source.replace(ALIASES, added + ALIASES)


def test_text_yaml_1_1_reads_otherwise_is_quoted_in_a_file_that_says_it_is_yaml_1_1() -> None:
    """In a ``%YAML 1.1`` file ``y``, ``yes``, ``on`` and ``NO`` are booleans where YAML 1.2
    reads text: a label, a description after a plain one, a handler and a variable's name of
    that text are quoted, or they would read back as ``True`` and ``False``."""
    versions = "  versions:\n    r41:\n      codeSha256: {SHA}\n      description: release 41\n"
    source = "%YAML 1.1\n---\n" + HEAD + versions.format(SHA=SHA_41) + ALIASES

    edit = add_version_edit(
        [SourceFile("orders-api.yaml", source.encode())],
        "orders-api",
        "y",
        SHA_43,
        description="yes",
        default_region="us-east-1",
        tree=FakeTree(),
        configuration=Configuration(environment=environment({"NO": "off"}), handler="on"),
    )

    added = (
        f'    "y":\n      codeSha256: {SHA_43}\n      description: "yes"\n      configuration:\n'
        '        environment:\n          "NO": "off"\n        handler: "on"\n'
    )
    assert edit.after.decode() == source.replace(ALIASES, added + ALIASES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["block", "flow", "YAML 1.1"]),
    environments(),
    hostile_descriptions,
    st.from_regex(r"[^\s]{1,20}", fullmatch=True),
    st.booleans(),
)
def test_add_version_writes_any_configuration_lambda_accepts_so_that_it_reads_back(
    style: str, variables: Environment, description: str, handler: str, secret: bool
) -> None:
    """Any environment Lambda accepts (names and values YAML would read otherwise, values up
    to the 4 KB limit), any description and any handler, into a block, a flow and a YAML 1.1
    file: the version added declares exactly them, secret or not (``add_version`` checks what
    the parser reads back before it returns an edit, and refuses otherwise)."""
    versions = (
        BLOCK_VERSIONS if style != "flow" else f"  versions:\n    r41: {{codeSha256: {SHA_41}}}\n"
    )
    source = ("%YAML 1.1\n---\n" if style == "YAML 1.1" else "") + HEAD + versions + ALIASES
    configuration = Configuration(environment=variables, handler=handler)
    secrets = frozenset(name for name, _ in variables) if secret else frozenset()

    edit = add_version_edit(
        [SourceFile("orders-api.yaml", source.encode())],
        "orders-api",
        "r43",
        SHA_43,
        description=description,
        default_region="us-east-1",
        tree=FakeTree(),
        configuration=configuration,
        secrets=secrets,
    )

    parsed = parse_declarations(
        [(edit.path, edit.after)], default_region="us-east-1", tree=FakeTree()
    )
    assert parsed.errors == ()
    added = parsed.functions[0].versions["r43"]
    assert (added.description, added.configuration, added.secrets) == (
        description,
        configuration,
        secrets,
    )
