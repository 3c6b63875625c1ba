"""The Prometheus analysis adapter: a real server judges a version's error ratio, and a hostile or
absent one gives an ``error`` (or ``inconclusive``) result, never an exception or a secret.

The live tests run Debian's Prometheus scraping an exporter of the test's own, which serves the
series of two versions of a function; its first scrape comes about 5 s after start, so the test
waits for the series to be scraped, then asks everything it needs at once. The other tests use a
fake server (``tests.fake_http``) for the answers a real Prometheus gives rarely or never, and
``judge_response`` alone for arbitrary bodies.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.adapters.analysis.prometheus import PrometheusAnalysis, judge_response
from controller.core.analysis import OUTCOMES, Bounds, CheckResult, PrometheusCheck, Window
from controller.errors import ConfigurationError
from tests.fake_http import Answer, Received, reply
from tests.polling import free_port, wait_until
from tests.prometheus import Exporter, Prometheus

SCRAPE_TIMEOUT = 40.0
WINDOW = Window(
    function="orders", region="us-east-1", alias="live", version="7", start=1.7e9, end=1.7e9 + 60
)
ERROR_RATIO = (
    'sum(rate(lambda_errors_total{function="{{function}}",version="{{version}}"}[1m]))'
    ' / sum(rate(lambda_requests_total{function="{{function}}",version="{{version}}"}[1m]))'
)
Answering = Callable[[Answer], tuple[str, list[Received]]]


def check(query: str = "vector(1)", **bounds: float) -> PrometheusCheck:
    return PrometheusCheck(query, Bounds(**bounds) if bounds else Bounds(max=0.05))


def vector(*values: str) -> bytes:
    samples = [{"metric": {"n": str(i)}, "value": [1.7e9, v]} for i, v in enumerate(values)]
    return json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": samples}}
    ).encode()


# -- a real Prometheus ----------------------------------------------------------------------------


def exposition(n: int) -> str:
    """Counters of version 7 (errors in 1 of 100 requests a second) and of version 6 (every
    request an error), at the ``n``th scrape."""
    return (
        "# TYPE lambda_requests_total counter\n"
        f'lambda_requests_total{{function="orders",version="7"}} {100 * n}\n'
        f'lambda_requests_total{{function="orders",version="6"}} {100 * n}\n'
        "# TYPE lambda_errors_total counter\n"
        f'lambda_errors_total{{function="orders",version="7"}} {n}\n'
        f'lambda_errors_total{{function="orders",version="6"}} {100 * n}\n'
    )


@pytest.fixture
def scraped(prometheus_factory: Callable[..., Prometheus]) -> Iterator[Prometheus]:
    """A Prometheus that has scraped the exporter often enough for a rate over both versions."""
    exporter = Exporter(exposition)
    try:
        prometheus = prometheus_factory(exporter.target)

        def rates_of_both_versions() -> bool:
            query = 'rate(lambda_requests_total{function="orders"}[1m])'
            return len(prometheus.api("query", query=query)["result"]) == 2

        wait_until(
            rates_of_both_versions,
            SCRAPE_TIMEOUT,
            "two scrapes of the exporter",
            diagnostics=prometheus.diagnostics,
        )
        yield prometheus
    finally:
        exporter.close()


def now_window(prometheus: Prometheus) -> Window:
    """``WINDOW`` ending at Prometheus's last scrape, where the series are."""
    (target,) = prometheus.api("targets")["activeTargets"]
    assert target["health"] == "up", target
    last = prometheus.api("query", query="timestamp(up)")["result"][0]["value"][1]
    return Window("orders", "us-east-1", "live", "7", float(last) - 60, float(last))


