"""Driving the shim on a desktop JVM as Android's NFC stack would (tests, benchmarks).

:class:`NfcStackTransport` is a :class:`~hcekit.terminal.Transport` over the
Java ``org.hcekit.desktop.NfcStack``, so any hcekit terminal script can talk
to a card through the real shim and the real pyjnius bridge.
"""

from __future__ import annotations

from typing import Any

from hcekit.errors import HcekitError
from hcekit.events import DeactivationReason

__all__ = ["NfcStackTransport", "new_service"]

SERVICE = "org.hcekit.android.HcekitApduService"
NFC_STACK = "org.hcekit.desktop.NfcStack"


def new_service() -> tuple[Any, Any]:
    """A fresh ``HcekitApduService`` instance and the ``NfcStack`` playing Android for it."""
    from jnius import autoclass

    service = autoclass(SERVICE)()
    return service, autoclass(NFC_STACK)(service)


class NfcStackTransport:
    """A reader talking to the shim: commands in on the "main" thread, answers out."""

    def __init__(self, stack: Any, *, timeout_ms: int = 5000, name: str = "desktop-jvm") -> None:
        self.stack = stack
        self.timeout_ms = timeout_ms
        self.name = name

    def connect(self) -> None:
        """Android has no field-on event for HCE; the first command starts the tap."""

    def disconnect(self) -> None:
        self.stack.deactivate(int(DeactivationReason.LINK_LOSS))

    def transmit(self, command: bytes) -> bytes:
        answer = self.stack.transceive(command, self.timeout_ms)
        if answer is None:
            raise HcekitError(f"no answer from the HCE service within {self.timeout_ms} ms")
        return bytes(answer)
