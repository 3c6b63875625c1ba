"""``lambda-gitops status`` against a real ``ControllerServer`` serving a canned status, and
against small HTTP servers that answer what a controller never would.

The canned document is the shape ``ControllerState.as_json`` and ``FunctionRecord.as_json``
give today, with the times either as seconds since the epoch (today) or as RFC 3339 strings
(issue 11); both must read the same.
"""

from __future__ import annotations

import base64
import copy
import json
import socket
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from controller.adapters.http.server import ControllerServer
from controller.adapters.http.status_client import (
    MAX_DEPTH,
    StatusReport,
    parse_document,
)
from controller.cli.main import main
from controller.cli.status import ERROR_WIDTH, status_text
from controller.errors import StatusUnavailable
from tests.fake_http import reply
from tests.polling import free_port

ANSI = "\x1b["
PASS_AT = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
REVISION = "0123456789abcdef0123456789abcdef01234567"
LONG_ERROR = "UpdateAlias failed: " + "the alias was changed by someone else; " * 5


def function(name: str, status: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": name,
        "function": name,
        "region": "us-east-1",
        "account": "123456789012",
        "status": status,
        "lastAttemptedRevision": REVISION,
        "lastAppliedRevision": REVISION,
        "driftedAliases": [],
        "lastError": None,
    }
    return {**record, **fields}


def canned(times: str = "epoch") -> dict[str, Any]:
    at: float | str = (
        PASS_AT.timestamp() if times == "epoch" else PASS_AT.isoformat().replace("+00:00", "Z")
    )
    return {
        "repository": "https://github.com/example/declarations.git",
        "ref": "main",
        "revision": REVISION,
        "mode": "enforce",
        "sourceError": None,
        "lastFetchAt": at,
        "lastPassAt": at,
        "lastPassSeconds": 0.4321,
        "lastPassReasons": ["resync"],
        "lastPassError": None,
        "declarationErrors": ["broken.yaml:3: spec.aliases: not a mapping"],
        "functions": {
            "orders-api": function("orders-api", "drifted", driftedAliases=["live", "canary"]),
            "billing-worker": function(
                "billing-worker", "error", lastAppliedRevision="fedcba98" * 5, lastError=LONG_ERROR
            ),
            "audit-log": function("audit-log", "synced"),
        },
    }


@pytest.fixture
def document() -> dict[str, Any]:
    return canned()


@pytest.fixture
def controller(document: dict[str, Any]) -> Iterator[str]:
    """A real ControllerServer whose /status is ``document`` (changed in place by a test)."""
    server = ControllerServer(
        "127.0.0.1",
        0,
        metrics=CollectorRegistry(),
        status=lambda: document,
        healthy=lambda: True,
        ready=lambda: True,
        on_push=lambda: None,
        webhook_secret=None,
    )
    with server:
        yield server.url


def status(
    *arguments: str, env: Mapping[str, str | None] | None = None, color: bool = False
) -> Result:
    result = CliRunner().invoke(
        main, ["status", *arguments], env={"NO_COLOR": None, **(env or {})}, color=color
    )
    assert "Traceback" not in result.output
    return result


# -- the table ------------------------------------------------------------------------------------


def test_the_header_says_where_the_controller_is_and_how_its_last_pass_went(
    controller: str,
) -> None:
    result = status("--url", controller)
    assert result.exit_code == 0, result.output
    header = dict(line.split(":", 1) for line in result.stdout.split("\n\n")[0].splitlines())
    shown = {label: value.strip() for label, value in header.items()}
    assert shown["Repository"] == "https://github.com/example/declarations.git"
    assert shown["Ref"] == "main"
    assert shown["Revision"] == REVISION
    assert shown["Mode"] == "enforce"
    assert shown["Last pass"].startswith("2024-05-01T12:00:00Z (")
    assert " ago), took 0.43 s, failure, triggered by resync" in shown["Last pass"]
    assert shown["Source error"] == "-"
    assert shown["Last pass error"] == "-"
    assert shown["Declaration errors"] == "1"