def test_a_real_prometheus_judges_the_target_versions_error_ratio(scraped: Prometheus) -> None:
    """Version 7 errs in 1 % of its requests and version 6 in all of them: the templated ratio
    sees only version 7, so it passes a 5 % bound and fails a 0.5 % one. A query Prometheus
    cannot parse is an error carrying Prometheus's own message, and a version without series
    is no data."""
    analysis = PrometheusAnalysis(scraped.url)
    window = now_window(scraped)

    passed = analysis.evaluate(check(ERROR_RATIO, max=0.05), window)
    failed = analysis.evaluate(check(ERROR_RATIO, max=0.005), window)
    other_version = analysis.evaluate(
        check(ERROR_RATIO, max=0.05), Window("orders", "us-east-1", "live", "6", 0, window.end)
    )
    bad = analysis.evaluate(check("sum(rate(lambda_errors_total[1m])"), window)
    missing = analysis.evaluate(
        check(ERROR_RATIO), Window("orders", "us-east-1", "live", "8", 0, window.end)
    )

    assert passed.outcome == "pass", passed
    assert passed.value == pytest.approx(0.01)
    assert passed.detail.startswith("0.01 <= 0.05 (query sum(rate(lambda_errors_total{")
    assert 'version="7"' in passed.detail
    assert failed.outcome == "fail", failed
    assert failed.detail.startswith("0.01 is not <= 0.005 (query ")
    assert other_version.outcome == "fail"
    assert other_version.value == pytest.approx(1.0)
    assert bad.outcome == "error"
    assert bad.value is None
    assert bad.detail.startswith('Prometheus answered 400: bad_data: invalid parameter "query"')
    assert "parse error: unclosed left parenthesis (query sum(rate(" in bad.detail
    assert missing.outcome == "inconclusive"
    assert missing.value is None
    assert missing.detail.startswith("no data (query ")


# -- a hostile or absent server -------------------------------------------------------------------


def evaluate_against(answering: Answering, answer: Answer, **options: Any) -> CheckResult:
    url, _ = answering(answer)
    return PrometheusAnalysis(url, **options).evaluate(check(), WINDOW)


@pytest.mark.parametrize(
    ("status", "body", "outcome", "detail"),
    [
        pytest.param(200, vector("0.0123"), "pass", "0.0123 <= 0.05 (query vector(1))", id="pass"),
        pytest.param(200, vector("0.2"), "fail", "0.2 is not <= 0.05 (query vector(1))", id="fail"),
        pytest.param(200, vector(), "inconclusive", "no data (query vector(1))", id="empty"),
        pytest.param(
            200,
            vector("1", "2"),
            "error",
            "the query gives 2 series; it must aggregate to one (e.g. with sum())"
            " (query vector(1))",
            id="two-samples",
        ),
        pytest.param(
            200,
            vector("NaN"),
            "inconclusive",
            "the value is NaN, nothing to judge (query vector(1))",
            id="nan",
        ),
        pytest.param(
            200,
            b'{"status":"success","data":{"resultType":"scalar","result":[1.7e9,"-Inf"]}}',
            "inconclusive",
            "the value is -Inf, nothing to judge (query vector(1))",
            id="scalar-infinity",
        ),
        pytest.param(
            500,
            b'{"status":"error","errorType":"internal","error":"storage\\nis down"}',
            "error",
            "Prometheus answered 500: internal: storage is down (query vector(1))",
            id="500-json",
        ),
        pytest.param(
            502,
            b"<html>Bad Gateway</html>",
            "error",
            "Prometheus answered 502 (query vector(1))",
            id="502-html",
        ),
        pytest.param(
            200,
            b"<html>login</html>",
            "error",
            "Prometheus answered 200, but not with its JSON: '<html>login</html>'"
            " (query vector(1))",
            id="not-json",
        ),
        pytest.param(
            200,
            b'{"status":"success","data":{"resultType":"matrix","result":[]}}',
            "error",
            "the query gives a matrix, not an instant vector or a scalar (query vector(1))",
            id="matrix",
        ),
        pytest.param(
            200,
            b'{"status":"success","data":{"resultType":"vector","result":[{"value":1}]}}',
            "error",
            'Prometheus answered a sample not of the form [time, "value"] (query vector(1))',
            id="wrong-shape",
        ),
        pytest.param(
            200,
            b'{"status":"success","data":[]}',
            "error",
            "Prometheus answered no data object (query vector(1))",
            id="no-data-object",
        ),
    ],
)
def test_every_answer_is_one_outcome_with_a_one_line_detail(
    answering: Answering, status: int, body: bytes, outcome: str, detail: str
) -> None:
    result = evaluate_against(answering, reply(status, body, "application/json"))
    assert (result.outcome, result.detail) == (outcome, detail)


