"""A rollout block: what a valid one becomes, and every mistake as ``FILE:LINE`` and a fix.

``function(spec)`` puts the first line of ``spec`` on line 6 of the file; in ``ROLLOUT`` the
alias ``live`` is on line 10 and its ``rollout:`` on line 12.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from controller.core.analysis import AlarmCheck, Bounds, CloudWatchCheck, PrometheusCheck
from controller.core.declarations.schema import json_schema
from controller.core.rollout import Analysis, Rollout, Step
from tests.core.declarations.support import SHA_A, SHA_B, function, parse

STEPS = """\
      steps:
        - {weight: 0.05, hold: 5m}
        - {weight: 0.25, hold: 1h30m}
        - {weight: 0.5, pause: true}
"""
ANALYSIS = """\
      analysis:
        interval: 30s
        minInvocations: 100
        failureLimit: 2
        checks:
          - cloudwatch: {metric: Errors, stat: Sum, ratioTo: Invocations, max: 0.01}
          - prometheus: {query: 'sum(rate(x{version="{{version}}"}[5m]))', max: 0.5}
          - alarm: {name: orders-latency}
      onNoData: pass
"""


def rollout(body: str = STEPS + ANALYSIS, alias_extra: str = "") -> str:
    return function(
        f"""
versions:
  r41: {{codeSha256: "{SHA_A}"}}
  r42: {{codeSha256: "{SHA_B}"}}
aliases:
  live:
    version: r42
    rollout:
{body}{alias_extra}"""
    )


def test_a_valid_rollout_becomes_the_cores_values() -> None:
    declarations = parse(("f.yaml", rollout(alias_extra="    approve: 3\n")))
    assert declarations.errors == ()
    (desired,) = declarations.functions
    alias = desired.aliases["live"]
    assert alias.approve == 3
    assert alias.rollout == Rollout(
        steps=(
            Step(Decimal("0.05"), hold=300.0),
            Step(Decimal("0.25"), hold=5400.0),
            Step(Decimal("0.5"), pause=True),
        ),
        analysis=Analysis(
            checks=(
                CloudWatchCheck("Errors", "Sum", Bounds(max=0.01), ratio_to="Invocations"),
                PrometheusCheck('sum(rate(x{version="{{version}}"}[5m]))', Bounds(max=0.5)),
                AlarmCheck("orders-latency"),
            ),
            interval=30.0,
            min_invocations=100,
            failure_limit=2,
            on_no_data="pass",
        ),
    )


ERRORS = [
    pytest.param(
        STEPS.replace("0.25", "0.05"),
        "f.yaml:15:",
        "step 2's weight 0.05 is not above step 1's 0.05; the weights must increase",
        id="weights not increasing",
    ),
    pytest.param(
        STEPS.replace("0.5,", "1.5,"), "f.yaml:16:", "not strictly between 0 and 1", id="weight"
    ),
    pytest.param(
        STEPS.replace("5m", "5 minutes"),
        "f.yaml:14:",
        "write it as 30s, 5m or 1h30m",
        id="duration that does not parse",
    ),
    pytest.param(
        STEPS.replace("pause: true", "pause: true, hold: 1m"),
        "f.yaml:16:",
        "a step holds for a time or pauses for approval, not both",
        id="hold and pause",
    ),
    pytest.param("      steps: []\n", "f.yaml:13:", "must have at least 1 item", id="no steps"),
    pytest.param(
        STEPS + ANALYSIS.replace("stat: Sum", "stat: Summ"),
        "f.yaml:22:",
        "did you mean 'Sum'?",
        id="statistic",
    ),
    pytest.param(
        STEPS + ANALYSIS.replace(", max: 0.5", ""),
        "f.yaml:23:",
        "give max, min or both",
        id="a check without bounds",
    ),
    pytest.param(
        STEPS + ANALYSIS.replace("failureLimit: 2", "failureLimit: 0"),
        "f.yaml:20:",
        "failureLimit must be at least 1, not 0",
        id="failure limit",
    ),
    pytest.param(
        STEPS + ANALYSIS.replace("onNoData: pass", "onNoData: wait"),
        "f.yaml:25:",
        "must be 'hold', 'pass' or 'fail', not 'wait'",
        id="onNoData",
    ),
    pytest.param(
        STEPS + ANALYSIS.replace("- alarm:", "- alarms:"),
        "f.yaml:24:",
        "unknown field 'alarms'",
        id="check kind",
    ),
]


@pytest.mark.parametrize(("body", "where", "message"), ERRORS)
def test_a_mistake_in_a_rollout_is_named_at_its_line(body: str, where: str, message: str) -> None:
    errors = [str(error) for error in parse(("f.yaml", rollout(body))).errors]
    assert any(e.startswith(where) and message in e for e in errors), errors


@pytest.mark.parametrize(
    ("alias_extra", "version", "message"),
    [
        ("    routing: {r41: 0.1}\n", "r42", "a rollout sets the alias's routing itself"),
        ("", "$LATEST", "an alias on $LATEST cannot split traffic"),
    ],
)
def test_a_rollout_with_routing_or_on_latest_is_refused(
    alias_extra: str, version: str, message: str
) -> None:
    text = rollout(alias_extra=alias_extra).replace("version: r42", f"version: {version}")
    errors = [str(error) for error in parse(("f.yaml", text)).errors]
    assert any(message in error for error in errors), errors


def test_skip_without_a_rollout_is_refused() -> None:
    text = function(
        f'versions:\n  r42: {{codeSha256: "{SHA_B}"}}\n'
        "aliases:\n  live: {version: r42, skip: true}"
    )
    errors = [str(error) for error in parse(("f.yaml", text)).errors]
    assert any("there is no rollout to skip" in error for error in errors), errors


def load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def dump(document: object) -> str:
    stream = io.StringIO()
    YAML(typ="safe").dump(document, stream)
    return stream.getvalue()


def test_the_json_schema_accepts_a_rollout_and_refuses_a_bad_one() -> None:
    schema = json_schema()
    good = load(rollout(alias_extra="    approve: 3\n    skip: false\n"))
    jsonschema.validate(good, schema)
    bad = load(rollout(STEPS.replace("0.5,", "1.5,")))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["5m", "1h30m", "0s", "Sum", "p99", "hold", "Errors", "{{version}}"]),
)
FIELDS = st.sampled_from(
    [
        "weight",
        "hold",
        "pause",
        "interval",
        "minInvocations",
        "failureLimit",
        "onNoData",
        "max",
        "min",
        "metric",
        "stat",
        "ratioTo",
        "query",
        "name",
        "steps",
        "analysis",
        "checks",
        "cloudwatch",
        "prometheus",
        "alarm",
    ]
)
BLOCKS = st.recursive(
    VALUES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(FIELDS, inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BLOCKS, st.integers(-3, 30))
def test_any_rollout_block_is_a_declaration_or_errors_at_lines(block: object, approve: int) -> None:
    document = load(rollout(alias_extra=f"    approve: {approve}\n"))
    document["spec"]["aliases"]["live"]["rollout"] = block
    text = dump(document)
    declarations = parse(("f.yaml", text))
    for error in declarations.errors:
        assert error.location.file == "f.yaml"
        assert error.location.line >= 1
        assert error.message
    for desired in declarations.functions:
        live = desired.aliases["live"]
        if live.rollout is not None:
            weights = [step.weight for step in live.rollout.steps]
            assert weights == sorted(set(weights))
            assert all(Decimal(0) < w < Decimal(1) for w in weights)
