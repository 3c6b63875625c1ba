"""Sharding's pure part: which shard owns an (account, region) pair, how little moves when the
number of shards changes, which declarations a shard answers for, and the topology rule that
keeps two numbers of shards from writing at once, on plain values and an injected clock."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.core.declarations import DeclarationError, Declarations, InvalidFunction
from controller.core.election import Lease, LeaseRecord, Observed
from controller.core.model import DesiredFunction, FunctionRef, SourceLocation
from controller.core.sharding import (
    ELECTION_LABEL,
    MAX_SHARDS,
    SHARDS_LABEL,
    Blocker,
    Pair,
    Sharding,
    blockers,
    lease_labels,
    lease_name,
    observe_leases,
    ordinal_of,
    owner,
    shard_problem,
    topology_of,
)

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
THIRTY = [Pair(f"1000000000{i:02d}", region) for i in range(10) for region in REGIONS]
"""Ten accounts in three regions: the fleet of the process tests."""
MANY = [Pair(f"{i:012d}", region) for i in range(2500) for region in (*REGIONS, "eu-central-1")]

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
regions = st.sampled_from(("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"))
pair_sets = st.lists(st.builds(Pair, accounts, regions), min_size=1, max_size=60, unique=True)
shard_counts = st.integers(min_value=1, max_value=32)


# -- ownership ------------------------------------------------------------------------------------


def test_the_owner_is_fixed_by_the_scheme_not_by_the_process() -> None:
    """Pinned values: a change of the hash (or of its input) would move pairs between shards
    of a running installation, so it must show up here."""
    assert owner(Pair(ACCOUNT, "us-east-1"), 4) == 0
    assert owner(Pair(ACCOUNT, "eu-west-1"), 4) == 0
    assert owner(Pair("210987654321", "us-east-1"), 16) == 2
    assert [owner(pair, 3) for pair in THIRTY[:6]] == [0, 0, 2, 1, 0, 1]


def test_every_process_agrees_whatever_its_hash_seed() -> None:
    """Python's hash() of a string differs between processes; the owner must not."""
    probe = (
        "from controller.core.sharding import Pair, owner; "
        f"print([owner(Pair(a, r), 7) for a, r in {[(p.account, p.region) for p in THIRTY]}])"
    )
    answers = set()
    for seed in ("1", "2", "random"):
        result = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
        )
        answers.add(result.stdout.strip())
    assert answers == {str([owner(pair, 7) for pair in THIRTY])}


@pytest.mark.parametrize("shards", [2, 3, 4, 7, 16])
def test_pairs_spread_evenly_over_the_shards(shards: int) -> None:
    shares = Counter(owner(pair, shards) for pair in MANY)
    assert set(shares) == set(range(shards))
    for count in shares.values():
        assert abs(count / len(MANY) - 1 / shards) < 0.02


@pytest.mark.parametrize("shards", range(1, 9))
def test_one_shard_more_moves_about_one_pair_in_n_plus_one(shards: int) -> None:
    moved = sum(1 for pair in MANY if owner(pair, shards) != owner(pair, shards + 1))
    assert abs(moved / len(MANY) - 1 / (shards + 1)) < 0.02


def test_going_from_three_shards_to_four_moves_at_most_35_percent_of_thirty_pairs() -> None:
    moved = [pair for pair in THIRTY if owner(pair, 3) != owner(pair, 4)]
    assert len(moved) / len(THIRTY) <= 0.35
    assert {owner(pair, 4) for pair in moved} == {3}
    assert set(Counter(owner(pair, 3) for pair in THIRTY)) == {0, 1, 2}


@PROPERTIES
@given(pairs=pair_sets, shards=shard_counts)
def test_a_new_shard_only_takes_pairs_and_a_removed_one_only_gives_its_own(
    pairs: list[Pair], shards: int
) -> None:
    for pair in pairs:
        before, after = owner(pair, shards), owner(pair, shards + 1)
        assert 0 <= before < shards
        # It stays, or goes to the new shard; read backwards, going from shards + 1 down to
        # shards moves only the pairs of the shard removed.
        assert after in (before, shards)


def test_impossible_shard_numbers_say_what_to_set() -> None:
    assert shard_problem(3, 1) is None
    assert shard_problem(1, None) is None
    assert shard_problem(3, 3) == "shard_index 3 must be between 0 and 2 (shards is 3)"
    assert shard_problem(0, None) == f"shards 0 must be between 1 and {MAX_SHARDS}"
    with pytest.raises(ValueError, match="between 1 and"):
        owner(THIRTY[0], MAX_SHARDS + 1)


@pytest.mark.parametrize(
    ("pod", "ordinal"),
    [
        ("lambda-gitops-3", 3),
        ("lg-lambda-gitops-0", 0),
        ("web-12", 12),
        ("lambda-gitops-5d8c7f9b4-x2x7q", None),  # a Deployment's pod: no ordinal
        ("lambda-gitops", None),
        ("", None),
    ],
)
def test_a_statefulset_pods_ordinal_is_the_number_ending_its_name(
    pod: str, ordinal: int | None
) -> None:
    assert ordinal_of(pod) == ordinal