def test_the_query_is_templated_and_asked_at_the_end_of_the_window(answering: Answering) -> None:
    url, received = answering(reply(200, vector("0"), "application/json"))
    query = 'sum(rate(x{function="{{function}}",alias="{{alias}}",version="{{version}}"}[5m]))'

    PrometheusAnalysis(f"{url}/").evaluate(check(query), WINDOW)

    (request,) = received
    path, _, query_string = request.path.partition("?")
    assert path == "/api/v1/query"
    assert urllib.parse.parse_qs(query_string) == {
        "query": ['sum(rate(x{function="orders",alias="live",version="7"}[5m]))'],
        "time": ["1700000060.000"],
    }


def test_a_long_query_is_shown_cut_on_one_line(answering: Answering) -> None:
    url, _ = answering(reply(200, vector("0"), "application/json"))
    query = "sum(\n" + " + ".join(f"rate(series_{i}[1m])" for i in range(20)) + ")"

    result = PrometheusAnalysis(url).evaluate(check(query), WINDOW)

    shown = result.detail.removeprefix("0 <= 0.05 (query ").removesuffix(")")
    assert len(shown) == 120
    assert shown.endswith("…")
    assert "\n" not in result.detail


def test_a_body_larger_than_the_limit_is_refused(answering: Answering) -> None:
    url, _ = answering(reply(200, vector("0") + b" " * 2000, "application/json"))

    result = PrometheusAnalysis(url, max_response_bytes=1000).evaluate(check(), WINDOW)

    assert result.outcome == "error"
    assert result.detail.startswith(f"{url} answered more than 1000 bytes, refused")


def test_a_body_of_exactly_the_limit_is_judged(answering: Answering) -> None:
    body = vector("0")
    url, _ = answering(reply(200, body + b" " * (1000 - len(body)), "application/json"))

    result = PrometheusAnalysis(url, max_response_bytes=1000).evaluate(check(), WINDOW)

    assert result.outcome == "pass"


def test_a_closed_port_is_an_error_saying_so() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = PrometheusAnalysis(url).evaluate(check(), WINDOW)

    assert result == CheckResult(
        "error", None, f"cannot reach {url}: Connection refused (query vector(1))"
    )


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog does) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_server_that_never_answers_is_an_error_after_the_timeout(silent_server: str) -> None:
    result = PrometheusAnalysis(silent_server, timeout=0.5).evaluate(check(), WINDOW)

    assert result == CheckResult(
        "error", None, f"{silent_server} did not answer within 0.5 s (query vector(1))"
    )


def test_an_error_answer_whose_body_never_ends_is_an_error_after_the_timeout(
    answering: Answering,
) -> None:
    finished = threading.Event()

    def stalling(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(500)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b'{"status":')
        handler.wfile.flush()
        finished.wait(timeout=10)

    url, _ = answering(stalling)
    try:
        result = PrometheusAnalysis(url, timeout=0.5).evaluate(check(), WINDOW)
    finally:
        finished.set()

    assert result == CheckResult(
        "error", None, f"{url} did not answer within 0.5 s (query vector(1))"
    )


