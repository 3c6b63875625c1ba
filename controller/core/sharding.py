"""Sharding: which of N shards owns a function, and when a shard may start writing: the pure part.

One process drives the whole fleet by default. An organisation with hundreds of accounts and
regions outgrows it: Lambda's control-plane quota is 15 requests/s per account and region (rule
L40), and one Python process spends its time in the pacing, parsing and bookkeeping of every
pair at once. ``shards: N`` splits the fleet among N processes, each with its own leader election
(``engine.leader``) so that each shard can itself run several replicas.

**Ownership, by (account, region).** A function belongs to the pair of its identity's account
and region (``FunctionRef.identity``; a bare name means the controller's own account). Whole
pairs, not single functions, because the quota, the client-side rate limiter, the credentials
(one assumed role per account) and a cold pass's region listing are all per pair: with pairs
split, each pair's quota is spent by exactly one process, which paces it alone.

**Rendezvous hashing** (highest random weight; Thaler and Ravishankar, 1996). Each shard ``i``
has a weight for a pair, the first eight bytes of SHA-256 of ``ACCOUNT/REGION/i`` as an integer,
and the pair belongs to the shard of the highest weight. Why this scheme:

- *stable*: SHA-256 of a text is the same in every process, Python version and machine. Python's
  ``hash()`` of a string is salted per process (``PYTHONHASHSEED``), so two shards would disagree
  on who owns what;
- *minimal movement*: from N to N+1 shards a pair moves only where the new shard's weight beats
  the old owner's, about 1/(N+1) of the pairs, and always to the new shard; from N+1 to N only
  the removed shard's pairs move;
- *nothing to agree on*: any process, and ``plan``, finds the owner from the pair and N alone.
  It costs N hashes per pair, once per revision per function: nothing beside one Lambda call.
  Jump consistent hash (Lamping and Veach, 2014) moves as little for O(log N) work, but N is at
  most ``MAX_SHARDS`` and rendezvous hashing is the one a reader checks at a glance.

**The topology rule.** Each shard elects its leader over a Lease of its own, named after the
shard and N (``lease_name``: ``lambda-gitops-1-of-4``), so that for one N a pair has at most
one writer. While N changes, pods of the old N and of the new one run together (a rolling
update), and shard 1 of 3 and shard 3 of 4 may own the same pair under different Leases. So
every Lease of an installation carries two labels, the installation (``ELECTION_LABEL``) and its
N (``SHARDS_LABEL``), and a candidate may lead only while no Lease of another N is held by a
holder whose lease has not run out (``blockers``), judged by the candidate's own observation of
the record, as ``core.election.expired`` judges its own Lease: never by comparing clocks. The
elector (``engine.leader``) checks it at two moments: before it takes its Lease, which spares a
write it would give back, and after, before it opens its write fence; when the second check
finds such a Lease, it releases its own at once and stays a follower. A leader never checks
again: it leads as long as it renews.

Why no two topologies write at once. Say C (of N) and D (of another N) both lead at time t;
their tenures began with takes at a_C and a_D, checked afterwards at c_C > a_C and c_D > a_D.
Say a_D < c_C (otherwise a_C < a_D < c_D: swap the names). D's tenure has begun by c_C and lasts
past t > c_C, so C's list at c_C shows D's Lease held by D, with the record of D's latest
renewal. C takes it as run out only if it had seen that very record at least a lease duration
before c_C. A renewal that succeeds is answered within its timeout, before the leader's renew
deadline, and changes the record; so D made no successful renewal in the renew deadline (shorter
than the lease duration) after that record was written, and its own deadline had shut its
fence before c_C: D was not leading at t. So C saw a live Lease of another N and did not lead.
The margin between the lease duration and the renew deadline absorbs clocks that run at
slightly different rates, as client-go's own argument does.

Two candidates of different N that take their Leases at the same moment may both see the other
and both give theirs back; each tries again a retry period later, with jitter, and one of them
soon goes first. A new N therefore starts writing once every Lease of the old one is released
(a clean shutdown) or has run out (a crash), never before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from controller.core.election import Lease, Observed, expired, observe
from controller.core.model import FunctionId

if TYPE_CHECKING:
    # Only named: importing the declarations package loads the parser, and ruamel.yaml with it,
    # which no core module but the declarations' may bring in.
    from controller.core.declarations import Declarations, InvalidFunction

MAX_SHARDS = 256
"""More shards than this would not each own a pair of any fleet that fits one installation."""

ELECTION_LABEL = "lambda-gitops.io/election"
"""The label every Lease of an installation carries: its ``leader_election.lease_name``, which
is how a candidate lists the Leases of its own installation and no other's."""

SHARDS_LABEL = "lambda-gitops.io/shards"
"""The label that says for how many shards a Lease was taken: its topology."""

_ORDINAL = re.compile(r"-(?P<ordinal>[0-9]{1,9})$")


@dataclass(frozen=True, slots=True, order=True)
class Pair:
    """An account and a region: what a shard owns."""

    account: str
    region: str

    def __str__(self) -> str:
        return f"{self.account}/{self.region}"


