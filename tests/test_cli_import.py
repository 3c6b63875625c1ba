"""``lambda-gitops import`` through the command line, against the emulated registry and a moto
server: the issue's acceptance test, and what a person meets on the way.

A fleet of 50 functions is seeded through boto3 (so that the same seeding runs on both), with
versions, aliases, routing, an alias on $LATEST, descriptions with odd characters and some
aliases marked by an earlier controller; ``import --all`` writes their declarations into a
fresh Git repository, and then ``validate`` exits 0, ``plan`` exits 0 and ``reconcile --once``
writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from controller.cli.imports import _report
from controller.cli.main import main
from controller.core.ownership import describe
from controller.review.imports import ImportPlan, Outcome
from lambda_emulator import EmulatorServer, EmulatorStore
from tests.backends import Backend, make_zip
from tests.review.hostile import LONG_NAME, YAML_SPECIALS

FLEET = 50
FAST = {"LAMBDA_GITOPS_REQUESTS_PER_SECOND": "1000"}
"""Lambda's pace is not what these tests are about (``bench/import_fleet.py`` is)."""
ODD = 'release "42": ünïcödé ✓, # not a comment, tab\tand\nline'


def run(*arguments: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, list(arguments), env={**FAST, **(env or {})})
    assert "Traceback" not in result.output + result.stderr
    return result


def seed(backend: Backend, count: int) -> None:
    """``count`` functions, each with two or three versions and three to five aliases."""
    lambda_ = backend.client()
    for index in range(count):
        name = f"fleet-{index:02d}"
        backend.create_function(name, package=make_zip(f"# {name} 1\n"), role=backend.create_role())
        lambda_.publish_version(FunctionName=name, Description=f"release {index}.1")
        backend.update_code(name, make_zip(f"# {name} 2\n"))
        lambda_.publish_version(FunctionName=name)
        if index % 5 == 0:  # a third version with the code of the first
            backend.update_code(name, make_zip(f"# {name} 1\n"))
            lambda_.publish_version(FunctionName=name)
        marked = describe("", "0123456789abcdef") if index % 4 == 0 else ""
        lambda_.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        lambda_.create_alias(
            FunctionName=name, Name="beta", FunctionVersion="2", Description=marked
        )
        lambda_.create_alias(
            FunctionName=name,
            Name="canary",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": round(0.05 + index / 1000, 3)}},
            Description=ODD if index % 3 == 0 else "",
        )
        if index % 7 == 0:
            lambda_.create_alias(FunctionName=name, Name="dev", FunctionVersion="$LATEST")
        if index % 5 == 0:
            lambda_.create_alias(FunctionName=name, Name="old", FunctionVersion="3")


def new_repository(path: Path) -> git.Repo:
    repository = git.Repo.init(path)
    with repository.config_writer() as config:
        config.set_value("user", "name", "test")
        config.set_value("user", "email", "test@example.com")
    return repository


def live_aliases(backend: Backend) -> dict[str, list[object]]:
    """Every alias of the fleet as Lambda returns it (RevisionId included), and the versions."""
    lambda_ = backend.client()
    seen: dict[str, list[object]] = {}
    for index in range(FLEET):
        name = f"fleet-{index:02d}"
        aliases = lambda_.list_aliases(FunctionName=name)["Aliases"]
        versions = lambda_.list_versions_by_function(FunctionName=name)["Versions"]
        seen[name] = [sorted(aliases, key=lambda alias: alias["Name"]), len(versions)]
    return seen


def test_a_live_fleet_imported_validates_plans_in_sync_and_reconciles_without_a_write(
    lambda_backend: Backend, tmp_path: Path
) -> None:
    seed(lambda_backend, FLEET)
    repository = new_repository(tmp_path / "declarations")
    folder = tmp_path / "declarations" / "functions"
    registry = ["--registry", "aws", "--endpoint-url", lambda_backend.endpoint_url]

    imported = run("import", "--all", *registry, "--into", str(folder))

    assert imported.exit_code == 0, imported.output + imported.stderr
    assert f"Imported {FLEET} functions into {folder}: {FLEET} written, 0 merged" in imported.output
    assert imported.stderr == ""
    assert len(list(folder.glob("*.yaml"))) == FLEET
    repository.git.add(A=True)
    repository.index.commit("import the live fleet")

    validated = run("validate", str(folder))
    assert validated.exit_code == 0, validated.stderr
    assert f"{FLEET} functions declared, all valid" in validated.output

    source = ["--repo", str(repository.working_dir)]
    planned = run("plan", *source, *registry, "--output", "json")
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["inSync"] is True

    before = live_aliases(lambda_backend)
    writes = _write_log(lambda_backend)
    reconciled = run("reconcile", "--once", *source, *registry)
    assert reconciled.exit_code == 0, reconciled.output
    assert f"Reconciled: {FLEET} of {FLEET} functions converged." in reconciled.output
    assert _write_log(lambda_backend) == writes
    assert live_aliases(lambda_backend) == before  # descriptions, RevisionIds, versions


