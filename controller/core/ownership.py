"""The ownership marker: how an alias says that lambda-gitops manages it.

Lambda has no tags on aliases, so the only place an alias can carry "this controller wrote me, at
this Git revision" is its description. The marker goes after the declared description::

    release 42 [lambda-gitops 3f2c9a1b7d4e]

Two decisions rest on it. Pruning deletes only marked aliases, so an alias someone created by hand
is never removed. And the planner compares the declared part only, so a new commit that leaves an
alias alone causes no write just to refresh the revision in its marker.
"""

from __future__ import annotations

import re

from controller.core.plan import MARKER_PREFIX

DESCRIPTION_LIMIT = 256
"""Lambda rejects a longer alias description (rule L11)."""

REVISION_LENGTH = 12
"""How much of the Git revision the marker keeps: enough to find the commit, short enough to leave
room for the declared description."""

_ELLIPSIS = "…"

_DECLARED_BUDGET = DESCRIPTION_LIMIT - len(f" {MARKER_PREFIX}]") - REVISION_LENGTH
"""Room left for the declared description. It is computed for a full-length revision even when a
shorter one is given, so that how a declaration is shortened never depends on the revision: the
comparison can then recognise a shortened description written at any earlier commit."""

_MARKER = re.compile(rf"(?:^| ){re.escape(MARKER_PREFIX)}[^\]]*\]\Z")


def describe(declared: str, revision: str) -> str:
    """The description to write on an alias: the declared text, then the marker."""
    marker = f"{MARKER_PREFIX}{revision[:REVISION_LENGTH]}]"
    shortened = shorten(declared)
    return f"{shortened} {marker}" if shortened else marker


def shorten(declared: str) -> str:
    """The declared description as ``describe`` writes it: cut to leave room for the marker.

    A cut description ends with an ellipsis so that a reader knows there was more.
    """
    if len(declared) <= _DECLARED_BUDGET:
        return declared
    return declared[: _DECLARED_BUDGET - len(_ELLIPSIS)] + _ELLIPSIS


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
    return live == declared or live == shorten(declared)
