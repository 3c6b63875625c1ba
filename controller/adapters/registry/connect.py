"""Opening the registry named on the command line: ``aws`` or ``emulated:FILE``.

``emulated:FILE`` starts the emulated registry in this process, on a free loopback port, and
talks to it through the very same boto3 adapter as AWS, with placeholder credentials so that no
real credential is ever sent to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import boto3

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.port import RegistryObserver
from controller.errors import ConfigurationError
from lambda_emulator import EmulatorServer

EMULATED_PREFIX = "emulated:"


@contextmanager
def open_registry(
    spec: str,
    *,
    region: str,
    settings: AwsSettings | None = None,
    observer: RegistryObserver | None = None,
) -> Iterator[AwsRegistry]:
    """The registry ``spec`` names, ready to use until the block ends."""
    settings = settings or AwsSettings()
    if spec == "aws":
        yield AwsRegistry(settings, session=boto3.Session(region_name=region), observer=observer)
        return
    if not spec.startswith(EMULATED_PREFIX) or not spec.removeprefix(EMULATED_PREFIX):
        raise ConfigurationError(
            f"--registry {spec!r} is not a registry: use 'aws' or 'emulated:FILE' "
            "(FILE is the emulated registry's SQLite state, created if absent)"
        )
    state = Path(spec.removeprefix(EMULATED_PREFIX))
    with EmulatorServer(state) as server:
        session = boto3.Session(
            aws_access_key_id="emulated",
            aws_secret_access_key="emulated",  # noqa: S106 - the emulator checks no signature
            region_name=region,
        )
        emulated = replace(
            settings,
            endpoint_url=server.endpoint_url,
            account=server.account,  # what a bare name means to the emulator
            update_poll_seconds=min(settings.update_poll_seconds, 0.2),
        )
        yield AwsRegistry(emulated, session=session, observer=observer)