def _write_log(backend: Backend) -> int | None:
    """The number of writes the emulator has logged; moto keeps no log (``None``)."""
    return len(backend.server.store.write_log()) if backend.server is not None else None


# -- the emulated registry, as a person uses the command ------------------------------------------


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """An emulated registry with three small functions."""
    path = tmp_path / "registry.sqlite"
    with EmulatorServer(path) as server:
        backend = Backend("emulator", server.endpoint_url, tmp_path / "s3", server)
        seed(backend, 3)
    return path


def test_functions_outside_the_scope_are_skipped_with_a_line_saying_why(
    state: Path, tmp_path: Path
) -> None:
    scope = {"LAMBDA_GITOPS_SCOPE__FUNCTIONS": '["arn:aws:lambda:*:*:function:fleet-00"]'}

    result = run(
        "import",
        "--all",
        "--registry",
        f"emulated:{state}",
        "--into",
        str(tmp_path / "f"),
        env=scope,
    )

    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"skipped: {name} (us-east-1): out of the configured scope (scope.functions, "
        "scope.regions, scope.accounts)"
        for name in ("fleet-01", "fleet-02")
    ]
    assert "1 written, 0 merged, 0 unchanged, 2 skipped." in result.output
    assert [path.name for path in (tmp_path / "f").iterdir()] == ["fleet-00.yaml"]


def test_a_function_that_does_not_exist_is_an_error_and_the_others_are_imported(
    state: Path, tmp_path: Path
) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:fleet-02"

    result = run(
        "import", "fleet-01", "nosuch", arn, "--registry", f"emulated:{state}",
        "--into", str(tmp_path / "f"),
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr == "error: nosuch (us-east-1): no function nosuch in us-east-1\n"
    assert "Imported 2 functions into" in result.output
    assert "2 written, 0 merged, 0 unchanged, 0 skipped; 1 failed." in result.output
    assert sorted(path.name for path in (tmp_path / "f").iterdir()) == [
        "fleet-01.yaml",
        "fleet-02.yaml",
    ]


def test_a_file_in_the_way_is_left_alone_without_force(state: Path, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "fleet-00.yaml").write_text("# someone's notes\n")
    registry = ["--registry", f"emulated:{state}", "--into", str(folder)]

    refused = run("import", "fleet-00", *registry)
    forced = run("import", "fleet-00", *registry, "--force")

    assert refused.exit_code == 1
    assert "exists and does not declare this function; give --force" in refused.stderr
    assert forced.exit_code == 0, forced.stderr
    assert "written (overwritten)" in forced.output
    assert (folder / "fleet-00.yaml").read_text().startswith("# Imported by lambda-gitops import")


def test_several_regions_go_into_a_folder_each(state: Path, tmp_path: Path) -> None:
    result = run(
        "import", "--all", "--region", "us-east-1", "--region", "eu-west-1",
        "--registry", f"emulated:{state}", "--into", str(tmp_path / "f"),
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert sorted(
        p.relative_to(tmp_path / "f").as_posix() for p in tmp_path.glob("f/**/*.yaml")
    ) == [f"us-east-1/fleet-0{index}.yaml" for index in range(3)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--all", "fleet-00"], "give FUNCTION names or --all, one of the two"),
        ([], "give FUNCTION names or --all, one of the two"),
        (["--all", "--label", "v"], "Invalid value for '--label': 'v' has no {version}"),
        (["--all", "--region", "eu-west-7"], "'eu-west-7' is not a region AWS Lambda is in"),
    ],
)
def test_usage_errors_exit_2_before_anything_is_read(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    nowhere = f"emulated:{tmp_path / 'no-registry.sqlite'}"

    result = run("import", *arguments, "--registry", nowhere, "--into", str(tmp_path / "f"))

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "f").exists()


def test_the_write_log_of_an_import_is_empty(state: Path, tmp_path: Path) -> None:
    with EmulatorStore(state) as store:
        before = len(store.write_log())

    assert (
        run(
            "import", "--all", "--registry", f"emulated:{state}", "--into", str(tmp_path / "f")
        ).exit_code
        == 0
    )

    with EmulatorStore(state) as store:
        assert len(store.write_log()) == before


def test_an_alias_no_declaration_can_say_is_left_out_with_a_warning(
    state: Path, tmp_path: Path
) -> None:
    with EmulatorServer(state) as server:
        Backend("emulator", server.endpoint_url, tmp_path / "s3", server).client().create_alias(
            FunctionName="fleet-00",
            Name="twin",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"3": 0.5}},  # 3 runs 1's code
        )

    result = run(
        "import", "fleet-00", "--registry", f"emulated:{state}", "--into", str(tmp_path / "f")
    )

    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "warning: fleet-00 (us-east-1): alias twin is not declared: it routes to version 3, "
        "which runs the same code as its version 1, with the same configuration as declared: a "
        "declaration names a version by its code and configuration, and the controller refuses "
        "routing between two versions of one code and configuration (rule L21d); point the "
        "alias at one version, then import it again\n"
    )
    written = (tmp_path / "f" / "fleet-00.yaml").read_text()
    assert "# alias twin is not declared: it routes to version 3" in written
    assert "    twin:" not in written