def test_the_functions_are_a_table_sorted_by_name(controller: str) -> None:
    lines = status("--url", controller).stdout.split("\n\n")[1].splitlines()
    assert lines[0].split() == ["NAME", "REGION", "STATUS", "DRIFTED", "APPLIED", "LAST", "ERROR"]
    names = [line.split()[0] for line in lines[1:]]
    assert names == ["audit-log", "billing-worker", "orders-api"]
    audit, billing, orders = lines[1:]
    assert audit.split() == ["audit-log", "us-east-1", "synced", "-", REVISION[:7], "-"]
    assert "live, canary" in orders
    assert " fedcba9 " in billing
    error = billing[lines[0].index("LAST ERROR") :]
    assert len(error) == ERROR_WIDTH
    assert error.endswith("…")
    assert error.startswith("UpdateAlias failed: the alias was changed")


def test_the_columns_line_up(controller: str) -> None:
    lines = status("--url", controller).stdout.split("\n\n")[1].splitlines()
    for heading in ("REGION", "STATUS", "DRIFTED", "APPLIED"):
        column = lines[0].index(heading)
        assert all(line[column - 2 : column] == "  " for line in lines[1:]), heading


@pytest.mark.parametrize("times", ["epoch", "rfc3339"])
def test_times_read_the_same_as_epoch_seconds_or_rfc_3339(times: str) -> None:
    text = status_text(StatusReport.from_document(canned(times)), now=PASS_AT.timestamp() + 125)
    assert "Last pass:          2024-05-01T12:00:00Z (2m5s ago), took 0.43 s" in text
    assert "Last fetch:         2024-05-01T12:00:00Z (2m5s ago)" in text


def test_a_failed_pass_and_a_source_error_are_shown(
    document: dict[str, Any], controller: str
) -> None:
    document["lastPassError"] = "RuntimeError: boom"
    document["sourceError"] = "fetch failed: could not resolve host"
    document["declarationErrors"] = []
    shown = status("--url", controller).stdout
    assert "Last pass error:    RuntimeError: boom" in shown
    assert "Source error:       fetch failed: could not resolve host" in shown
    assert "Declaration errors: 0" in shown


def test_before_the_first_pass_the_header_says_so(
    document: dict[str, Any], controller: str
) -> None:
    document.update(lastPassAt=None, lastFetchAt=None, lastPassSeconds=None, functions={})
    shown = status("--url", controller).stdout
    assert "Last pass:          none yet" in shown
    assert "No functions reported." in shown


def test_out_of_band_changes_get_a_column_when_the_controller_reports_them(
    document: dict[str, Any], controller: str
) -> None:
    document["functions"]["orders-api"]["aliases"] = {
        "live": {"lastOutOfBandChange": {"at": "2024-05-01T11:59:00Z", "by": "console"}},
        "canary": {"lastOutOfBandChange": None},
    }
    document["functions"]["audit-log"]["aliases"] = {}
    lines = status("--url", controller).stdout.split("\n\n")[1].splitlines()
    assert "OUT OF BAND" in lines[0]
    column = lines[0].index("OUT OF BAND")
    cells = {line.split()[0]: line[column:].split()[0] for line in lines[1:]}
    assert cells == {"audit-log": "-", "billing-worker": "-", "orders-api": "live"}


def test_an_empty_or_unknown_document_is_shown_as_unknown(
    document: dict[str, Any], controller: str
) -> None:
    document.clear()
    document.update({"somethingNew": {"nested": [1, 2]}, "functions": {"x": "not a record"}})
    result = status("--url", controller)
    assert result.exit_code == 0, result.output
    assert "Repository:         -" in result.stdout
    assert result.stdout.split("\n\n")[1].splitlines()[1].split() == ["x", "-", "-", "-", "-", "-"]


def test_what_the_controller_sends_cannot_drive_the_terminal(
    document: dict[str, Any], controller: str
) -> None:
    document["functions"]["orders-api"]["lastError"] = "bad\x1b[2J\x1b]0;owned\x07 \u202eevil"
    document["repository"] = "repo\rOVERWRITE"
    shown = status("--url", controller, color=True).stdout
    assert "\x1b[2J" not in shown
    assert "\x1b]" not in shown
    assert "\u202e" not in shown
    assert "\r" not in shown


