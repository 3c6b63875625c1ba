"""Change events: which function an EventBridge "AWS API Call via CloudTrail" event says changed.

Without events, a change made outside Git (an alias moved in the console) stays until the next
resync, and shortening the resync spends Lambda's request quota on functions that did not
change. Lambda's control-plane calls reach EventBridge through CloudTrail, best effort, usually
within seconds; an EventBridge rule sends them to an SQS queue, and the leader reconciles the one
function each names (``engine.events``). This module is the pure part of that:

- the event pattern the rule matches (``event_pattern``): the deploy templates hold the same one,
  and a test keeps them equal to this;
- reading one message (``parse_event``) into the function it names, normalised to a
  ``FunctionId`` with the event's account and region, whatever the spelling of
  ``requestParameters.functionName`` (a name, a partial ARN, an ARN, with or without a
  qualifier);
- telling the controller's own writes from anyone else's (``WriterIdentity``), by the caller
  CloudTrail names, so that they cost no Lambda read;
- finding the declared functions an event is about (``ManagedFunctions``), and the verdict on a
  message (``judge``): ``matched``, ``unmanaged``, ``self`` or ``malformed``.

An event is only a wake-up: nothing in it is taken as state. It names a function, and the
registry, read by the reconcile it triggers, is the truth; so an event that lies can cost one
read, never a wrong write. A message that cannot be read is never a reason to act or to crash:
it is ``Malformed``, counted, and left in the queue for its dead-letter redrive. Every input is
bounded (``MAX_MESSAGE_BYTES``), and arbitrary JSON gives one of the three results, never an
exception. Anyone who may send to the queue writes its messages, and a forged record may carry
what CloudTrail hides (the environment variables of ``UpdateFunctionConfiguration``), so a reason
never quotes a message: it names the field and describes what it holds (its JSON type, a
string's length); only a function identity the parser has validated is ever shown.

Where the shape comes from: the EventBridge envelope of CloudTrail events ("AWS service events
delivered via AWS CloudTrail", EventBridge User Guide: ``detail-type`` "AWS API Call via
CloudTrail", ``source`` "aws.lambda") and the CloudTrail record in ``detail`` ("CloudTrail record
contents", CloudTrail User Guide; Lambda's examples in "Logging Lambda API calls with
CloudTrail"). Lambda's event names carry the API version (``UpdateAlias20150331``,
``UpdateFunctionCode20150331v2``), and some older records have none (``UpdateFunctionCode``):
both are read, and so is every name the rule lets through (the operation's name, and any that
begins with it and ``20``), so that a version suffix of a shape not seen yet is not a change
deleted unread. ``tests/core/events/samples/`` keeps sample events with their sources.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from controller.core.model import REGION_PATTERN, FunctionId

SOURCE = "aws.lambda"
"""The EventBridge ``source`` of Lambda's events."""
DETAIL_TYPE = "AWS API Call via CloudTrail"
"""The ``detail-type`` of every event CloudTrail delivers to EventBridge."""
EVENT_SOURCE = "lambda.amazonaws.com"
"""CloudTrail's ``eventSource`` for Lambda's API."""

OPERATIONS = (
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "PublishVersion",
    "DeleteFunction",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
)
"""The Lambda calls that change what the controller reconciles: ``$LATEST`` (its code and
configuration are what a publish snapshots), the published versions, and the aliases.
``CreateFunction`` is there too: a declared function that did not exist yet is in error until it
does, and its creation is when its versions and aliases can first be made."""

VERSION_SUFFIX = "20"
"""How every API version suffix of Lambda's event names begins (``20150331``, ``20170331v2``):
the rule matches ``UpdateAlias`` and the prefix ``UpdateAlias20``, so that a longer name that
shares the operation's name (``DeleteFunctionConcurrency20171031``, ``CreateFunctionUrlConfig``)
never reaches the queue."""

_EVENT_NAME = re.compile(rf"(?P<operation>{'|'.join(OPERATIONS)})(?:{VERSION_SUFFIX}[0-9A-Za-z]*)?")
"""The names the rule passes, read as their operation: any suffix after ``20`` (Lambda's are
``20150331`` and ``20150331v2``; another shape would still be the operation's, since no other
operation's name begins with one of these and ``20``). A name the rule could not have passed is
ignored."""

