"""Test helpers for plugin authors (the pytest plugin lives in :mod:`.pytest_plugin`)."""

from .loopback import LoopbackRig, loopback_rig

__all__ = ["LoopbackRig", "loopback_rig"]
