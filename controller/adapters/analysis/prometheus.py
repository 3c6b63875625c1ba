"""A rollout's Prometheus checks: one instant query per check, judged against its bounds.

A check's query is templated with the target version (``{{version}}``) and sent to
``/api/v1/query`` at the end of the window, so that every evaluation of a step looks at the same
moment however late it runs. Its answer must be one sample: a rate or a ratio of the target
version, aggregated (``sum(...)``) to a single series. Anything else is not a judgement:

- no sample (the version has had no traffic, or the series has no such label yet), NaN (a ratio
  of nothing) or an infinity is ``inconclusive``: low traffic holds a step, it never fails it;
- more than one sample is an ``error``: picking one would judge a series the query did not mean;
- anything that stops the question being asked or answered (refused connection, timeout, an
  HTTP error, a body that is not Prometheus's JSON or is too large) is an ``error``, never an
  exception, since a monitoring outage must not roll a healthy version back.

The parsing of an answer is the pure ``judge_response``, so that hostile answers can be tested
without a server. Credentials (a bearer token, or a user and password in ``base_url``, sent as
Basic authentication) never appear in a detail: details name the server by a URL without its
userinfo, and every detail is masked with the known secrets as well.
"""

from __future__ import annotations

import http.client
import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

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
from controller.core.analysis import CheckResult, Outcome, PrometheusCheck, Window, template
from controller.errors import ConfigurationError
from controller.redaction import Redactor, mask_url, url_secrets

QUERY_SHOWN = 120
"""How much of a query a detail shows: enough to recognise it in ``/status``, on one line."""
PROMETHEUS_MESSAGE_SHOWN = 300
"""How much of Prometheus's own error message a detail shows (a parse error is one line)."""


