"""The ownership marker: what the controller writes into an alias description, and reads back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from controller.core.ownership import (
    DESCRIPTION_LIMIT,
    declared_part,
    describe,
    is_managed,
    matches_declaration,
    rollout_state,
    seal,
    sealed_digest,
    shorten,
    state_digest,
)
from tests.core.planner.builders import REVISION

MARKER = "[lambda-gitops 3f2c9a1b7d4e]"


@pytest.mark.parametrize(
    ("declared", "written"),
    [
        pytest.param("release 42", f"release 42 {MARKER}", id="the marker follows the declaration"),
        pytest.param(
            "", MARKER, id="an empty declaration gives the marker alone, no leading space"
        ),
    ],
)
def test_describe_appends_the_marker(declared: str, written: str) -> None:
    assert describe(declared, REVISION) == written


@pytest.mark.parametrize(
    ("description", "managed", "declared"),
    [
        pytest.param(f"release 42 {MARKER}", True, "release 42", id="a marked description"),
        pytest.param(MARKER, True, "", id="a marker alone"),
        pytest.param("release 42", False, "release 42", id="a description written by hand"),
        pytest.param("", False, "", id="an empty description"),
        pytest.param(
            f"{MARKER} and more", False, f"{MARKER} and more", id="a marker not at the end"
        ),
        pytest.param(
            "see [lambda-gitops docs", False, "see [lambda-gitops docs", id="an unclosed marker"
        ),
    ],
)
def test_reading_the_marker(description: str, managed: bool, declared: str) -> None:
    assert is_managed(description) is managed
    assert declared_part(description) == declared


def test_a_long_declaration_is_shortened_to_fit_lambdas_limit_with_the_sealed_marker() -> None:
    declared = "x" * 300
    written = seal(describe(declared, REVISION), "7", {"8": Decimal("0.1")})
    assert len(written) == DESCRIPTION_LIMIT
    assert written.endswith(f"… {MARKER[:-1]} #{sealed_digest(written)}]")
    assert declared_part(written) == shorten(declared)
    assert matches_declaration(written, declared)


@pytest.mark.parametrize("revision", ["abc", REVISION, "x" * 64])
def test_how_a_declaration_is_shortened_does_not_depend_on_the_revision(revision: str) -> None:
    declared = "y" * 250
    assert declared_part(describe(declared, revision)) == shorten(declared)
    assert len(describe(declared, revision)) <= DESCRIPTION_LIMIT


def test_a_declaration_that_fits_is_written_whole() -> None:
    declared = "z" * (DESCRIPTION_LIMIT - len(MARKER) - 1 - len(" #12345678"))
    assert describe(declared, REVISION) == f"{declared} {MARKER}"
    assert len(seal(describe(declared, REVISION), "1", {})) == DESCRIPTION_LIMIT


@pytest.mark.parametrize(
    ("version", "routing", "declared", "same"),
    [
        pytest.param("7", {}, "prod", True, id="the state it was sealed with"),
        pytest.param("8", {}, "prod", False, id="another version"),
        pytest.param("7", {"8": Decimal("0.1")}, "prod", False, id="a routing added"),
        pytest.param("7", {}, "staging", False, id="another description"),
    ],
)
def test_the_seal_tells_the_state_it_was_written_with_from_any_other(
    version: str, routing: dict[str, Decimal], declared: str, same: bool
) -> None:
    sealed = seal(describe("prod", REVISION), "7", {})

    assert is_managed(sealed)
    assert declared_part(sealed) == "prod"
    assert (sealed_digest(sealed) == state_digest(version, routing, declared)) is same


def test_weights_are_sealed_as_numbers_and_an_unmarked_description_is_left_alone() -> None:
    assert state_digest("7", {"8": Decimal("0.10")}, "") == state_digest(
        "7", {"8": Decimal("0.1")}, ""
    )
    assert seal("by hand", "7", {}) == "by hand"
    assert sealed_digest(describe("prod", REVISION)) is None


# -- a rollout's state in the marker --------------------------------------------------------------

ROLLOUT = "ro=17/16/1/1733140000/0/P/3fa2c1"


def test_a_rollout_state_rides_in_the_marker_and_is_read_back_from_there_alone() -> None:
    written = describe("release 42", REVISION, rollout=ROLLOUT)

    assert written == f"release 42 [lambda-gitops 3f2c9a1b7d4e {ROLLOUT}]"
    assert rollout_state(written) == ROLLOUT
    assert declared_part(written) == "release 42"
    sealed = seal(written, "16", {"17": Decimal("0.25")})
    assert rollout_state(sealed) == ROLLOUT
    assert declared_part(sealed) == "release 42"
    assert rollout_state(f"{ROLLOUT} by hand {MARKER}") is None  # not the marker's
    assert rollout_state(f"release 42 {MARKER}") is None


def test_a_long_declaration_in_a_rollout_still_fits_with_the_state_and_the_seal() -> None:
    declared = "x" * 300
    written = seal(
        describe(
            declared, REVISION, rollout="ro=9999999999/9999999999/99/99999999999/999/P/ffffff"
        ),
        "1",
        {},
    )

    assert len(written) <= DESCRIPTION_LIMIT
    assert matches_declaration(written, declared)
    assert matches_declaration(seal(describe(declared, REVISION), "1", {}), declared)


def test_the_seal_covers_the_rollout_state_and_leaves_other_digests_as_they_were() -> None:
    routing = {"17": Decimal("0.25")}
    plain = state_digest("16", routing, "release 42")

    assert state_digest("16", routing, "release 42", "") == plain  # markers written before
    assert state_digest("16", routing, "release 42", ROLLOUT) != plain
    sealed = seal(describe("release 42", REVISION, rollout=ROLLOUT), "16", routing)
    assert sealed_digest(sealed) == state_digest("16", routing, "release 42", ROLLOUT)
    assert shorten("release 42", in_rollout=True) == "release 42"
