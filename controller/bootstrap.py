"""The composition root: from settings to a registry, declarations and a code reader.

The command line and, later, the long-running loop build their collaborators here and nowhere
else, so that the core modules never read settings or the environment themselves. It is also
where the secrets are known all at once (the Git token, the credentials in ``--repo``, the
webhook secret), so it hands them to the log's masking and masks ``/status`` with them.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from controller.adapters.analysis.cloudwatch import CloudWatchAnalysis, cloudwatch_clients
from controller.adapters.analysis.prometheus import PrometheusAnalysis
from controller.adapters.events.sqs import SqsQueue
from controller.adapters.git import is_remote, redact
from controller.adapters.git.credentials import GitCredentials, secrets_of
from controller.adapters.git.reader import CommitCodeReader, load_commit, load_folder
from controller.adapters.http.server import ControllerServer
from controller.adapters.kube.port import LeaseStore
from controller.adapters.logging import LogSettings, get_logger, no_color
from controller.adapters.logging import configure as configure_structlog
from controller.adapters.metrics import Metrics
from controller.adapters.registry.aws import AwsRegistry
from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.connect import open_registry
from controller.adapters.registry.port import Registry, RegistryObserver
from controller.core.declarations import Declarations
from controller.core.sharding import SHARDS_LABEL, Sharding, lease_labels, lease_name
from controller.engine.analyst import Analyst
from controller.engine.applier import CodeReader
from controller.engine.events import EventConsumer
from controller.engine.fence import FencedRegistry, WriteFence
from controller.engine.leader import SHARD, Candidate, LeaderElector, run_alone, run_elected
from controller.engine.loop import Controller
from controller.engine.sharding import (
    FetchRelay,
    OwnedDeclarations,
    TopologyGate,
    sharded_status,
)
from controller.errors import ConfigurationError
from controller.redaction import Redactor, url_secrets
from controller.settings import Settings

EMULATOR_LOGGER = "lambda_emulator"
"""The emulated registry's standard-library logger: it runs in this process for
``emulated:FILE``, and its lines are routed like the controller's own."""


def configure_logging(
    log: LogSettings, *, secrets: Iterable[str] = (), environ: Mapping[str, str] | None = None
) -> None:
    """How every command logs, once, before it does anything that logs: to stderr, at
    ``log.level``, in ``log.format``, masking ``secrets``, without colour when ``environ``
    (the process's) sets ``NO_COLOR``."""
    configure_structlog(
        log.format,
        level=log.level,
        secrets=secrets,
        colour=not no_color(os.environ if environ is None else environ),
        stdlib_loggers=(EMULATOR_LOGGER,),
    )