class PrometheusAnalysis:
    """Runs ``PrometheusCheck`` queries against the Prometheus HTTP API at ``base_url``.

    ``timeout`` bounds connecting and the whole answer, not only each read, so that a server
    that drips its answer cannot hold a rollout's evaluation. ``max_response_bytes`` bounds the
    body: one sample is a few hundred bytes, so a large answer is a query that selects far too
    much (or not Prometheus at all), and is refused rather than parsed.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        bearer_token: str | None = None,
        max_response_bytes: int = 1 << 20,
    ) -> None:
        self._endpoint, basic = _endpoint_and_credentials(base_url)
        if basic is not None and bearer_token is not None:
            raise ConfigurationError(
                f"{mask_url(base_url)!r} holds credentials and a bearer token is given as well; "
                "give one of them"
            )
        self._timeout = timeout
        self._max_response_bytes = max_response_bytes
        self._headers = {"Accept": "application/json", "User-Agent": f"lambda-gitops/{__version__}"}
        if bearer_token is not None:
            _check_header_value(bearer_token)
            self._headers["Authorization"] = f"Bearer {bearer_token}"
        elif basic is not None:
            self._headers["Authorization"] = basic
        secrets = [*url_secrets(base_url), *([bearer_token] if bearer_token else [])]
        self._redact = Redactor(secrets)

    def evaluate(self, check: PrometheusCheck, window: Window) -> CheckResult:
        """The check's outcome for ``window``; an ``error`` result, never an exception, when
        Prometheus cannot be asked or does not answer as Prometheus does."""
        parameters = {"query": template(check.query, window), "time": f"{window.end:.3f}"}
        url = f"{self._endpoint}/api/v1/query?{urlencode(parameters)}"
        try:
            status, body = self._get(url)
        except _Unanswered as unanswered:
            result = CheckResult("error", None, f"{unanswered} ({_query_shown(check, window)})")
        else:
            result = judge_response(status, body, check, window)
        return CheckResult(result.outcome, result.value, self._redact(result.detail))

    def _get(self, url: str) -> tuple[int, bytes]:
        """The status and body of a GET of ``url``; ``_Unanswered`` saying why there is none."""
        # The scheme is http or https: _endpoint_and_credentials refused any other.
        request = urllib.request.Request(url, headers=self._headers)  # noqa: S310
        deadline = time.monotonic() + self._timeout
        try:
            with self._open(request) as response:
                return int(response.status), self._read(response, deadline)
        except TimeoutError:
            raise self._timed_out() from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise self._timed_out() from None
            raise _Unanswered(
                f"cannot reach {self._endpoint}: {failure_reason(error.reason)}"
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise _Unanswered(
                f"cannot read the answer of {self._endpoint}: {failure_reason(error)}"
            ) from None

    def _open(self, request: urllib.request.Request) -> Any:
        """The response; for a status other than 2xx the ``HTTPError``, which reads as one, so
        that its body (Prometheus's reason) is read under the same limits and error handling."""
        try:
            return OPENER.open(request, timeout=self._timeout)
        except urllib.error.HTTPError as error:
            return error

    def _read(self, response: Any, deadline: float) -> bytes:
        """At most ``max_response_bytes`` of the body, read before ``deadline`` (else a
        ``TimeoutError``, taken as no answer in time)."""
        try:
            return read_bounded(response, self._max_response_bytes, deadline)
        except BodyTooLarge:
            raise _Unanswered(
                f"{self._endpoint} answered more than {self._max_response_bytes} bytes, "
                "refused: a query judged by a check answers one sample"
            ) from None

    def _timed_out(self) -> _Unanswered:
        return _Unanswered(f"{self._endpoint} did not answer within {self._timeout:g} s")


class _Unanswered(Exception):
    """No answer to judge; the message says why, naming the server without credentials."""


def judge_response(status: int, body: bytes, check: PrometheusCheck, window: Window) -> CheckResult:
    """What Prometheus's answer (``status``, ``body``) to ``check``'s query says of the check.

    Pure, and total: any status and any bytes give one of the four outcomes, never an exception.
    """
    query = _query_shown(check, window)
    try:
        value = _the_value(_data(status, body))
    except _NoValue as no_value:
        return CheckResult(no_value.outcome, None, f"{no_value} ({query})")
    outcome = check.bounds.judge(value)
    relation = "" if outcome == "pass" else "is not "
    return CheckResult(outcome, value, f"{value:g} {relation}{check.bounds.describe()} ({query})")


class _NoValue(Exception):
    """The answer holds no value to judge: an ``error``, or ``inconclusive`` when the query was
    answered and there is simply nothing to judge yet."""

    def __init__(self, detail: str, outcome: Outcome = "error") -> None:
        super().__init__(detail)
        self.outcome = outcome


def _data(status: int, body: bytes) -> Mapping[str, Any]:
    """The ``data`` of a successful answer; what Prometheus said when it was not one."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        document = None
    if status != 200:
        raise _NoValue(f"Prometheus answered {status}{_prometheus_error(document)}")
    if not isinstance(document, Mapping):
        start = one_line(body[:80].decode("utf-8", "replace"), 80)
        raise _NoValue(f"Prometheus answered 200, but not with its JSON: {start!r}")
    if document.get("status") != "success":
        raise _NoValue(f"Prometheus did not succeed{_prometheus_error(document)}")
    data = document.get("data")
    if not isinstance(data, Mapping):
        raise _NoValue("Prometheus answered no data object")
    return data


def _the_value(data: Mapping[str, Any]) -> float:
    """The one sample's value of a vector or scalar result."""
    result_type, result = data.get("resultType"), data.get("result")
    if result_type == "vector":
        if not isinstance(result, list):
            raise _NoValue("Prometheus answered a vector that is not a list")
        if not result:
            raise _NoValue("no data", "inconclusive")
        if len(result) > 1:
            raise _NoValue(
                f"the query gives {len(result)} series; it must aggregate to one (e.g. with sum())"
            )
        (sample,) = result
        result = sample.get("value") if isinstance(sample, Mapping) else None
    elif result_type != "scalar":
        kind = one_line(str(result_type), 20)
        raise _NoValue(f"the query gives a {kind}, not an instant vector or a scalar")
    if not (isinstance(result, list) and len(result) == 2 and isinstance(result[1], str)):
        raise _NoValue('Prometheus answered a sample not of the form [time, "value"]')
    try:
        value = float(result[1])
    except ValueError:
        raise _NoValue(
            f"Prometheus answered a value that is not a number: {result[1][:40]!r}"
        ) from None
    if not math.isfinite(value):
        raise _NoValue(f"the value is {result[1]}, nothing to judge", "inconclusive")
    return value


def _prometheus_error(document: object) -> str:
    """``: bad_data: parse error ...``, from the ``errorType`` and ``error`` of Prometheus's
    error answer, or nothing when the body holds neither (a proxy's page, say)."""
    if not isinstance(document, Mapping):
        return ""
    said = [
        one_line(document[key], PROMETHEUS_MESSAGE_SHOWN)
        for key in ("errorType", "error")
        if isinstance(document.get(key), str)
    ]
    return "".join(f": {part}" for part in said)


def _query_shown(check: PrometheusCheck, window: Window) -> str:
    return f"query {one_line(template(check.query, window), QUERY_SHOWN)}"


def _check_header_value(bearer_token: str) -> None:
    """Refuse, at construction and without showing it, a token no HTTP header can carry: sent,
    it would make every evaluation fail the same way."""
    if not bearer_token.isprintable() or not bearer_token.isascii() or not bearer_token.strip():
        raise ConfigurationError(
            "the Prometheus bearer token is empty or holds characters an HTTP header cannot "
            "carry (a newline, say); give the token alone"
        )


def _endpoint_and_credentials(base_url: str) -> tuple[str, str | None]:
    """``base_url`` without userinfo or a trailing ``/``, and the ``Authorization`` header for
    its ``user:password`` if it holds one; a ``ConfigurationError`` unless it is an ``http`` or
    ``https`` URL with a host."""
    shown = mask_url(base_url)
    try:
        parts = urlsplit(base_url.strip())
        _ = parts.port  # raises on a port that is not a number
    except ValueError as error:
        raise ConfigurationError(f"Prometheus URL {shown!r} is not a URL: {error}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"Prometheus URL {shown!r} is not an http:// or https:// URL with a host; give the "
            "server's address, such as http://prometheus:9090"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"Prometheus URL {shown!r} has a query or fragment; give the server's address only "
            "(a path prefix such as /prometheus is fine)"
        )
    return without_userinfo(parts, parts.path.rstrip("/")), basic_authorization(parts)
