"""The chart takes the change events' queues (``config.events``): the schema knows every event
setting and refuses what the controller would refuse, and what it renders loads as the
controller's own settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest

from controller.settings import ChangeEvents, Settings, load_settings
from tests.deploy.manifests import CHART, clear_settings_environment, controller_config, render

QUEUES = [
    "https://sqs.us-east-1.amazonaws.com/123456789012/lambda-gitops-events",
    "https://sqs.eu-west-1.amazonaws.com/123456789012/lambda-gitops-events",
]


def events_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())
    events: dict[str, Any] = schema["properties"]["config"]["properties"]["events"]
    return events


def test_the_schema_knows_every_event_setting() -> None:
    assert set(events_schema()["properties"]) == set(ChangeEvents.model_fields)
    assert "events" in Settings.model_fields


def test_the_queues_given_to_the_chart_reach_the_controller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = render(
        {"config": {"repo": "https://example.com/r.git", "events": {"queue_urls": QUEUES}}}
    )
    clear_settings_environment(monkeypatch)
    path = tmp_path / "lambda-gitops.yaml"
    path.write_text(controller_config(objects))
    settings = load_settings(path)
    assert settings.events.queue_urls == tuple(QUEUES)
    assert [a.region for a in settings.events.addresses(settings.region)] == [
        "us-east-1",
        "eu-west-1",
    ]


@pytest.mark.parametrize(
    "events",
    [
        {"queue_urls": ["lambda-gitops-events"]},
        {"queue_urls": ["https://sqs.us-east-1.amazonaws.com/lambda-gitops-events"]},
        {"queue_urls": [QUEUES[0], QUEUES[0]]},
        {"wait_time": 30},
        {"max_messages": 0},
        {"queue": QUEUES[0]},
    ],
)
def test_the_schema_refuses_event_settings_the_controller_would_refuse(
    events: dict[str, Any],
) -> None:
    with pytest.raises(helm.HelmValuesError):
        render({"config": {"repo": "https://example.com/r.git", "events": events}})
