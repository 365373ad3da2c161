"""The seam between the router and secure messaging.

A plugin opts into secure messaging by installing a :class:`SecureChannel` on
its application context (``app.secure_channel = session``). From then on the
card core calls :meth:`SecureChannel.unwrap_command` on every command for that
application before ``hcekit_process`` and :meth:`SecureChannel.wrap_response`
on the answer, so personality code handles plain APDUs. ``hcekit.sm`` provides
ISO/IEC 7816-4 implementations; a plugin may bring its own.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .apdu import CommandApdu, ResponseApdu

__all__ = ["SecureChannel"]


@runtime_checkable
class SecureChannel(Protocol):
    """Card-side secure messaging session for one selected application."""

    def unwrap_command(self, command: CommandApdu) -> CommandApdu:
        """Verify and decrypt a protected command; return the plain command.

        Raise :class:`~hcekit.errors.IsoError` with 6987 (SM data objects
        missing) or 6988 (SM data objects incorrect, e.g. a bad MAC or a
        replayed counter). The core then drops the channel (ICAO 9303: the
        session ends on an SM error) and answers that status word in plain.
        """
        ...

    def wrap_response(self, command: CommandApdu, response: ResponseApdu) -> ResponseApdu:
        """Protect *response* to the plain *command*; return the wire response."""
        ...
