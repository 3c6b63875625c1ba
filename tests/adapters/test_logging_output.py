"""Where log lines go and how they look: stderr only, at the configured level, colour only on a
terminal and never when asked not to, and the emulator's standard-library lines the same way.
"""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from controller.adapters.logging import LogLevel, LogSettings, configure, get_logger, no_color

ANSI = "\x1b["


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_console_lines_on_a_stream_that_is_no_terminal_have_no_colour() -> None:
    stream = io.StringIO()
    configure("console", stream=stream)
    get_logger().warning("pass", outcome="failure")
    assert "pass" in stream.getvalue()
    assert ANSI not in stream.getvalue()


def test_console_lines_on_a_terminal_are_coloured_unless_colour_is_off() -> None:
    coloured, plain = Terminal(), Terminal()
    configure("console", stream=coloured)
    get_logger().warning("pass", outcome="failure")
    configure("console", stream=plain, colour=False)
    get_logger().warning("pass", outcome="failure")
    assert ANSI in coloured.getvalue()
    assert "outcome=failure" in plain.getvalue()
    assert ANSI not in plain.getvalue()


def test_auto_is_json_off_a_terminal_and_readable_lines_on_one() -> None:
    piped, terminal = io.StringIO(), Terminal()
    configure("auto", stream=piped)
    get_logger().info("pass")
    configure("auto", stream=terminal, colour=False)
    get_logger().info("pass")
    assert json.loads(piped.getvalue())["event"] == "pass"
    assert not terminal.getvalue().startswith("{")


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        ("debug", ["debug", "info", "warning", "error"]),
        ("info", ["info", "warning", "error"]),
        ("warning", ["warning", "error"]),
        ("error", ["error"]),
    ],
)
def test_the_level_is_the_least_severe_line_shown(level: LogLevel, shown: list[str]) -> None:
    stream = io.StringIO()
    configure("json", stream=stream, level=level)
    log = get_logger()
    log.debug("debug")
    log.info("info")
    log.warning("warning")
    log.error("error")
    assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == shown


def test_lines_go_to_the_stderr_of_the_moment_and_never_to_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A command run in-process swaps stderr for its run; the log follows the swap."""
    configure("json")
    swapped = io.StringIO()
    saved, sys.stderr = sys.stderr, swapped
    try:
        get_logger().warning("while swapped")
    finally:
        sys.stderr = saved
    get_logger().warning("after")
    captured = capsys.readouterr()
    assert json.loads(swapped.getvalue())["event"] == "while swapped"
    assert json.loads(captured.err)["event"] == "after"
    assert captured.out == ""


def test_a_standard_library_logger_is_rendered_masked_at_the_same_level() -> None:
    stream = io.StringIO()
    configure(
        "json",
        stream=stream,
        level="info",
        secrets=["emulator-secret-1"],
        stdlib_loggers=["lambda_emulator"],
    )
    emulator = logging.getLogger("lambda_emulator.server")
    emulator.debug("not shown at info")
    emulator.warning("client %s sent emulator-secret-1", "127.0.0.1")
    (line,) = stream.getvalue().splitlines()
    event = json.loads(line)
    assert event["event"] == "client 127.0.0.1 sent ***"
    assert event["level"] == "warning"
    assert event["logger"] == "lambda_emulator.server"


def test_configuring_twice_leaves_one_handler_on_a_standard_library_logger() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure("json", stream=first, stdlib_loggers=["lambda_emulator"])
    configure("json", stream=second, level="debug", stdlib_loggers=["lambda_emulator"])
    logging.getLogger("lambda_emulator").debug("once")
    assert first.getvalue() == ""
    assert len(second.getvalue().splitlines()) == 1


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [({}, False), ({"NO_COLOR": ""}, False), ({"NO_COLOR": "1"}, True), ({"NO_COLOR": "0"}, True)],
)
def test_no_color_is_any_value_but_empty(environ: dict[str, str], wanted: bool) -> None:
    assert no_color(environ) is wanted


def test_progress_is_wanted_at_info_and_debug_only() -> None:
    assert [LogSettings(level).chatty for level in ("debug", "info", "warning", "error")] == [
        True,
        True,
        False,
        False,
    ]
