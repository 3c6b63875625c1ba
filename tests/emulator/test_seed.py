"""``emulator load``: a seed file is loaded whole, or refused with its file, line and field."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from lambda_emulator import Caller, EmulatorStore
from lambda_emulator.cli import emulator_group
from tests.backends import make_zip
from tests.emulator.conftest import sha

HOME = Caller("123456789012", "us-east-1")


def load(seed: Path, state: Path) -> Result:
    return CliRunner().invoke(emulator_group, ["load", str(seed), "--state", str(state)])


def write_seed(folder: Path, text: str) -> Path:
    seed = folder / "seed.yaml"
    seed.write_text(text)
    return seed


GOOD = f"""\
functions:
  - name: orders
    codeSha256: "{sha("r3")}"
    versions: ["{sha("r1")}", "{sha("r2")}"]
    aliases:
      live: {{version: "1", routing: {{"2": 0.1}}}}
      edge: {{version: $LATEST}}
  - name: billing
    region: eu-west-1
    zipFile: build/billing.zip
    versions: []
"""


def test_a_seed_is_loaded_whole(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "billing.zip").write_bytes(make_zip("billing"))
    state = tmp_path / "state.sqlite"
    result = load(write_seed(tmp_path, GOOD), state)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("loaded 2 functions")
    with EmulatorStore(state) as store:
        versions = store.list_versions(HOME, "orders").items
        assert [(v.version, v.code_sha256) for v in versions] == [
            ("$LATEST", sha("r3")),
            ("1", sha("r1")),
            ("2", sha("r2")),
        ]
        live = store.get_alias(HOME, "orders", "live")
        assert (live.function_version, dict(live.routing)) == ("1", {"2": 0.1})
        assert store.get_alias(HOME, "orders", "edge").function_version == "$LATEST"
        billing = store.get_function(Caller(HOME.account, "eu-west-1"), "billing")
        assert billing.code_size == len(make_zip("billing"))


def test_an_unknown_field_names_the_file_line_and_field(tmp_path: Path) -> None:
    seed = write_seed(
        tmp_path,
        f"""\
functions:
  - name: orders
    codeSha256: "{sha("a")}"
  - name: billing
    codeSha256: "{sha("b")}"
    aliases:
      live:
        version: "1"
        colour: blue
""",
    )
    state = tmp_path / "state.sqlite"
    result = load(seed, state)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"error: {seed}:9: functions[1].aliases.live.colour: Extra inputs" in result.stderr


def test_a_rule_broken_half_way_loads_nothing(tmp_path: Path) -> None:
    """Loading is one transaction: the first function is not left behind."""
    seed = write_seed(
        tmp_path,
        f"""\
functions:
  - name: orders
    codeSha256: "{sha("a")}"
    versions: ["{sha("a")}"]
  - name: billing
    codeSha256: "{sha("b")}"
    aliases:
      live: {{version: "7"}}
""",
    )
    state = tmp_path / "state.sqlite"
    EmulatorStore(state).close()
    result = load(seed, state)
    assert result.exit_code == 1
    assert f"{seed}:5: functions[1] (billing)" in result.stderr
    assert "function:billing:7" in result.stderr
    with EmulatorStore(state) as store:
        assert store.list_functions(HOME).items == []


def test_a_missing_zip_file_is_named(tmp_path: Path) -> None:
    seed = write_seed(tmp_path, "functions:\n  - name: orders\n    zipFile: nowhere.zip\n")
    result = load(seed, tmp_path / "state.sqlite")
    assert result.exit_code == 1
    assert "nowhere.zip" in result.stderr
    assert "Traceback" not in result.output


def test_a_seed_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    seed = write_seed(tmp_path, "functions: [unclosed\n")
    result = load(seed, tmp_path / "state.sqlite")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {seed}: not valid YAML")
