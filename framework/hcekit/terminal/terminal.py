"""The reader-side API terminal scripts are written against.

``Terminal`` adds what real readers do on top of a raw transport: GET
RESPONSE after 61xx and a re-send after 6Cxx (both switchable off), a
``tap()`` context manager for one field-on … field-off, an optional APDU
log, and ``poll()``: the polling loop a reader sends before its first APDU
(Android 15 observe mode, :mod:`hcekit.polling`) where the transport carries
one (loopback). The same script runs over loopback, over PC/SC against the
virtual card, and over PC/SC against a real phone.

Reader-side redaction: over a reader the terminal has no card whose marks
say what is secret, so scripts mark what they read as the card would
(:meth:`Terminal.mark_secret` for a PAN or track 2, :meth:`Terminal.mark_sensitive`
and :meth:`Terminal.sensitive` for keys, cryptograms and secure-channel
exchanges). ``on_trace`` therefore sees each exchange one step late: when
the script sends its next command or the tap ends, after it had the chance
to mark what the answer held.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..apdu import INS_GET_RESPONSE, CommandApdu, ResponseApdu
from ..errors import HcekitError
from ..polling import FrameType, PollingFrame, PollingUnsupportedError
from ..sensitivity import SecretValues, carries_reference_data
from ..sw import SW, describe
from .transport import Transport

__all__ = ["Terminal", "TerminalError"]

log = logging.getLogger("hcekit.terminal")

MAX_GET_RESPONSE_ROUNDS = 1024


class TerminalError(HcekitError):
    """The card did not behave as a terminal script required."""


class Terminal:
    """The reader side of a tap: send APDUs over a transport, with GET RESPONSE and 6Cxx."""

    def __init__(
        self,
        transport: Transport,
        *,
        auto_get_response: bool = True,
        auto_resend_6c: bool = True,
        on_exchange: Callable[[bytes, bytes], None] | None = None,
        on_trace: Callable[[bytes, bytes, bool], None] | None = None,
    ) -> None:
        self.transport = transport
        self.auto_get_response = auto_get_response
        self.auto_resend_6c = auto_resend_6c
        #: Called with (command, response) raw bytes for every wire exchange, at once.
        self.on_exchange = on_exchange
        #: Called with (command, response, sensitive) for every wire exchange once the
        #: script could mark it (see the module docstring): what printouts use.
        self.on_trace = on_trace
        #: Values the scripts marked secret: an exchange holding one is sensitive.
        self.secrets = SecretValues()
        self.connected = False
        self._pending: list[tuple[bytes, bytes]] = []  # the last transmit's wire exchanges
        self._pending_sensitive = False
        self._sensitive_depth = 0

    # -- what is secret ---------------------------------------------------------------

    def mark_secret(self, *values: bytes) -> None:
        """Never print these bytes (a PAN, track 2, a key): as ``PluginContext.mark_secret``."""
        for value in values:
            self.secrets.add(value)

    def mark_sensitive(self) -> None:
        """The last command and its answer (all its GET RESPONSE parts) are sensitive."""
        self._pending_sensitive = True

    @contextmanager
    def sensitive(self) -> Iterator[None]:
        """Every exchange inside the block is sensitive (a secure channel, an authentication)."""
        self._sensitive_depth += 1
        try:
            yield
        finally:
            self._sensitive_depth -= 1

    def flush_trace(self) -> None:
        """Hand the last transmit's exchanges to ``on_trace`` (done before the next one)."""
        pending, self._pending = self._pending, []
        sensitive, self._pending_sensitive = self._pending_sensitive, False
        if self.on_trace is None or not pending:
            return
        data = b"".join(response[:-2] for _, response in pending)
        sensitive = (sensitive or any(carries_reference_data(c) for c, _ in pending)
                     or self.secrets.found_in(data, *(b for pair in pending for b in pair)))
        for command, response in pending:
            self.on_trace(command, response, sensitive)

    # -- taps -------------------------------------------------------------------

    @contextmanager
    def tap(self) -> Iterator[Terminal]:
        """One presentation of the card: field on … field off, even on error.

        The transport is closed afterwards (a PC/SC context released; the next
        tap makes a new one), so a long-running terminal holds nothing between taps.
        """
        try:
            self.connect()
            try:
                yield self
            finally:
                self.disconnect()
        finally:
            close = getattr(self.transport, "close", None)  # older transports may lack it
            if close is not None:
                close()

    def connect(self) -> None:
        self.transport.connect()
        self.connected = True

    def disconnect(self) -> None:
        self.connected = False
        try:
            self.flush_trace()
        finally:
            self.transport.disconnect()

    def poll(self, *frames: PollingFrame | bytes, loops: int = 1) -> bool:
        """Send a polling loop (*loops* times) before the tap; True if the card would answer.

        Each frame is a :class:`~hcekit.polling.PollingFrame` or the bytes of
        a custom frame (type UNKNOWN), e.g. an ECP annotation. Call it before
        :meth:`tap`; a card in observe mode that nothing released then stays
        silent (:class:`~hcekit.polling.CardSilentError` from ``tap()``).
        """
        poll = getattr(self.transport, "poll", None)
        if poll is None:
            raise PollingUnsupportedError(
                f"{self.transport.name}: this reader transport cannot send a polling loop "
                "(PC/SC gives a client no access to the reader's polling)")
        loop = [f if isinstance(f, PollingFrame) else PollingFrame(FrameType.UNKNOWN, bytes(f))
                for f in frames]
        answered: bool = poll(loop * loops)
        return answered

    # -- exchanges ------------------------------------------------------------------

    def _wire(self, raw: bytes) -> ResponseApdu:
        response = self.transport.transmit(raw)
        if self.on_exchange is not None:
            self.on_exchange(raw, response)
        self._pending.append((raw, response))
        if self._sensitive_depth:
            self._pending_sensitive = True
        return ResponseApdu.parse(response)

    def transmit(self, command: CommandApdu | bytes | str) -> ResponseApdu:
        """Send a command (object, raw bytes or hex text); follow 61xx/6Cxx as configured."""
        if isinstance(command, str):
            command = CommandApdu.from_hex(command)
        elif isinstance(command, bytes | bytearray):
            command = CommandApdu.parse(bytes(command))
        self.flush_trace()
        response = self._wire(command.to_bytes())
        if self.auto_resend_6c and response.sw1 == SW.WRONG_LE >> 8 and not command.extended:
            command = command.replace(le=response.sw2 or 256)
            response = self._wire(command.to_bytes())
        if not self.auto_get_response or response.sw1 != SW.BYTES_REMAINING >> 8:
            return response
        data = bytearray(response.data)
        cla = command.cla & 0x03 if command.is_interindustry else 0x00
        for _ in range(MAX_GET_RESPONSE_ROUNDS):
            get = CommandApdu(cla, INS_GET_RESPONSE, 0, 0, b"", response.sw2 or 256)
            response = self._wire(get.to_bytes())
            data += response.data
            if response.sw1 != SW.BYTES_REMAINING >> 8:
                return ResponseApdu(bytes(data), response.sw)
        raise TerminalError(f"card kept answering 61xx after {MAX_GET_RESPONSE_ROUNDS} GET RESPONSEs")

    def select(self, aid: bytes, *, next_occurrence: bool = False, le: int | None = 256) -> ResponseApdu:
        """SELECT by DF name (P1=04); P2 = 00 (first, FCI) or 02 (next occurrence)."""
        p2 = 0x02 if next_occurrence else 0x00
        return self.transmit(CommandApdu(0x00, 0xA4, 0x04, p2, aid, le))

    def expect_ok(self, command: CommandApdu | bytes | str, what: str = "") -> bytes:
        """Transmit and return the data; raise :class:`TerminalError` unless 9000."""
        response = self.transmit(command)
        if response.sw != SW.NO_ERROR:
            label = what or (command if isinstance(command, str) else "command")
            raise TerminalError(f"{label}: card answered {response.sw:04X} {describe(response.sw)}")
        return response.data
