"""The composition root: from settings to a registry, declarations and a code reader.

The command line and, later, the long-running loop build their collaborators here and nowhere
else, so that the core modules never read settings or the environment themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from controller import declarations
from controller.applier import CodeReader
from controller.declarations import Declarations
from controller.errors import ConfigurationError
from controller.registry.aws import AwsRegistry, AwsSettings
from controller.registry.connect import open_registry
from controller.settings import Settings


@contextmanager
def registry_for(settings: Settings) -> Iterator[AwsRegistry]:
    """The registry the settings name, open until the block ends."""
    aws = AwsSettings(
        endpoint_url=settings.endpoint_url,
        retry_mode=settings.retry_mode,
        max_attempts=settings.max_attempts,
    )
    with open_registry(settings.registry, region=settings.region, settings=aws) as registry:
        yield registry


def declarations_for(settings: Settings) -> tuple[Declarations, CodeReader]:
    """The declarations at the configured ref of the local repository, and a reader of the
    deployment packages at that same commit."""
    repo = Path(settings.repo)
    if "://" in settings.repo or settings.repo.startswith("git@"):
        raise ConfigurationError(
            f"--repo {settings.repo!r}: this command reads a local clone; clone the repository "
            "and pass its path"
        )
    loaded = declarations.load_commit(
        repo, settings.ref, settings.path, default_region=settings.region
    )
    return loaded, declarations.CommitCodeReader(repo, loaded.revision)
