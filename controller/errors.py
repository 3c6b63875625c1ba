"""The project's exception tree, classified by what the caller does next.

Third-party errors (botocore, SQLite, Git) are translated into these once, at the boundary that
meets them, with ``raise ... from``, so that the rest of the controller reasons in its own terms::

    LambdaGitopsError
    ├── ConfigurationError          the process cannot run as configured: stop and say what to fix
    ├── SourceError                 a fetch failed, the ref vanished, or a revision cannot be read:
    │   │                           keep the last good revision and try again later
    │   └── RevisionUnreadable      (also a ConfigurationError) no commit, or no declarations
    │                               folder, at the ref: the loop waits, a command stops
    ├── EditRefused                 promote, add-version or import would make the declarations
    │                               invalid: nothing is written
    ├── CodeError                   a version's code cannot be read, or is not the code declared:
    │                               that function fails until the declaration or the code changes
    ├── StatusUnavailable           a running controller's /status cannot be read (unreachable,
    │                               not 200, not a status document): ``status`` exits 1
    ├── NotLeader                   this replica does not hold the leader election's Lease (or
    │                               its renewal is overdue): it must not write; a pass stops,
    │                               and a lost lease ends the process
    ├── LeaseError                  a request about the Lease failed: try again at the next
    │   │                           retry period
    │   ├── LeaseConflict           another candidate wrote the Lease first (HTTP 409): read it
    │   │                           again before deciding anything
    │   └── LeaseGone               the Lease was deleted since it was read (HTTP 404 on a
    │                               replace): read it again, and create it if it is still gone
    └── AwsCallError                a call to an AWS API failed; keeps the operation, and the AWS
        │                           code and message
        ├── QueueError              a call to the change events' queue (SQS) failed: back off
        │                           and try again; the periodic resync covers what is missed
        │                           meanwhile
        └── RegistryError           a Lambda call failed
            ├── NotFound            the function, version or alias does not exist
            ├── Conflict            the resource is busy or in the way: re-observe, then retry
            │   └── UpdateInProgress
            │                       $LATEST is being updated: wait for the update, then retry
            ├── PreconditionFailed  a CodeSha256 or RevisionId precondition did not hold:
            │                       someone else changed the function; re-observe and re-plan
            ├── InvalidRequest      Lambda refused the request as malformed: a bug or bad input
            ├── AccessDenied        the credentials may not do this: a configuration problem
            └── RetryableError      worth trying again later, with backoff
                ├── Throttled       over Lambda's request-rate quota (HTTP 429)
                └── Transient       a 5xx, a timeout or a dropped connection
"""

from __future__ import annotations


class LambdaGitopsError(Exception):
    """The root of every error this project raises on purpose."""


class ConfigurationError(LambdaGitopsError):
    """The controller or a command cannot run as configured; the message says what to change."""


class SourceError(LambdaGitopsError):
    """A fetch failed, the ref vanished or does not resolve to a commit, or the revision cannot
    be read.

    The loop keeps the last good revision and tries again later: a broken source must never be
    read as an empty desired state. The message never holds a credential.
    """


class RevisionUnreadable(SourceError, ConfigurationError):
    """The repository, the commit a ref names, or the declarations folder at it cannot be read.

    To a command it is the user's ``--repo``, ``--ref`` or ``--path`` that is wrong, a
    configuration error; to the long-running loop it is the revision the source reported, a
    source error after which the last good revision stays applied. It is both, so that each
    caller handles it in its own terms and nobody re-wraps it.
    """


class EditRefused(LambdaGitopsError):
    """The edit cannot be made, or would leave the declarations invalid; no file was changed."""


class CodeError(LambdaGitopsError):
    """A version's code cannot be read, or is not the code the declaration says."""


class StatusUnavailable(LambdaGitopsError):
    """A running controller's ``/status`` could not be read: nothing answered in time, the
    answer was not 200, or it was not a JSON object. The message names the URL, masked."""


class NotLeader(LambdaGitopsError):
    """This replica may not write to Lambda: leader election is on and it does not hold the
    Lease, or has not renewed it within the renew deadline.

    Raised before a write is sent, never after: the write is not made, and the pass that
    wanted it stops without counting it as a failed action. The message names the Lease.
    """


class LeaseError(LambdaGitopsError):
    """A request to the Kubernetes API about the leader election's Lease failed: it timed out,
    the connection failed, or the API server refused it (403 names a missing RBAC rule).

    The elector tries again at its next retry period; a leader that cannot renew within its
    renew deadline stops writing. The message never holds a credential.
    """


class LeaseConflict(LeaseError):
    """Another candidate changed the Lease since it was read (a stale ``resourceVersion``), or
    created it first: HTTP 409. Nothing was written; read the Lease again."""


class LeaseGone(LeaseError):
    """The Lease was deleted since it was read (``kubectl delete lease``): HTTP 404 on a
    replace. Nothing was written; read it again, and create it if it is still gone, as
    client-go's elector does."""


class AwsCallError(LambdaGitopsError):
    """A call to an AWS API failed, with what AWS said about it.

    ``code`` is the AWS error code (``ResourceConflictException``), ``message`` the text AWS sent
    and ``operation`` the API operation (``UpdateAlias``), so that logs and status pages can show
    exactly what AWS said. The loop never handles this base itself: what it does next depends on
    the service, so each subclass is caught on its own.
    """

    def __init__(self, message: str, *, code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        code = f"{self.code}: " if self.code else ""
        return f"{where}{code}{self.message}"


class QueueError(AwsCallError):
    """A call to an SQS queue of change events failed: the queue is gone, unreachable, or the
    credentials may not read it.

    The consumer backs off and tries again, and no event is lost for good meanwhile: what stays
    in the queue is received later, and the periodic resync reconciles every function anyway.
    ``operation`` is an SQS operation (``ReceiveMessage``).
    """


class RegistryError(AwsCallError):
    """A call to the Lambda registry failed; ``operation`` is a Lambda operation (``UpdateAlias``).

    A sibling of ``QueueError``, not its parent: a failed Lambda call is retried, re-observed or
    reported according to its subclass, whereas a failed queue call only backs the change events'
    consumer off, so that a handler of the one must never catch the other.
    """


class NotFound(RegistryError):
    """The function, version or alias does not exist."""


class Conflict(RegistryError):
    """Lambda refused because of the resource's current state (ResourceConflictException)."""


class UpdateInProgress(Conflict):
    """``$LATEST`` is being created or updated; the call can succeed once the update finishes."""


class PreconditionFailed(RegistryError):
    """A ``RevisionId`` or ``CodeSha256`` precondition did not hold: the function changed."""


class InvalidRequest(RegistryError):
    """Lambda refused the request itself (ValidationException, InvalidParameterValueException)."""


class AccessDenied(RegistryError):
    """The credentials are missing, invalid, or not allowed to make this call."""


class RetryableError(RegistryError):
    """A failure that says nothing about the request: the same call may succeed later."""


class Throttled(RetryableError):
    """Lambda's request-rate quota was exceeded (TooManyRequestsException, HTTP 429)."""


class Transient(RetryableError):
    """A server error, a timeout or a connection failure."""