# -- what a shard answers for ---------------------------------------------------------------------


def function(
    name: str, region: str = "us-east-1", account: str | None = ACCOUNT
) -> DesiredFunction:
    return DesiredFunction(
        name, FunctionRef(name, region, account), {}, {}, location=SourceLocation(f"{name}.yaml", 1)
    )


def arn_function(name: str, account: str, region: str) -> DesiredFunction:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    # Declared by ARN in a controller of another account: the ARN's account is the identity's.
    return DesiredFunction(name, FunctionRef(arn, region, ACCOUNT), {}, {})


def fleet() -> Declarations:
    functions = tuple(
        arn_function(f"f-{pair.account[-2:]}-{pair.region}", pair.account, pair.region)
        for pair in THIRTY
    )
    broken = DeclarationError(SourceLocation("broken.yaml", 3), "not YAML")
    invalid = (
        InvalidFunction(
            "bad-ref",
            FunctionRef("bad-ref", "eu-west-1", ACCOUNT),
            SourceLocation("bad.yaml", 1),
            (DeclarationError(SourceLocation("bad.yaml", 4), "unknown field"),),
        ),
        InvalidFunction(
            None,
            None,
            SourceLocation("worse.yaml", 1),
            (DeclarationError(SourceLocation("worse.yaml", 1), "no name"),),
        ),
    )
    return Declarations(
        "abc123", functions=(*functions, function("bare")), invalid=invalid, broken_files=(broken,)
    )


@pytest.mark.parametrize("shards", [1, 3, 4])
def test_every_declaration_is_answered_for_by_exactly_one_shard(shards: int) -> None:
    declarations = fleet()
    sharding = Sharding(shards, ACCOUNT, "us-east-1")
    parts = [sharding.owned(declarations, shard) for shard in range(shards)]
    owned = Counter(f.ref.identity for part in parts for f in part.functions)
    assert owned == Counter(f.ref.identity for f in declarations.functions)
    assert Counter(bad.location for part in parts for bad in part.invalid) == Counter(
        bad.location for bad in declarations.invalid
    )
    for shard, part in enumerate(parts):
        assert all(sharding.owner_of(f.ref.identity) == shard for f in part.functions)
        # A file that does not parse may hold any shard's functions: every shard holds back
        # its own, and says why.
        assert part.broken_files == declarations.broken_files
        assert part.revision == declarations.revision


def test_a_function_belongs_to_its_identitys_account_a_bare_name_to_the_controllers() -> None:
    sharding = Sharding(16, ACCOUNT, "us-east-1")
    by_arn = arn_function("orders", "999999999999", "eu-west-1")
    assert sharding.pair_of(by_arn.ref.identity) == Pair("999999999999", "eu-west-1")
    bare = function("orders", "eu-west-1", account=None)
    assert sharding.pair_of(bare.ref.identity) == Pair(ACCOUNT, "eu-west-1")


def test_a_declaration_too_broken_to_name_its_function_is_the_controllers_own_pair() -> None:
    declarations = fleet()
    sharding = Sharding(4, ACCOUNT, "eu-central-1")
    home = owner(Pair(ACCOUNT, "eu-central-1"), 4)
    nameless = [
        shard
        for shard in range(4)
        for bad in sharding.owned(declarations, shard).invalid
        if bad.ref is None
    ]
    assert nameless == [home]


def test_one_shard_is_the_whole_fleet() -> None:
    declarations = fleet()
    assert Sharding(1, ACCOUNT, "us-east-1").owned(declarations, 0) == declarations


def test_a_shard_outside_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="shard_index 4"):
        Sharding(4, ACCOUNT, "us-east-1").owned(fleet(), 4)


# -- the Leases of a topology ----------------------------------------------------------------------


def test_each_topology_has_leases_of_its_own_and_one_shard_keeps_the_plain_name() -> None:
    assert lease_name("lambda-gitops", 0, 1) == "lambda-gitops"
    assert lease_name("lambda-gitops", 2, 4) == "lambda-gitops-2-of-4"
    assert lease_name("lambda-gitops", 2, 3) != lease_name("lambda-gitops", 2, 4)
    assert lease_labels("lg", 4) == {ELECTION_LABEL: "lg", SHARDS_LABEL: "4"}


def lease(name: str, shards: int | None, holder: str, renewed: int = 0) -> Lease:
    labels = {ELECTION_LABEL: "lg"}
    if shards is not None:
        labels[SHARDS_LABEL] = str(shards)
    return Lease(LeaseRecord(holder, 15, None, None, renewed), "1", labels=labels, name=name)