MAX_MESSAGE_BYTES = 1_048_576
"""The largest message SQS holds (1 MiB); anything longer is not one of its messages."""

_FUNCTION_NAME = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:)?"
    rf"(?:(?:(?P<region>{REGION_PATTERN.pattern}):)?(?P<account>[0-9]{{12}}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_-]{1,64})"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128}))?"
)
"""Lambda's ``FunctionName`` (its API reference's pattern): a name, ``ACCOUNT:function:NAME``,
or ``arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME``, each with an optional version or alias
qualifier, which names the same function. A region is read only before an account, so that a
name that looks like one (``etl-job-2:live``) stays a name with its qualifier."""

_ACCOUNT = re.compile(r"[0-9]{12}")

MAX_EVENT_AGE = 15 * 86_400
"""Seconds after its call beyond which an event cannot still be in the queue: EventBridge retries a
delivery for a day at most and SQS keeps a message for 14 days at most. An older ``eventTime``
is wrong or forged (``0001-01-01T00:00:00Z``), and it is not a lag worth a histogram sample."""
MAX_CLOCK_AHEAD = 300.0
"""Seconds CloudTrail's clock may run ahead of this host's: an event up to that far in the future
is received with no lag; further (``9999-12-31T23:59:59Z``), its time is not believed."""

EventResult = Literal["matched", "unmanaged", "self", "malformed"]
"""What became of one received message: a managed function to reconcile; nothing the controller
manages (another function, or a call that changed nothing); the controller's own write; or a
message that is not such an event."""

EVENT_RESULTS: tuple[EventResult, ...] = get_args(EventResult)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who made a call, as CloudTrail's ``userIdentity`` names them."""

    arn: str | None = None
    """The principal's ARN (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``)."""
    access_key_id: str | None = None
    """The access key id the call was signed with."""


@dataclass(frozen=True, slots=True)
class WriterIdentity:
    """Who the controller's own writes come from: the principal ARN STS names for its
    credentials, and the access key ids they have signed with (temporary credentials change
    their key as they are renewed; the ARN of an assumed role's session stays)."""

    arns: frozenset[str] = frozenset()
    access_key_ids: frozenset[str] = frozenset()

    def wrote(self, caller: Caller) -> bool:
        """Whether a call by ``caller`` is one of the controller's own."""
        return (caller.arn is not None and caller.arn in self.arns) or (
            caller.access_key_id is not None and caller.access_key_id in self.access_key_ids
        )


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A successful Lambda call that may have changed a function's versions or aliases."""

    function: FunctionId
    """The function the call was about; its account is ``None`` when the event names none."""
    operation: str
    """The API operation, without its version suffix: ``UpdateAlias``."""
    caller: Caller
    happened_at: float | None
    """When the call was made (CloudTrail's ``eventTime``, whole seconds), as a Unix time."""
    event_id: str | None = None
    """CloudTrail's ``eventID``, for the log."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed Lambda event that changed nothing the controller reconciles: another
    operation, or a call that failed."""

    reason: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """A message that is not a readable Lambda event; ``reason`` says which field is wrong and
    what it holds (its JSON type, a string's length), quoting not a character of it."""

    reason: str


ParsedEvent = ChangeEvent | Ignored | Malformed


def event_pattern() -> dict[str, Any]:
    """The EventBridge rule's event pattern: Lambda's calls through CloudTrail that change a
    function, its versions or its aliases, and succeeded (a call with an ``errorCode`` changed
    nothing). A new dictionary on each call."""
    names: list[Any] = []
    for operation in OPERATIONS:
        names += [operation, {"prefix": f"{operation}{VERSION_SUFFIX}"}]
    return {
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "eventSource": [EVENT_SOURCE],
            "eventName": names,
            "errorCode": [{"exists": False}],
        },
    }


def parse_event(body: str) -> ParsedEvent:
    """What one SQS message says: the function a Lambda call changed, a Lambda call to ignore,
    or a malformed message. Never raises, whatever ``body`` holds."""
    envelope = _json_object(body)
    if isinstance(envelope, Malformed):
        return envelope
    detail = _cloudtrail_record(envelope)
    if isinstance(detail, Malformed):
        return detail
    return _change(envelope, detail)


