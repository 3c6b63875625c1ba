"""Labels each conformance run with its rule and backend, for the conformance table.

Each test function asks for ``lambda_backend`` and is collected twice, once for the emulated
registry and once for moto (see ``tests/conftest.py``); ``tests/conformance/table.py`` folds the
outcomes into the table that the README cites.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Label each conformance run with its rule and backend, so that reports carry both (also
    across pytest-xdist workers, which send user properties back with the report)."""
    for item in items:
        rule = item.get_closest_marker("rule")
        callspec = getattr(item, "callspec", None)
        if rule is None or callspec is None or "lambda_backend" not in callspec.params:
            continue
        item.user_properties.append(("conformance_rule", str(rule.args[0])))
        item.user_properties.append(("conformance_backend", callspec.params["lambda_backend"]))