def command_secrets(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """What a command other than ``run`` masks in its log: the credentials written into
    ``--repo`` and the Git token of the environment. No file is read for it: a command that
    does not use the token file must not fail because it cannot be read."""
    credentials = GitCredentials.from_environment(os.environ if environ is None else environ)
    return secrets_of(settings.repo, credentials)


@contextmanager
def registry_for(
    settings: Settings, *, observer: RegistryObserver | None = None, writes: bool = False
) -> Iterator[AwsRegistry]:
    """The registry the settings name, open until the block ends.

    ``writes`` is for the commands that write to it (``reconcile --once``, ``run``): only they
    may create the state file of an ``emulated:FILE`` registry; a read-only command refuses a
    FILE that does not exist rather than leave an empty registry behind and report on it.
    """
    with open_registry(
        settings.registry,
        region=settings.region,
        settings=settings.aws,
        observer=observer,
        create_state=writes,
    ) as registry:
        yield registry


def declarations_for(
    settings: Settings, *, account: str | None = None
) -> tuple[Declarations, CodeReader]:
    """The declarations at the configured ref of the local repository, and a reader of the
    deployment packages at that same commit. ``account`` is what a bare function name means
    (``settings.account`` when not given); see ``AwsRegistry.caller_account``."""
    repo = _local_clone(settings)
    loaded = load_commit(
        repo,
        settings.ref,
        settings.path,
        default_region=settings.region,
        default_account=account or settings.account,
        extra_regions=settings.extra_regions,
    )
    return loaded, CommitCodeReader(repo, loaded.revision)


def worktree_declarations_for(
    settings: Settings, *, account: str | None = None
) -> tuple[Declarations, Path]:
    """The declarations as the files under ``--path`` of the local clone are on disk, edits
    that nobody committed included, for ``plan --worktree``; and the folder that was read.

    Nothing is ever applied from here: the controller applies commits only (DESIGN), so no code
    reader is offered with these declarations."""
    repo = _local_clone(settings)
    folder = repo / settings.path if settings.path else repo
    loaded = load_folder(
        folder,
        root=repo,
        default_region=settings.region,
        default_account=account or settings.account,
        extra_regions=settings.extra_regions,
    )
    return loaded, folder


def _local_clone(settings: Settings) -> Path:
    if is_remote(settings.repo):
        raise ConfigurationError(
            f"--repo {redact(settings.repo)!r}: this command reads a local clone; clone the "
            "repository and pass its path"
        )
    return Path(settings.repo)


@dataclass(frozen=True, slots=True)
class MetricsObserver:
    """Passes the registry's calls on to the metrics, so the registry need not know them."""

    metrics: Metrics

    def request(self, operation: str, outcome: str, seconds: float) -> None:
        self.metrics.registry_request(operation, outcome, seconds)

    def throttled(self, operation: str) -> None:
        self.metrics.registry_throttled(operation)


def run_controller(settings: Settings, stop: threading.Event) -> bool:
    """Run the controller until ``stop`` is set, then give in-flight calls the grace period.

    It configures the log itself (``run`` leaves that to it), because it is here that every
    secret is known: the token file and the webhook secret as well.

    True when the loop finished within it; False when a pass was still running, which the
    caller must not wait for (its threads are daemons, or the process would outlive SIGTERM).
    """
    credentials = settings.git.credentials(os.environ)
    webhook_secret = settings.http.webhook_secret()
    secrets = secrets_of(settings.repo, credentials)
    if webhook_secret is not None:
        secrets.append(webhook_secret.decode("utf-8", "replace"))
    prometheus_token = settings.analysis.prometheus_token()
    if prometheus_token is not None:
        secrets.append(prometheus_token)
    if settings.analysis.prometheus_url is not None:
        secrets.extend(url_secrets(settings.analysis.prometheus_url))
    configure_logging(settings.logging, secrets=secrets)
    log = get_logger("controller")
    metrics = Metrics()
    source = settings.git.open(credentials)
    host, port = settings.http.address()
    shard = settings.shard(os.environ)
    candidate = _candidate(settings, shard)
    with registry_for(settings, observer=MetricsObserver(metrics), writes=True) as aws:
        fence = WriteFence(candidate.lease) if candidate is not None else None
        # The fence right in front of the adapter, behind the version cache: each write asks it
        # last, and the loop still sees the cache it reads through.
        fenced: Registry = aws if fence is None else FencedRegistry(aws, fence)
        registry = CachingRegistry(fenced, version_resync_seconds=settings.version_resync_interval)
        account = aws.caller_account()
        owned = None
        if shard is not None:
            owned = OwnedDeclarations(sharding_for(settings, account), shard, metrics)
        controller = Controller(
            replace(settings.loop, owned=owned),
            source,
            registry,
            metrics,
            account=account,
            analyst=analyst_for(settings, metrics, token=prometheus_token),
        )
        events = event_consumer_for(settings, controller, metrics, aws, shard=shard)
        # The change events are consumed where the loop runs: only on the leader, while it leads.
        loop_with_events = controller.run if events is None else events.beside(controller.run)
        elector, relay = _elector_of(candidate, fence, settings, metrics, controller)
        server = ControllerServer(
            host,
            port,
            metrics=metrics.registry,
            status=_masked(
                _with_events(_status_of(controller, elector, owned), events), Redactor(secrets)
            ),
            healthy=_either(elector, controller.healthy, lambda e: e.alive()),
            ready=_either(elector, controller.ready, lambda e: e.reached()),
            on_push=_relayed(_either_push(elector, controller.webhook), relay),
            webhook_secret=webhook_secret,
        )
        with server:
            log.info(
                "controller started",
                url=server.url,
                repository=source.display_url,
                ref=settings.ref,
                mode=settings.mode,
                registry=settings.registry,
                account=account or "unknown",
                leader_election=_election_line(candidate),
                **({"shard": f"{shard} of {settings.shards}"} if shard is not None else {}),
                events=[queue.url for queue in events.queues] if events is not None else "off",
            )
            wake_loop = functools.partial(controller.trigger.fire, "stop")
            if elector is not None:
                return run_elected(
                    elector,
                    loop_with_events,
                    stop,
                    shutdown_grace=settings.shutdown_grace,
                    wake_loop=wake_loop,
                )
            return run_alone(
                loop_with_events, stop, shutdown_grace=settings.shutdown_grace, wake_loop=wake_loop
            )


def _candidate(settings: Settings, shard: int | None) -> Candidate | None:
    """This replica in the election of its shard's Lease (``core.sharding.lease_name``), with
    leader election on; sharding without it is refused, since only the Leases keep two
    topologies from writing at once."""
    election = settings.leader_election
    if not election.enabled:
        if shard is not None:
            raise ConfigurationError(
                f"shards {settings.shards} needs leader election: each shard elects its leader "
                "over a Lease of its own, which is also what keeps the shards of two topologies "
                "from writing at once; set leader_election.enabled "
                "(LAMBDA_GITOPS_LEADER_ELECTION__ENABLED=true)"
            )
        return None
    candidate = election.candidate(os.environ)
    index = shard if shard is not None else 0
    return replace(
        candidate,
        lease_name=lease_name(election.lease_name, index, settings.shards),
        shard=str(index),
    )


def sharding_for(settings: Settings, account: str | None) -> Sharding:
    """The settings' shards over the fleet of ``account``, the controller's own account, which
    must be known: two shards that learned it differently would both take a bare function name
    for theirs."""
    if account is None:
        raise ConfigurationError(
            f"shards {settings.shards}: which shard owns a bare function name depends on the "
            "controller's account, and STS did not tell it; set account "
            "(LAMBDA_GITOPS_ACCOUNT) to the 12-digit account of the credentials"
        )
    return Sharding(settings.shards, account, settings.region)


def _elector_of(
    candidate: Candidate | None,
    fence: WriteFence | None,
    settings: Settings,
    metrics: Metrics,
    controller: Controller,
) -> tuple[LeaderElector | None, FetchRelay | None]:
    """With leader election, the elector of this replica and, with sharding, the relay of a
    push to the other shards; without, nothing (and this process leads, alone)."""
    if candidate is None or fence is None:
        metrics.leadership(SHARD, leading=True)
        return None, None
    leases, gate, relay = _election_of(candidate, settings)
    elector = LeaderElector(
        leases,
        candidate,
        fence,
        metrics=metrics,
        on_fetch_requested=controller.webhook,
        gate=gate,
    )
    return elector, relay


def _election_of(
    candidate: Candidate, settings: Settings
) -> tuple[LeaseStore, TopologyGate, FetchRelay | None]:
    """Through the Kubernetes API (configured from the kubeconfig, the environment or the pod's
    service account): the candidate's Lease, labelled as its installation's and topology's; the
    topology rule over the installation's Leases; and, with sharding, the relay of a push to the
    other shards' Leases."""
    # Imported here: the kubernetes client is slow to import, and only leader election needs it.
    from controller.adapters.kube.leases import (  # noqa: PLC0415
        KubeLeaseDirectory,
        KubeLeases,
        api_client,
    )

    election = settings.leader_election
    api = api_client(election.kubeconfig, os.environ)
    labels = lease_labels(election.lease_name, settings.shards)
    leases = KubeLeases(api, candidate.lease_name, candidate.namespace, labels=labels)
    group = {key: value for key, value in labels.items() if key != SHARDS_LABEL}
    gate = TopologyGate(
        KubeLeaseDirectory(api, candidate.namespace, group),
        settings.shards,
        lease_duration=candidate.timings.lease_duration,
    )
    others = [
        KubeLeases(api, name, candidate.namespace, labels=labels)
        for index in range(settings.shards)
        if (name := lease_name(election.lease_name, index, settings.shards)) != candidate.lease_name
    ]
    relay = FetchRelay(others, timeout=election.retry_period) if others else None
    return leases, gate, relay


def _election_line(candidate: Candidate | None) -> str:
    if candidate is None:
        return "off"
    return f"{candidate.identity} for the Lease {candidate.lease}"


def _status_of(
    controller: Controller, elector: LeaderElector | None, owned: OwnedDeclarations | None
) -> Callable[[], Mapping[str, Any]]:
    """``/status``: the loop's document, with leader election who leads and since when (a
    follower's loop has not run, so it says only that), and with sharding which shard this is."""
    status: Callable[[], Mapping[str, Any]] = controller.state.as_json
    if elector is not None:

        def elected() -> Mapping[str, Any]:
            return {**controller.state.as_json(), "leaderElection": elector.status()}

        status = elected
    if owned is not None:
        status = sharded_status(status, owned.sharding, owned.shard)
    return status


def _with_events(
    status: Callable[[], Mapping[str, Any]], events: EventConsumer | None
) -> Callable[[], Mapping[str, Any]]:
    """``/status`` with, when change events are on, how their queues stand (``changeEvents``)."""
    if events is None:
        return status

    def with_events() -> Mapping[str, Any]:
        return {**status(), "changeEvents": events.status()}

    return with_events


def _either(
    elector: LeaderElector | None,
    leader: Callable[[], bool],
    follower: Callable[[LeaderElector], bool],
) -> Callable[[], bool]:
    """A probe that asks the loop while this replica leads (or runs alone), and the elector
    while it follows: a follower is alive while it keeps trying, and ready once it has read the
    Lease, so that a rolling update and the Service count it."""
    if elector is None:
        return leader

    def probe() -> bool:
        return leader() if elector.leading else follower(elector)

    return probe


def _relayed(push: Callable[[], None], relay: FetchRelay | None) -> Callable[[], None]:
    """The webhook of a shard: its own shard fetches (``push``), and the others are told."""
    if relay is None:
        return push

    def push_everywhere() -> None:
        push()
        relay.relay()

    return push_everywhere


def _either_push(elector: LeaderElector | None, fetch: Callable[[], None]) -> Callable[[], None]:
    """The webhook: the leader fetches; a follower passes the push on through the Lease."""
    if elector is None:
        return fetch

    def push() -> None:
        if elector.leading:
            fetch()
        else:
            elector.request_fetch()

    return push


def event_consumer_for(
    settings: Settings,
    controller: Controller,
    metrics: Metrics,
    registry: AwsRegistry,
    *,
    shard: int | None = None,
) -> EventConsumer | None:
    """The consumer of the configured change-event queues (``shard``'s own, with sharding), or
    ``None`` without any. It knows the controller's own writes by the identity of
    ``registry``, the adapter that signs them."""
    events = settings.events
    if not events.queue_urls:
        return None
    queues = [
        SqsQueue(
            address,
            endpoint_url=events.endpoint_url,
            wait_seconds=events.wait_time,
            max_messages=events.max_messages,
        )
        for address in events.addresses(settings.region, shard)
    ]
    return EventConsumer(
        queues, controller, metrics, writer=registry.writer_identity, settings=events.consumer
    )


def analyst_for(settings: Settings, metrics: Metrics, *, token: str | None = None) -> Analyst:
    """What runs rollouts' checks: CloudWatch unless turned off, Prometheus when configured."""
    sources = settings.analysis
    cloudwatch = None
    if sources.cloudwatch:
        clients = cloudwatch_clients(sources.cloudwatch_endpoint_url)
        cloudwatch = CloudWatchAnalysis(clients, metric_delay=sources.metric_delay)
    prometheus = None
    if sources.prometheus_url is not None:
        prometheus = PrometheusAnalysis(sources.prometheus_url, bearer_token=token)
    return Analyst(cloudwatch=cloudwatch, prometheus=prometheus, on_check=metrics.analysis_check)


def _masked(
    status: Callable[[], Mapping[str, Any]], redactor: Redactor
) -> Callable[[], Mapping[str, Any]]:
    """``status`` with every string in its document masked: an error quoted there (a source or
    registry error, a declaration's) may carry what no one should read over HTTP."""

    def masked_status() -> Mapping[str, Any]:
        return redactor.mask_mapping(status())

    return masked_status
