"""Sample events, shaped as AWS documents them (``samples/README.md`` says where from), read as
the controller reads them: the function each names, or why it is ignored or malformed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.core.events import (
    ChangeEvent,
    Ignored,
    Malformed,
    ManagedFunctions,
    WriterIdentity,
    event_pattern,
    judge,
    parse_event,
)
from controller.core.model import FunctionId

SAMPLES = Path(__file__).parent / "samples"
ACCOUNT = "123456789012"
CONTROLLER = "arn:aws:sts::123456789012:assumed-role/lambda-gitops/botocore-session-1714564800"

CHANGES = {
    # file: (account, region, function, operation)
    "update-alias-console.json": (ACCOUNT, "eu-west-1", "orders-api", "UpdateAlias"),
    "update-function-code-arn.json": (ACCOUNT, "us-east-1", "billing-worker", "UpdateFunctionCode"),
    "publish-version-partial-arn.json": (ACCOUNT, "us-east-1", "billing-worker", "PublishVersion"),
    "delete-function-version.json": (ACCOUNT, "us-east-1", "orders-api", "DeleteFunction"),
    "delete-function-guide.json": (
        "999999999999",
        "us-east-1",
        "basic-node-task",
        "DeleteFunction",
    ),
    "controller-update-alias.json": (ACCOUNT, "us-east-1", "orders-api", "UpdateAlias"),
}
IGNORED = {
    "update-alias-refused.json": "UpdateAlias failed (detail.errorCode is set): nothing changed",
    "get-function-denied-guide.json": "(a string of 11 characters) is no call that changes",
    "tag-resource.json": "(a string of 21 characters) is no call that changes",
}
MALFORMED = {"s3-put-object-guide.json": "source a string of 6 characters"}


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def test_every_sample_is_stated_here_and_in_the_readme() -> None:
    files = {path.name for path in SAMPLES.glob("*.json")}
    assert files == set(CHANGES) | set(IGNORED) | set(MALFORMED)
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_change_names_its_function_with_the_events_account_and_region(name: str) -> None:
    account, region, function, operation = CHANGES[name]
    event = parse_event(sample(name))
    assert isinstance(event, ChangeEvent)
    assert event.function == FunctionId(account, region, function)
    assert event.operation == operation
    assert event.happened_at is not None
    assert event.event_id == json.loads(sample(name))["detail"]["eventID"]


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_a_call_that_changed_nothing_is_ignored(name: str) -> None:
    event = parse_event(sample(name))
    assert isinstance(event, Ignored)
    assert IGNORED[name] in event.reason


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_another_services_event_is_malformed_for_this_queue(name: str) -> None:
    event = parse_event(sample(name))
    assert isinstance(event, Malformed)
    assert MALFORMED[name] in event.reason


def test_the_event_time_is_cloudtrails_not_eventbridges() -> None:
    event = parse_event(sample("update-alias-console.json"))
    assert isinstance(event, ChangeEvent)
    assert event.happened_at == 1714564800.0  # 2024-05-01T12:00:00Z, 3 s before "time"


def test_the_controllers_own_write_is_known_by_its_session_arn_or_its_key() -> None:
    own = parse_event(sample("controller-update-alias.json"))
    someone = parse_event(sample("update-alias-console.json"))
    assert isinstance(own, ChangeEvent)
    assert isinstance(someone, ChangeEvent)
    by_arn = WriterIdentity(arns=frozenset({CONTROLLER}))
    by_key = WriterIdentity(access_key_ids=frozenset({"ASIAEXAMPLEKEY000002"}))
    assert by_arn.wrote(own.caller)
    assert by_key.wrote(own.caller)
    assert not by_arn.wrote(someone.caller)
    assert not by_key.wrote(someone.caller)
    assert not WriterIdentity().wrote(own.caller)


def test_verdicts_on_the_samples() -> None:
    managed = ManagedFunctions(
        [
            FunctionId(ACCOUNT, "eu-west-1", "orders-api"),
            FunctionId(ACCOUNT, "us-east-1", "orders-api"),
            FunctionId(ACCOUNT, "us-east-1", "billing-worker"),
        ]
    )
    writer = WriterIdentity(arns=frozenset({CONTROLLER}))
    verdicts = {
        path.name: judge(parse_event(path.read_text(encoding="utf-8")), managed, writer).result
        for path in SAMPLES.glob("*.json")
    }
    assert verdicts == {
        "update-alias-console.json": "matched",
        "update-function-code-arn.json": "matched",
        "publish-version-partial-arn.json": "matched",
        "delete-function-version.json": "matched",
        "delete-function-guide.json": "unmanaged",
        "controller-update-alias.json": "self",
        "update-alias-refused.json": "unmanaged",
        "get-function-denied-guide.json": "unmanaged",
        "tag-resource.json": "unmanaged",
        "s3-put-object-guide.json": "malformed",
    }


def test_the_pattern_lets_through_exactly_the_samples_that_change_a_function() -> None:
    """The rule's pattern, evaluated here by the few rules it uses (exact values, prefixes, a
    field that must not exist), passes the samples read as changes and stops every other one:
    failed calls, reads, tags, another service's events. EventBridge itself (moto's) applies
    it in ``tests/e2e/test_change_events.py``."""
    passed = {
        path.name
        for path in SAMPLES.glob("*.json")
        if _matches(event_pattern(), json.loads(path.read_text(encoding="utf-8")))
    }
    assert passed == set(CHANGES)


def _matches(pattern: dict[str, object], event: object) -> bool:
    if not isinstance(event, dict):
        return False
    for key, wanted in pattern.items():
        value = event.get(key)
        if isinstance(wanted, dict):
            if not _matches(wanted, value):
                return False
            continue
        assert isinstance(wanted, list)
        if not any(_accepts(rule, key in event, value) for rule in wanted):
            return False
    return True


def _accepts(rule: object, present: bool, value: object) -> bool:
    if isinstance(rule, dict):
        if "exists" in rule:
            return present is rule["exists"]
        prefix = rule["prefix"]
        return isinstance(value, str) and isinstance(prefix, str) and value.startswith(prefix)
    return present and value == rule
