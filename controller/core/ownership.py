"""The ownership marker: how an alias says that lambda-gitops manages it.

Lambda has no tags on aliases, so the only place an alias can carry "this controller wrote me, at
this Git revision" is its description. The marker goes after the declared description::

    release 42 [lambda-gitops 3f2c9a1b7d4e]

Three decisions rest on it. Pruning deletes only marked aliases, so an alias someone created by
hand is never removed. The planner compares the declared part only, so a new commit that leaves an
alias alone causes no write just to refresh the revision in its marker. And the marker is sealed
with a short digest of what the controller wrote (version, routing, declared description)::

    release 42 [lambda-gitops 3f2c9a1b7d4e #9c1e0f7a]

so that an alias someone changed by hand while keeping the description is told from one the
controller left as it wrote it, even by a controller that has just started and remembers nothing
(see ``core.outofband``).

An alias in a rollout also carries where the rollout stands (``core.rollout.encode``), inside
the marker and under the seal, so that the rollout resumes from the alias alone and a hand edit
of it is seen like any other::

    release 42 [lambda-gitops 3f2c9a1b7d4e ro=17/16/1/1733140000/0/P/3fa2c1 #9c1e0f7a]

Its declared description is shortened to leave room for that; every other alias's marker is
written exactly as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal

from controller.core.plan import MARKER_PREFIX
from controller.core.rollout import STATE_LENGTH

DESCRIPTION_LIMIT = 256
"""Lambda rejects a longer alias description (rule L11)."""

REVISION_LENGTH = 12
"""How much of the Git revision the marker keeps: enough to find the commit, short enough to leave
room for the declared description."""

DIGEST_LENGTH = 8
"""Hex digits of the seal: a one in four billion chance that a change by hand goes unseen."""

_ELLIPSIS = "…"

_SEAL = " #"

_DECLARED_BUDGET = (
    DESCRIPTION_LIMIT - len(f" {MARKER_PREFIX}]") - REVISION_LENGTH - len(_SEAL) - DIGEST_LENGTH
)
"""Room left for the declared description. It is computed for a full-length revision even when a
shorter one is given, so that how a declaration is shortened never depends on the revision: the
comparison can then recognise a shortened description written at any earlier commit."""

_ROLLOUT_BUDGET = _DECLARED_BUDGET - 1 - STATE_LENGTH
"""Room for the declared description of an alias in a rollout, whose marker holds its state."""

_MARKER = re.compile(rf"(?:^| ){re.escape(MARKER_PREFIX)}[^\]]*\]\Z")
_ROLLOUT_IN_MARKER = re.compile(r" (?P<state>ro=[0-9/]+/[A-Z]/[0-9a-f]+)(?= #|\]\Z)")
_SEALED = re.compile(rf"{re.escape(_SEAL)}(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})\]\Z")


def describe(declared: str, revision: str, rollout: str | None = None) -> str:
    """The description to write on an alias: the declared text, then the marker, holding the
    ``rollout`` state (``core.rollout.encode``) when the alias is in one."""
    state = f" {rollout}" if rollout else ""
    marker = f"{MARKER_PREFIX}{revision[:REVISION_LENGTH]}{state}]"
    shortened = shorten(declared, in_rollout=bool(rollout))
    return f"{shortened} {marker}" if shortened else marker


def shorten(declared: str, *, in_rollout: bool = False) -> str:
    """The declared description as ``describe`` writes it: cut to leave room for the marker
    (and, ``in_rollout``, the rollout's state in it).

    A cut description ends with an ellipsis so that a reader knows there was more.
    """
    budget = _ROLLOUT_BUDGET if in_rollout else _DECLARED_BUDGET
    if len(declared) <= budget:
        return declared
    return declared[: budget - len(_ELLIPSIS)] + _ELLIPSIS


def rollout_state(description: str) -> str | None:
    """The rollout state the marker holds (``ro=...``), or ``None``: only the marker's own is
    read, never text of the same shape in the declared part."""
    marker = _MARKER.search(description)
    if marker is None:
        return None
    found = _ROLLOUT_IN_MARKER.search(marker.group())
    return found["state"] if found else None


def is_managed(description: str) -> bool:
    """True when the description ends with the marker: this controller wrote the alias."""
    return _MARKER.search(description) is not None


def declared_part(description: str) -> str:
    """The description without the marker, as a person or a declaration wrote it."""
    match = _MARKER.search(description)
    return description if match is None else description[: match.start()]


def matches_declaration(description: str, declared: str) -> bool:
    """True when a live description says what the declaration says, marker or not.

    The live text may be the declaration as it is (written by hand, or short enough to keep) or the
    shortened form ``describe`` writes when the marker would not fit otherwise.
    """
    live = declared_part(description)
    return live in (declared, shorten(declared), shorten(declared, in_rollout=True))


def seal(description: str, version: str, routing: Mapping[str, Decimal]) -> str:
    """``description`` (as ``describe`` made it) with its marker sealed by the digest of what is
    written: the alias's version and routing, as Lambda numbers them, and the declared text."""
    if not is_managed(description):
        return description
    digest = state_digest(
        version, routing, declared_part(description), rollout_state(description) or ""
    )
    return f"{description[:-1]}{_SEAL}{digest}]"


def sealed_digest(description: str) -> str | None:
    """The digest a sealed marker carries; ``None`` for no marker, or one written unsealed."""
    if not is_managed(description):
        return None
    match = _SEALED.search(description)
    return match["digest"] if match else None


def seal_holds(version: str, routing: Mapping[str, Decimal], description: str) -> bool | None:
    """Whether an alias with this version, routing and description is as its sealed marker
    says the controller wrote it; ``None`` when the description carries no seal."""
    digest = sealed_digest(description)
    if digest is None:
        return None
    written = state_digest(
        version, routing, declared_part(description), rollout_state(description) or ""
    )
    return digest == written


def state_digest(
    version: str, routing: Mapping[str, Decimal], declared: str, rollout: str = ""
) -> str:
    """A digest of an alias's state: equal for equal version, routing (as numbers), text and
    rollout state. Without a rollout it is the digest of the markers written before rollouts
    existed, so that none of them reads as changed by hand."""
    routes = ",".join(f"{target}={share.normalize()}" for target, share in sorted(routing.items()))
    text = f"{version}|{routes}|{declared}" + (f"|{rollout}" if rollout else "")
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]
