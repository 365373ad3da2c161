"""Secure-messaging sessions: the send sequence counter and the two roles.

* :class:`CardSession` is the card side. It implements the core's
  :class:`~hcekit.channel.SecureChannel`: install it with
  ``app.secure_channel = CardSession(suite, ssc)`` and the card unwraps every
  command before ``hcekit_process`` and wraps every answer after it.
* :class:`TerminalSession` is the reader side: ``session.transmit(terminal,
  command)`` wraps, sends, and unwraps, so a terminal script handles plain
  APDUs too.

SSC rules (ICAO 9303 Part 11 §9.8.2, ISO/IEC 7816-4): both sides start from
the same value agreed during authentication and increment it (modulo its
width) before protecting or verifying each command and each response. The
counter makes every MAC unique to its position, so a replayed or reordered
APDU fails its MAC. After any SM error a session is closed for good (ICAO:
the chip ends the session; the core also drops ``app.secure_channel``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..apdu import CommandApdu, ResponseApdu
from . import iso7816
from .errors import SmError, incorrect
from .suites import CipherSuite

if TYPE_CHECKING:
    from ..terminal.terminal import Terminal

__all__ = ["CardSession", "TerminalSession", "SendSequenceCounter"]


class SendSequenceCounter:
    """A big-endian counter as wide as the suite's block, incremented per message."""

    __slots__ = ("_modulus", "_value", "_width")

    def __init__(self, initial: bytes) -> None:
        if not initial:
            raise ValueError("the SSC needs at least one byte")
        self._width = len(initial)
        self._modulus = 1 << (8 * self._width)
        self._value = int.from_bytes(initial, "big")

    def next(self) -> bytes:
        """Increment, then return the value for this message."""
        self._value = (self._value + 1) % self._modulus
        return self._value.to_bytes(self._width, "big")

    @property
    def value(self) -> bytes:
        return self._value.to_bytes(self._width, "big")

    def __repr__(self) -> str:
        return "SendSequenceCounter(<hidden>)"


class _Session:
    __slots__ = ("closed", "messages", "require_header_auth", "ssc", "suite")

    def __init__(self, suite: CipherSuite, ssc: bytes, *,
                 require_header_auth: bool = True) -> None:
        if len(ssc) != suite.block_size:
            raise ValueError(f"{suite.name} needs a {suite.block_size}-byte SSC, got {len(ssc)}")
        self.suite = suite
        self.ssc = SendSequenceCounter(ssc)
        #: True once an SM error ended the session; every later call raises.
        self.closed = False
        #: Protected messages handled (commands and responses), for diagnostics.
        self.messages = 0
        #: Refuse commands whose class byte leaves the header unauthenticated.
        self.require_header_auth = require_header_auth

    def _check_open(self) -> None:
        if self.closed:
            raise incorrect("the secure session has ended after an SM error")

    def close(self) -> None:
        """End the session (e.g. on deselect); later calls raise 6988."""
        self.closed = True

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"{type(self).__name__}({self.suite.name}, {state}, messages={self.messages})"


class CardSession(_Session):
    """Card-side ISO/IEC 7816-4 SM session (a :class:`~hcekit.channel.SecureChannel`)."""

    __slots__ = ()

    def unwrap_command(self, command: CommandApdu) -> CommandApdu:
        self._check_open()
        try:
            plain = iso7816.unwrap_command(self.suite, self.ssc.next(), command,
                                           require_header_auth=self.require_header_auth)
        except SmError:
            self.closed = True
            raise
        self.messages += 1
        return plain

    def wrap_response(self, command: CommandApdu, response: ResponseApdu) -> ResponseApdu:
        self._check_open()
        wrapped = iso7816.wrap_response(self.suite, self.ssc.next(), command, response)
        self.messages += 1
        return wrapped


class TerminalSession(_Session):
    """Reader-side ISO/IEC 7816-4 SM session."""

    __slots__ = ()

    def wrap_command(self, command: CommandApdu) -> CommandApdu:
        self._check_open()
        if iso7816.is_protected(command):  # refuse before the counter moves
            raise ValueError(f"command already announces secure messaging (CLA {command.cla:02X})")
        if self.require_header_auth and not iso7816.authenticates_header(command.cla):
            raise ValueError(f"CLA {command.cla:02X} cannot authenticate the command header")
        wrapped = iso7816.wrap_command(self.suite, self.ssc.next(), command,
                                       require_header_auth=self.require_header_auth)
        self.messages += 1
        return wrapped

    def unwrap_response(self, response: ResponseApdu) -> ResponseApdu:
        self._check_open()
        try:
            plain = iso7816.unwrap_response(self.suite, self.ssc.next(), response)
        except SmError:
            self.closed = True
            raise
        self.messages += 1
        return plain

    def transmit(self, terminal: Terminal, command: CommandApdu | bytes | str) -> ResponseApdu:
        """Protect *command*, send it through *terminal*, verify and return the plain answer.

        Raises :class:`~hcekit.sm.SmError` if the card rejected the command or
        its answer fails verification; the session is then closed.
        """
        if isinstance(command, str):
            command = CommandApdu.from_hex(command)
        elif isinstance(command, bytes | bytearray):
            command = CommandApdu.parse(bytes(command))
        with terminal.sensitive():  # a secure channel is redacted on both sides
            response = terminal.transmit(self.wrap_command(command))
        return self.unwrap_response(response)
