"""The emulated Lambda registry: an HTTP endpoint that boto3 and the AWS CLI use unchanged.

It follows every rule of LAMBDA_RULES.md, keeps its state in one SQLite file that several
processes may share, and can inject latency, throttling, update windows and transient errors.
``EmulatorServer`` is the endpoint; ``EmulatorStore`` is the same registry without HTTP, which the
``emulator`` commands use to change it out of band.
"""

from lambda_emulator.configuration import Configuration, ConfigurationChange
from lambda_emulator.database import StateFileMissing
from lambda_emulator.faults import Faults
from lambda_emulator.server import EmulatorServer
from lambda_emulator.store import (
    AliasConfig,
    Caller,
    EmulatorStore,
    FunctionDetails,
    Page,
    VersionConfig,
    WriteRecord,
)
from lambda_emulator.validation import LambdaApiError

__all__ = [
    "AliasConfig",
    "Caller",
    "Configuration",
    "ConfigurationChange",
    "EmulatorServer",
    "EmulatorStore",
    "Faults",
    "FunctionDetails",
    "LambdaApiError",
    "Page",
    "StateFileMissing",
    "VersionConfig",
    "WriteRecord",
]
