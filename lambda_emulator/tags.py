"""Tags on Lambda functions: which ARNs can carry them, and which keys and values AWS accepts.

TagResource, UntagResource and ListTags name their resource by ARN, in a path of their own
(``/2017-03-31/tags/{ARN}``). Of the resources AWS tags, the emulator keeps only functions; a
function ARN with a qualifier is refused before anything is looked up, since tags belong to the
function and never to one of its versions or aliases (rule L54). Pure, like ``validation``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lambda_emulator.validation import (
    LambdaApiError,
    Violation,
    check,
    invalid_parameter,
    java_list,
    string_violations,
)

TAGS_LIMIT = 50
"""Tags a function may carry (recorded in LocalStack's ``test_tag_limits``)."""
TAGGABLE_RESOURCE_PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
    r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)
"""The resource pattern AWS quotes when it refuses an ARN (recorded, 2025), which is a little
older than botocore's."""
TAG_PATTERN = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"
"""The tag key and value pattern as AWS quotes it; Python's ``re`` has no ``\\p``, so
``_is_tag_text`` checks it by Unicode category."""
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
_ARN_PARTS = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[^:]+):(?P<account>\d{12}):(?P<kind>[a-z-]+):"
    r"(?P<name>[^:]+)(:(?P<qualifier>.+))?"
)


@dataclass(frozen=True, slots=True)
class TaggedResource:
    """A resource ARN of TagResource, UntagResource or ListTags, taken apart."""

    arn: str
    account: str
    region: str
    kind: str
    name: str


def parse_taggable_resource(arn: str) -> TaggedResource:
    """Check a resource ARN against AWS's pattern; refuse a qualified function ARN (L54)."""
    check(
        string_violations(
            arn, "resource", min_length=1, max_length=10000, pattern=TAGGABLE_RESOURCE_PATTERN
        )
    )
    match = _ARN_PARTS.fullmatch(arn)
    if match is None:  # the pattern above lets no such ARN through
        raise invalid_parameter(f"Invalid resource ARN: {arn}")
    if match["kind"] == "function" and match["qualifier"] is not None:
        raise invalid_parameter(
            "Tags on function aliases and versions are not supported. Please specify a "
            "function ARN."
        )
    return TaggedResource(arn, match["account"], match["region"], match["kind"], match["name"])


def tag_violations(tags: Mapping[str, str]) -> list[Violation]:
    """Keys of 1 to 128 and values of 0 to 256 characters from AWS's tag alphabet."""
    shown = "{" + ", ".join(f"{key}={value}" for key, value in tags.items()) + "}"
    found: list[Violation] = []
    if any(not 1 <= len(key) <= 128 or not _is_tag_text(key) for key in tags):
        found.append(Violation(shown, "tags", _map_constraint("keys", 1, 128)))
    if any(len(value) > 256 or not _is_tag_text(value) for value in tags.values()):
        found.append(Violation(shown, "tags", _map_constraint("value", 0, 256)))
    return found


def tag_key_violations(keys: Sequence[str]) -> list[Violation]:
    """UntagResource's keys: given, and each a tag key's shape."""
    if not keys:
        return [Violation(None, "tagKeys", "Member must not be null")]
    if all(1 <= len(key) <= 128 and _is_tag_text(key) for key in keys):
        return []
    return [
        Violation(
            java_list(keys),
            "tagKeys",
            "Member must satisfy constraint: [Member must have length less than or equal to "
            "128, Member must have length greater than or equal to 1, Member must satisfy "
            f"regular expression pattern: {TAG_PATTERN}, Member must not be null]",
        )
    ]


def tags_refusal(current: int, added: Mapping[str, str]) -> LambdaApiError | None:
    """An empty TagResource, or tags past the limit once merged (L54); ``current`` is how many
    the function would have with ``added``."""
    if not added:
        return invalid_parameter("An error occurred and the request cannot be processed.")
    return tag_count_refusal(current)


def tag_count_refusal(count: int) -> LambdaApiError | None:
    """The refusal of a function that would carry ``count`` tags, more than it may (L54):
    created with them, or tagged up to them."""
    if count > TAGS_LIMIT:
        return invalid_parameter("Number of tags exceeds resource tag limit.")
    return None


def _map_constraint(part: str, low: int, high: int) -> str:
    return (
        f"Map {part} must satisfy constraint: [Member must have length less than or equal to "
        f"{high}, Member must have length greater than or equal to {low}, Member must satisfy "
        f"regular expression pattern: {TAG_PATTERN}]"
    )


def _is_tag_text(text: str) -> bool:
    """Letters, separators and numbers of any script, and ``_.:/=+-@``."""
    return all(
        character in _TAG_PUNCTUATION or unicodedata.category(character)[0] in "LZN"
        for character in text
    )
