"""``lambda-gitops registry show``: what the registry holds, for people and for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli.main import main
from lambda_emulator import EmulatorServer

SEED = Path(__file__).resolve().parents[1] / "config" / "examples" / "seed.yaml"
ORDERS_V1 = "6pL0bTqyPp1aIhrsyDo+aHmoE4mEvTPHwq3tz6Y0vHI="
ORDERS_V2 = "h7Q2n1ZpQyW0r6cK3v9mJ8sTqLx5bYdEoF4gHuIaVwA="


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "registry.sqlite"
    result = CliRunner().invoke(main, ["emulator", "load", str(SEED), "--state", str(path)])
    assert result.exit_code == 0, result.output
    return path


def show(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["registry", "show", *arguments])
    return result.exit_code, result.stdout, result.stderr


def test_json_follows_the_documented_shape(state: Path) -> None:
    code, out, _ = show("orders-api", "--registry", f"emulated:{state}", "--output", "json")
    assert code == 0
    [orders] = json.loads(out)["functions"]
    assert orders == {
        "name": "orders-api",
        "region": "us-east-1",
        "arn": "arn:aws:lambda:us-east-1:123456789012:function:orders-api",
        "latest": {"codeSha256": ORDERS_V2},
        "versions": [
            {"version": "1", "codeSha256": ORDERS_V1, "description": ""},
            {"version": "2", "codeSha256": ORDERS_V2, "description": ""},
        ],
        "aliases": [
            {"name": "beta", "functionVersion": "2", "routing": {}, "description": ""},
            {"name": "canary", "functionVersion": "1", "routing": {"2": 0.1}, "description": ""},
            {"name": "live", "functionVersion": "1", "routing": {}, "description": ""},
        ],
    }


def test_every_function_of_the_region_is_shown_by_name(state: Path) -> None:
    code, out, _ = show("--registry", f"emulated:{state}", "--output", "json")
    assert code == 0
    names = [function["name"] for function in json.loads(out)["functions"]]
    assert names == ["billing-worker", "orders-api"]
    code, out, _ = show("--registry", f"emulated:{state}", "--region", "eu-west-1")
    assert (code, out) == (0, "no functions\n")


def test_text_shows_versions_and_where_aliases_point(state: Path) -> None:
    code, out, _ = show("orders-api", "--registry", f"emulated:{state}")
    assert code == 0
    assert "orders-api  (us-east-1)" in out
    assert "canary  -> 1  + 10% to 2" in out
    assert "live    -> 1" in out


def test_the_same_through_a_served_endpoint(state: Path) -> None:
    with EmulatorServer(state) as server:
        code, out, _ = show(
            "--registry", "aws", "--endpoint-url", server.endpoint_url, "--output", "json"
        )
    assert code == 0
    assert len(json.loads(out)["functions"]) == 2


def test_a_missing_function_is_one_clear_line(state: Path) -> None:
    code, out, err = show("nobody", "--registry", f"emulated:{state}")
    assert code == 1
    assert err.startswith("error: GetFunction: ResourceNotFoundException: Function not found:")
    assert "Traceback" not in out + err


def test_an_unknown_registry_says_what_is_accepted() -> None:
    code, _, err = show("--registry", "lambda")
    assert code == 1
    assert "use 'aws' or 'emulated:FILE'" in err
