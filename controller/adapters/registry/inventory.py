"""What ``registry show`` prints: the observed functions, their versions and aliases.

The JSON shape is part of the command line's contract (DESIGN.md), so scripts can rely on it;
the text form is for people and may change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.adapters.registry.port import Registry
from controller.core.model import Alias, FunctionRef, FunctionState, PublishedVersion


@dataclass(frozen=True, slots=True)
class Listed:
    """One function as ``registry show`` lists it: ``$LATEST``, versions and aliases."""

    ref: FunctionRef
    latest: FunctionState
    versions: tuple[PublishedVersion, ...]
    aliases: tuple[Alias, ...]


def collect(
    registry: Registry, region: str, function: str | None = None, account: str | None = None
) -> list[Listed]:
    """List one function, or every function of the region, ordered by name."""
    if function is not None:
        return [_listed(registry, FunctionRef(function, region, account))]
    names = sorted(state.name for state in registry.list_functions(region, account))
    return [_listed(registry, FunctionRef(name, region, account)) for name in names]


def _listed(registry: Registry, ref: FunctionRef) -> Listed:
    return Listed(
        ref=ref,
        latest=registry.get_function(ref),
        versions=tuple(registry.list_versions(ref, fresh=True)),
        aliases=tuple(registry.list_aliases(ref)),
    )


def to_json(functions: list[Listed]) -> dict[str, Any]:
    return {"functions": [_function_json(function) for function in functions]}


def _function_json(function: Listed) -> dict[str, Any]:
    return {
        "name": function.latest.name,
        "region": function.ref.region,
        "arn": function.latest.arn,
        "latest": {"codeSha256": function.latest.code_sha256},
        "versions": [
            {
                "version": version.version,
                "codeSha256": version.code_sha256,
                "description": version.description,
            }
            for version in function.versions
        ],
        "aliases": [
            {
                "name": alias.name,
                "functionVersion": alias.function_version,
                "routing": {version: float(w) for version, w in alias.routing.items()},
                "description": alias.description,
            }
            for alias in function.aliases
        ],
    }


def to_text(functions: list[Listed]) -> str:
    """A readable listing: per function, ``$LATEST``, the versions and where each alias points."""
    if not functions:
        return "no functions\n"
    return "\n".join(_function_text(function) for function in functions)


def _function_text(function: Listed) -> str:
    latest = function.latest
    lines = [
        f"{latest.name}  ({function.ref.region})  {latest.arn}",
        f"  $LATEST  {latest.code_sha256}  {latest.state}/{latest.last_update_status or '-'}",
    ]
    if function.versions:
        lines.append("  versions")
        width = max(len(version.version) for version in function.versions)
        lines += [
            f"    {version.version:>{width}}  {version.code_sha256}  {version.description}".rstrip()
            for version in function.versions
        ]
    if function.aliases:
        lines.append("  aliases")
        width = max(len(alias.name) for alias in function.aliases)
        for alias in function.aliases:
            routing = "".join(
                f"  + {float(share) * 100:g}% to {version}"
                for version, share in sorted(alias.routing.items())
            )
            lines.append(f"    {alias.name:<{width}}  -> {alias.function_version}{routing}")
    return "\n".join(lines) + "\n"
