"""In-process host: the card and the terminal share one Python process.

The simulated device (NFC present and on, HCE supported, default payment
app, AID registration outcome) is plain data so tests can reach every WeChat
error code. The terminal side, :class:`~hcekit.terminal.LoopbackTransport`,
calls the host's ``field_on``/``transceive``/``field_off`` directly.
"""

from __future__ import annotations

from .base import SimulatedDeviceHost

__all__ = ["LoopbackHost"]


class LoopbackHost(SimulatedDeviceHost):
    """Runs a card in-process."""

    def start(self) -> None:
        """Check the simulated device as Android would before serving the claims."""
        self.check_claims()
