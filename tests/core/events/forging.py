"""Forging a change event: the fields of an EventBridge envelope and its CloudTrail record that
a sender may set to anything, and the setting of them, for the property tests of the parser
(``test_parse.py``) and of the consumer (``tests/engine/test_events_hostile.py``)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

FIELDS = (
    "source",
    "detail-type",
    "account",
    "region",
    "time",
    "detail",
    "detail.eventSource",
    "detail.eventName",
    "detail.awsRegion",
    "detail.eventTime",
    "detail.errorCode",
    "detail.userIdentity",
    "detail.userIdentity.accessKeyId",
    "detail.requestParameters",
    "detail.requestParameters.functionName",
    "detail.responseElements",
    "detail.recipientAccountId",
    "detail.eventID",
)
"""Dotted paths into an event, from the envelope down."""

fields = st.sampled_from(FIELDS)


def forge(message: dict[str, Any], changes: Iterable[tuple[str, object]]) -> dict[str, Any]:
    """``message`` with each dotted path set to its value (a copy of it), where the objects on
    the way are there: a change under a field an earlier one replaced by a non-object is
    dropped, as a sender's would have nowhere to go."""
    for path, value in changes:
        *parents, last = path.split(".")
        target: Any = message
        for parent in parents:
            target = target.get(parent) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target[last] = copy.deepcopy(value)
    return message
