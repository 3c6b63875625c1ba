"""``docs/lambda-rules.md`` against the tests: the document cannot claim a test that does not
exist, nor leave out one that does.

Every ``@pytest.mark.rule("L..")`` of the suite is found by reading the test files (not by
importing them), and each must have its rule's section in the document, which names the test's
file and the test itself. A section names no test that lacks its marker, has the fields every
rule has, and says "No test yet" when no test carries its marker.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES_DOC = ROOT / "docs" / "lambda-rules.md"
README = ROOT / "README.md"
LAST_RULE = 61
SUB_RULES = {"L21": "abcdefg"}
"""Rules whose parts are numbered apart: L21 is L21a to L21g, each with its own tests."""
FIELDS = ("**Lambda**", "**Error**", "**Source**", "**moto**", "**Tests**")

_HEADING = re.compile(r"^### (?P<rule>L\d+[a-z]?) — (?=\S)", re.MULTILINE)
_SECTION_END = re.compile(r"^#{2,3} ", re.MULTILINE)
_TEST_NAME = re.compile(r"\btest_L\d+[a-z]?_\w+")


@dataclass(frozen=True, order=True)
class RuleTest:
    """A test marked with a rule: the rule, the test file (from the repository's root), its name."""

    rule: str
    path: str
    name: str


def rule_tests(root: Path = ROOT / "tests") -> set[RuleTest]:
    """Every test function marked ``@pytest.mark.rule(ID)`` under ``root``."""
    found: set[RuleTest] = set()
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                rule = _rule_of(decorator)
                if rule is not None:
                    found.add(RuleTest(rule, path.relative_to(ROOT).as_posix(), node.name))
    return found


def _rule_of(decorator: ast.expr) -> str | None:
    """The ID of a ``pytest.mark.rule("ID")`` decorator, or None for any other."""
    if not (isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.rule"):
        return None
    argument = decorator.args[0] if decorator.args else None
    assert isinstance(argument, ast.Constant), f"a rule marker takes a literal ID: {decorator}"
    return str(argument.value)


def sections(markdown: str) -> dict[str, str]:
    """Each rule's section of the document, by rule ID, in the document's order."""
    headings = list(_HEADING.finditer(markdown))
    found: dict[str, str] = {}
    for heading in headings:
        rest = markdown[heading.end() :]
        end = _SECTION_END.search(rest)
        assert heading["rule"] not in found, f"rule {heading['rule']} has two sections"
        found[heading["rule"]] = rest[: end.start() if end else len(rest)]
    return found


def expected_rules() -> list[str]:
    rules: list[str] = []
    for number in range(1, LAST_RULE + 1):
        rule = f"L{number}"
        rules.append(rule)
        rules += [f"{rule}{part}" for part in SUB_RULES.get(rule, "")]
    return rules


def documented() -> dict[str, str]:
    return sections(RULES_DOC.read_text(encoding="utf-8"))


def test_the_marks_are_found() -> None:
    """A guard on the reader above: the suite has rule tests in the files it should."""
    tests = rule_tests()
    assert (
        RuleTest(
            "L21e",
            "tests/conformance/test_b_aliases.py",
            "test_L21e_routing_from_latest_is_refused",
        )
        in tests
    )
    assert {t.rule for t in tests} >= {"L1", "L9", "L40", "L46"}


def test_every_rule_has_a_section_in_order() -> None:
    assert list(documented()) == expected_rules()


def test_every_marked_test_is_named_in_its_rules_section_with_its_file() -> None:
    doc = documented()
    missing = [
        f"{t.rule}: {t.path}::{t.name}"
        for t in sorted(rule_tests())
        if t.rule not in doc or f"`{t.path}`" not in doc[t.rule] or f"`{t.name}`" not in doc[t.rule]
    ]
    assert not missing, f"docs/lambda-rules.md does not name these marked tests: {missing}"


def test_a_section_names_only_tests_marked_with_its_rule() -> None:
    marked: dict[str, set[str]] = defaultdict(set)
    for test in rule_tests():
        marked[test.rule].add(test.name)
    stale = {
        rule: names
        for rule, text in documented().items()
        if (names := sorted(set(_TEST_NAME.findall(text)) - marked[rule]))
    }
    assert not stale, f"docs/lambda-rules.md names tests not marked with that rule: {stale}"


def test_each_rule_has_the_fields_and_a_rule_without_tests_says_so() -> None:
    tested = {test.rule for test in rule_tests()}
    for rule, text in documented().items():
        if rule in SUB_RULES:  # a group: its parts have the fields and the tests
            first, last = (f"{rule}{part}" for part in (SUB_RULES[rule][0], SUB_RULES[rule][-1]))
            assert first in text, f"{rule} does not say that it is {first} to {last}"
            assert last in text, f"{rule} does not say that it is {first} to {last}"
            continue
        missing = [field for field in FIELDS if f"- {field}:" not in text]
        assert not missing, f"{rule} lacks {missing}"
        if rule not in tested:
            assert "No test yet" in text, f"{rule} has no test and does not say so"


def test_the_readme_links_the_rules_where_errors_cite_them_and_from_the_emulator() -> None:
    readme = README.read_text(encoding="utf-8")
    link = "[`docs/lambda-rules.md`](docs/lambda-rules.md)"
    errors = readme.index("Errors read")
    emulator = readme.index("## The emulated registry")
    assert link in readme[errors : readme.index("## Commands")]
    assert link in readme[emulator:]
