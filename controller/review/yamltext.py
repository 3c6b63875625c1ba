"""Where things are in a YAML text, and how to change one value without touching the rest.

``promote`` and ``add-version`` must change nothing but the value they are about: comments, key
order, quoting, indentation, line endings and a missing newline at the end all stay. So the edit
is a splice of the original text, located with the nodes of ruamel.yaml's composer, which carry
the exact character span of every scalar and mapping: these are those primitives (find an entry,
replace a span, insert or remove lines in the style of their neighbours, write a scalar in the
quoting of the one it replaces). They know nothing of declarations; ``review.edits`` does.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from controller.errors import EditRefused

LINE_BREAK = re.compile(r"\r\n|\r|\n")
IMPLICIT_KEY_MAX = 1024
"""The most characters a mapping key may take, as written (quotes included), without ``?``
before it: YAML's limit on an implicit key. An environment variable's name may be longer
(Lambda bounds only the whole environment, at 4 KB), and is then written as an explicit key."""
PLAIN_CANDIDATE = re.compile(r"[A-Za-z0-9$][A-Za-z0-9._+\-/=$]*")
"""Text that may be written without quotes, if YAML also reads it back as that same text."""


# -- text ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """A file's text without its byte order mark, and how to turn it back into the same bytes."""

    content: str
    bom: bool
    eol: str
    """The file's first line break, used for every inserted line."""

    @classmethod
    def of(cls, data: bytes) -> Text:
        bom = data.startswith(codecs.BOM_UTF8)
        content = data[len(codecs.BOM_UTF8) if bom else 0 :].decode("utf-8")
        first_break = LINE_BREAK.search(content)
        return cls(content, bom, first_break.group() if first_break else "\n")

    def encoded(self, content: str) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + content.encode("utf-8")


# -- nodes ----------------------------------------------------------------------------------------

Pair = tuple[ScalarNode, Node]


def entry(mapping: Node | None, key: str) -> Pair | None:
    """The key and value nodes of ``key`` written directly in ``mapping``."""
    if not isinstance(mapping, MappingNode):
        return None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    if any(isinstance(k, ScalarNode) and k.value == "<<" for k, _ in mapping.value):
        # The key may come from a merged mapping, which lives elsewhere and may be shared.
        raise EditRefused(
            f"the mapping at line {mapping.start_mark.line + 1} uses a YAML merge key (<<); "
            f"edit {key!r} by hand"
        )
    return None


def keys(mapping: MappingNode) -> list[str]:
    return [k.value for k, _ in mapping.value if isinstance(k, ScalarNode)]


def scalar_at(mapping: Node | None, key: str) -> str | None:
    pair = entry(mapping, key)
    if pair is None or not isinstance(pair[1], ScalarNode):
        return None
    return str(pair[1].value)


def refuse_shared(key: ScalarNode, value: Node, where: str) -> None:
    """Refuse to edit a value that a YAML anchor shares, or that is itself an alias (``*x``):
    changing its text would change, or fail to change, other places too."""
    if value.anchor is not None or value.start_mark.index < key.end_mark.index:
        raise EditRefused(
            f"{where} at line {key.start_mark.line + 1} is shared through a YAML anchor or "
            "alias; edit it by hand"
        )


def is_empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style is None and node.value == ""


def is_block(node: Node) -> bool:
    return isinstance(node, MappingNode) and not node.flow_style and bool(node.value)


def entry_end(text: str, key: Node, value: Node) -> int:
    """Where the entry ``key: value`` ends: after its last character, not at the next token.

    A block mapping's or block sequence's own end mark is the start of whatever follows it
    (comments included), and an empty value's marks point past the line, so both are worked
    out from their parts.
    """
    if is_empty(value):
        return text.index(":", key.end_mark.index) + 1
    return value_end(text, value)


def value_end(text: str, value: Node) -> int:
    """Where a value ends: its last character, inside a block collection too."""
    if is_block(value):
        last_key, last_value = value.value[-1]
        return entry_end(text, last_key, last_value)
    if isinstance(value, SequenceNode) and not value.flow_style and value.value:
        last = value.value[-1]
        if is_empty(last):  # ``-`` with nothing after it
            return text.rindex("-", 0, last.start_mark.index + 1) + 1
        return value_end(text, last)
    return int(value.end_mark.index)


