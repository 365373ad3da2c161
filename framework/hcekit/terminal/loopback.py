"""Terminal transport to a card in the same process."""

from __future__ import annotations

from collections.abc import Sequence

from ..hosts.loopback import LoopbackHost
from ..polling import PollingFrame

__all__ = ["LoopbackTransport"]


class LoopbackTransport:
    """Drives a :class:`LoopbackHost` directly (field events and APDUs)."""

    def __init__(self, host: LoopbackHost) -> None:
        self.host = host
        self.name = "loopback"

    def connect(self) -> None:
        self.host.field_on()

    def disconnect(self) -> None:
        self.host.field_off()

    def transmit(self, command: bytes) -> bytes:
        return self.host.transceive(command)

    def poll(self, frames: Sequence[PollingFrame]) -> bool:
        """The reader's polling loop before activation (see ``Terminal.poll``)."""
        return self.host.poll(frames)

    def close(self) -> None:
        """Nothing to release in-process (the card is its owner's to close)."""

    def __enter__(self) -> LoopbackTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
