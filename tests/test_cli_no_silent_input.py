"""No silent input, through the command line as a user meets it (issue 11, section 3).

Each case is what a person writes by mistake: a misspelled ``apiVersion``, a region that does
not exist, a zip path written from the wrong folder, a registry file that is not there. Each
used to be read as something else without a word; each is now an error at ``FILE:LINE`` (or
naming the setting) that says what was meant, and ``validate -v`` lists what it ignored.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import git
import pytest
from click.testing import CliRunner, Result

from controller.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[1] / "config" / "examples"


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


def folder_of(repo: git.Repo) -> Path:
    return Path(repo.working_dir)


def replace_in(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))


# -- 1. apiVersion and kind -----------------------------------------------------------------------

API_VERSIONS = {
    "lambda-gitop/v1": "apiVersion: lambda-gitop/v1",
    "lamda-gitops/v1": "apiVersion: lamda-gitops/v1",
    "lambda-gitops/v2": "apiVersion: lambda-gitops/v2",
    "lambda_gitops/v1": "apiVersion: lambda_gitops/v1",
    "Lambda-Gitops/v1": "apiVersion: Lambda-Gitops/v1",
    "another tool's": "apiVersion: apps/v1",
    "missing": "",
}


@pytest.mark.parametrize("line", API_VERSIONS.values(), ids=API_VERSIONS.keys())
def test_validate_refuses_a_function_whose_api_version_is_not_ours(
    repo: git.Repo, line: str
) -> None:
    replaced = f"{line}\n" if line else ""
    replace_in(folder_of(repo) / "orders-api.yaml", "apiVersion: lambda-gitops/v1\n", replaced)

    result = run("validate", str(folder_of(repo)))

    assert result.exit_code == 1
    [error] = result.stderr.splitlines()
    # The comment lines above it put the document's first key on line 3.
    assert error.startswith("orders-api.yaml:3: apiVersion"), error
    assert "did you mean" in error
    assert "lambda-gitops/v1" in error


def test_validate_makes_a_misspelled_kind_a_did_you_mean(repo: git.Repo) -> None:
    replace_in(folder_of(repo) / "orders-api.yaml", "kind: Function", "kind: Fucntion")

    result = run("validate", str(folder_of(repo)))

    assert result.exit_code == 1
    assert result.stderr == (
        "orders-api.yaml:4: kind: 'Fucntion' is not a kind of lambda-gitops/v1; "
        "did you mean 'Function'?\n"
    )


def test_plan_fails_on_a_misspelled_api_version_rather_than_forgetting_the_function(
    repo: git.Repo, state: Path
) -> None:
    replace_in(folder_of(repo) / "orders-api.yaml", "lambda-gitops/v1", "lambda-gitop/v1")
    commit_all(repo, "a typo")

    result = run("plan", "--repo", str(folder_of(repo)), "--registry", f"emulated:{state}")

    assert result.exit_code == 1, result.output
    assert (
        "orders-api.yaml:3: apiVersion: 'lambda-gitop/v1' is not this controller's; "
        "did you mean 'lambda-gitops/v1'?" in result.output
    )


# -- 2. validate -v lists what it ignored ---------------------------------------------------------


def test_validate_verbose_lists_every_ignored_document_and_why(repo: git.Repo) -> None:
    folder = folder_of(repo)
    (folder / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "---\n"
        "---\n- not\n- a mapping\n"
    )
    (folder / "empty.yaml").write_text("")

    quiet = run("validate", str(folder))
    verbose = run("validate", "-v", str(folder))
    long_flag = run("validate", "--verbose", str(folder))

    assert quiet.exit_code == verbose.exit_code == 0, verbose.output
    assert quiet.stdout == "2 functions declared, all valid; 4 documents ignored (-v lists them)\n"
    assert verbose.stdout == long_flag.stdout
    assert verbose.stdout.splitlines() == [
        "deployment.yaml:1: ignored: apiVersion apps/v1, kind Deployment: not a lambda-gitops "
        "document",
        "deployment.yaml:4: ignored: an empty document",
        "deployment.yaml:6: ignored: the document is a list, not a mapping: not a "
        "lambda-gitops document",
        "empty.yaml:1: ignored: no YAML document (the file is empty, or holds only comments)",
        "2 functions declared, all valid; 4 documents ignored",
    ]


def test_validate_verbose_lists_ignored_documents_beside_the_errors(repo: git.Repo) -> None:
    folder = folder_of(repo)
    (folder / "deployment.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n")
    replace_in(folder / "orders-api.yaml", "kind: Function", "kind: function")

    result = run("validate", "-v", str(folder))

    assert result.exit_code == 1
    assert result.stdout == (
        "deployment.yaml:1: ignored: apiVersion apps/v1, kind Deployment: not a lambda-gitops "
        "document\n"
    )
    assert result.stderr.startswith("orders-api.yaml:4: kind: 'function'")


def test_validate_of_a_clean_repository_mentions_nothing_ignored(repo: git.Repo) -> None:
    result = run("validate", "-v", str(folder_of(repo)))

    assert result.exit_code == 0
    assert result.stdout == "2 functions declared, all valid\n"


# -- 3. code.zipFile is read from the declaration's folder ----------------------------------------


def move_billing_worker_into(repo: git.Repo, zip_file: str) -> Path:
    """billing-worker.yaml moved into functions/, its zipFile written as ``zip_file``."""
    folder = folder_of(repo)
    (folder / "functions").mkdir()
    moved = folder / "functions" / "billing-worker.yaml"
    (folder / "billing-worker.yaml").rename(moved)
    replace_in(moved, "zipFile: artifacts/billing-worker-r8.zip", f"zipFile: {zip_file}")
    commit_all(repo, "billing-worker into functions/")
    return moved


def test_a_zip_file_is_read_from_its_declarations_folder_by_validate_plan_and_reconcile(
    repo: git.Repo, state: Path
) -> None:
    move_billing_worker_into(repo, "../artifacts/billing-worker-r8.zip")
    registry = ["--repo", str(folder_of(repo)), "--registry", f"emulated:{state}"]

    validated = run("validate", str(folder_of(repo)))
    planned = run("plan", *registry)
    applied = run("reconcile", "--once", *registry)

    assert validated.exit_code == 0, validated.output
    assert planned.exit_code == 2, planned.output
    assert "after updating $LATEST from artifacts/billing-worker-r8.zip" in planned.output
    assert applied.exit_code == 0, applied.output
    assert run("plan", *registry).exit_code == 0


def test_a_zip_path_written_from_the_root_in_a_subfolder_says_how_to_write_it(
    repo: git.Repo, state: Path
) -> None:
    move_billing_worker_into(repo, "artifacts/billing-worker-r8.zip")
    hint = (
        "zipFile is relative to the folder of its file (functions/): to name "
        "'artifacts/billing-worker-r8.zip', write '../artifacts/billing-worker-r8.zip'"
    )

    validated = run("validate", str(folder_of(repo)))
    planned = run("plan", "--repo", str(folder_of(repo)), "--registry", f"emulated:{state}")

    assert validated.exit_code == 1
    assert validated.stderr.startswith("functions/billing-worker.yaml:16: spec.versions.r8.code")
    assert hint in validated.stderr
    assert planned.exit_code == 1
    assert hint in planned.output


def test_a_zip_path_may_not_climb_out_of_the_repository(repo: git.Repo) -> None:
    move_billing_worker_into(repo, "../../artifacts/billing-worker-r8.zip")

    result = run("validate", str(folder_of(repo)))

    assert result.exit_code == 1
    assert "leads outside the repository through '..'" in result.stderr


# -- 4. regions -----------------------------------------------------------------------------------

REGION_MISTAKES = {
    "eu-west-7": "did you mean 'eu-west-1', 'eu-west-2' or 'eu-west-3'?",
    "us-est-1": "did you mean 'us-east-1'",
    "euwest1": "did you mean 'eu-west-1'",
}


@pytest.mark.parametrize(
    ("region", "suggestion"), REGION_MISTAKES.items(), ids=REGION_MISTAKES.keys()
)
def test_validate_and_plan_refuse_a_declared_region_lambda_is_not_in(
    repo: git.Repo, state: Path, region: str, suggestion: str
) -> None:
    replace_in(folder_of(repo) / "billing-worker.yaml", "region: us-east-1", f"region: {region}")
    commit_all(repo, "a region typo")
    where = f"billing-worker.yaml:8: spec.region: {region!r} is not "

    validated = run("validate", str(folder_of(repo)))
    planned = run("plan", "--repo", str(folder_of(repo)), "--registry", f"emulated:{state}")

    assert validated.exit_code == 1
    assert validated.stderr.startswith(where), validated.stderr
    assert suggestion in validated.stderr
    assert planned.exit_code == 1
    assert where in planned.output


def test_a_function_arns_region_is_checked_too(repo: git.Repo) -> None:
    replace_in(
        folder_of(repo) / "billing-worker.yaml",
        "  region: us-east-1",
        "  functionName: arn:aws:lambda:eu-west-7:123456789012:function:billing-worker",
    )

    result = run("validate", str(folder_of(repo)))

    assert result.exit_code == 1
    assert result.stderr.startswith(
        "billing-worker.yaml:8: spec.functionName: the ARN's region 'eu-west-7' is not a region "
        "AWS Lambda is in; did you mean"
    )


@pytest.mark.parametrize(
    ("region", "suggestion"), REGION_MISTAKES.items(), ids=REGION_MISTAKES.keys()
)
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_the_controllers_own_region_is_refused_naming_the_setting(
    repo: git.Repo, state: Path, command: str, region: str, suggestion: str
) -> None:
    arguments = ["--repo", str(folder_of(repo)), "--region", region]
    if command == "plan":
        arguments += ["--registry", f"emulated:{state}"]

    result = run(command, *arguments)

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: invalid settings: region: {region!r} is not ")
    assert suggestion in result.stderr


def test_a_region_newer_than_the_controller_is_accepted_from_extra_regions(
    repo: git.Repo, tmp_path: Path
) -> None:
    replace_in(folder_of(repo) / "billing-worker.yaml", "region: us-east-1", "region: eu-west-7")
    config = tmp_path / "lambda-gitops.yaml"
    config.write_text("extra-regions: [eu-west-7]\n")

    refused = run("validate", str(folder_of(repo)))
    accepted = run("validate", str(folder_of(repo)), "--config", str(config))

    assert refused.exit_code == 1
    assert "goes in the extra_regions setting" in refused.stderr
    assert accepted.exit_code == 0, accepted.output


# -- 5. read-only commands never create a registry ------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["plan"],
        ["registry", "show"],
        ["registry", "show", "orders-api", "--output", "json"],
        ["diff", "--base", "HEAD", "--head", "HEAD", "--live"],
    ],
    ids=" ".join,
)
def test_a_read_only_command_refuses_a_registry_file_that_does_not_exist(
    repo: git.Repo, tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "typo.sqlite"
    source = [] if command[0] == "registry" else ["--repo", str(folder_of(repo))]

    result = run(*command, *source, "--registry", f"emulated:{missing}")

    assert result.exit_code == 1
    assert result.stderr == (
        f"error: --registry emulated:{missing}: the emulator state file {missing} does not "
        "exist, and this command only reads the registry; create one with `lambda-gitops "
        f"emulator load SEED --state {missing}` or `lambda-gitops emulator create-function NAME "
        f"--state {missing}` (reconcile --once and run create it too)\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["declarations"]


def test_reconcile_once_still_creates_the_registry_it_writes_to(
    repo: git.Repo, tmp_path: Path
) -> None:
    created = tmp_path / "new.sqlite"

    result = run(
        "reconcile", "--once", "--repo", str(folder_of(repo)), "--registry", f"emulated:{created}"
    )

    # The functions do not exist in a new registry, so they fail; the registry itself is made.
    assert result.exit_code == 1
    assert "function orders-api does not exist in us-east-1" in result.output
    assert created.is_file()
    assert run("registry", "show", "--registry", f"emulated:{created}").exit_code == 0
