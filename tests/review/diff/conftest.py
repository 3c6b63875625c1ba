"""The story most diff tests read: the orders API promoted from r41 to r42 in pull requests.

Each commit is one pull request, merged; ``story`` maps the name of each step to its SHA:

- ``start``: orders-api (r40, r41; live, beta, canary on r41) and legacy-report in one file,
  billing-worker in another;
- ``beta``: r42 declared, r40 dropped, beta on r42, canary sends 10% to r42;
- ``canary``: the canary's share 10% -> 25%, live gets a description;
- ``complete``: live and canary on r42, the canary's routing cleared;
- ``reorganise``: billing-worker's file moved, the shared file split in two, nothing else;
- ``replace``: legacy-report no longer declared, payments-api declared with seven versions;
- ``broken``: live names an undeclared label, and billing-worker's file does not parse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.review.diff.support import History, documents, function

ORDERS = "functions/orders-api.yaml"


def orders(versions: tuple[str, ...], aliases: dict[str, str], *, prune: bool = False) -> str:
    return function(
        "orders-api", {label: f"orders {label}" for label in versions}, aliases, prune=prune
    )


LEGACY = function("legacy-report", {"r1": "legacy r1"}, {"live": "{version: r1}"})
BILLING = function(
    "billing-worker", {"r7": "billing r7"}, {"live": "{version: r7}"}, region="eu-west-1"
)
START_ORDERS = orders(
    ("r40", "r41"),
    {"live": "{version: r41}", "beta": "{version: r41}", "canary": "{version: r41}"},
)
BETA_ORDERS = orders(
    ("r41", "r42"),
    {
        "live": "{version: r41}",
        "beta": "{version: r42}",
        "canary": "{version: r41, routing: {r42: 0.1}}",
    },
)
CANARY_ORDERS = orders(
    ("r41", "r42"),
    {
        "live": '{version: r41, description: "production traffic"}',
        "beta": "{version: r42}",
        "canary": "{version: r41, routing: {r42: 0.25}}",
    },
)
COMPLETE_ORDERS = orders(
    ("r41", "r42"),
    {
        "live": '{version: r42, description: "production traffic"}',
        "beta": "{version: r42}",
        "canary": "{version: r42}",
    },
)
PAYMENTS = function(
    "payments-api",
    {f"r{n}": f"payments r{n}" for n in range(1, 8)},
    {"live": "{version: r7}", "beta": "{version: r7, routing: {r6: 0.05}}"},
    prune=True,
)
BROKEN_ORDERS = COMPLETE_ORDERS.replace(
    'live: {version: r42, description: "production traffic"}',
    'live: {version: r99, description: "production traffic"}',
)


@pytest.fixture
def story(tmp_path: Path) -> dict[str, str]:
    return write_story(tmp_path / "declarations")


def write_story(folder: Path) -> dict[str, str]:
    """Commit every step of the story in ``folder``; the step names map to their SHAs, and
    ``repo`` to the folder."""
    history = History(folder)
    shared = "functions/shared.yaml"
    billing = "functions/billing.yaml"
    steps = {
        "start": {shared: documents(START_ORDERS, LEGACY), billing: BILLING},
        "beta": {shared: documents(BETA_ORDERS, LEGACY), billing: BILLING},
        "canary": {shared: documents(CANARY_ORDERS, LEGACY), billing: BILLING},
        "complete": {shared: documents(COMPLETE_ORDERS, LEGACY), billing: BILLING},
        "reorganise": {
            ORDERS: COMPLETE_ORDERS,
            "functions/legacy-report.yaml": LEGACY,
            "services/billing.yaml": BILLING,
        },
        "replace": {
            ORDERS: COMPLETE_ORDERS,
            "functions/payments-api.yaml": PAYMENTS,
            "services/billing.yaml": BILLING,
        },
        "broken": {
            ORDERS: BROKEN_ORDERS,
            "functions/payments-api.yaml": PAYMENTS,
            "services/billing.yaml": BILLING.replace("  aliases:", "  aliases: [unclosed"),
        },
    }
    shas = {name: history.commit(name, files) for name, files in steps.items()}
    shas["repo"] = str(history.folder)
    return shas
