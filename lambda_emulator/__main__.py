"""Run the emulator commands on their own: ``python -m lambda_emulator serve ...``."""

from lambda_emulator.cli import emulator_group

emulator_group(prog_name="emulator")
