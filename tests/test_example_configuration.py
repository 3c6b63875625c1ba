"""The example configuration files load as they are, so that copying one is a safe start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from controller.settings import load_settings

CONFIG = Path(__file__).resolve().parents[1] / "config"


@pytest.mark.parametrize(
    "path", sorted(CONFIG.rglob("lambda-gitops*.yaml")), ids=lambda path: path.name
)
def test_an_example_configuration_loads(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [key for key in os.environ if key.startswith("LAMBDA_GITOPS_")]:
        monkeypatch.delenv(key)
    settings = load_settings(path)
    written = YAML(typ="safe").load(path.read_text())
    for key, value in written.items():
        name = key.replace("-", "_")
        if name == "scope":
            continue
        loaded = getattr(settings, name)
        assert loaded == value or str(loaded) == str(value), f"{path.name}: {key} is {loaded!r}"


def test_the_production_example_narrows_the_scope() -> None:
    settings = load_settings(CONFIG / "lambda-gitops.yaml")
    assert settings.scope.allows("arn:aws:lambda:eu-west-1:123456789012:function:orders-api")
    assert not settings.scope.allows("arn:aws:lambda:us-east-1:123456789012:function:orders-api")
    assert not settings.scope.allows("arn:aws:lambda:eu-west-1:123456789012:function:payments")


def test_the_production_example_lets_retention_delete_versions() -> None:
    """It says both halves: how many versions a function keeps by default, and that the
    controller may delete the others (its IAM role has DeleteVersionsForRetention)."""
    settings = load_settings(CONFIG / "lambda-gitops.yaml")
    assert settings.retention.default == 20
    assert settings.retention.may_delete
