"""The registry layer: every call the controller makes to Lambda goes through ``Registry``."""

from controller.adapters.registry.port import Registry, observe

__all__ = ["Registry", "observe"]