def _json_object(body: str) -> dict[str, Any] | Malformed:
    if len(body) > MAX_MESSAGE_BYTES:
        return Malformed(f"the message has {len(body)} characters, more than SQS holds")
    try:
        envelope = json.loads(body)
    except (ValueError, RecursionError):
        return Malformed("the message is not JSON")
    if not isinstance(envelope, dict):
        return Malformed(f"the message is a JSON {_json_type(envelope)}, not an object")
    return envelope


def _cloudtrail_record(envelope: Mapping[str, Any]) -> dict[str, Any] | Malformed:
    """The CloudTrail record an EventBridge envelope of Lambda's carries in ``detail``."""
    source, detail_type = envelope.get("source"), envelope.get("detail-type")
    if source != SOURCE or detail_type != DETAIL_TYPE:
        return Malformed(
            f"not an EventBridge {DETAIL_TYPE!r} event from {SOURCE} (detail-type "
            f"{_against(detail_type, DETAIL_TYPE)}, source {_against(source, SOURCE)}); check "
            "the rule's event pattern"
        )
    detail = envelope.get("detail")
    if not isinstance(detail, dict):
        return Malformed(f"the event's detail is {_described(detail)}, not an object")
    if detail.get("eventSource") != EVENT_SOURCE:
        return Malformed(
            f"detail.eventSource is {_described(detail.get('eventSource'))}, not {EVENT_SOURCE}"
        )
    return detail


def _change(envelope: Mapping[str, Any], detail: Mapping[str, Any]) -> ParsedEvent:
    """The change a CloudTrail record of Lambda's tells, if it tells one."""
    event_name = detail.get("eventName")
    if not isinstance(event_name, str):
        return Malformed(f"detail.eventName is {_described(event_name)}, not a string")
    named = _EVENT_NAME.fullmatch(event_name)
    if named is None:
        return Ignored(
            f"detail.eventName ({_described(event_name)}) is no call that changes a version or "
            "an alias"
        )
    operation = named["operation"]
    if detail.get("errorCode") is not None:
        return Ignored(f"{operation} failed (detail.errorCode is set): nothing changed")
    function = _function_of(envelope, detail, operation)
    if isinstance(function, Malformed):
        return function
    return ChangeEvent(
        function=function,
        operation=operation,
        caller=_caller(detail.get("userIdentity")),
        happened_at=_first_moment(detail.get("eventTime"), envelope.get("time")),
        event_id=_text(detail.get("eventID")),
    )


def _function_of(
    envelope: Mapping[str, Any], detail: Mapping[str, Any], operation: str
) -> FunctionId | Malformed:
    """The function a record names, in the record's region and account unless it names its
    own: the record's ``awsRegion`` (else the envelope's ``region``) and the envelope's
    ``account`` (else the record's ``recipientAccountId``)."""
    region = _text(detail.get("awsRegion")) or _text(envelope.get("region"))
    if region is None or not REGION_PATTERN.fullmatch(region):
        return Malformed(f"the event's region is {_described(region)}, not an AWS region")
    account = _account(envelope.get("account")) or _account(detail.get("recipientAccountId"))
    named = _function_name(detail)
    if named is None:
        return Malformed(f"{operation} names no function in requestParameters.functionName")
    field, spelled = named
    function = _function(spelled, region, account)
    if function is None:
        return Malformed(
            f"{operation}: {field} ({_described(spelled)}) is not a Lambda function name or ARN"
        )
    return function