# -- colour ---------------------------------------------------------------------------------------


def test_statuses_are_coloured_where_colour_is_wanted(controller: str) -> None:
    coloured = status("--url", controller, color=True).stdout
    assert click.style("synced", fg="green") in coloured
    assert click.style("error", fg="red") in coloured
    assert click.style("drifted", fg="yellow") in coloured
    plain = status("--url", controller, color=True, env={"NO_COLOR": "1"}).stdout
    assert ANSI not in plain
    assert click.unstyle(coloured) == plain


def test_a_pipe_gets_no_colour(controller: str) -> None:
    assert ANSI not in status("--url", controller).stdout


# -- JSON -----------------------------------------------------------------------------------------


def test_json_is_the_document_as_received(document: dict[str, Any], controller: str) -> None:
    document["somethingNew"] = {"kept": True}
    result = status("--url", controller, "--output", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == document
    assert result.stdout.startswith("{\n  ")


# -- what is not an answer ------------------------------------------------------------------------


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


def test_nothing_listening_is_one_line_and_exit_1() -> None:
    port = free_port()
    line = one_error_line(status("--url", f"http://viewer:hunter2-pass@127.0.0.1:{port}"))
    assert f"cannot reach http://127.0.0.1:{port}/status" in line
    assert "hunter2" not in line
    assert "viewer" not in line


def test_a_status_other_than_200_is_one_line_with_the_controllers_reason(
    controller: str,
) -> None:
    line = one_error_line(status("--url", f"{controller}/elsewhere"))
    assert line == (
        f"error: {controller}/elsewhere/status answered 404 Not Found: "
        "no endpoint /elsewhere/status"
    )


def test_the_status_path_is_not_added_twice(controller: str) -> None:
    assert status("--url", f"{controller}/status/").exit_code == 0


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://u:ftp-secret-9@host/", "127.0.0.1:8080", "http://"]
)
def test_a_url_that_is_not_http_is_a_usage_error(url: str) -> None:
    result = status("--url", url)
    assert result.exit_code == 2
    assert "Invalid value for '--url'" in result.stderr
    assert "ftp-secret-9" not in result.output


def test_an_answer_that_is_not_json_is_one_line(answering: Any) -> None:
    url, _ = answering(reply(200, b"<html>login</html>", "text/html"))
    line = one_error_line(status("--url", url))
    assert (
        line
        == f"error: {url}/status answered 200, but not with JSON (text/html): '<html>login</html>'"
    )


def test_json_that_is_not_an_object_is_one_line(answering: Any) -> None:
    url, _ = answering(reply(200, b"[1, 2]", "application/json"))
    assert "answered JSON that is not a status: a list, not an object" in one_error_line(
        status("--url", url, "--output", "json")
    )


def test_json_nested_too_deeply_is_one_line(answering: Any) -> None:
    url, _ = answering(reply(200, b'{"a": ' * 5000 + b"1" + b"}" * 5000, "application/json"))
    assert "nested too deeply" in one_error_line(status("--url", url, "--output", "json"))


def test_a_redirect_is_not_followed(answering: Any) -> None:
    elsewhere, reached = answering(reply(200, b"{}", "application/json"))
    target = elsewhere.replace("http://", "http://someone:redirect-pw-7@")
    url, _ = answering(reply(302, b"", "text/plain", Location=f"{target}/status"))
    line = one_error_line(status("--url", f"http://op:op-pass-8@{url.removeprefix('http://')}"))
    assert f"answered 302, a redirect to {elsewhere}/status, which is not followed" in line
    assert reached == []
    assert "redirect-pw-7" not in line
    assert "op-pass-8" not in line


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_shown(answering: Any) -> None:
    echoed = json.dumps({"repository": "seen s3cr3t-basic-pw here", "functions": {}}).encode()
    url, received = answering(reply(200, echoed, "application/json"))
    with_credentials = url.replace("http://", "http://alice:s3cr3t-basic-pw@")
    result = status("--url", with_credentials)
    assert result.exit_code == 0, result.output
    expected = base64.b64encode(b"alice:s3cr3t-basic-pw").decode()
    assert received[0].headers["Authorization"] == f"Basic {expected}"
    assert "s3cr3t-basic-pw" not in result.output
    json_result = status("--url", with_credentials, "--output", "json")
    assert "s3cr3t-basic-pw" not in json_result.output


