"""Reading a running controller's ``/status``, for ``lambda-gitops status``.

This is the client side of the document ``controller.adapters.http.server`` serves. The request
is a plain GET that a person points at an address they were given, so it is careful with it:

- only ``http`` and ``https`` URLs are accepted; ``/status`` is added unless the URL ends with it;
- credentials in the URL (a controller behind an authenticating proxy) are sent as HTTP Basic
  authentication and never shown: every message names the URL masked (``controller.redaction``);
- no redirect is followed: a controller never redirects ``/status``, and a redirect could carry
  the credentials to another host, so it is reported instead;
- the timeout bounds connecting, each read and the whole body, and the body is read up to
  ``MAX_STATUS_BYTES``, so a server that drips or floods cannot hold the command.

The document then becomes a ``StatusReport``: every field the command shows, each one optional.
The document grows as the controller does, so a field that is missing or of a shape not known
here is shown as unknown, never an error; only an answer that is not a JSON object at all is
not a status document.
"""

from __future__ import annotations

import http.client
import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from controller import __version__
from controller.adapters.http.client import (
    OPENER,
    BodyTooLarge,
    basic_authorization,
    failure_reason,
    one_line,
    read_bounded,
    without_userinfo,
)
from controller.errors import ConfigurationError, StatusUnavailable
from controller.redaction import Redactor, mask_url, url_secrets

MAX_STATUS_BYTES = 32 * 1024 * 1024
"""A status of 10,000 functions is a few megabytes; anything much larger is not a status."""
MAX_DEPTH = 64
"""The status document nests four levels; a deeper answer is not one, and could not be shown."""


def status_url(url: str) -> str:
    """``url`` as the address of its ``/status``; a ``ConfigurationError`` unless it is an
    ``http`` or ``https`` URL with a host."""
    parts = _split(url)
    path = parts.path.rstrip("/")
    if not path.endswith("/status"):
        path += "/status"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _split(url: str) -> SplitResult:
    shown = mask_url(url)
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises on a port that is not a number
    except ValueError as error:
        raise ConfigurationError(f"{shown!r} is not a URL: {error}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigurationError(
            f"{shown!r} is not an http:// or https:// URL; give the controller's address, such "
            "as http://127.0.0.1:8080"
        )
    if not parts.hostname:
        raise ConfigurationError(f"{shown!r} names no host; write for example http://HOST:8080")
    return parts


def read_status(url: str, *, timeout: float) -> dict[str, Any]:
    """The status document at ``url``, as received; ``StatusUnavailable`` saying why not."""
    address = status_url(url)
    parts = urlsplit(address)
    shown = mask_url(address)
    redactor = Redactor(url_secrets(url))
    headers = {"Accept": "application/json", "User-Agent": f"lambda-gitops/{__version__}"}
    authorization = basic_authorization(parts)
    if authorization is not None:
        headers["Authorization"] = authorization
    # The scheme is http or https: status_url refused any other.
    request = urllib.request.Request(without_userinfo(parts), headers=headers)  # noqa: S310
    deadline = time.monotonic() + timeout
    try:
        with OPENER.open(request, timeout=timeout) as response:
            body = _read_body(response, deadline, shown, timeout)
            content_type = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        with error:
            raise StatusUnavailable(redactor(_refusal(error, shown, deadline, timeout))) from None
    except TimeoutError:
        raise StatusUnavailable(f"{shown} did not answer within {timeout:g} s") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise StatusUnavailable(f"{shown} did not answer within {timeout:g} s") from None
        raise StatusUnavailable(
            redactor(f"cannot reach {shown}: {failure_reason(reason)}")
        ) from None
    except (OSError, http.client.HTTPException) as error:
        raise StatusUnavailable(redactor(f"cannot read {shown}: {failure_reason(error)}")) from None
    document = parse_document(body, shown, content_type)
    return redactor.mask_mapping(document)


