"""Version retention: which published versions a pass deletes, and which it must keep.

Every release publishes a version, and Lambda keeps every one until someone deletes it; their
packages count against the region's code storage (rule L9), and a list of hundreds of versions
is one nobody reads. ``retainVersions: N`` (or the controller's ``retain_versions`` default)
keeps the newest N published versions and deletes the older ones, after a successful pass.

Deleting is the one write that cannot be undone, so what is kept is decided here, in one pure
function over what the pass observed and planned, and it errs towards keeping:

- the newest N published versions are kept whatever (the versions this plan publishes count
  among them: they will be the newest);
- an older version is kept when anything names it: ``$LATEST`` (never a published version),
  any live alias, managed or not, as its version or in its routing (every routing key, even one
  equal to its version), the versions this plan's alias writes point to, every version whose
  code a declared label has (a label is satisfied by any of them), every number a declaration
  writes, and the stable and target versions a rollout's marker records;
- nothing is deleted for a function that is suspended, whose rollout is under way (as the plan
  sees it, or as any live alias's marker says), whose alias writes wait for a publish, that was
  planned from remembered state rather than read afresh, or when the controller's
  ``scope.delete_versions`` is off: the versions that would go are reported instead, with why.

The deletions are the last actions of the function's plan, oldest first, so that they run only
when every publish and alias write before them succeeded. A pass deletes at most
``Retention.max_deletions`` versions of one function: a function with thousands of old versions
is cleaned over several passes, each a bounded share of Lambda's request quota (rule L40),
rather than in one pass that holds the quota for an hour. An alias someone creates on a version
between the observation and its deletion makes Lambda refuse the deletion (rule L35): the
applier keeps the version and goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from controller.core.model import KEEP_ALL, Alias, DesiredFunction, ObservedFunction, RetainVersions
from controller.core.ownership import rollout_state
from controller.core.plan import (
    CreateAlias,
    DeleteVersion,
    RetentionView,
    RolloutView,
    UpdateAlias,
)
from controller.core.rollout import decode

SWITCHED_OFF = "scope.delete_versions is off"
"""Why retention deletes nothing when the controller may not delete versions."""

MAX_DELETIONS = 50
"""Versions of one function deleted in one pass, at most: five seconds of the default client-side
pace of 10 requests a second."""


@dataclass(frozen=True, slots=True)
class Retention:
    """How the controller applies retention: its default and whether it may delete at all."""

    default: int | None = None
    """The controller's ``retain_versions``: the N of a declaration that names none; ``None``
    keeps every version of such a function."""
    may_delete: bool = False
    """The controller's ``scope.delete_versions``: without it deletions are only reported."""
    fresh: bool = True
    """The observation was read from Lambda for this plan. A plan made from what an earlier
    reconcile left (a rollout's next step, ``reconciler.reconcile_function``'s ``observed``)
    deletes nothing: a deletion is decided on facts read now, never on remembered ones."""
    max_deletions: int = MAX_DELETIONS
    """Versions of one function deleted in one pass, at most; the oldest go first."""


def retained(declared: RetainVersions, default: int | None) -> int | None:
    """How many of the newest published versions a function keeps; ``None``: all of them."""
    if declared == KEEP_ALL:
        return None
    if declared is None:
        return default
    return declared


def retain(
    desired: DesiredFunction,
    observed: ObservedFunction,
    retention: Retention | None,
    *,
    writes: Sequence[CreateAlias | UpdateAlias],
    publishes: int,
    rollouts: Sequence[RolloutView],
    deferred: bool,
) -> tuple[RetentionView | None, tuple[DeleteVersion, ...]]:
    """What retention keeps and deletes of one function whose plan has no error: the view, and
    the deletions to append to its actions (none when it keeps every version, or when
    something holds retention back this time). Without ``retention`` (a caller that applies
    none) every version is kept."""
    if retention is None:
        return None, ()
    keep = retained(desired.retain_versions, retention.default)
    if keep is None:
        return None, ()
    numbers = sorted((version.number for version in observed.versions), reverse=True)
    older = numbers[max(keep - publishes, 0) :]
    if not older:  # the common case once retention has run: nothing to decide
        return RetentionView(keep=keep, versions=len(numbers)), ()
    named = protected(desired, observed, writes)
    candidates = tuple(sorted(number for number in older if number not in named))
    view = RetentionView(
        keep=keep,
        versions=len(numbers),
        protected=tuple(sorted(number for number in older if number in named)),
    )
    if not candidates:
        return view, ()
    reason = _held_back(desired, observed, retention, rollouts=rollouts, deferred=deferred)
    if reason is not None:
        return replace(view, held=candidates, reason=reason), ()
    now, later = candidates[: retention.max_deletions], candidates[retention.max_deletions :]
    if later:
        reason = f"at most {retention.max_deletions} are deleted a pass; the next pass goes on"
        view = replace(view, held=later, reason=reason)
    return replace(view, deleted=now), tuple(DeleteVersion(number) for number in now)


def protected(
    desired: DesiredFunction,
    observed: ObservedFunction,
    writes: Iterable[CreateAlias | UpdateAlias] = (),
) -> frozenset[int]:
    """The published versions something names, which retention never deletes."""
    names: set[str] = set()
    for alias in observed.aliases:
        names |= _named_by_live(alias)
    for write in writes:
        names |= {target for target in (write.version, *write.routing) if isinstance(target, str)}
    for declared in desired.aliases.values():
        names |= {declared.version, *declared.routing}
    codes = {version.code_sha256 for version in desired.versions.values()}
    return frozenset(
        version.number
        for version in observed.versions
        if version.version in names or version.code_sha256 in codes
    )


def _named_by_live(alias: Alias) -> set[str]:
    """Every version a live alias uses or may go back to: its version, each routing key (the
    raw routing, not the effective one: AWS may show the alias's own version there while it
    switches), and the stable and target versions of a rollout its marker records."""
    names = {alias.function_version, *alias.routing}
    state = decode(rollout_state(alias.description) or "")
    if state is not None:
        names |= {state.stable, state.target}
    return names


def _held_back(
    desired: DesiredFunction,
    observed: ObservedFunction,
    retention: Retention,
    *,
    rollouts: Sequence[RolloutView],
    deferred: bool,
) -> str | None:
    """Why nothing is deleted this time, or ``None`` when deletions may go ahead."""
    if desired.suspend:
        return "the function is suspended"
    moving = [view.alias for view in rollouts if view.under_way]
    moving += [alias.name for alias in observed.aliases if _rolling_out(alias)]
    if moving:
        return f"a rollout is under way on alias {sorted(set(moving))[0]}"
    if deferred:
        return "the versions this pass publishes come first"
    if not retention.fresh:
        return "planned from remembered state, not read afresh"
    if not retention.may_delete:
        return SWITCHED_OFF
    return None


def _rolling_out(alias: Alias) -> bool:
    """The live alias's marker records a rollout that is progressing or paused."""
    state = decode(rollout_state(alias.description) or "")
    return state is not None and state.phase in ("progressing", "paused")