def test_a_controller_that_does_not_answer_in_time_is_one_line() -> None:
    """A listening socket that never accepts: the connection is made, the answer never comes."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        line = one_error_line(status("--url", f"http://127.0.0.1:{port}", "--timeout", "0.2"))
    assert line == f"error: http://127.0.0.1:{port}/status did not answer within 0.2 s"


# -- any JSON at all ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
STATUS_KEYS = [
    "repository",
    "ref",
    "revision",
    "mode",
    "sourceError",
    "lastFetchAt",
    "lastPassAt",
    "lastPassSeconds",
    "lastPassReasons",
    "lastPassError",
    "declarationErrors",
    "leaderElection",
    "sharding",
    "changeEvents",
]
QUEUE_KEYS = ["url", "state", "error", "since", "lastReceivedAt"]
FUNCTION_KEYS = [
    "name",
    "region",
    "status",
    "driftedAliases",
    "lastAppliedRevision",
    "lastError",
    "aliases",
]
records = (
    st.dictionaries(st.sampled_from(FUNCTION_KEYS) | st.text(max_size=5), json_values, max_size=8)
    | json_values
)
status_like = st.dictionaries(
    st.sampled_from(STATUS_KEYS) | st.text(max_size=5), json_values, max_size=12
).flatmap(
    lambda top: (
        st.dictionaries(st.text(max_size=12), records, max_size=5).map(
            lambda functions: {**top, "functions": functions}
        )
        | st.lists(records, max_size=5).map(lambda functions: {**top, "functions": functions})
        | st.just(top)
    )
)


events_like = st.fixed_dictionaries(
    {},
    optional={
        "queues": st.lists(
            st.dictionaries(st.sampled_from(QUEUE_KEYS) | st.text(max_size=5), json_values)
            | json_values,
            max_size=3,
        )
        | json_values,
        "waiting": json_values,
        "requested": json_values,
    },
)


def shown(body: bytes) -> str:
    """What ``status`` prints for ``body``: the table, or raises StatusUnavailable."""
    document = parse_document(body, "http://127.0.0.1:8080/status")
    text = status_text(StatusReport.from_document(document), now=PASS_AT.timestamp())
    json.dumps(document, indent=2)  # --output json
    text.encode("utf-8")  # stdout can take it
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status_like)
def test_any_status_like_document_is_shown(document: dict[str, Any]) -> None:
    assert shown(json.dumps(document).encode()).endswith("\n")


@settings(max_examples=100, deadline=None)
@given(events_like)
def test_any_change_events_object_is_shown(events: dict[str, Any]) -> None:
    text = shown(json.dumps({**canned(), "changeEvents": events}).encode())
    assert "Change events:" in text


def refusal(body: bytes) -> str | None:
    """Why ``status`` refuses ``body``, or ``None`` when it shows it."""
    try:
        shown(body)
    except StatusUnavailable as error:
        return str(error)
    return None


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_any_json_is_shown_or_refused_in_one_clear_sentence(document: Any) -> None:
    refused = refusal(json.dumps(document).encode())
    if isinstance(document, dict):
        assert refused is None
    else:
        assert refused is not None
        assert refused.startswith("http://127.0.0.1:8080/status answered JSON that is not")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_are_shown_or_refused_in_one_clear_sentence(body: bytes) -> None:
    refused = refusal(body)
    if refused is not None:
        assert refused.startswith("http://127.0.0.1:8080/status answered ")
        assert "\n" not in refused


def test_the_deepest_document_shown_is_max_depth() -> None:
    nested: Any = 1
    for _ in range(MAX_DEPTH):  # objects nested MAX_DEPTH deep
        nested = {"a": nested}
    assert shown(json.dumps(nested).encode())
    with pytest.raises(StatusUnavailable, match="nested too deeply"):
        shown(json.dumps({"a": nested}).encode())


def test_a_copy_of_the_canned_document_is_unchanged_by_reading_it() -> None:
    document = canned()
    before = copy.deepcopy(document)
    StatusReport.from_document(document)
    assert document == before


def test_a_replica_with_leader_election_says_who_leads_and_since_when() -> None:
    document = {
        **canned(),
        "leaderElection": {
            "lease": "gitops/lambda-gitops",
            "identity": "lg-7d9f-b",
            "leading": False,
            "leader": "lg-7d9f-a",
            "leaderSince": "2024-05-01T12:00:00Z",
            "transitions": 2,
        },
    }
    text = status_text(StatusReport.from_document(document), now=PASS_AT.timestamp() + 125)
    leader = next(line for line in text.splitlines() if line.startswith("Leader:"))
    assert leader.split(":", 1)[1].strip() == (
        "lg-7d9f-a since 2024-05-01T12:00:00Z (2m5s ago), this replica (lg-7d9f-b) follows"
    )
    alone = status_text(StatusReport.from_document(canned()), now=PASS_AT.timestamp())
    assert "Leader:" not in alone


def test_a_shard_says_which_it_is_and_each_function_its_shard() -> None:
    document = canned()
    document["sharding"] = {"shards": 3, "shard": 1, "functions": 3}
    document["functions"] = {
        key: {**entry, "shard": 1} for key, entry in document["functions"].items()
    }
    text = click.unstyle(status_text(StatusReport.from_document(document), now=PASS_AT.timestamp()))
    lines = text.splitlines()
    shard = next(line for line in lines if line.startswith("Shard:"))
    assert shard.split(":", 1)[1].strip() == "1 of 3, 3 functions"
    heading = next(line for line in lines if line.startswith("NAME"))
    assert heading.split()[:4] == ["NAME", "REGION", "SHARD", "STATUS"]
    row = next(line for line in lines if line.startswith("orders-api"))
    assert row.split()[:4] == ["orders-api", "us-east-1", "1", "drifted"]
    alone = status_text(StatusReport.from_document(canned()), now=PASS_AT.timestamp())
    assert "SHARD" not in alone
    assert "Shard:" not in alone


def test_a_replica_waiting_for_another_topology_says_so() -> None:
    document = {
        **canned(),
        "leaderElection": {
            "lease": "gitops/lg-1-of-4",
            "identity": "lg-1-b",
            "leading": False,
            "leader": None,
            "waitingFor": "lg-1-of-3 (3 shards) held by lg-1-a",
        },
    }
    text = status_text(StatusReport.from_document(document), now=PASS_AT.timestamp())
    leader = next(line for line in text.splitlines() if line.startswith("Leader:"))
    assert leader.split(":", 1)[1].strip() == (
        "none: waiting for another topology's shards to stop (lg-1-of-3 (3 shards) held by lg-1-a)"
    )


def change_events(**fields: Any) -> dict[str, Any]:
    """The ``changeEvents`` object as ``EventConsumer.status`` gives it: one queue."""
    queue = {
        "url": "https://sqs.us-east-1.amazonaws.com/123456789012/lambda-gitops-events",
        "state": "receiving",
        "error": None,
        "since": "2024-05-01T11:00:00Z",
        "lastReceivedAt": "2024-05-01T12:00:00Z",
    }
    return {"queues": [{**queue, **fields}], "waiting": 0, "requested": 0}


def header_line(document: dict[str, Any], label: str, *, later: float = 0) -> str:
    text = status_text(StatusReport.from_document(document), now=PASS_AT.timestamp() + later)
    return next(line for line in click.unstyle(text).splitlines() if line.startswith(label))


def test_change_events_say_how_each_queue_stands_and_what_is_pending() -> None:
    document = {**canned(), "changeEvents": change_events()}
    assert header_line(document, "Change events:").split(":", 1)[1].strip() == (
        "1 queue; none pending"
    )
    assert header_line(document, "Events queue:", later=5).split(":", 1)[1].strip() == (
        "https://sqs.us-east-1.amazonaws.com/123456789012/lambda-gitops-events: receiving since "
        "2024-05-01T11:00:00Z (1h ago), last message 2024-05-01T12:00:00Z (5s ago)"
    )
    busy = {**canned(), "changeEvents": {**change_events(), "waiting": 2, "requested": 1}}
    assert header_line(busy, "Change events:").endswith(
        "1 queue; 2 functions in the merge window, 1 reconcile requested"
    )
    alone = status_text(StatusReport.from_document(canned()), now=PASS_AT.timestamp())
    assert "Change events:" not in alone
    assert "Events queue:" not in alone


def test_an_unavailable_queue_says_since_when_and_why_in_red() -> None:
    error = "ReceiveMessage: AWS.SimpleQueueService.NonExistentQueue: " + "x" * 80
    queue = change_events(state="unavailable", error=error, since="2024-05-01T11:58:00Z")
    document = {**canned(), "changeEvents": queue}
    text = status_text(StatusReport.from_document(document), now=PASS_AT.timestamp())
    [line] = [line for line in text.splitlines() if "Events queue:" in line]
    assert line.split(":", 1)[1].strip() == click.style(
        "https://sqs.us-east-1.amazonaws.com/123456789012/lambda-gitops-events: unavailable "
        f"since 2024-05-01T11:58:00Z (2m ago): {error[: ERROR_WIDTH - 1]}…",
        fg="red",
    )


def rollout(**fields: Any) -> dict[str, Any]:
    """An alias's ``rollout`` object as ``RolloutRecord.as_json`` gives it."""
    shown = {
        "target": "2",
        "stable": "1",
        "phase": "progressing",
        "step": 2,
        "steps": 4,
        "weight": 0.25,
        "reason": "step 2 of 4",
        "stepStartedAt": "2024-05-01T11:59:00Z",
        "stepEndsAt": "2024-05-01T12:04:00Z",
        "secondsLeftInStep": 240.0,
        "failedChecks": 0,
        "lastChecks": [],
    }
    return {**shown, **fields}


