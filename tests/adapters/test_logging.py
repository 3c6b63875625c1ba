"""Every log line is masked: its message, every field however nested, and the traceback of an
exception logged with it, in JSON and on a console, with the secrets ``configure`` was given.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from controller.adapters.logging import LogFormat, configure, get_logger
from controller.errors import ConfigurationError

TOKEN = "configured-token-4711"
WEBHOOK_SECRET = "configured-webhook-0815"
URL = "http://u:URLPASS@127.0.0.1:80a/x.git"


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """``configure`` sets structlog's process-wide configuration; each test leaves it as found."""
    yield
    structlog.reset_defaults()


def logged(log_format: LogFormat, emit: Any) -> str:
    stream = io.StringIO()
    configure(log_format, stream=stream, secrets=[TOKEN, WEBHOOK_SECRET])
    emit(get_logger("test"))
    return stream.getvalue()


def _every_kind_of_field(log: Any) -> None:
    log.warning(
        f"source sync failed for {URL} with {TOKEN}",
        repo=URL,
        error=f"fatal: unable to access '{URL}/': {TOKEN} rejected",
        nested={"urls": [URL, ("https://SOLETOKEN@h/x", 3)], "secret": WEBHOOK_SECRET},
        token="whatever-it-holds",
        count=3,
    )


def _fail() -> None:
    raise ConfigurationError(f"cannot use {URL}: {TOKEN}")


def _an_exception(log: Any) -> None:
    try:
        _fail()
    except ConfigurationError:
        log.exception("pass failed unexpectedly", revision="a" * 40)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_field_message_or_nested_value_shows_a_secret(log_format: LogFormat) -> None:
    text = logged(log_format, _every_kind_of_field)
    for secret in ("URLPASS", "SOLETOKEN", TOKEN, WEBHOOK_SECRET, "whatever-it-holds"):
        assert secret not in text
    assert "http://127.0.0.1:80a/x.git" in text


def test_a_json_line_keeps_its_shape_with_the_values_masked() -> None:
    event = json.loads(logged("json", _every_kind_of_field))
    assert event["event"] == "source sync failed for http://127.0.0.1:80a/x.git with ***"
    assert event["repo"] == "http://127.0.0.1:80a/x.git"
    assert event["nested"] == {
        "urls": ["http://127.0.0.1:80a/x.git", ["https://h/x", 3]],
        "secret": "***",
    }
    assert event["token"] == "***"
    assert event["count"] == 3


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_the_traceback_of_a_logged_exception_is_shown_masked(log_format: LogFormat) -> None:
    text = logged(log_format, _an_exception)
    assert "Traceback (most recent call last)" in text
    assert "ConfigurationError: cannot use http://127.0.0.1:80a/x.git: ***" in text.replace(
        "\\n", "\n"
    )
    assert "URLPASS" not in text
    assert TOKEN not in text


def test_a_json_line_carries_the_traceback_as_text() -> None:
    event = json.loads(logged("json", _an_exception))
    assert "exc_info" not in event
    assert event["exception"].startswith("Traceback (most recent call last)")
