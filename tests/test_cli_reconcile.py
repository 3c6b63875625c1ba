"""End to end through the command line: declarations in a real Git repository, reconciled into
the emulated registry and into a moto server.

These are the issue's acceptance points: bad input exits 1 with FILE:LINE and no traceback; an
invalid function is left untouched while the others converge; after ``reconcile --once``,
``plan`` exits 0 and a second ``reconcile --once`` writes nothing; uncommitted edits are never
applied.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import git
import pytest
from click.testing import CliRunner, Result

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.cli.main import main
from controller.core.model import FunctionRef
from lambda_emulator import EmulatorServer
from tests.backends import Backend, code_sha256, make_zip

EXAMPLES = Path(__file__).resolve().parents[1] / "config" / "examples"
WRITES = ("PublishVersion", "UpdateFunctionCode", "CreateAlias", "UpdateAlias", "DeleteAlias")


def run(*arguments: str) -> Result:
    result = CliRunner().invoke(main, list(arguments))
    assert "Traceback" not in result.output + result.stderr
    return result


def commit_all(repo: git.Repo, message: str) -> None:
    repo.git.add(A=True)
    repo.index.commit(message)


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    """The example declarations, committed to a new repository."""
    folder = tmp_path / "declarations"
    shutil.copytree(EXAMPLES / "declarations", folder)
    repository = git.Repo.init(folder)
    with repository.config_writer() as config:
        config.set_value("user", "name", "test")
        config.set_value("user", "email", "test@example.com")
    commit_all(repository, "declare the example fleet")
    return repository


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """An emulated registry seeded with the example fleet."""
    path = tmp_path / "registry.sqlite"
    assert run("emulator", "load", str(EXAMPLES / "seed.yaml"), "--state", str(path)).exit_code == 0
    return path


def source(repo: git.Repo) -> list[str]:
    return ["--repo", str(repo.working_dir)]


def write_counts(server: EmulatorServer) -> dict[str, int]:
    counts = server.request_counts()
    return {operation: counts.get(operation, 0) for operation in WRITES}


def test_plan_reconcile_plan_on_the_emulator(repo: git.Repo, state: Path) -> None:
    registry = ["--registry", f"emulated:{state}"]
    before = run("plan", *source(repo), *registry)
    assert before.exit_code == 2, before.output
    assert "Plan: 1 to publish, 1 to create, 2 to update, 0 to delete." in before.output

    applied = run("reconcile", "--once", *source(repo), *registry)
    assert applied.exit_code == 0, applied.output
    assert "Reconciled: 2 of 2 functions converged." in applied.output

    after = run("plan", *source(repo), *registry, "--output", "json")
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout)["inSync"] is True


def test_plan_and_reconcile_say_on_stderr_how_they_listed_versions(
    repo: git.Repo, state: Path
) -> None:
    """Both functions of the example are in one account and region (the emulator's account is
    the caller's): one ListFunctions page instead of a ListVersionsByFunction each; stdout
    holds the result alone."""
    registry = ["--registry", f"emulated:{state}", "--log-format", "json"]
    for command in (["plan", "--output", "json"], ["reconcile", "--once"]):
        result = run(*command, *source(repo), *registry)
        lines = [json.loads(line) for line in result.stderr.splitlines()]
        [listing] = [line for line in lines if line["event"] == "version listing"]
        assert listing["version_listing"] == {"123456789012/us-east-1": "all-versions, 1 page"}
        assert listing["level"] == "info"
        assert "version listing" not in result.stdout
    assert json.loads(run("plan", *source(repo), *registry, "--output", "json").stdout)["inSync"]


def test_a_second_reconcile_writes_nothing(repo: git.Repo, state: Path) -> None:
    with EmulatorServer(state) as server:
        endpoint = ["--registry", "aws", "--endpoint-url", server.endpoint_url]
        assert run("reconcile", "--once", *source(repo), *endpoint).exit_code == 0
        written = write_counts(server)
        assert sum(written.values()) > 0
        second = run("reconcile", "--once", *source(repo), *endpoint)
        assert second.exit_code == 0, second.output
        assert write_counts(server) == written


def test_uncommitted_edits_are_never_applied(repo: git.Repo, state: Path) -> None:
    declaration = Path(repo.working_dir) / "orders-api.yaml"
    declaration.write_text(declaration.read_text().replace("version: r42", "version: r41"))
    assert (
        run("reconcile", "--once", *source(repo), "--registry", f"emulated:{state}").exit_code == 0
    )
    with EmulatorServer(state) as server:
        live = AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url)).list_aliases(
            FunctionRef("orders-api", "us-east-1")
        )
    assert {alias.name: alias.function_version for alias in live}["live"] == "2"


def test_an_invalid_function_is_left_alone_while_the_others_converge(
    repo: git.Repo, state: Path
) -> None:
    declaration = Path(repo.working_dir) / "billing-worker.yaml"
    declaration.write_text(declaration.read_text().replace("version: r8", "version: r9"))
    commit_all(repo, "point beta at a label that does not exist")
    result = run("reconcile", "--once", *source(repo), "--registry", f"emulated:{state}")
    assert result.exit_code == 1
    assert "billing-worker.yaml:" in result.output
    assert "r9" in result.output
    assert "orders-api: converged" in result.output
    with EmulatorServer(state) as server:
        registry = AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url))
        billing = registry.list_versions(FunctionRef("billing-worker", "us-east-1"))
        aliases = registry.list_aliases(FunctionRef("billing-worker", "us-east-1"))
    assert [version.number for version in billing] == [1]
    assert [(alias.name, alias.function_version) for alias in aliases] == [("live", "1")]


def test_validate_reports_file_and_line_and_exits_1(tmp_path: Path) -> None:
    folder = tmp_path / "declarations"
    shutil.copytree(EXAMPLES / "declarations", folder)
    assert run("validate", str(folder)).exit_code == 0
    declaration = folder / "orders-api.yaml"
    declaration.write_text(declaration.read_text().replace("{r42: 0.25}", "{r42: 1.5}"))
    result = run("validate", str(folder))
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("orders-api.yaml:21: ")
    assert "1.5" in line


def test_a_missing_repository_is_one_clear_line(tmp_path: Path, state: Path) -> None:
    nowhere = tmp_path / "nowhere"
    result = run("plan", "--repo", str(nowhere), "--registry", f"emulated:{state}")
    assert result.exit_code == 1
    assert result.stderr == f"error: {nowhere} is not a Git repository\n"


def test_schema_is_json_schema_of_a_declaration() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "spec" in schema["properties"]


def test_reconcile_against_a_moto_server(repo: git.Repo, moto_endpoint: str) -> None:
    """moto enforces none of the preconditions, but the same pass must converge on it."""
    backend = Backend("moto", moto_endpoint, Path())
    backend.create_role()
    client = backend.client()
    declared = {}
    for name in ("orders-api", "billing-worker"):
        package = make_zip(f"# {name}\n")
        backend.create_function(name, package=package)
        client.publish_version(FunctionName=name)
        client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        declared[name] = code_sha256(package)
    folder = Path(repo.working_dir)
    for path in folder.glob("*.yaml"):
        path.unlink()
    for name, sha in declared.items():
        (folder / f"{name}.yaml").write_text(
            "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata:\n"
            f"  name: {name}\nspec:\n  versions:\n    r1:\n      codeSha256: {sha!r}\n"
            "    r2:\n      codeSha256: '" + code_sha256(make_zip(f"# {name} 2\n")) + "'\n"
            f"      code:\n        zipFile: artifacts/{name}-2.zip\n"
            "  aliases:\n    live:\n      version: r1\n    beta:\n      version: r2\n"
        )
        (folder / "artifacts" / f"{name}-2.zip").write_bytes(make_zip(f"# {name} 2\n"))
    commit_all(repo, "declare the moto fleet")
    endpoint = ["--registry", "aws", "--endpoint-url", moto_endpoint]
    assert run("plan", *source(repo), *endpoint).exit_code == 2
    applied = run("reconcile", "--once", *source(repo), *endpoint)
    assert applied.exit_code == 0, applied.output
    after = run("plan", *source(repo), *endpoint)
    assert after.exit_code == 0, after.output