def rows_of(document: dict[str, Any]) -> dict[str, str]:
    text = click.unstyle(status_text(StatusReport.from_document(document), now=PASS_AT.timestamp()))
    lines = text.splitlines()
    heading = lines.index(next(line for line in lines if line.startswith("NAME")))
    return {line.split()[0]: line for line in lines[heading:]}


def test_a_rollout_gets_a_column_saying_its_step_weight_target_and_phase() -> None:
    document = canned()
    document["functions"]["orders-api"]["aliases"] = {
        "live": {"rollout": rollout()},
        "beta": {"rollout": rollout(phase="failed", step=1, weight=0.1, target="3")},
        "canary": {},
    }
    rows = rows_of(document)
    assert rows["NAME"].split()[-3:] == ["ROLLOUT", "LAST", "ERROR"]
    assert "beta 1/4 10% to 3 failed; live 2/4 25% to 2 progressing" in rows["orders-api"]
    assert rows["audit-log"].split()[-2:] == ["-", "-"]
    coloured = status_text(StatusReport.from_document(document), now=PASS_AT.timestamp())
    assert click.style("beta 1/4 10% to 3 failed; live 2/4 25% to 2 progressing", fg="red") in (
        coloured
    )
    assert "ROLLOUT" not in rows_of(canned())["NAME"]


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=8),
        st.fixed_dictionaries(
            {},
            optional={
                "rollout": st.dictionaries(
                    st.sampled_from(["phase", "step", "steps", "weight", "target"])
                    | st.text(max_size=5),
                    json_values,
                )
                | json_values
            },
        )
        | json_values,
        max_size=4,
    )
)
def test_any_aliases_with_rollouts_are_shown(aliases: dict[str, Any]) -> None:
    document = canned()
    document["functions"]["orders-api"]["aliases"] = aliases
    assert shown(json.dumps(document).encode()).endswith("\n")