def _read_body(response: Any, deadline: float, shown: str, timeout: float) -> bytes:
    try:
        return read_bounded(response, MAX_STATUS_BYTES, deadline)
    except BodyTooLarge:
        raise StatusUnavailable(
            f"{shown} answered more than {MAX_STATUS_BYTES // (1024 * 1024)} MiB; "
            "that is not a controller's status"
        ) from None
    except TimeoutError:
        raise StatusUnavailable(f"{shown} did not finish its answer within {timeout:g} s") from None


def _refusal(error: urllib.error.HTTPError, shown: str, deadline: float, timeout: float) -> str:
    """What to say of an answer other than 200: its status, and the controller's reason."""
    if 300 <= error.code < 400:
        location = error.headers.get("Location")
        where = f" to {mask_url(location)}" if location else ""
        return (
            f"{shown} answered {error.code}, a redirect{where}, which is not followed; "
            "give the controller's own address"
        )
    try:
        body = _read_body(error, deadline, shown, timeout)
    except (StatusUnavailable, OSError, http.client.HTTPException):
        body = b""
    return f"{shown} answered {error.code} {error.reason}{_said(body)}"


def _said(body: bytes) -> str:
    """The reason an error body gives (``{"error": "..."}``, as the controller's do), if any."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if isinstance(document, Mapping) and isinstance(document.get("error"), str):
        return f": {one_line(document['error'], 200)}"
    return ""


def parse_document(body: bytes, shown: str, content_type: str = "") -> dict[str, Any]:
    """``body`` as a status document: a JSON object, nested no deeper than ``MAX_DEPTH``."""
    try:
        document = json.loads(body)
    except RecursionError:
        raise StatusUnavailable(f"{shown} answered JSON nested too deeply to be a status") from None
    except ValueError:
        kind = f" ({content_type})" if content_type else ""
        start = one_line(body[:80].decode("utf-8", "replace"), 80)
        raise StatusUnavailable(
            f"{shown} answered 200, but not with JSON{kind}: {start!r}"
        ) from None
    if not isinstance(document, dict):
        raise StatusUnavailable(
            f"{shown} answered JSON that is not a status: {_kind(document)}, not an object"
        )
    if _depth(document) > MAX_DEPTH:
        raise StatusUnavailable(f"{shown} answered JSON nested too deeply to be a status")
    return document


def _depth(document: object) -> int:
    """How deeply ``document`` nests, counted without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return deepest


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


# -- the document as the command shows it ----------------------------------------------------


Moment = datetime | str
"""A time the document gives: parsed, or its text when it is of a form not known here."""


@dataclass(frozen=True, slots=True)
class FunctionReport:
    """One function of the status document, every field optional."""

    key: str
    """The key of the function in the document: its name, with the region where a name repeats."""
    region: str | None = None
    status: str | None = None
    drifted_aliases: tuple[str, ...] = ()
    last_applied_revision: str | None = None
    last_error: str | None = None
    out_of_band_aliases: tuple[str, ...] | None = None
    """Aliases with an out-of-band change recorded; ``None`` when the document says nothing of
    aliases (a controller that does not report them)."""
    shard: str | None = None
    """The shard that owns the function, with sharding."""
    rollouts: tuple[RolloutReport, ...] = ()
    """The rollouts under way or ended on its aliases, by alias name."""


@dataclass(frozen=True, slots=True)
class RolloutReport:
    """An alias's ``rollout`` object: where its traffic shift stands."""

    alias: str
    phase: str | None = None
    """``progressing``, ``paused``, ``succeeded``, ``failed`` or ``waiting``."""
    step: int | None = None
    steps: int | None = None
    weight: float | None = None
    """The share of the alias's traffic on the target, from 0 to 1."""
    target: str | None = None


