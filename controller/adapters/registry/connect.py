"""Opening the registry named on the command line: ``aws`` or ``emulated:FILE``.

``emulated:FILE`` starts the emulated registry in this process, on a free loopback port, and
talks to it through the very same boto3 adapter as AWS, with placeholder credentials so that no
real credential is ever sent to it. Only a command that writes may create FILE: a read-only
command (``plan``, ``registry show``, ``diff --live``) given a path that does not exist would
otherwise leave an empty registry behind and report on it, so a mistyped path looked like a
registry with no functions.
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
from lambda_emulator import EmulatorServer, StateFileMissing

EMULATED_PREFIX = "emulated:"


@contextmanager
def open_registry(
    spec: str,
    *,
    region: str,
    settings: AwsSettings | None = None,
    observer: RegistryObserver | None = None,
    create_state: bool = False,
) -> Iterator[AwsRegistry]:
    """The registry ``spec`` names, ready to use until the block ends.

    ``create_state`` lets ``emulated:FILE`` create FILE when it does not exist, for the
    commands that write (``reconcile --once``, ``run``); without it a missing FILE is a
    ``ConfigurationError`` that says how to make one.
    """
    settings = settings or AwsSettings()
    if spec == "aws":
        yield AwsRegistry(settings, session=boto3.Session(region_name=region), observer=observer)
        return
    if not spec.startswith(EMULATED_PREFIX) or not spec.removeprefix(EMULATED_PREFIX):
        raise ConfigurationError(
            f"--registry {spec!r} is not a registry: use 'aws' or 'emulated:FILE' "
            "(FILE is the emulated registry's SQLite state)"
        )
    state = Path(spec.removeprefix(EMULATED_PREFIX))
    server = EmulatorServer(state, create_state=create_state)
    try:
        server.start()
    except StateFileMissing as missing:
        raise ConfigurationError(
            f"--registry {spec}: {missing}, and this command only reads the registry; create "
            f"one with `lambda-gitops emulator load SEED --state {state}` or `lambda-gitops "
            f"emulator create-function NAME --state {state}` (reconcile --once and run create "
            "it too)"
        ) from missing
    try:
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
    finally:
        server.stop()
