"""Replaying recordings of real AWS against the emulated registry, and comparing the answers.

LocalStack's test suite records what AWS answered to its Lambda tests
(``tests/aws/services/lambda_/test_lambda_api.snapshot.json``), after passing every answer
through "transformers" that put placeholders where a value varies from run to run: ``<uuid:1>``
for the first RevisionId the test saw, ``arn:<partition>:lambda:<region>:111111111111:...`` for
an ARN, ``date`` for a timestamp, ``<code-size>`` for any size. The scenarios of
``tests/emulator/aws_scenarios.py`` make the same calls to the emulator; this module compares
each answer with its recording, modulo those placeholders:

- a numbered placeholder stands for one value throughout a test, and two numbers of one kind for
  two different values, so that "publishing again returns the same RevisionId" or "an update
  changes it" is compared, not only the shape;
- a named placeholder (``<region>``, ``<fn-name>``) stands for one value throughout a test;
- ``<code-size>``, ``<location>`` and ``date`` stand for any value, as LocalStack replaced every
  such value whatever it was.

Each answer is then a **match**, differs only in which **keys** it carries, or differs in a
**value** (a status, a value, or a relation between values). ``python -m tests.emulator.replay``
prints the whole comparison; ``--extract LOCALSTACK_SNAPSHOT`` rewrites the recordings file
from a LocalStack checkout, keeping the tests the scenarios replay.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

RECORDINGS = Path(__file__).with_name("recordings") / "aws_lambda_api.json"
SNAPSHOT_PREFIX = "tests/aws/services/lambda_/test_lambda_api.py::"
WILDCARDS = frozenset({"code-size", "location"})
"""Placeholders LocalStack put for every value of a kind, whatever it was: they match anything."""
_PLACEHOLDER = re.compile(r"<(?P<kind>[A-Za-z0-9_\-]+)(?::(?P<number>\d+))?>")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{4}|Z)?")

Outcome = Literal["match", "keys", "value"]


@dataclass(frozen=True)
class Difference:
    """One way an answer differs from its recording, at a JSON path."""

    path: str
    kind: Literal["missing", "extra", "value"]
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind} {self.detail}"


@dataclass
class Bindings:
    """What each placeholder of one test stood for, in both directions."""

    values: dict[tuple[str, str], object] = field(default_factory=dict)
    names: dict[tuple[str, str], str] = field(default_factory=dict)

    def bind(self, kind: str, number: str, value: str) -> str | None:
        """Bind a placeholder to ``value``; the problem, if it was bound otherwise before."""
        if kind in WILDCARDS:
            return None
        key = (kind, number)
        bound = self.values.get(key)
        if bound is not None and bound != value:
            return f"<{kind}:{number}> was {bound!r}, now {value!r}"
        other = self.names.get((kind, value))
        if number and other is not None and other != number:
            return f"{value!r} is both <{kind}:{other}> and <{kind}:{number}>"
        self.values[key] = value
        self.names[(kind, value)] = number
        return None


def compare(
    recorded: object, actual: object, bindings: Bindings, path: str = ""
) -> list[Difference]:
    """The differences between a recorded answer and the emulator's, placeholders bound."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        return _compare_objects(recorded, actual, bindings, path)
    if isinstance(recorded, list) and isinstance(actual, list):
        if len(recorded) != len(actual):
            return [Difference(path, "value", f"{len(actual)} items, recorded {len(recorded)}")]
        return [
            difference
            for index, (left, right) in enumerate(zip(recorded, actual, strict=True))
            for difference in compare(left, right, bindings, f"{path}[{index}]")
        ]
    if isinstance(recorded, str) and not isinstance(actual, dict | list):
        problem = _match_text(recorded, actual, bindings)
        return [] if problem is None else [Difference(path, "value", problem)]
    if recorded == actual and type(recorded) is type(actual):
        return []
    return [Difference(path, "value", f"{_short(actual)}, recorded {_short(recorded)}")]


def _compare_objects(
    recorded: Mapping[str, object], actual: Mapping[str, object], bindings: Bindings, path: str
) -> list[Difference]:
    found: list[Difference] = []
    for key in sorted(recorded.keys() - actual.keys()):
        found.append(Difference(f"{path}.{key}", "missing", _short(recorded[key])))
    for key in sorted(actual.keys() - recorded.keys()):
        found.append(Difference(f"{path}.{key}", "extra", _short(actual[key])))
    for key in recorded.keys() & actual.keys():
        found += compare(recorded[key], actual[key], bindings, f"{path}.{key}")
    return found


def _match_text(recorded: str, actual: object, bindings: Bindings) -> str | None:
    """Match one recorded string, placeholders and all, against an actual scalar."""
    if recorded == "date":
        ok = isinstance(actual, str) and _TIMESTAMP.fullmatch(actual) is not None
        return None if ok else f"{_short(actual)} is not a timestamp"
    placeholders = list(_PLACEHOLDER.finditer(recorded))
    if not placeholders:
        return None if recorded == actual else f"{_short(actual)}, recorded {_short(recorded)}"
    if len(placeholders) == 1 and placeholders[0].group() == recorded:
        kind, number = placeholders[0]["kind"], placeholders[0]["number"] or ""
        if kind in WILDCARDS:
            return None
        if not isinstance(actual, str):
            return f"{_short(actual)}, recorded {recorded}"
        return bindings.bind(kind, number, actual)
    return _match_pattern(recorded, placeholders, actual, bindings)


