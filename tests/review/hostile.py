"""Text that Lambda accepts and YAML reads as something else unless it is written with care.

``import``, ``add-version`` and ``promote`` write live values into declaration files, and a
value must read back as exactly what Lambda holds: an environment value of ``on`` (a boolean
in YAML 1.1), ``0x1F`` (a number), ``*x`` (an alias), ``a: b`` or a line break; an environment
variable named ``NULL`` or ``ON``, or one longer than YAML lets a key be written plainly. These
strategies draw such values within Lambda's own limits (rule L58: names of a letter then
letters, digits or ``_``; any values; 4 KB for the whole environment; rule L11: descriptions
of at most 256 characters), for the property tests of the writers.
"""

from __future__ import annotations

from hypothesis import strategies as st

from controller.core.configuration import (
    ENVIRONMENT_LIMIT_BYTES,
    RESERVED_ENVIRONMENT_NAMES,
    Environment,
    environment,
    environment_size,
)
from controller.review.yamltext import IMPLICIT_KEY_MAX

YAML_SPECIALS = (
    # YAML 1.1 and 1.2 booleans, nulls and numbers, which a plain scalar would turn into one.
    *("yes", "no", "on", "off", "y", "n", "Y", "N", "ON", "Off", "True", "true", "FALSE"),
    *("null", "Null", "NULL", "~", "0x1F", "0o17", "017", "0b101", "1e3", "1_000", "+1"),
    *(".inf", "-.inf", ".nan", ".NaN", "12:30:00", "1:30", "2024-05-01", "2024-05-01T12:00:00Z"),
    *("=", "<<", "---", "...", "--- a", "%YAML 1.2", ""),
    # Indicators that start or end something in YAML.
    *("*a", "&a", "!a", "!!str a", "%a", "@a", "`a", "|a", ">a", "'a", '"a', "#a", "-a", "- a"),
    *("?a", "? a", ":a", ": a", "{a}", "[a]", ",a", " a", "a ", "a:", "a: b", "a #b", "a#b"),
    # Line breaks and what YAML reads as one, controls, and characters YAML may not hold.
    *("a\nb", "a\r\nb", "a\rb", "a\tb", "\t", "\n", " ", "a\x00b", "\x01", "\x1b[31m", "\x7f"),
    *("\x85", "a\u2028b", "a\u2029b", "\ufeffa", "a\ufeff", "\xa0", "a\xa0", "\\", "a\\nb"),
    # Text beyond ASCII: emoji, combining marks, zero-width and private-use characters.
    *("😀", "e\u0301", "\u200b", "\ue000", "\ufffe", "\U0010ffff", "ünïcödé ✓"),
)
"""Values that need care, each alone."""

hostile_texts = (
    st.sampled_from(YAML_SPECIALS)
    | st.builds("".join, st.lists(st.sampled_from(YAML_SPECIALS) | st.text(max_size=3), max_size=4))
    | st.text(max_size=20)
)
"""Any text, leaning on what YAML reads otherwise: the specials alone, run together, and
arbitrary text (Hypothesis draws no lone surrogate, which JSON, and so Lambda, cannot carry)."""

LONG_NAME = "K" * (IMPLICIT_KEY_MAX + 1)
"""An environment variable name one character past what YAML allows a plain key."""

environment_names = st.sampled_from(
    ["ON", "OFF", "NO", "YES", "NULL", "Null", "True", "nan", "inf", "e1", "x1", LONG_NAME]
) | st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{1,12}", fullmatch=True).filter(
    lambda name: name not in RESERVED_ENVIRONMENT_NAMES
)
"""Names Lambda accepts, among them some YAML 1.1 reads as booleans, nulls or numbers."""


@st.composite
def environments(draw: st.DrawFn) -> Environment:
    """A whole environment Lambda accepts: up to four variables of hostile values, or one value
    that fills the 4 KB limit to the byte."""
    if draw(st.integers(0, 9)) == 0:
        name = draw(environment_names)
        filler = ENVIRONMENT_LIMIT_BYTES - environment_size({name: ""})
        return environment({name: draw(st.sampled_from(["x", "é", "\n"])) * (filler // 2)})
    variables = draw(st.dictionaries(environment_names, hostile_texts, max_size=4))
    while environment_size(variables) > ENVIRONMENT_LIMIT_BYTES:
        variables.pop(next(iter(variables)))
    return environment(variables)


hostile_descriptions = hostile_texts | st.sampled_from(
    ["x" * 256, "é" * 256, "😀" * 256, "a\n" * 128, ": " * 128]
)
"""Descriptions Lambda accepts (at most 256 characters): hostile text, and some at the limit."""
