"""Driving the shim on a desktop JVM as Android's NFC stack would (tests, benchmarks).

The JVM side is ``org.hcekit.desktop``: ``Phone`` (the device, the installed
services, the apps' main threads) and ``NfcStack`` (AOSP's HostEmulationManager
on an "nfc" thread, and the reader). :class:`NfcStackTransport` is a
:class:`~hcekit.terminal.Transport` over that reader, so any hcekit terminal
script talks to a card through the real shim and the real pyjnius bridge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hcekit.errors import HcekitError
from hcekit.polling import PollingFrame

from .bridge import SERVICE_CLASS
from .observe import encode_frames

__all__ = ["NfcStackTransport", "phone", "reset_phone", "install_service", "nfc_stack"]

PHONE = "org.hcekit.desktop.Phone"


def phone() -> Any:
    """The simulated ``Phone`` (imports jnius: start the desktop JVM first)."""
    from jnius import autoclass

    return autoclass(PHONE).get()


def reset_phone() -> Any:
    """A fresh phone (new app and NFC threads, nothing installed)."""
    from jnius import autoclass

    return autoclass(PHONE).reset()


def install_service(aid_xml: str | None = None, *, service_class: str = SERVICE_CLASS,
                    process: str = "") -> Any:
    """Install the app's HCE service as its manifest would declare it; its ``ServiceRecord``.

    *aid_xml* is the ``host-apdu-service`` resource (None: no aid-group, dynamic AIDs only).
    """
    current = phone()
    return current.installService(current.packageName, service_class, aid_xml, process)


def nfc_stack() -> Any:
    """The phone's ``NfcStack``: the NFC service plus the reader."""
    return phone().nfc()


class NfcStackTransport:
    """A reader talking to the phone through the NFC stack model."""

    def __init__(self, stack: Any, *, timeout_ms: int = 5000, name: str = "desktop-jvm") -> None:
        self.stack = stack
        self.timeout_ms = timeout_ms
        self.name = name

    def connect(self) -> None:
        """Android has no field-on event for HCE; the first command starts the tap."""

    def disconnect(self) -> None:
        self.stack.fieldOff()

    def poll(self, frames: Sequence[PollingFrame]) -> bool:
        """The reader's polling loop (Android 15+); True if the phone now answers the reader."""
        self.stack.poll(len(frames), encode_frames(frames))
        return not bool(phone().observeModeEnabled())

    def transmit(self, command: bytes) -> bytes:
        answer = self.stack.transceive(command, self.timeout_ms)
        if answer is None:
            raise HcekitError(f"no answer from the phone within {self.timeout_ms} ms "
                              "(Android has no timeout of its own: the reader gave up)")
        return bytes(answer)

    def close(self) -> None:
        """The stack is the phone's: nothing to release per tap."""
