"""What a terminal needs from a reader: connect (field on), transmit, disconnect, close."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Transport"]


@runtime_checkable
class Transport(Protocol):
    """A reader talking to one card. ``connect``/``disconnect`` bound one tap."""

    #: Readable name for logs ("loopback", a PC/SC reader name, …).
    name: str

    def connect(self) -> None:
        """Start a tap: power the field / connect to the card."""
        ...

    def disconnect(self) -> None:
        """End the tap: the card sees the field go away."""
        ...

    def transmit(self, command: bytes) -> bytes:
        """Send one command APDU, return the raw response APDU (data + SW1 SW2)."""
        ...

    def close(self) -> None:
        """Release what the transport holds (a PC/SC context); ``connect`` makes it again.

        ``Terminal.tap()`` calls it after every tap; transports are context
        managers that call it too.
        """
        ...
