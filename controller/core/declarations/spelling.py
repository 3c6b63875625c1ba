"""Did-you-mean suggestions, so that a near miss is an error that says what was meant.

A misspelled ``apiVersion``, ``kind`` or region used to be read as something else (another
tool's document, a region that does not exist) instead of as a typo; the checks that refuse
them name the nearest right spelling. The distance is difflib's ratio, case ignored; among
equally near choices the order is alphabetical, so that a message is the same at every run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

LONGEST_COMPARED = 100
"""Longer text is no near miss of any short name; comparing it would only cost time."""


def close_matches(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> list[str]:
    """Up to three of ``choices`` nearest to ``word``, the nearest first."""
    if len(word) > LONGEST_COMPARED:
        return []
    lowered = word.lower()
    matcher = difflib.SequenceMatcher(b=lowered)
    ranked = []
    for choice in set(choices):
        matcher.set_seq1(choice.lower())
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            ratio = matcher.ratio()
            if ratio >= cutoff:
                ranked.append((-ratio, choice))
    return [choice for _, choice in sorted(ranked)[:3]]


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str:
    """``"did you mean 'eu-west-1' or 'eu-west-2'?"``, or ``""`` when nothing is near."""
    found = close_matches(word, choices, cutoff=cutoff)
    if not found:
        return ""
    quoted = [repr(choice) for choice in found]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"did you mean {listed}?"