def line_start(text: str, index: int) -> int:
    return max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1


def line_end(text: str, index: int) -> tuple[int, int]:
    """The end of the line holding ``index``: before its line break, and after it."""
    found = LINE_BREAK.search(text, index)
    return (found.start(), found.end()) if found else (len(text), len(text))


def indent_before(text: str, node: Node) -> str:
    """The indentation of a block key, which must be the first thing on its line."""
    start = line_start(text, node.start_mark.index)
    indent = text[start : node.start_mark.index]
    if indent.strip(" "):
        raise EditRefused(
            f"line {node.start_mark.line + 1} holds more than one key; put {node.value!r} on "
            "a line of its own"
        )
    return indent


# -- splices --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Splice:
    """Replace ``text[start:end]`` with ``replacement``."""

    start: int
    end: int
    replacement: str


def apply(text: str, splices: Sequence[Splice]) -> str:
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        text = text[: splice.start] + splice.replacement + text[splice.end :]
    return text


def replace(node: Node, replacement: str) -> Splice:
    return Splice(node.start_mark.index, node.end_mark.index, replacement)


def insert_lines(text: str, after: int, lines: Sequence[str], eol: str) -> Splice:
    """Insert whole lines after the line that holds ``after``, also at a last line that has no
    line break (which then still has none)."""
    before_break, after_break = line_end(text, after)
    if before_break == after_break:
        return Splice(before_break, before_break, "".join(eol + line for line in lines))
    return Splice(after_break, after_break, "".join(line + eol for line in lines))


def remove_entry(text: str, mapping: MappingNode, pair: Pair) -> Splice:
    """Remove ``key: value`` from ``mapping``: its lines in a block mapping, or the entry and
    one separating comma in a flow mapping."""
    (splice,) = remove_entries(text, mapping, [pair])
    return splice


def remove_entries(text: str, mapping: MappingNode, pairs: Sequence[Pair]) -> list[Splice]:
    """Remove several entries of ``mapping`` at once, as ``remove_entry`` removes one, with
    splices that do not overlap (neighbouring entries are removed as one run)."""
    removed = {id(key) for key, _ in pairs}
    indices = [i for i, (k, _) in enumerate(mapping.value) if id(k) in removed]
    if not mapping.flow_style:
        return _remove_lines(text, [mapping.value[i] for i in indices])
    splices = []
    for run in _runs(indices):
        first, last = run[0], run[-1]
        key = mapping.value[first][0]
        end = entry_end(text, *mapping.value[last])
        gaps = [
            text[entry_end(text, *mapping.value[i]) : mapping.value[i + 1][0].start_mark.index]
            for i in run[:-1]
        ]
        if first > 0:
            start = entry_end(text, *mapping.value[first - 1])
            splices.append(Splice(start, end, ""))
            gaps.append(text[start : key.start_mark.index])
        elif last + 1 < len(mapping.value):
            following = mapping.value[last + 1][0].start_mark.index
            splices.append(Splice(key.start_mark.index, following, ""))
            gaps.append(text[end:following])
        else:
            splices.append(Splice(key.start_mark.index, end, ""))
        if any("#" in gap for gap in gaps):
            raise EditRefused(
                f"a comment at line {key.start_mark.line + 1} sits between the entries of a flow "
                "mapping; edit it by hand"
            )
    return splices


def _remove_lines(text: str, pairs: Sequence[Pair]) -> list[Splice]:
    """The lines of block entries, adjacent ones merged into one splice."""
    spans: list[tuple[int, int]] = []
    for key, value in pairs:
        indent_before(text, key)
        start = line_start(text, key.start_mark.index)
        _, after_break = line_end(text, entry_end(text, key, value))
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(after_break, spans[-1][1]))
        else:
            spans.append((start, after_break))
    splices = []
    for first, end in spans:
        start = first
        if end == len(text) and text[-1:] not in ("\n", "\r") and start > 0:
            # The entry is the last line and has no line break: take the one before it instead,
            # so that the file still ends without one.
            start -= 2 if text[start - 2 : start] == "\r\n" else 1
        splices.append(Splice(start, end, ""))
    return splices