class ManagedFunctions:
    """The valid declared functions of a revision, found by what an event names."""

    def __init__(self, functions: Iterable[FunctionId] = ()) -> None:
        by_name: dict[tuple[str, str], list[FunctionId]] = {}
        for function in functions:
            by_name.setdefault((function.region, function.name), []).append(function)
        self._by_name = {key: tuple(found) for key, found in by_name.items()}

    def matching(self, function: FunctionId) -> tuple[FunctionId, ...]:
        """The declared functions ``function`` may be: one, or none; several only when the event
        or the declarations leave the account open and several accounts declare the name."""
        candidates = self._by_name.get((function.region, function.name), ())
        return tuple(declared for declared in candidates if declared.same_function(function))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one message: its result, and the declared functions to reconcile."""

    result: EventResult
    functions: tuple[FunctionId, ...] = ()
    reason: str = ""
    """Why a message is ``malformed`` or ``unmanaged``, for the log."""


def judge(event: ParsedEvent, managed: ManagedFunctions, writer: WriterIdentity) -> Verdict:
    """The verdict on a parsed message: a managed function someone else changed is ``matched``
    (reconcile it); the controller's own write is ``self`` (nothing to read); a function no
    declaration names, or a call that changed nothing, is ``unmanaged``."""
    if isinstance(event, Malformed):
        return Verdict("malformed", reason=event.reason)
    if isinstance(event, Ignored):
        return Verdict("unmanaged", reason=event.reason)
    functions = managed.matching(event.function)
    if not functions:
        return Verdict("unmanaged", reason=f"{event.function} is not declared")
    if writer.wrote(event.caller):
        return Verdict("self", functions)
    return Verdict("matched", functions)


def _function_name(detail: Mapping[str, Any]) -> tuple[str, str] | None:
    """The function a call names, and the field that names it: its request's ``functionName``,
    else (a record whose request CloudTrail left out) the function or alias ARN of its
    response."""
    for section, key in (
        ("requestParameters", "functionName"),
        ("responseElements", "functionArn"),
        ("responseElements", "aliasArn"),
        ("responseElements", "functionName"),
    ):
        values = detail.get(section)
        if isinstance(values, dict):
            value = values.get(key)
            if isinstance(value, str) and value:
                return f"{section}.{key}", value
    return None


def _function(spelled: str, region: str, account: str | None) -> FunctionId | None:
    """The function ``spelled`` names in a call made in ``region`` of ``account``: an ARN's
    own region and account win, as Lambda reads them."""
    matched = _FUNCTION_NAME.fullmatch(spelled)
    if matched is None:
        return None
    if matched["partition"] is not None and (matched["region"] is None or not matched["account"]):
        return None  # "arn:aws:lambda:" begins a full ARN only
    return FunctionId(matched["account"] or account, matched["region"] or region, matched["name"])


def _caller(identity: object) -> Caller:
    if not isinstance(identity, dict):
        return Caller()
    return Caller(arn=_text(identity.get("arn")), access_key_id=_text(identity.get("accessKeyId")))


def event_lag(happened_at: float | None, received_at: float) -> float | None:
    """Seconds from an event's call to its receipt at ``received_at`` (Unix times), never less
    than 0; ``None`` when the event says no time or one it cannot have (older than the queue
    keeps a message, or further ahead than clocks differ), so that a forged ``eventTime`` puts
    no absurd sample in the lag histogram."""
    if happened_at is None or not math.isfinite(happened_at) or not math.isfinite(received_at):
        return None
    lag = received_at - happened_at
    if lag > MAX_EVENT_AGE or lag < -MAX_CLOCK_AHEAD:
        return None
    return max(lag, 0.0)


def _first_moment(*values: object) -> float | None:
    """The first of ``values`` that is a CloudTrail time (``1970-01-01T00:00:00Z`` is one)."""
    for value in values:
        moment = _moment(value)
        if moment is not None:
            return moment
    return None


def _moment(value: object) -> float | None:
    """A CloudTrail time (``2024-05-01T12:00:00Z``) as a Unix time; ``None`` if it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()


def _account(value: object) -> str | None:
    return value if isinstance(value, str) and _ACCOUNT.fullmatch(value) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number"


def _described(value: object) -> str:
    """An unexpected value as a reason tells it, without a character of it: a reason is logged,
    and a message may hold a secret anywhere (a forged record's environment variables, a URL
    with credentials)."""
    if value is None:
        return "missing"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        return f"a string of {len(value)} character{'' if len(value) == 1 else 's'}"
    kind = _json_type(value)
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _against(value: object, expected: str) -> str:
    """A field that must hold ``expected``: that (the project's constant, safe to show) when it
    does, else what it holds, described."""
    return repr(expected) if value == expected else _described(value)