def test_a_lease_says_its_topology_by_label() -> None:
    assert topology_of(lease("lg-0-of-3", 3, "a")) == 3
    assert topology_of(lease("lg", None, "a")) is None
    garbled = replace(lease("lg", None, "a"), labels={SHARDS_LABEL: "three"})
    assert topology_of(garbled) is None


def test_the_leases_of_ones_own_topology_never_block() -> None:
    own = [lease("lg-0-of-4", 4, "a"), lease("lg-1-of-4", 4, "b")]
    observed = observe_leases({}, own, now=100.0)
    assert blockers(4, own, observed, now=100.0, lease_duration=15) == ()


def test_a_held_lease_of_another_topology_blocks_until_seen_unchanged_for_its_duration() -> None:
    old = [lease("lg-1-of-3", 3, "old-1")]
    observed = observe_leases({}, old, now=100.0)
    blocked = (Blocker("lg-1-of-3", "old-1", 3),)
    assert blockers(4, old, observed, now=100.0, lease_duration=15) == blocked
    observed = observe_leases(observed, old, now=114.9)
    assert blockers(4, old, observed, now=114.9, lease_duration=15) == blocked
    observed = observe_leases(observed, old, now=115.0)
    assert blockers(4, old, observed, now=115.0, lease_duration=15) == ()


def test_a_renewal_seen_restarts_the_wait() -> None:
    observed = observe_leases({}, [lease("lg-1-of-3", 3, "old-1")], now=100.0)
    renewed = [lease("lg-1-of-3", 3, "old-1", renewed=1)]
    observed = observe_leases(observed, renewed, now=114.0)
    assert blockers(4, renewed, observed, now=120.0, lease_duration=15) != ()
    assert blockers(4, renewed, observed, now=129.0, lease_duration=15) == ()


def test_a_lease_of_another_topology_that_declares_no_duration_blocks_for_the_candidates_own() -> (
    None
):
    """A Lease whose duration was edited away does not stop blocking at once (client-go's
    reading): its holder may still be writing."""
    undeclared = [replace(lease("lg-0-of-3", 3, "old-0"), record=LeaseRecord("old-0"))]
    observed = observe_leases({}, undeclared, now=100.0)
    blocked = (Blocker("lg-0-of-3", "old-0", 3),)
    assert blockers(4, undeclared, observed, now=119.9, lease_duration=20) == blocked
    assert blockers(4, undeclared, observed, now=120.0, lease_duration=20) == ()


def test_a_released_lease_blocks_nobody_at_once() -> None:
    released = [lease("lg-1-of-3", 3, "")]
    observed = observe_leases({}, released, now=100.0)
    assert blockers(4, released, observed, now=100.0, lease_duration=15) == ()


def test_a_lease_first_seen_now_blocks_for_a_whole_duration_whatever_it_says() -> None:
    """A candidate that has not watched a record cannot know how long it has stood: it waits
    the whole duration, as a follower does for its own Lease."""
    old = [lease("lg-0-of-3", 3, "old-0")]
    assert blockers(4, old, {}, now=1000.0, lease_duration=15) == (
        Blocker("lg-0-of-3", "old-0", 3),
    )


def test_a_lease_whose_topology_is_not_said_blocks_while_it_is_held() -> None:
    unknown = [lease("lg-x", None, "someone")]
    observed = observe_leases({}, unknown, now=100.0)
    assert blockers(1, unknown, observed, now=100.0, lease_duration=15) == (
        Blocker("lg-x", "someone", None),
    )
    (blocker,) = blockers(1, unknown, observed, now=100.0, lease_duration=15)
    assert str(blocker) == "lg-x (unknown shards) held by someone"


def test_a_lease_no_longer_listed_is_forgotten() -> None:
    observed = observe_leases({}, [lease("lg-0-of-3", 3, "a")], now=100.0)
    assert observe_leases(observed, [], now=101.0) == {}


@PROPERTIES
@given(
    holders=st.lists(
        st.tuples(st.integers(1, 5), st.sampled_from(["", "a", "b"]), st.integers(0, 3)),
        max_size=8,
    ),
    mine=st.integers(1, 5),
    looks=st.lists(st.floats(0, 40), min_size=1, max_size=5),
)
def test_a_blocker_is_always_a_held_lease_of_another_topology_not_yet_seen_run_out(
    holders: list[tuple[int, str, int]], mine: int, looks: list[float]
) -> None:
    leases = [
        lease(f"lg-{index}-of-{shards}", shards, holder, renewed)
        for index, (shards, holder, renewed) in enumerate(holders)
    ]
    observed: dict[str, Observed] = {}
    first = 100.0 + min(looks)  # the records never change: each is seen from the first look
    for offset in sorted(looks):
        now = 100.0 + offset
        observed = observe_leases(observed, leases, now=now)
        found = {
            blocker.lease
            for blocker in blockers(mine, leases, observed, now=now, lease_duration=15)
        }
        expected = {
            each.name
            for each in leases
            if topology_of(each) != mine and each.record.holder and now < first + 15
        }
        assert found == expected