# -- a version's configuration ---------------------------------------------------------------------

IMPORT_SECRET = "imported-secret-value-77"
SECRET_MARK = "S3CR3T"
"""Before every value of the hostile environment, so that a value shown, even cut, is found."""


def configured(backend: Backend) -> None:
    """orders: version 1 as created, 2 with 512 MB and an environment holding a secret, and
    3 with the code of 2 and 1024 MB; live on 2, sending 10% to 3, which only the memory tells
    apart from 2."""
    client = backend.client()
    backend.create_function("orders", package=make_zip("# orders 1\n"), role=backend.create_role())
    client.publish_version(FunctionName="orders")
    backend.update_code("orders", make_zip("# orders 2\n"))
    client.update_function_configuration(
        FunctionName="orders",
        MemorySize=512,
        Timeout=30,
        Environment={"Variables": {"STAGE": "prod", "API_KEY": IMPORT_SECRET}},
    )
    backend.wait_update_finished("orders")
    client.publish_version(FunctionName="orders")
    client.update_function_configuration(FunctionName="orders", MemorySize=1024)
    backend.wait_update_finished("orders")
    client.publish_version(FunctionName="orders")
    client.create_alias(
        FunctionName="orders",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}},
    )


def imported_and_planned(
    backend: Backend, tmp_path: Path, *options: str
) -> tuple[Result, str, Result]:
    repository = new_repository(tmp_path / "declarations")
    folder = tmp_path / "declarations" / "functions"
    registry = ["--registry", "aws", "--endpoint-url", backend.endpoint_url]
    imported = run("import", "orders", *registry, "--into", str(folder), *options)
    assert imported.exit_code == 0, imported.output + imported.stderr
    repository.git.add(A=True)
    repository.index.commit("import orders")
    planned = run("plan", "--repo", str(repository.working_dir), *registry)
    return imported, (folder / "orders.yaml").read_text(), planned


def test_import_declares_each_versions_configuration_but_not_its_environment(
    lambda_backend: Backend, tmp_path: Path
) -> None:
    configured(lambda_backend)

    imported, text, planned = imported_and_planned(lambda_backend, tmp_path)

    assert planned.exit_code == 0, planned.output
    assert imported.stderr == ""
    assert "environment" not in text
    assert IMPORT_SECRET not in text
    declaration = YAML(typ="safe").load(text)
    versions = declaration["spec"]["versions"]
    assert sorted(versions) == ["v2", "v3"]
    assert versions["v2"]["configuration"] == {
        "memorySize": 512,
        "timeout": 30,
        "ephemeralStorage": 512,
        "runtime": "python3.12",
        "handler": "app.handler",
        "layers": [],
        "architectures": ["x86_64"],
    }
    assert versions["v3"]["configuration"]["memorySize"] == 1024
    assert declaration["spec"]["aliases"]["live"] == {"version": "v2", "routing": {"v3": 0.1}}


def test_import_with_environment_writes_every_value_as_a_secret_and_says_so_without_it(
    lambda_backend: Backend, tmp_path: Path
) -> None:
    configured(lambda_backend)

    imported, text, planned = imported_and_planned(lambda_backend, tmp_path, "--with-environment")

    assert planned.exit_code == 0, planned.output
    assert IMPORT_SECRET not in planned.output + planned.stderr
    environment = YAML(typ="safe").load(text)["spec"]["versions"]["v2"]["configuration"][
        "environment"
    ]
    assert environment == {
        "API_KEY": {"value": IMPORT_SECRET, "secret": True},
        "STAGE": {"value": "prod", "secret": True},
    }
    assert (
        "warning: orders (us-east-1): version v2: 2 environment variables written, each marked "
        "secret: true: the values are now in the file, readable by anyone who can read the "
        "repository; move real secrets out of it"
    ) in imported.stderr.splitlines()
    assert IMPORT_SECRET not in imported.output + imported.stderr