def weight(pair: Pair, shard: int) -> int:
    """Shard ``shard``'s weight for ``pair``: the first eight bytes of SHA-256 of
    ``ACCOUNT/REGION/SHARD``, an integer every process computes alike."""
    digest = hashlib.sha256(f"{pair.account}/{pair.region}/{shard}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def owner(pair: Pair, shards: int) -> int:
    """The shard, from 0, that owns ``pair`` among ``shards``: the one of the highest weight
    (ties, which SHA-256 makes a curiosity, go to the lowest index)."""
    problem = shard_problem(shards, None)
    if problem is not None:
        raise ValueError(problem)
    return max(range(shards), key=lambda shard: (weight(pair, shard), -shard))


def shard_problem(shards: int, shard: int | None) -> str | None:
    """What is wrong with shard ``shard`` of ``shards``, or ``None``."""
    if not 1 <= shards <= MAX_SHARDS:
        return f"shards {shards} must be between 1 and {MAX_SHARDS}"
    if shard is not None and not 0 <= shard < shards:
        return f"shard_index {shard} must be between 0 and {shards - 1} (shards is {shards})"
    return None


def ordinal_of(pod_name: str) -> int | None:
    """The ordinal a StatefulSet gives its pod (``lambda-gitops-3``: 3), or ``None``."""
    found = _ORDINAL.search(pod_name)
    return int(found["ordinal"]) if found is not None else None


@dataclass(frozen=True, slots=True)
class Sharding:
    """N shards over one controller's fleet: which shard owns each function."""

    shards: int
    account: str
    """The controller's own account: what a bare function name means. It must be known, or two
    shards that learned it differently could both take a function for theirs."""
    region: str
    """The controller's region: where a declaration too broken to name its function is taken to
    be, as ``engine.status`` keys it."""

    def __post_init__(self) -> None:
        problem = shard_problem(self.shards, None)
        if problem is not None:
            raise ValueError(problem)

    def pair_of(self, identity: FunctionId) -> Pair:
        return Pair(identity.account or self.account, identity.region)

    def owner_of(self, identity: FunctionId) -> int:
        """The shard that owns the function ``identity``."""
        return owner(self.pair_of(identity), self.shards)

    def owned(self, declarations: Declarations, shard: int) -> Declarations:
        """What shard ``shard`` reconciles and reports of ``declarations``: its valid functions,
        its invalid ones (a declaration too broken to name its function counts as the
        controller's own account and region), and every file that did not parse, since any
        shard may have functions in it, which stay as they were at the last good revision."""
        problem = shard_problem(self.shards, shard)
        if problem is not None:
            raise ValueError(problem)
        return replace(
            declarations,
            functions=tuple(
                f for f in declarations.functions if self.owner_of(f.ref.identity) == shard
            ),
            invalid=tuple(bad for bad in declarations.invalid if self._owner(bad) == shard),
        )

    def _owner(self, invalid: InvalidFunction) -> int:
        if invalid.ref is None:
            return owner(Pair(self.account, self.region), self.shards)
        return self.owner_of(invalid.ref.identity)


def lease_name(base: str, shard: int, shards: int) -> str:
    """The Lease shard ``shard`` of ``shards`` elects its leader over: ``base`` alone without
    sharding (one shard), else ``BASE-SHARD-of-SHARDS``, so that every topology has Leases of
    its own."""
    return base if shards == 1 else f"{base}-{shard}-of-{shards}"


def lease_labels(base: str, shards: int) -> dict[str, str]:
    """The labels every Lease of the installation ``base`` taken for ``shards`` carries."""
    return {ELECTION_LABEL: base, SHARDS_LABEL: str(shards)}


def topology_of(lease: Lease) -> int | None:
    """For how many shards ``lease`` was taken; ``None`` when its label does not say."""
    label = lease.labels.get(SHARDS_LABEL, "")
    return int(label) if label.isdigit() else None


@dataclass(frozen=True, slots=True)
class Blocker:
    """A Lease of another topology whose holder may still be writing."""

    lease: str
    holder: str
    shards: int | None
    """Its topology; ``None`` when its label does not say, which is taken as another."""

    def __str__(self) -> str:
        topology = f"{self.shards} shards" if self.shards is not None else "unknown shards"
        return f"{self.lease} ({topology}) held by {self.holder}"


def observe_leases(
    previous: Mapping[str, Observed], leases: Iterable[Lease], now: float
) -> dict[str, Observed]:
    """What a candidate knows after listing ``leases`` at ``now`` (its monotonic clock): for each
    Lease by name, its record and when it was first seen as it is. A Lease no longer listed is
    forgotten."""
    return {lease.name: observe(previous.get(lease.name), lease.record, now) for lease in leases}


def blockers(
    shards: int,
    leases: Iterable[Lease],
    observed: Mapping[str, Observed],
    now: float,
    *,
    lease_duration: int,
) -> tuple[Blocker, ...]:
    """The Leases among ``leases`` that keep a candidate of ``shards`` shards from leading: of
    another topology (or none said), held, and not run out by ``observed`` at ``now``; a Lease
    that declares no usable duration runs out after the candidate's own ``lease_duration``
    (``core.election``)."""
    found = []
    for lease in sorted(leases, key=lambda lease: lease.name):
        topology = topology_of(lease)
        if topology == shards or not lease.record.holder:
            continue
        seen = observed.get(lease.name)
        if (
            seen is None
            or seen.record != lease.record
            or not expired(seen, now, undeclared=lease_duration)
        ):
            found.append(Blocker(lease.name, lease.record.holder, topology))
    return tuple(found)