def test_the_bearer_token_is_sent_and_never_shown(answering: Answering) -> None:
    token = "s3cr3t-bearer-token"
    echo = json.dumps({"status": "error", "errorType": "auth", "error": f"bad token {token}"})
    url, received = answering(reply(401, echo.encode(), "application/json"))

    result = PrometheusAnalysis(url, bearer_token=token).evaluate(check(), WINDOW)

    assert received[0].headers["Authorization"] == f"Bearer {token}"
    assert result.outcome == "error"
    assert result.detail == "Prometheus answered 401: auth: bad token *** (query vector(1))"


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_shown(
    answering: Answering,
) -> None:
    url, received = answering(reply(503, b"unavailable", "text/plain"))
    with_userinfo = url.replace("http://", "http://reader:pa55word@")

    refused = PrometheusAnalysis(with_userinfo).evaluate(check(), WINDOW)
    closed = f"http://reader:pa55word@127.0.0.1:{free_port()}"
    unreachable = PrometheusAnalysis(closed).evaluate(check(), WINDOW)

    assert received[0].headers["Authorization"] == "Basic cmVhZGVyOnBhNTV3b3Jk"
    assert refused.detail == "Prometheus answered 503 (query vector(1))"
    assert unreachable.detail.startswith("cannot reach http://127.0.0.1:")
    assert all(
        "pa55word" not in r.detail and "reader" not in r.detail for r in (refused, unreachable)
    )


def test_a_redirect_is_not_followed(answering: Answering) -> None:
    elsewhere, reached = answering(reply(200, vector("0"), "application/json"))
    url, _ = answering(reply(302, b"", "text/plain", Location=f"{elsewhere}/api/v1/query"))

    result = PrometheusAnalysis(url, bearer_token="not-for-elsewhere").evaluate(check(), WINDOW)

    assert (result.outcome, result.detail) == ("error", "Prometheus answered 302 (query vector(1))")
    assert reached == []


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://user:hunter22@prometheus/",
        "prometheus:9090",
        "http://",
        "http://h:port",
        "http://h/?x=1",
    ],
)
def test_a_base_url_that_is_not_an_http_address_is_a_configuration_error(base_url: str) -> None:
    with pytest.raises(ConfigurationError, match="Prometheus URL") as raised:
        PrometheusAnalysis(base_url)
    assert "hunter22" not in str(raised.value)


def test_a_bearer_token_no_header_can_carry_is_a_configuration_error_that_hides_it() -> None:
    with pytest.raises(ConfigurationError, match="bearer token") as raised:
        PrometheusAnalysis("http://prometheus:9090", bearer_token="abc\r\nX-Injected: 1")
    assert "Injected" not in str(raised.value)


def test_credentials_in_the_url_and_a_bearer_token_together_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="give one of them") as raised:
        PrometheusAnalysis("http://u:pa55word@prometheus:9090", bearer_token="token-1")
    assert "pa55word" not in str(raised.value)


# -- any answer at all ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
prometheus_like = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["success", "error"]) | json_values,
        "data": st.fixed_dictionaries(
            {
                "resultType": st.sampled_from(["vector", "scalar", "matrix"]) | json_values,
                "result": json_values
                | st.lists(st.fixed_dictionaries({"value": json_values}), max_size=3)
                | st.tuples(st.floats(), st.text(max_size=10)).map(list),
            }
        )
        | json_values,
    }
)
bodies = (
    st.binary(max_size=200)
    | json_values.map(lambda value: json.dumps(value).encode())
    | prometheus_like.map(lambda value: json.dumps(value).encode())
)


@settings(max_examples=200, deadline=None)
@given(status=st.sampled_from([200, 200, 400, 422, 500, 503]) | st.integers(0, 999), body=bodies)
def test_any_answer_is_one_of_the_four_outcomes_and_never_raises(status: int, body: bytes) -> None:
    result = judge_response(status, body, check(), WINDOW)
    assert result.outcome in OUTCOMES
    assert "\n" not in result.detail
    assert (result.value is not None) == (result.outcome in ("pass", "fail"))
