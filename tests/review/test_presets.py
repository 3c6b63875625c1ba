"""The rollout presets of ``promote --rollout``: names in, the steps of a rollout block out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.declarations.schema import MAX_STEPS
from controller.review.presets import (
    CODEDEPLOY_PREFIX,
    SAM_PRESETS,
    Preset,
    PresetError,
    parse,
)


def _steps(preset: Preset) -> list[tuple[str, str, int]]:
    return [(str(step.weight), step.hold, step.seconds) for step in preset.steps]


def _linear(percent: int, hold: str, seconds: int) -> list[tuple[str, str, int]]:
    weights = [Decimal(percent * i) / 100 for i in range(1, 100 // percent)]
    return [(str(weight.normalize()), hold, seconds) for weight in weights]


PRESETS = [
    ("canary-10-5m", "canary-10-5m", [("0.1", "5m", 300)]),
    ("canary-5-10m", "canary-5-10m", [("0.05", "10m", 600)]),
    ("canary-25-1h", "canary-25-1h", [("0.25", "1h", 3600)]),
    ("canary-1-1h30m", "canary-1-1h30m", [("0.01", "1h30m", 5400)]),
    ("canary-99-45s", "canary-99-45s", [("0.99", "45s", 45)]),
    ("Canary-10-5M", "canary-10-5m", [("0.1", "5m", 300)]),
    ("linear-10-1m", "linear-10-1m", _linear(10, "1m", 60)),
    ("linear-5-30s", "linear-5-30s", _linear(5, "30s", 30)),
    ("linear-20-2m", "linear-20-2m", [(w, "2m", 120) for w in ("0.2", "0.4", "0.6", "0.8")]),
    ("linear-25-1m", "linear-25-1m", [(w, "1m", 60) for w in ("0.25", "0.5", "0.75")]),
    ("linear-50-1h", "linear-50-1h", [("0.5", "1h", 3600)]),
    # AWS SAM's DeploymentPreference types (CodeDeploy's predefined Lambda configurations).
    ("Canary10Percent5Minutes", "Canary10Percent5Minutes", [("0.1", "5m", 300)]),
    ("Canary10Percent10Minutes", "Canary10Percent10Minutes", [("0.1", "10m", 600)]),
    ("Canary10Percent15Minutes", "Canary10Percent15Minutes", [("0.1", "15m", 900)]),
    ("Canary10Percent30Minutes", "Canary10Percent30Minutes", [("0.1", "30m", 1800)]),
    ("Linear10PercentEvery1Minute", "Linear10PercentEvery1Minute", _linear(10, "1m", 60)),
    ("Linear10PercentEvery2Minutes", "Linear10PercentEvery2Minutes", _linear(10, "2m", 120)),
    ("Linear10PercentEvery3Minutes", "Linear10PercentEvery3Minutes", _linear(10, "3m", 180)),
    ("Linear10PercentEvery10Minutes", "Linear10PercentEvery10Minutes", _linear(10, "10m", 600)),
    ("canary10percent5minutes", "Canary10Percent5Minutes", [("0.1", "5m", 300)]),
    (
        "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
        "Linear10PercentEvery3Minutes",
        _linear(10, "3m", 180),
    ),
    ("AllAtOnce", "AllAtOnce", []),
    ("CodeDeployDefault.LambdaAllAtOnce", "AllAtOnce", []),
    ("allatonce", "AllAtOnce", []),
    ("none", "none", []),
    (" None ", "none", []),
]


@pytest.mark.parametrize(("name", "canonical", "steps"), PRESETS)
def test_a_preset_is_its_steps(
    name: str, canonical: str, steps: list[tuple[str, str, int]]
) -> None:
    preset = parse(name)

    assert preset.name == canonical
    assert _steps(preset) == steps
    assert preset.removes == (not steps)


def test_linear_10_is_nine_steps_of_ten_percent() -> None:
    preset = parse("linear-10-1m")

    assert [str(step.weight) for step in preset.steps] == [f"0.{i}" for i in range(1, 10)]
    assert {step.hold for step in preset.steps} == {"1m"}


def test_the_sam_names_are_those_of_aws() -> None:
    assert set(SAM_PRESETS) == {
        "Canary10Percent5Minutes",
        "Canary10Percent10Minutes",
        "Canary10Percent15Minutes",
        "Canary10Percent30Minutes",
        "Linear10PercentEvery1Minute",
        "Linear10PercentEvery2Minutes",
        "Linear10PercentEvery3Minutes",
        "Linear10PercentEvery10Minutes",
    }
    assert CODEDEPLOY_PREFIX == "CodeDeployDefault.Lambda"


@pytest.mark.parametrize(
    ("name", "describes"),
    [
        ("canary-10-5m", "10% for 5m, then all"),
        ("linear-10-1m", "9 steps of 10% more every 1m, then all"),
        ("linear-50-2m", "50% for 2m, then all"),
        ("none", "no rollout: all at once"),
    ],
)
def test_describe(name: str, describes: str) -> None:
    assert parse(name).describe() == describes


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("canary-0-5m", "the percent '0' is not a whole number from 1 to 99"),
        ("canary-100-5m", "the percent '100' is not a whole number from 1 to 99"),
        ("canary-2.5-5m", "the percent '2.5' is not a whole number"),
        ("canary-ten-5m", "the percent 'ten' is not a whole number"),
        ("canary-10-5", "the duration '5' is not one; write it as 30s, 5m or 1h30m"),
        ("canary-10-5x", "the duration '5x' is not one"),
        ("canary-10-30m1h", "the duration '30m1h' is not one"),
        ("canary-10-0s", "the duration '0s' must be more than 0s and at most 7 days"),
        ("canary-10-200h", "must be more than 0s and at most 7 days"),
        ("canary-10", "write it as canary-P-D, P a percent and D a duration"),
        ("linear-", "write it as linear-P-D"),
        ("linear-3-1m", "3 does not divide 100 into equal steps"),
        ("linear-4-1m", "steps of 4% make 24 steps, more than a rollout may have (20)"),
        ("linear-1-1m", "make 99 steps"),
        ("linear-100-1m", "the percent '100' is not a whole number from 1 to 99"),
    ],
)
def test_a_malformed_preset_says_what_is_wrong(name: str, problem: str) -> None:
    with pytest.raises(PresetError) as error:
        parse(name)

    assert problem in str(error.value)
    assert repr(name) in str(error.value)


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("canry-10-5m", "did you mean 'canary-10-5m'"),
        ("liner-10-1m", "did you mean 'linear-10-1m'"),
        ("Canary10Percent20Minutes", "'Canary10Percent10Minutes'"),
        ("Linear10PercentEvery1Minutes", "'Linear10PercentEvery1Minute'"),
        ("AllAtOnc", "did you mean 'AllAtOnce'"),
        ("non", "'none'"),
    ],
)
def test_an_unknown_preset_lists_the_valid_ones_and_the_nearest(name: str, suggestion: str) -> None:
    with pytest.raises(PresetError) as error:
        parse(name)

    message = str(error.value)
    said, _, listed = message.partition(" Valid presets: ")
    assert said.startswith(f"{name!r} is not a rollout preset; did you mean ")
    assert suggestion in said
    for valid in ("canary-P-D", "linear-P-D", "none", "AllAtOnce", *SAM_PRESETS):
        assert valid in listed


def test_an_unknown_preset_with_nothing_near_still_lists_the_valid_ones() -> None:
    with pytest.raises(PresetError) as error:
        parse("blue-green")

    assert str(error.value).startswith("'blue-green' is not a rollout preset. Valid presets: ")


# -- every preset there is -------------------------------------------------------------------------

DURATIONS = st.builds(
    lambda h, m, s: (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else ""),
    st.integers(0, 100),
    st.integers(0, 59),
    st.integers(0, 59),
).filter(bool)

NAMES = st.one_of(
    st.builds(lambda p, d: f"canary-{p}-{d}", st.integers(1, 99), DURATIONS),
    st.builds(lambda p, d: f"linear-{p}-{d}", st.sampled_from([5, 10, 20, 25, 50]), DURATIONS),
    st.sampled_from([*SAM_PRESETS, *(CODEDEPLOY_PREFIX + name for name in SAM_PRESETS)]),
)


def _valid_steps(preset: Preset) -> None:
    weights = [step.weight for step in preset.steps]
    assert 1 <= len(weights) <= MAX_STEPS
    assert all(Decimal(0) < weight < Decimal(1) for weight in weights)
    assert weights == sorted(set(weights)), "the weights must strictly increase"
    assert all(step.seconds > 0 for step in preset.steps)
    assert all("E" not in str(weight) for weight in weights), "written as plain decimals"


@given(NAMES)
def test_every_preset_gives_increasing_weights_between_0_and_1(name: str) -> None:
    _valid_steps(parse(name))


@given(st.integers(1, 99), DURATIONS)
def test_every_linear_preset_is_valid_or_refused_with_a_reason(percent: int, hold: str) -> None:
    name = f"linear-{percent}-{hold}"
    if 100 % percent or 100 // percent - 1 > MAX_STEPS:
        with pytest.raises(PresetError, match=r"does not divide 100|more than a rollout may have"):
            parse(name)
        return
    preset = parse(name)
    _valid_steps(preset)
    assert preset.steps[-1].weight == Decimal(100 - percent) / 100