@dataclass(frozen=True, slots=True)
class ElectionReport:
    """The ``leaderElection`` object of a replica with leader election."""

    leader: str | None = None
    leader_since: Moment | None = None
    leading: bool = False
    identity: str | None = None
    waiting_for: str | None = None
    """With sharding, the Leases of another topology this replica waits for, while it does."""

    @classmethod
    def from_document(cls, value: object) -> ElectionReport | None:
        if not isinstance(value, Mapping):
            return None
        return cls(
            leader=_text(value.get("leader")),
            leader_since=_moment(value.get("leaderSince")),
            leading=value.get("leading") is True,
            identity=_text(value.get("identity")),
            waiting_for=_text(value.get("waitingFor")),
        )


@dataclass(frozen=True, slots=True)
class ShardReport:
    """The ``sharding`` object of a shard: how many there are and which this one is."""

    shards: str | None = None
    shard: str | None = None
    functions: str | None = None

    @classmethod
    def from_document(cls, value: object) -> ShardReport | None:
        if not isinstance(value, Mapping):
            return None
        return cls(
            shards=_text(value.get("shards")),
            shard=_text(value.get("shard")),
            functions=_text(value.get("functions")),
        )


@dataclass(frozen=True, slots=True)
class QueueReport:
    """One queue of ``changeEvents``: how it stands, since when, and its last message."""

    url: str | None = None
    state: str | None = None
    """``idle``, ``receiving`` or ``unavailable``, as the controller says."""
    error: str | None = None
    since: Moment | None = None
    last_received_at: Moment | None = None

    @classmethod
    def from_document(cls, value: Mapping[str, Any]) -> QueueReport:
        return cls(
            url=_text(value.get("url")),
            state=_text(value.get("state")),
            error=_text(value.get("error")),
            since=_moment(value.get("since")),
            last_received_at=_moment(value.get("lastReceivedAt")),
        )


@dataclass(frozen=True, slots=True)
class EventsReport:
    """The ``changeEvents`` object of a controller with change events on."""

    queues: tuple[QueueReport, ...] = ()
    waiting: int | None = None
    """Functions whose events wait out the merge window."""
    requested: int | None = None
    """Functions whose reconcile was requested and has not finished yet."""

    @classmethod
    def from_document(cls, value: object) -> EventsReport | None:
        if not isinstance(value, Mapping):
            return None
        queues = value.get("queues")
        return cls(
            queues=tuple(
                QueueReport.from_document(queue)
                for queue in (queues if isinstance(queues, list) else ())
                if isinstance(queue, Mapping)
            ),
            waiting=_count(value.get("waiting")),
            requested=_count(value.get("requested")),
        )


@dataclass(frozen=True, slots=True)
class StatusReport:
    """What a controller's ``/status`` says, as far as this client understands it."""

    repository: str | None = None
    ref: str | None = None
    revision: str | None = None
    mode: str | None = None
    source_error: str | None = None
    last_fetch_at: Moment | None = None
    last_pass_at: Moment | None = None
    last_pass_seconds: float | None = None
    last_pass_reasons: tuple[str, ...] = ()
    last_pass_error: str | None = None
    declaration_errors: tuple[str, ...] = ()
    functions: tuple[FunctionReport, ...] = ()
    election: ElectionReport | None = None
    """With leader election: who leads; ``None`` for a controller that runs alone."""
    sharding: ShardReport | None = None
    """With sharding: which shard this controller is; ``None`` without."""
    events: EventsReport | None = None
    """With change events: how their queues stand; ``None`` without."""

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> StatusReport:
        """The report of a status document of any shape: what is not understood is left out."""
        return cls(
            repository=_text(document.get("repository")),
            ref=_text(document.get("ref")),
            revision=_text(document.get("revision")),
            mode=_text(document.get("mode")),
            source_error=_text(document.get("sourceError")),
            last_fetch_at=_moment(document.get("lastFetchAt")),
            last_pass_at=_moment(document.get("lastPassAt")),
            last_pass_seconds=_number(document.get("lastPassSeconds")),
            last_pass_reasons=_texts(document.get("lastPassReasons")),
            last_pass_error=_text(document.get("lastPassError")),
            declaration_errors=_texts(document.get("declarationErrors")),
            functions=_functions(document.get("functions")),
            election=ElectionReport.from_document(document.get("leaderElection")),
            sharding=ShardReport.from_document(document.get("sharding")),
            events=EventsReport.from_document(document.get("changeEvents")),
        )

    @property
    def last_pass_outcome(self) -> str | None:
        """``success`` or ``failure``, as the reconcile metric counts the pass; ``None`` before
        the first pass. A pass fails when it raised, or left a declaration or function in error.
        """
        if self.last_pass_at is None:
            return None
        failed = (
            self.last_pass_error is not None
            or bool(self.declaration_errors)
            or any(function.status == "error" for function in self.functions)
        )
        return "failure" if failed else "success"

    @property
    def reports_aliases(self) -> bool:
        """Whether any function's entry says what happened to its aliases out of band."""
        return any(function.out_of_band_aliases is not None for function in self.functions)


