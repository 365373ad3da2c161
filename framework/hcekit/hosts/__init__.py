"""Hosts connect a :class:`~hcekit.card.Card` to a transport. They do I/O only."""

from .base import Host
from .loopback import LoopbackHost

__all__ = ["Host", "LoopbackHost"]
