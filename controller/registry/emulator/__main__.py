"""Run the emulator commands on their own: ``python -m controller.registry.emulator serve ...``."""

from controller.registry.emulator.cli import emulator_group

emulator_group(prog_name="emulator")
