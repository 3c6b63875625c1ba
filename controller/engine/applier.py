"""The applier: carries out a plan through the registry port, safely, one function at a time.

It decides nothing of its own: the planner chose the actions; the applier only adds what makes
them safe to run against a registry that others change too. Every publish carries ``CodeSha256``
(and ``$LATEST``'s RevisionId, read after the configuration update that precedes it, if any),
every configuration update and alias update its RevisionId, and a prune first checks that the
alias is still the one the plan saw. A version published with another configuration than its
label declares is never pointed at. When such a precondition fails, or Lambda reports
a conflict, the applier stops and says so (``Applied.conflict``): it never overwrites a change
it has not seen, and it does not plan again itself. Observing again and planning again is the
reconciler's loop (``reconciler.converge``), as a controller-runtime reconciler returns
"requeue" rather than re-planning inside the writer. A failure ends that function's actions and
is reported; the other functions go on.

A version that retention deletes is the one exception: Lambda refusing the deletion because an
alias points at the version now (rule L35) is the safety net working, so that version is kept
(``skipped``) and the other deletions go on.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal, Protocol

from controller.adapters.registry.port import Registry
from controller.core.model import (
    Alias,
    CodeSource,
    DeclaredCode,
    DesiredFunction,
    FunctionRef,
    FunctionState,
    ObservedFunction,
    RepoZip,
    S3Code,
    ZipCode,
)
from controller.core.ownership import is_managed, seal
from controller.core.plan import (
    Action,
    CreateAlias,
    DeleteAlias,
    DeleteVersion,
    FunctionPlan,
    PendingVersion,
    PublishVersion,
    Target,
    UpdateAlias,
)
from controller.errors import (
    CodeError,
    Conflict,
    NotFound,
    PreconditionFailed,
    RegistryError,
    UpdateInProgress,
)

InScope = Callable[[str], bool]
"""Whether the controller may write to the function with this unqualified ARN."""


def out_of_scope(arn: str) -> str:
    """The error of a function the controller may not write to."""
    return (
        f"{arn} is outside the controller's scope (scope.functions, scope.regions, "
        "scope.accounts): nothing is written to it"
    )


def deletions_off(arn: str) -> str:
    """The error of a version deletion the controller is not allowed to make."""
    return (
        f"{arn}: scope.delete_versions is off, so the controller deletes no version; "
        "nothing was deleted"
    )


def function_arn(live: ObservedFunction) -> str:
    """The function's unqualified ARN, from what Lambda reported, else from its identity."""
    if live.latest is not None and live.latest.arn:
        return ":".join(live.latest.arn.split(":")[:7])
    arns = [alias.arn for alias in live.aliases] + [version.arn for version in live.versions]
    for arn in arns:
        if arn:
            return ":".join(arn.split(":")[:7])
    return live.ref.identity.arn


def _adopted(action: UpdateAlias, version: str, routing: Mapping[str, Decimal]) -> bool:
    """Whether an update only adds the ownership marker to an alias that lacked it (``adopt``):
    the same version and routing as live, and no marker before."""
    live = action.live
    return (
        not is_managed(live.description)
        and live.function_version == version
        and live.effective_routing == dict(routing)
    )


class CodeReader(Protocol):
    """Reads a deployment package from the declarations, at the revision being applied."""

    def read(self, path: str) -> bytes: ...


