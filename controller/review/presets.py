"""Named rollouts for ``promote --rollout``: a preset name in, the steps of a rollout block out.

Two families of names are understood:

- the project's own, which say what they do: ``canary-P-D`` sends P percent of the traffic to
  the target for the duration D (``canary-10-5m``, ``canary-25-1h``), then all of it;
  ``linear-P-D`` adds P percent every D (``linear-10-1m``: 10 %, 20 %, ... 90 %, each held a
  minute), where P divides 100 into at most ``MAX_STEPS`` steps. D is a duration as a
  declaration writes one: ``30s``, ``5m``, ``1h30m``.
- the deployment preference types of AWS SAM (CodeDeploy's predefined Lambda configurations,
  also accepted with their ``CodeDeployDefault.Lambda`` prefix), mapped to the same steps:
  ``Canary10Percent5Minutes`` is ``canary-10-5m``, ``Linear10PercentEvery1Minute`` is
  ``linear-10-1m``, and ``AllAtOnce`` is no rollout at all, as is ``none``.

The last 100 % is never a step: a rollout's steps are weights strictly between 0 and 1, and the
move of the alias to the target alone comes after the last one. Names are matched ignoring case.
Everything here is pure; the command line turns ``PresetError`` into a usage error.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from controller.core.declarations.schema import DURATION_MAX, MAX_STEPS, duration_seconds
from controller.core.declarations.spelling import did_you_mean

NO_ROLLOUT = ("none", "AllAtOnce")
"""The names that mean: no rollout block, the alias moves at once."""

SAM_PRESETS: dict[str, tuple[str, int, str]] = {
    "Canary10Percent5Minutes": ("canary", 10, "5m"),
    "Canary10Percent10Minutes": ("canary", 10, "10m"),
    "Canary10Percent15Minutes": ("canary", 10, "15m"),
    "Canary10Percent30Minutes": ("canary", 10, "30m"),
    "Linear10PercentEvery1Minute": ("linear", 10, "1m"),
    "Linear10PercentEvery2Minutes": ("linear", 10, "2m"),
    "Linear10PercentEvery3Minutes": ("linear", 10, "3m"),
    "Linear10PercentEvery10Minutes": ("linear", 10, "10m"),
}
"""AWS SAM's ``DeploymentPreference.Type`` values other than ``AllAtOnce``, as
``(family, percent, duration)``."""

CODEDEPLOY_PREFIX = "CodeDeployDefault.Lambda"
"""CodeDeploy's prefix of the same configurations' names:
``CodeDeployDefault.LambdaCanary10Percent5Minutes``."""

FAMILIES = ("canary", "linear")
EXAMPLES = ("canary-10-5m", "linear-10-1m")

SYNTAX = (
    "canary-P-D (P percent of the traffic for the duration D, then all: canary-10-5m), "
    "linear-P-D (P percent more every D: linear-10-1m), none, "
    + ", ".join(["AllAtOnce", *SAM_PRESETS])
)
"""The valid names, as an error lists them."""


class PresetError(ValueError):
    """The name is no preset; the message says why and what the valid names are."""


@dataclass(frozen=True, slots=True)
class PresetStep:
    """One step of a preset: the target's share, and how long it is held."""

    weight: Decimal
    hold: str
    """The duration as the declaration writes it: ``5m``."""
    seconds: int


@dataclass(frozen=True, slots=True)
class Preset:
    """A named rollout: its steps, none for ``none`` and ``AllAtOnce`` (no rollout block)."""

    name: str
    steps: tuple[PresetStep, ...]

    @property
    def removes(self) -> bool:
        """The preset is no rollout: an existing block is removed."""
        return not self.steps

    def describe(self) -> str:
        """What the steps do, in a few words: ``10% for 5m, then all``, or for more steps
        ``9 steps of 10% more every 1m, then all``."""
        if not self.steps:
            return "no rollout: all at once"
        first = self.steps[0]
        if len(self.steps) == 1:
            return f"{_percent(first.weight)}% for {first.hold}, then all"
        return (
            f"{len(self.steps)} steps of {_percent(first.weight)}% more every {first.hold}, "
            "then all"
        )


def parse(name: str) -> Preset:
    """The preset ``name`` stands for; ``PresetError`` when it stands for none."""
    text = name.strip()
    lowered = text.lower()
    for no_rollout in NO_ROLLOUT:
        if lowered in (no_rollout.lower(), (CODEDEPLOY_PREFIX + no_rollout).lower()):
            return Preset(no_rollout, ())
    for sam_name, (family, percent, duration) in SAM_PRESETS.items():
        if lowered in (sam_name.lower(), (CODEDEPLOY_PREFIX + sam_name).lower()):
            return Preset(sam_name, _steps(text, family, percent, duration))
    family, _, rest = lowered.partition("-")
    if family not in FAMILIES:
        raise PresetError(_unknown(text))
    percent_text, _, duration = rest.partition("-")
    if not percent_text or not duration:
        raise PresetError(
            f"rollout preset {text!r}: write it as {family}-P-D, P a percent and D a duration, "
            f"such as {family}-10-5m"
        )
    return Preset(lowered, _steps(text, family, _percent_of(text, percent_text), duration))


def _steps(name: str, family: str, percent: int, duration: str) -> tuple[PresetStep, ...]:
    seconds = _seconds(name, duration)
    if family == "canary":
        return (PresetStep(_weight(percent), duration, seconds),)
    if _ALL % percent:
        raise PresetError(
            f"rollout preset {name!r}: {percent} does not divide 100 into equal steps; use one "
            "that does, such as 5, 10, 20, 25 or 50"
        )
    count = _ALL // percent - 1
    if count > MAX_STEPS:
        raise PresetError(
            f"rollout preset {name!r}: steps of {percent}% make {count} steps, more than a "
            f"rollout may have ({MAX_STEPS}); use steps of 5% or more"
        )
    return tuple(
        PresetStep(_weight(percent * index), duration, seconds) for index in range(1, count + 1)
    )


def _percent_of(name: str, text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < _ALL:
        raise PresetError(
            f"rollout preset {name!r}: the percent {text!r} is not a whole number from 1 to 99"
        )
    return int(text)


def _seconds(name: str, duration: str) -> int:
    seconds = duration_seconds(duration) if not duration.isdigit() else None
    if seconds is None:
        raise PresetError(
            f"rollout preset {name!r}: the duration {duration!r} is not one; write it as 30s, "
            "5m or 1h30m (hours, minutes, seconds, in that order)"
        )
    if not 0 < seconds <= DURATION_MAX:
        raise PresetError(
            f"rollout preset {name!r}: the duration {duration!r} must be more than 0s and at "
            f"most {DURATION_MAX // 86400} days"
        )
    return seconds


_ALL = 100
"""Percent of the traffic: the whole of it, which is the move after the last step."""


def _weight(percent: int) -> Decimal:
    return (Decimal(percent) / _ALL).normalize()


def _percent(weight: Decimal) -> str:
    return format((weight * 100).normalize(), "f")


def _unknown(name: str) -> str:
    """The error for a name of neither family: the valid names, and the nearest one."""
    _, dash, rest = name.partition("-")
    looks_like = dash and rest[:1].isdigit()  # a misspelled family: ``canry-10-5m``
    guesses = [f"{family}-{rest}" for family in FAMILIES] if looks_like else list(EXAMPLES)
    suggestion = did_you_mean(name, [*NO_ROLLOUT, *SAM_PRESETS, *guesses])
    return (
        f"{name!r} is not a rollout preset{'; ' + suggestion if suggestion else '.'} "
        f"Valid presets: {SYNTAX}"
    )