def _runs(indices: Sequence[int]) -> list[list[int]]:
    """Consecutive indices grouped: ``[1, 2, 4]`` is ``[[1, 2], [4]]``."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def add_entry(text: str, mapping: MappingNode, after: Pair, entry: str, eol: str) -> Splice:
    """Add ``entry`` (``key: value`` on one line) to ``mapping``, just after the entry ``after``."""
    end = entry_end(text, *after)
    if mapping.flow_style:
        return Splice(end, end, f", {entry}")
    indent = indent_before(text, after[0])
    return insert_lines(text, end, [indent + entry], eol)


def set_routing(text: str, routing: Pair, target: str, share: str) -> list[Splice]:
    """Make the routing ``{target: share}``, keeping a one-entry block mapping in block style
    (and its comments), and replacing anything else as one flow mapping."""
    key, value = routing
    target_text = scalar(target, like=None)
    if is_block(value) and isinstance(value, MappingNode) and len(value.value) == 1:
        ((route_key, route_weight),) = value.value
        return [replace(route_key, target_text), replace(route_weight, share)]
    flow = f"{{{target_text}: {share}}}"
    if isinstance(value, MappingNode) and value.flow_style:
        return [replace(value, flow)]
    colon = text.index(":", key.end_mark.index) + 1
    return [Splice(colon, entry_end(text, key, value), f" {flow}")]


def show_routing(value: Node) -> str:
    if not isinstance(value, MappingNode):
        return "{}"
    return "{" + ", ".join(f"{k.value}: {v.value}" for k, v in value.value) + "}"


# -- scalars --------------------------------------------------------------------------------------


def scalar(value: str, *, like: ScalarNode | None, quoted_by_default: bool = False) -> str:
    """``value`` as YAML text, in the quoting style of the scalar it replaces or resembles.

    A published version number is always quoted, so that it stays text (``"17"``); anything
    YAML would not read back as the same text unquoted is quoted too.
    """
    style = like.style if like is not None else ('"' if quoted_by_default else None)
    must_quote = value.isdigit() or not reads_back_plain(value)
    if style == "'" and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    if style in ("'", '"') or must_quote:
        return double_quoted(value)
    return value


def needs_explicit_key(key: str) -> bool:
    """Whether the key text ``key`` is too long to be written as ``key: value``, and must be
    written ``? key`` then ``: value``."""
    return len(key) > IMPLICIT_KEY_MAX


def double_quoted(value: str) -> str:
    """``value`` as a double-quoted YAML scalar that reads back as exactly the same text.

    JSON's escapes are YAML's, and JSON escapes the C0 controls; the other characters YAML may
    not hold as they are (DEL, the C1 controls, the byte order mark) or would read as a line
    break or fold away (U+0085, U+2028, U+2029, a non-breaking space at a line's end) are
    escaped too: everything Python does not call printable.
    """
    return "".join(_escaped(char) for char in json.dumps(value, ensure_ascii=False))


def _escaped(char: str) -> str:
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


YAML_VERSIONS = ("", "%YAML 1.1\n---\n")
"""The starts of a document that change how a plain scalar reads: none (YAML 1.2, where ``on``
is text), and the ``%YAML 1.1`` directive a declaration file may begin with (where ``on``,
``y`` and ``no`` are booleans and ``0b1`` a number)."""


@functools.lru_cache(maxsize=4096)
def reads_back_plain(value: str) -> bool:
    """Whether ``value`` written without quotes reads back as that same text, in a file of
    either YAML version: an edit splices into a file whose directive it does not look at."""
    if not PLAIN_CANDIDATE.fullmatch(value):
        return False
    for start in YAML_VERSIONS:
        try:
            loaded = YAML(typ="safe").load(f"{start}key: {value}\n")
        except YAMLError:
            return False
        if not isinstance(loaded, dict) or loaded.get("key") != value:
            return False
    return True


def plain_weight(weight_text: str) -> str:
    """The weight as a plain decimal; whether it is in range is the parser's rule to apply."""
    try:
        share = Decimal(weight_text.strip())
    except InvalidOperation:
        share = Decimal("NaN")
    if not share.is_finite():
        raise EditRefused(f"--weight {weight_text!r} is not a number; write one such as 0.1")
    return format(share, "f")