def test_import_into_a_declaration_adds_no_label_for_a_version_a_label_satisfies(
    state: Path, tmp_path: Path
) -> None:
    """A label declared by hand with code only is satisfied by every version of its code, so
    the import adds no label for them, whatever their configuration."""
    folder = tmp_path / "f"
    first = run("import", "fleet-00", "--registry", f"emulated:{state}", "--into", str(folder))
    assert first.exit_code == 0, first.stderr
    path = folder / "fleet-00.yaml"
    lines = path.read_text().splitlines()
    # Keep v1's codeSha256 and drop its configuration block, as a person would write it.
    start = lines.index("    v1:") + 2
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("        "))
    path.write_text("\n".join(lines[:start] + lines[end:]) + "\n")

    again = run("import", "fleet-00", "--registry", f"emulated:{state}", "--into", str(folder))

    assert again.exit_code == 0, again.stderr
    assert "unchanged, it declares everything imported" in again.output


def test_hostile_environment_names_and_values_are_imported_exactly_and_plan_in_sync(
    lambda_backend: Backend, tmp_path: Path
) -> None:
    """Through boto3, each of the YAML specials is a value (``on``, ``0x1F``, ``a: b``, line
    breaks, U+2028, a byte order mark...), under names YAML 1.1 reads otherwise and one past
    YAML's plain-key limit; imported with --with-environment, the file declares exactly them
    and plan finds nothing to do. No value is shown in what import prints."""
    variables = {f"V{index:02d}": value for index, value in enumerate(YAML_SPECIALS)}
    variables |= {"ON": "off", "NULL": "~", LONG_NAME: "x"}
    variables = {name: f"{SECRET_MARK}{value}" for name, value in variables.items()}
    client = lambda_backend.client()
    lambda_backend.create_function(
        "hostile", package=make_zip("# hostile\n"), role=lambda_backend.create_role()
    )
    client.update_function_configuration(
        FunctionName="hostile", Environment={"Variables": variables}
    )
    lambda_backend.wait_update_finished("hostile")
    client.publish_version(FunctionName="hostile")
    client.create_alias(FunctionName="hostile", Name="live", FunctionVersion="1")
    repository = new_repository(tmp_path / "declarations")
    folder = tmp_path / "declarations" / "functions"
    registry = ["--registry", "aws", "--endpoint-url", lambda_backend.endpoint_url]

    imported = run("import", "hostile", *registry, "--into", str(folder), "--with-environment")

    assert imported.exit_code == 0, imported.output + imported.stderr
    assert SECRET_MARK not in imported.output + imported.stderr
    declaration = YAML(typ="safe").load((folder / "hostile.yaml").read_text())
    environment = declaration["spec"]["versions"]["v1"]["configuration"]["environment"]
    assert environment == {
        name: {"value": value, "secret": True} for name, value in variables.items()
    }
    repository.git.add(A=True)
    repository.index.commit("import hostile")
    planned = run("plan", "--repo", str(repository.working_dir), *registry)
    assert planned.exit_code == 0, planned.output
    assert SECRET_MARK not in planned.output + planned.stderr


def test_what_import_prints_of_a_registrys_names_cannot_drive_the_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A registry laxer than Lambda (or a proxy) may name an alias with escape sequences: every
    line import prints shows them as replacement characters, notes included."""
    hostile = "live\x1b[2J\x1b]0;owned\x07\u202e"
    plan = ImportPlan(
        outcomes=(
            Outcome("orders-api", "us-east-1", "written", "functions/orders-api.yaml"),
            Outcome(
                "orders-api",
                "us-east-1",
                "failed",
                f"alias {hostile} cannot be declared",
                notes=(f"alias {hostile} left out: it routes to $LATEST",),
            ),
        ),
        writes=(),
        warnings=(f"functions/{hostile}.yaml does not parse",),
    )
    with pytest.raises(SystemExit):
        _report(plan, Path("functions"))
    printed = capsys.readouterr()
    shown = printed.out + printed.err
    assert [c for c in shown if c in "\x1b\x07\u202e"] == []
    assert "alias live\ufffd[2J\ufffd]0;owned\ufffd\ufffd left out" in printed.err