Outcome = Literal["applied", "failed", "skipped"]
"""``skipped``: a version deletion Lambda refused because an alias points at the version now."""


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What became of one action: ``applied``, ``failed`` with Lambda's or our reason, or
    ``skipped`` (a version kept because an alias points at it now)."""

    action: Action
    outcome: Outcome
    detail: str
    seconds: float
    written: Alias | None = None
    """The alias as Lambda answered a create or an update: its new ``RevisionId`` is how the
    next pass knows that the alias is as the controller left it."""


@dataclass(frozen=True, slots=True)
class FunctionOutcome:
    """The result of applying one function's plans, replans included."""

    function: DesiredFunction
    actions: tuple[ActionOutcome, ...] = ()
    error: str | None = None
    replans: int = 0

    @property
    def converged(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Applied:
    """What running one plan did: its actions, and why it stopped short, if it did."""

    actions: tuple[ActionOutcome, ...] = ()
    error: str | None = None
    """A failure that planning again would not cure: the function's error for this pass."""
    conflict: str | None = None
    """The function changed under the plan (a precondition failed, or Lambda reported a
    conflict): observe it again and plan again."""


class _Conflict(Exception):
    """Internal: the function changed under us; the plan must be made again."""


class _Refused(Exception):
    """Internal: an action the controller is not allowed to take; the function fails."""


@dataclass
class _Run:
    """The state of applying one function: ``$LATEST`` as last seen, versions published."""

    latest: FunctionState | None
    """``$LATEST`` as last read; ``None`` when the observation did not need it."""
    published: dict[str, str] = field(default_factory=dict)
    """Label -> version number published by this run."""
    latest_is_current: bool = True
    """False after a publish, which changes ``$LATEST``'s RevisionId (rule L8)."""


class Applier:
    """Applies function plans through a registry; see the module docstring for the guarantees."""

    def __init__(
        self,
        registry: Registry,
        code: CodeReader,
        *,
        in_scope: InScope,
        delete_versions: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._code = code
        self._in_scope = in_scope
        self._delete_versions = delete_versions
        """``scope.delete_versions``: checked here too, so that no plan can delete a version
        the configuration does not let the controller delete."""
        self._clock = clock

    def apply(self, function_plan: FunctionPlan, observed: ObservedFunction) -> Applied:
        """Run one plan against the function as observed; never raises a RegistryError.

        A function outside the configured scope gets nothing written, whoever asks: the check
        is here, in the only writer, so that no command can forget it.
        """
        arn = function_arn(observed)
        if not self._in_scope(arn):
            return Applied(error=out_of_scope(arn))
        outcomes: list[ActionOutcome] = []
        try:
            self._run(function_plan, observed, outcomes)
        except _Conflict as conflict:
            return Applied(tuple(outcomes), conflict=str(conflict))
        except (RegistryError, CodeError, _Refused) as error:
            return Applied(tuple(outcomes), error=str(error))
        return Applied(tuple(outcomes))

    def _run(
        self, function_plan: FunctionPlan, observed: ObservedFunction, outcomes: list[ActionOutcome]
    ) -> None:
        run = _Run(latest=observed.latest)
        for action in function_plan.actions:
            started = self._clock()
            try:
                outcome, detail, written = self._act(function_plan, observed, action, run)
            except (PreconditionFailed, Conflict) as error:  # UpdateInProgress included
                outcomes.append(ActionOutcome(action, "failed", str(error), self._since(started)))
                raise _Conflict(str(error)) from error
            except (RegistryError, CodeError, _Refused) as error:
                outcomes.append(ActionOutcome(action, "failed", str(error), self._since(started)))
                raise
            outcomes.append(ActionOutcome(action, outcome, detail, self._since(started), written))

    def _since(self, started: float) -> float:
        return self._clock() - started

    def _act(
        self, function_plan: FunctionPlan, observed: ObservedFunction, action: Action, run: _Run
    ) -> tuple[Outcome, str, Alias | None]:
        """Carry out one action: how it went, what to say of it, and the alias it wrote."""
        ref = function_plan.ref
        match action:
            case PublishVersion():
                return "applied", self._publish(function_plan, action, run), None
            case CreateAlias():
                version = _resolve(action.version, run)
                routing = _resolve_routing(action.routing, run)
                alias = self._registry.create_alias(
                    ref,
                    action.name,
                    function_version=version,
                    routing=routing,
                    description=seal(action.description, version, routing),
                )
                shown = _shown(alias.function_version, alias.routing)
                return "applied", f"created {action.name} -> {shown}", alias
            case UpdateAlias():
                version = _resolve(action.version, run)
                routing = _resolve_routing(action.routing, run)
                alias = self._registry.update_alias(
                    ref,
                    action.name,
                    function_version=version,
                    routing=routing,
                    description=seal(action.description, version, routing),
                    revision_id=action.revision_id,
                )
                shown = _shown(alias.function_version, alias.routing)
                if _adopted(action, version, routing):
                    return (
                        "applied",
                        f"marked {action.name} as managed, on {shown} as before",
                        alias,
                    )
                return "applied", f"moved {action.name} -> {shown}", alias
            case DeleteAlias():
                self._check_unchanged(function_plan, action)
                self._registry.delete_alias(ref, action.name)
                return "applied", f"deleted {action.name}", None
            case DeleteVersion():
                outcome, detail = self._delete_version(function_plan, observed, action)
                return outcome, detail, None

    def _delete_version(
        self, function_plan: FunctionPlan, observed: ObservedFunction, action: DeleteVersion
    ) -> tuple[Outcome, str]:
        """Delete one published version (DeleteFunction with a Qualifier, never without one).

        Lambda refuses while an alias points at the version (rule L35): someone started using
        it since the function was observed, so it is kept, which is not a failure of the pass.
        A version already gone is deleted as far as anyone can tell (rules L34, L38). An update
        in progress is a conflict like any other: the function is observed again.
        """
        if not self._delete_versions:
            raise _Refused(deletions_off(function_arn(observed)))
        version = f"version {action.number}"
        try:
            self._registry.delete_version(function_plan.ref, action.number)
        except UpdateInProgress:
            raise
        except Conflict as refused:
            why = (
                "an alias points at it now"
                if "aliases reference it" in refused.message
                else "Lambda refused to delete it"
            )
            return "skipped", f"kept {version}: {why} ({refused})"
        except NotFound:
            return "applied", f"{version} was already gone"
        return "applied", f"deleted {version} ({action.reason})"

    def _publish(self, function_plan: FunctionPlan, action: PublishVersion, run: _Run) -> str:
        """Give ``$LATEST`` the declared code and configuration, then publish it.

        Each update is waited out, and each write carries the RevisionId read after the one
        before it, the publish included: a change anyone else makes in between fails the next
        write (rules L5, L30) rather than being published, and the reconciler plans again.
        """
        ref = function_plan.ref
        latest = self._latest(ref, run)
        declared = action.configuration
        if action.update_code is not None:
            source = self._code_source(action.update_code, action)
            latest = self._registry.update_code(
                ref,
                source,
                revision_id=latest.revision_id,
                architectures=declared.architectures,
            )
            run.latest = latest
            if latest.code_sha256 != action.code_sha256:
                raise CodeError(
                    f"version {action.label}: the code at {_where(action.update_code)} has "
                    f"CodeSha256 {latest.code_sha256}, but the declaration says "
                    f"{action.code_sha256}; fix codeSha256 or the code source (nothing was "
                    "published; $LATEST now holds that code)"
                )
        if declared.architectures not in (None, latest.configuration.architectures):
            shown = ", ".join(latest.configuration.architectures or ())
            raise _changed_under(
                action,
                f"after the code update its architectures are still [{shown}]"
                if action.update_code is not None
                # Planned without a code update: $LATEST changed since it was observed.
                else "its architecture changed since it was observed",
            )
        unmet = replace(declared, architectures=None).unmet_by(latest.configuration)
        if not unmet.is_empty:
            latest = self._registry.update_configuration(ref, unmet, revision_id=latest.revision_id)
            run.latest = latest
            if not declared.satisfied_by(latest.configuration):
                missed = ", ".join(declared.unmet_by(latest.configuration).declared)
                raise _changed_under(action, f"after the update it still differs in {missed}")
        version = self._registry.publish_version(
            ref,
            code_sha256=action.code_sha256,
            revision_id=latest.revision_id,
            description=action.description,
        )
        run.latest_is_current = False
        if not declared.satisfied_by(version.configuration):
            # A registry that checks no RevisionId (moto) publishes whatever $LATEST became.
            missed = ", ".join(declared.unmet_by(version.configuration).declared)
            raise PreconditionFailed(
                f"version {version.version}, published for {action.label}, differs from its "
                f"declaration in {missed}: $LATEST changed before the publish",
                code="ConfigurationChanged",
                operation="PublishVersion",
            )
        run.published[action.label] = version.version
        configured = f" (set first: {', '.join(unmet.declared)})" if not unmet.is_empty else ""
        return f"published {action.label} as version {version.version}{configured}"

    def _latest(self, ref: FunctionRef, run: _Run) -> FunctionState:
        """``$LATEST`` with its current RevisionId, read again when the run has not read it or
        has published since (a publish changes it, rule L8)."""
        if run.latest is None or not run.latest_is_current:
            run.latest = self._registry.get_function(ref)
            run.latest_is_current = True
        return run.latest

    def _code_source(self, code: DeclaredCode, action: PublishVersion) -> CodeSource:
        """The package to upload; a zip from the repository is checked against its declared
        CodeSha256 before it is sent, so wrong code never reaches ``$LATEST``."""
        if isinstance(code, S3Code):
            return code
        try:
            data = self._code.read(code.path)
        except (OSError, KeyError, ValueError) as error:
            raise CodeError(
                f"version {action.label}: cannot read {code.path} from the declarations: {error}"
            ) from error
        actual = base64.b64encode(hashlib.sha256(data).digest()).decode()
        if actual != action.code_sha256:
            raise CodeError(
                f"version {action.label}: {code.path} has CodeSha256 {actual}, but the "
                f"declaration says {action.code_sha256}; fix codeSha256 or the file "
                "(nothing was uploaded)"
            )
        return ZipCode(data)

    def _check_unchanged(self, function_plan: FunctionPlan, action: DeleteAlias) -> None:
        """DeleteAlias takes no RevisionId (rule L18), so look before pruning: an alias that
        someone changed since it was observed is not deleted on the strength of old facts."""
        for alias in self._registry.list_aliases(function_plan.ref):
            if alias.name == action.name and alias.revision_id != action.live.revision_id:
                raise PreconditionFailed(
                    f"alias {action.name} changed since it was observed",
                    code="RevisionIdChanged",
                    operation="DeleteAlias",
                )


def _changed_under(action: PublishVersion, why: str) -> PreconditionFailed:
    """``$LATEST`` is not as the publish needs it: someone else changed it (or a registry did
    not apply an update), so nothing is published and the function is planned again. Only the
    fields' names are said, never an environment value."""
    return PreconditionFailed(
        f"version {action.label}: $LATEST does not have the declared configuration: {why}; "
        "nothing was published",
        code="ConfigurationChanged",
        operation="UpdateFunctionConfiguration",
    )


def _resolve(target: Target, run: _Run) -> str:
    if isinstance(target, PendingVersion):
        return run.published[target.label]
    return target


def _resolve_routing(routing: Mapping[Target, Decimal], run: _Run) -> dict[str, Decimal]:
    return {_resolve(target, run): share for target, share in routing.items()}


def _shown(version: str, routing: Mapping[str, Decimal]) -> str:
    return version + "".join(f" + {share} to {other}" for other, share in routing.items())


def _where(code: DeclaredCode) -> str:
    if isinstance(code, RepoZip):
        return code.path
    version = f"?versionId={code.object_version}" if code.object_version else ""
    return f"s3://{code.bucket}/{code.key}{version}"