def _functions(value: object) -> tuple[FunctionReport, ...]:
    entries: list[tuple[str, object]]
    if isinstance(value, Mapping):
        entries = [(str(key), record) for key, record in value.items()]
    elif isinstance(value, list):
        entries = [(_entry_name(record, index), record) for index, record in enumerate(value)]
    else:
        entries = []
    reports = [_function(key, record) for key, record in entries]
    return tuple(sorted(reports, key=lambda report: (report.key, report.region or "")))


def _entry_name(record: object, index: int) -> str:
    name = record.get("name") if isinstance(record, Mapping) else None
    return _text(name) or f"#{index}"


def _function(key: str, record: object) -> FunctionReport:
    if not isinstance(record, Mapping):
        return FunctionReport(key)
    return FunctionReport(
        key=key,
        region=_text(record.get("region")),
        status=_text(record.get("status")),
        drifted_aliases=_texts(record.get("driftedAliases")),
        last_applied_revision=_text(record.get("lastAppliedRevision")),
        last_error=_text(record.get("lastError")),
        out_of_band_aliases=_out_of_band(record.get("aliases")),
        shard=_text(record.get("shard")),
        rollouts=_rollouts(record.get("aliases")),
    )


def _rollouts(aliases: object) -> tuple[RolloutReport, ...]:
    """``{"live": {"rollout": {...}}}``: each alias's rollout, sorted by alias."""
    if not isinstance(aliases, Mapping):
        return ()
    return tuple(
        RolloutReport(
            alias=str(name),
            phase=_text(rollout.get("phase")),
            step=_count(rollout.get("step")),
            steps=_count(rollout.get("steps")),
            weight=_number(rollout.get("weight")),
            target=_text(rollout.get("target")),
        )
        for name, alias in sorted(aliases.items(), key=lambda item: str(item[0]))
        if isinstance(alias, Mapping) and isinstance(rollout := alias.get("rollout"), Mapping)
    )


def _out_of_band(aliases: object) -> tuple[str, ...] | None:
    """``{"live": {"lastOutOfBandChange": {...}}}``: the aliases with a change recorded."""
    if not isinstance(aliases, Mapping):
        return None
    return tuple(
        sorted(
            str(name)
            for name, alias in aliases.items()
            if isinstance(alias, Mapping) and alias.get("lastOutOfBandChange")
        )
    )


def _text(value: object) -> str | None:
    """A scalar as text; ``None`` for null; a list or object by what it is."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "{…}" if isinstance(value, Mapping) else "[…]"


def _texts(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence):
        return ()
    return tuple(text for item in value if (text := _text(item)) is not None)


def _count(value: object) -> int | None:
    """A count: a whole number, not negative."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def _moment(value: object) -> Moment | None:
    """An RFC 3339 string, or (as controllers before it wrote them) seconds since the epoch."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    number = _number(value)
    if number is None:
        return _text(value)
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return _text(value)
