"""A fleet spread over 30 (account, region) pairs, for the sharding tests: ten accounts in three
regions, one function in each, seeded into an emulated registry's state file and declared in a
Git repository by function ARN, so that one controller reaches every account through one
endpoint (the emulator reads the account from the ARN in the path).

Each function has two published versions, ``live`` on 1; the declarations want ``live`` on 2
(label ``r2``): one ``UpdateAlias`` per function converges the fleet, from whichever shard owns
its pair.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from controller.core.sharding import Pair, owner
from lambda_emulator import packages
from lambda_emulator.seed import DEFAULT_HANDLER, DEFAULT_RUNTIME, default_role
from lambda_emulator.store import Caller, EmulatorStore

CONTROLLER_ACCOUNT = "123456789012"
"""The account the controller is told is its own (no function of the fleet is in it)."""
ACCOUNTS = tuple(f"1000000000{index:02d}" for index in range(10))
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
PAIRS = tuple(Pair(account, region) for account in ACCOUNTS for region in REGIONS)


def code_sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


FIRST, SECOND = code_sha256("release 1"), code_sha256("release 2")


@dataclass(frozen=True)
class FleetFunction:
    pair: Pair

    @property
    def name(self) -> str:
        return f"svc{self.pair.account[-2:]}-{self.pair.region}"

    @property
    def arn(self) -> str:
        pair = self.pair
        return f"arn:aws:lambda:{pair.region}:{pair.account}:function:{self.name}"

    def owner(self, shards: int) -> int:
        return owner(self.pair, shards)


FLEET = tuple(FleetFunction(pair) for pair in PAIRS)


def seed(state: Path) -> None:
    """Every function of the fleet in its own account and region: versions 1 and 2, ``live``
    on 1."""
    with EmulatorStore(state) as store, store.transaction():
        for function in FLEET:
            caller = Caller(function.pair.account, function.pair.region)
            store.create_function(
                caller,
                function.name,
                code=packages.from_sha256(FIRST),
                role=default_role(function.pair.account),
                runtime=DEFAULT_RUNTIME,
                handler=DEFAULT_HANDLER,
            )
            store.publish_version(caller, function.name)
            store.update_function_code(caller, function.name, packages.from_sha256(SECOND))
            store.publish_version(caller, function.name)
            store.create_alias(caller, function.name, "live", function_version="1")


def declaration(function: FleetFunction) -> str:
    return (
        "apiVersion: lambda-gitops/v1\n"
        "kind: Function\n"
        f"metadata:\n  name: {function.name}\n"
        "spec:\n"
        f"  functionName: {function.arn}\n"
        f"  region: {function.pair.region}\n"
        "  versions:\n"
        f'    r1:\n      codeSha256: "{FIRST}"\n'
        f'    r2:\n      codeSha256: "{SECOND}"\n'
        "  aliases:\n"
        "    live:\n      version: r2\n"
    )


def declare(folder: Path) -> Path:
    """A Git repository at ``folder`` declaring the whole fleet, one file a function."""
    folder.mkdir(parents=True, exist_ok=True)
    for function in FLEET:
        (folder / f"{function.name}.yaml").write_text(declaration(function))
    identity = [
        "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"
    ]  # fmt: skip
    for command in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "-A"],
        ["commit", "--quiet", "-m", "declare the fleet"],
    ):
        subprocess.run(["git", *identity, *command], cwd=folder, check=True, capture_output=True)
    return folder