def _match_pattern(
    recorded: str, placeholders: Sequence[re.Match[str]], actual: object, bindings: Bindings
) -> str | None:
    """Match a string with placeholders among its text, binding each to what it stands for."""
    pattern, parts = _pattern_of(recorded, placeholders)
    match = pattern.fullmatch(actual) if isinstance(actual, str) else None
    if match is None:
        return f"{_short(actual)}, recorded {_short(recorded)}"
    problems = (
        bindings.bind(kind, number, group)
        for group, (kind, number) in zip(match.groups(), parts, strict=True)
    )
    return next((problem for problem in problems if problem is not None), None)


def _pattern_of(
    recorded: str, placeholders: Sequence[re.Match[str]]
) -> tuple[re.Pattern[str], list[tuple[str, str]]]:
    """A regular expression that matches ``recorded`` with a group for each placeholder."""
    pieces: list[str] = []
    parts: list[tuple[str, str]] = []
    end = 0
    for placeholder in placeholders:
        pieces.append(re.escape(recorded[end : placeholder.start()]))
        pieces.append("(.+?)")
        parts.append((placeholder["kind"], placeholder["number"] or ""))
        end = placeholder.end()
    pieces.append(re.escape(recorded[end:]))
    return re.compile("".join(pieces), re.DOTALL), parts


def _short(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def outcome_of(differences: Sequence[Difference]) -> Outcome:
    """match: none; keys: only keys missing or extra; value: any value differs."""
    if not differences:
        return "match"
    if all(d.kind in ("missing", "extra") for d in differences):
        return "keys"
    return "value"


@dataclass(frozen=True)
class Compared:
    """One recorded answer of one test, compared."""

    test: str
    entry: str
    differences: tuple[Difference, ...]

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.differences)


def load_recordings(path: Path = RECORDINGS) -> dict[str, dict[str, Any]]:
    """The recorded answers of each replayed test, by test id (``Class::test[param]``)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return {test: entry["recorded-content"] for test, entry in document["recordings"].items()}


def compare_test(
    test: str, recorded: Mapping[str, Any], actual: Mapping[str, Any]
) -> list[Compared]:
    """Every recorded answer of one test against what the scenario got, in recorded order.

    The bindings are shared by the whole test, as LocalStack's transformers were; an answer
    the scenario did not get is one difference.
    """
    bindings = Bindings()
    results: list[Compared] = []
    for entry, expected in recorded.items():
        if entry not in actual:
            missing = (Difference(entry, "value", "the scenario did not record it"),)
            results.append(Compared(test, entry, missing))
            continue
        results.append(Compared(test, entry, tuple(compare(expected, actual[entry], bindings))))
    return results


def summary(results: Sequence[Compared]) -> str:
    """``N answers: M match, K differ only in keys, V differ in a value``."""
    counts = Counter(result.outcome for result in results)
    tests = len({result.test for result in results})
    return (
        f"{len(results)} recorded answers of {tests} tests: {counts['match']} match, "
        f"{counts['keys']} differ only in keys, {counts['value']} differ in a value"
    )


def report_lines(results: Sequence[Compared]) -> Iterator[str]:
    """A line per answer that does not match, with its differences, then the summary."""
    for result in results:
        if result.outcome == "match":
            continue
        yield f"{result.test} {result.entry}: {result.outcome}"
        for difference in result.differences:
            yield f"    {difference}"
    yield summary(results)


def extract(snapshot: Path, tests: Sequence[str], source: Mapping[str, str]) -> dict[str, Any]:
    """The recordings file's content: the named tests of a LocalStack snapshot file."""
    everything = json.loads(snapshot.read_text(encoding="utf-8"))
    recordings = {test: everything[SNAPSHOT_PREFIX + test] for test in tests}
    return {"source": dict(source), "recordings": recordings}


def main(argv: Sequence[str] | None = None, run: Callable[[], list[Compared]] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--extract", type=Path, help="LocalStack's test_lambda_api.snapshot.json")
    parser.add_argument("--commit", default="", help="the LocalStack commit it comes from")
    arguments = parser.parse_args(argv)
    from tests.emulator import aws_scenarios

    if arguments.extract is not None:
        source = {
            "repository": "https://github.com/localstack/localstack",
            "path": "tests/aws/services/lambda_/test_lambda_api.snapshot.json",
            "commit": arguments.commit,
            "license": "Apache-2.0; responses recorded from AWS by LocalStack's test suite",
        }
        content = extract(arguments.extract, sorted(aws_scenarios.SCENARIOS), source)
        RECORDINGS.write_text(json.dumps(content, indent=1, sort_keys=False) + "\n")
        print(f"wrote {len(content['recordings'])} tests to {RECORDINGS}")
        return 0
    for line in report_lines((run or aws_scenarios.replay_all)()):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
