"""In-process host: the card and the terminal share one Python process.

The simulated device (NFC present and on, HCE supported, default payment
app, AID registration outcome) is plain data so tests can reach every WeChat
error code.
"""

from __future__ import annotations

from ..events import DeactivationReason
from .base import SimulatedDeviceHost

__all__ = ["LoopbackHost"]


class LoopbackHost(SimulatedDeviceHost):
    """Runs a card in-process; the terminal side is :class:`~hcekit.terminal.LoopbackTransport`."""

    def start(self) -> None:
        """Check the simulated device as Android would before serving the claims."""
        self.check_claims()

    # transport side, used by LoopbackTransport
    def field_on(self) -> None:
        self.card.field_on()

    def field_off(self, reason: DeactivationReason = DeactivationReason.LINK_LOSS) -> None:
        self.card.field_off(reason)

    def transceive(self, command: bytes) -> bytes:
        return self.card.transceive(command)
