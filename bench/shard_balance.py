"""Benchmark: how evenly sharding spreads (account, region) pairs, and how many move when the
number of shards grows by one.

Sharding assigns whole pairs by rendezvous hashing (``controller.core.sharding``): the load is
even only on average, and a fleet of few pairs over many shards leaves some shards with more
than their share, or none at all. This prints, for fleets of P pairs (ten regions per account)
and N shards, the busiest and the emptiest shard's pairs against an even split of P/N, and the
share of the pairs that move from N to N + 1 shards (ideal: 1/(N + 1)), so that N can be
chosen for a fleet's size (``docs/kubernetes.md``, "Sharding").

Usage: ``python bench/shard_balance.py [--pairs P ...] [--shards N ...]``. Pure computation, in
well under a second.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from controller.core.sharding import Pair, owner

REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "eu-north-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
)


def fleet(pairs: int) -> list[Pair]:
    """``pairs`` pairs: accounts of ten regions each, the last one partly."""
    return [
        Pair(f"{100000000000 + index // len(REGIONS)}", REGIONS[index % len(REGIONS)])
        for index in range(pairs)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[30, 100, 1000])
    parser.add_argument("--shards", type=int, nargs="+", default=[2, 3, 4, 8, 16])
    arguments = parser.parse_args()
    started = time.perf_counter()
    for count in arguments.pairs:
        pairs = fleet(count)
        for shards in arguments.shards:
            owners = [owner(pair, shards) for pair in pairs]
            load = Counter(owners)
            even = count / shards
            busiest = max(load[shard] for shard in range(shards))
            emptiest = min(load[shard] for shard in range(shards))
            moved = sum(
                1 for pair, was in zip(pairs, owners, strict=True) if owner(pair, shards + 1) != was
            )
            print(
                f"{count} pairs over {shards} shards: busiest {busiest / even:.2f}x even "
                f"({busiest} pairs), emptiest {emptiest / even:.2f}x ({emptiest}); "
                f"to {shards + 1} shards moves {moved / count:.0%} (ideal {1 / (shards + 1):.0%})"
            )
    print(f"computed in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
