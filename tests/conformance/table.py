"""The conformance table: one row per rule of LAMBDA_RULES.md, one column per backend.

At the end of the session the outcomes of the conformance runs are folded into one row per rule:
the README cites this table, so it is built from what actually ran, never written by hand. It is
registered by the top-level ``tests/conftest.py``, because under pytest-xdist only the controlling
process prints the summary, and it never loads the conftest files of subfolders.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from _pytest.terminal import TerminalReporter

from tests.backends import BackendKind

BACKENDS: tuple[BackendKind, ...] = ("emulator", "moto")


class ConformanceTable:
    """Collects conformance outcomes during the session and prints them as one table."""

    name = "lambda-conformance-table"

    def __init__(self) -> None:
        self.outcomes: dict[tuple[str, str], list[str]] = defaultdict(list)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        labels = dict(report.user_properties)
        rule, backend = labels.get("conformance_rule"), labels.get("conformance_backend")
        if rule is None or backend is None:
            return
        outcome = _outcome_of(report)
        if outcome is not None:
            self.outcomes[(str(rule), str(backend))].append(outcome)

    def pytest_terminal_summary(self, terminalreporter: TerminalReporter) -> None:
        if not self.outcomes:
            return
        rules = sorted({rule for rule, _ in self.outcomes}, key=_rule_order)
        rows = [("rule", *BACKENDS)]
        rows += [(rule, *(self._cell(rule, b) for b in BACKENDS)) for rule in rules]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        terminalreporter.write_sep("=", "conformance to LAMBDA_RULES.md")
        for row in rows:
            terminalreporter.write_line(
                f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip()
            )

    def _cell(self, rule: str, backend: str) -> str:
        """FAIL if any run failed, else 'breaks' if any run was an expected failure, else pass
        if any run passed; a rule whose runs were all skipped is 'skip'."""
        outcomes = self.outcomes.get((rule, backend), [])
        if "FAIL" in outcomes:
            return "FAIL"
        reasons = dict.fromkeys(sorted(o.removeprefix("breaks: ") for o in outcomes if o != "pass"))
        reasons.pop("skip", None)
        if reasons:
            return "breaks: " + "; ".join(reasons)
        return "pass" if "pass" in outcomes else "skip"


def _outcome_of(report: pytest.TestReport) -> str | None:
    if report.failed:
        return "FAIL"
    if report.skipped:
        reason = getattr(report, "wasxfail", None)
        return "skip" if reason is None else f"breaks: {reason}"
    return "pass" if report.when == "call" else None


def _rule_order(rule: str) -> tuple[int, str]:
    match = re.fullmatch(r"L(\d+)(.*)", rule)
    return (int(match.group(1)), match.group(2)) if match else (10_000, rule)
