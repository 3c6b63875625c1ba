"""A small world for reconciliation tests: packages, a code reader, and a seeded function."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from controller.adapters.registry.port import Registry
from controller.core.model import (
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionRef,
    ObservedFunction,
    RepoZip,
    weight,
)
from controller.core.plan import FunctionPlan
from controller.engine.applier import Applier, CodeReader, FunctionOutcome
from controller.engine.reconciler import converge
from controller.settings import Scope
from tests.backends import code_sha256, make_zip

REGION = "us-east-1"
ANYWHERE = Scope().allows
"""The default scope: every function may be written."""
PACKAGES = {f"r{n}": make_zip(f"# release {n}\n") for n in range(1, 7)}
SHAS = {label: code_sha256(package) for label, package in PACKAGES.items()}


@dataclass
class RepoFiles:
    """The deployment packages of a declarations repository, by path."""

    files: Mapping[str, bytes] = field(
        default_factory=lambda: {f"artifacts/{label}.zip": p for label, p in PACKAGES.items()}
    )
    reads: list[str] = field(default_factory=list)

    def read(self, path: str) -> bytes:
        self.reads.append(path)
        return self.files[path]


def version(label: str, *, with_code: bool = True) -> DesiredVersion:
    code = RepoZip(f"artifacts/{label}.zip") if with_code else None
    return DesiredVersion(label, SHAS[label], description=f"release {label}", code=code)


def alias(name: str, target: str, routing: Mapping[str, float] | None = None) -> DesiredAlias:
    shares = {key: weight(share) for key, share in (routing or {}).items()}
    return DesiredAlias(name, target, shares, description=f"{name} traffic")


def function(
    name: str,
    versions: list[DesiredVersion],
    aliases: list[DesiredAlias],
    *,
    prune: bool = False,
    suspend: bool = False,
) -> DesiredFunction:
    return DesiredFunction(
        name=name,
        ref=FunctionRef(name, REGION),
        versions={v.label: v for v in versions},
        aliases={a.name: a for a in aliases},
        prune=prune,
        suspend=suspend,
    )


def apply_plan(
    registry: Registry,
    code: CodeReader,
    planned: FunctionPlan,
    observed: ObservedFunction,
    revision: str,
) -> FunctionOutcome:
    """Apply ``planned`` as a pass does: through the applier, re-planning after conflicts."""
    return converge(
        registry, Applier(registry, code, in_scope=ANYWHERE), planned, observed, revision
    )
