"""One level-triggered pass: read the declarations, observe the registry, plan, apply.

Each pass recomputes everything from the declarations at one Git revision and the live registry,
so it is idempotent and a crash at any point is repaired by the next pass. Functions are
independent transactions: an invalid declaration, a failed observation or a failed write stops
that function alone, and the result says which and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from controller.applier import Applier, CodeReader, FunctionOutcome
from controller.declarations import Declarations
from controller.errors import NotFound, RegistryError
from controller.model import DesiredFunction, ObservedFunction
from controller.plan import FunctionPlan, Plan
from controller.planner import plan_function
from controller.registry.port import Registry, observe

Progress = Callable[[str], None]
"""Called with a function's name as each one is handled, for a progress display."""


@dataclass(frozen=True, slots=True)
class Observation:
    """The live side of a function, or why it could not be read (``None`` and no error means
    the function does not exist)."""

    function: DesiredFunction
    live: ObservedFunction | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass planned and, unless it only planned, what became of each function."""

    declarations: Declarations
    plan: Plan
    observations: tuple[Observation, ...]
    outcomes: tuple[FunctionOutcome, ...] = ()

    @property
    def declaration_errors(self) -> list[str]:
        return [str(error) for error in self.declarations.errors]

    @property
    def converged(self) -> bool:
        """Every function converged and every declaration was valid."""
        return not self.declaration_errors and all(o.converged for o in self.outcomes)


def observe_functions(
    registry: Registry, functions: Sequence[DesiredFunction], progress: Progress | None = None
) -> tuple[Observation, ...]:
    observations = []
    for function in functions:
        if progress is not None:
            progress(function.name)
        try:
            live: ObservedFunction | None = observe(registry, function.ref)
        except NotFound:
            live = None
        except RegistryError as error:
            observations.append(Observation(function, None, f"cannot read it: {error}"))
            continue
        observations.append(Observation(function, live))
    return tuple(observations)


def plan_pass(
    registry: Registry, declarations: Declarations, progress: Progress | None = None
) -> PassResult:
    """Observe every declared function and plan it; nothing is written."""
    observations = observe_functions(registry, declarations.functions, progress)
    plans = tuple(_plan(observation, declarations.revision) for observation in observations)
    return PassResult(declarations, Plan(declarations.revision, plans), observations)


def reconcile_pass(
    registry: Registry,
    declarations: Declarations,
    code: CodeReader,
    progress: Progress | None = None,
) -> PassResult:
    """Observe, plan and apply every declared function, each on its own."""
    planned = plan_pass(registry, declarations, progress)
    applier = Applier(registry, code)
    outcomes = []
    for function_plan, observation in zip(
        planned.plan.functions, planned.observations, strict=True
    ):
        if observation.live is None:
            outcomes.append(FunctionOutcome(function_plan.function, error=function_plan.error))
            continue
        outcomes.append(applier.apply(function_plan, observation.live, declarations.revision))
    return PassResult(declarations, planned.plan, planned.observations, tuple(outcomes))


def _plan(observation: Observation, revision: str) -> FunctionPlan:
    if observation.error is not None:
        return FunctionPlan(observation.function, error=observation.error)
    return plan_function(observation.function, observation.live, revision)
