"""Commands in parts and answers in pieces: command chaining, GET RESPONSE, Le.

:class:`ResponseAssembler` holds what one command leaves for the next — a
command chain being reassembled (CLA b5) or response data waiting for GET
RESPONSE — as its :attr:`~ResponseAssembler.transfer` state, the state the
routing table (:mod:`hcekit.routing`) reads. It knows nothing of
applications: the router hands it commands and answers.
"""

from __future__ import annotations

from .apdu import EXTENDED_MAX_NE, SHORT_MAX_NE, CommandApdu
from .errors import IsoError
from .routing import Transfer
from .sw import SW, bytes_remaining, sw_bytes, wrong_le

__all__ = ["ResponseAssembler"]

_SW_BYTES_OK = sw_bytes(SW.NO_ERROR)
_NO_ERROR = int(SW.NO_ERROR)
_IDLE = Transfer.IDLE
_CHAIN = Transfer.CHAIN
_PENDING = Transfer.PENDING


class ResponseAssembler:
    """Chaining in, chaining out, and Ne; one per card."""

    __slots__ = ("_chain", "_pending", "max_chained_data", "max_response_data", "pending_sensitive",
                 "transfer", "wrong_le")

    def __init__(self, *, max_response_data: int, max_chained_data: int, wrong_le: str) -> None:
        self.max_response_data = max_response_data
        self.max_chained_data = max_chained_data
        self.wrong_le = wrong_le
        self.transfer = _IDLE
        #: INS, P1, P2 and the data of the chain in progress.
        self._chain: tuple[int, int, int, bytearray] | None = None
        #: Response data not sent yet, and the status word that ends it.
        self._pending: tuple[bytes, int] | None = None
        #: The pending data belongs to an exchange a trace redacted.
        self.pending_sensitive = False

    def reset(self) -> None:
        """Drop the chain in progress and the pending response."""
        self._chain = self._pending = None
        self.transfer = _IDLE

    @property
    def chain_in_progress(self) -> bool:
        return self._chain is not None

    @property
    def pending(self) -> bytes | None:
        """Response data waiting for GET RESPONSE, or None."""
        return self._pending[0] if self._pending is not None else None

    # -- command chaining --------------------------------------------------------------

    def continues_chain(self, command: CommandApdu) -> bool:
        """*command* has the INS/P1/P2 of the chain in progress."""
        chain = self._chain
        return chain is not None and chain[:3] == (command.ins, command.p1, command.p2)

    def add_part(self, command: CommandApdu) -> bytes:
        """One part of a chain (CLA b5 set): buffered, 9000."""
        chain = self._chain
        if chain is not None and not self.continues_chain(command):
            self.reset()
            raise IsoError(SW.LAST_COMMAND_OF_CHAIN_EXPECTED,
                           "a chained command changed INS/P1/P2 in mid-chain")
        if chain is None:
            chain = self._chain = (command.ins, command.p1, command.p2, bytearray())
            self.transfer = _CHAIN
        chain[3].extend(command.data)
        if len(chain[3]) > self.max_chained_data:
            self.reset()
            raise IsoError(SW.WRONG_LENGTH, f"chained data exceeds {self.max_chained_data} bytes")
        return _SW_BYTES_OK

    def reassemble(self, command: CommandApdu) -> CommandApdu:
        """The chain's last part (CLA b5 clear) → the whole command; the chain ends."""
        assert self._chain is not None
        ins, p1, p2, buffered = self._chain
        self.reset()
        if (ins, p1, p2) != (command.ins, command.p1, command.p2):
            raise IsoError(SW.LAST_COMMAND_OF_CHAIN_EXPECTED,
                           "the chain's last command has another INS/P1/P2; chain dropped")
        data = bytes(buffered) + command.data
        if len(data) > self.max_chained_data:
            raise IsoError(SW.WRONG_LENGTH, f"chained data exceeds {self.max_chained_data} bytes")
        return CommandApdu(command.cla, ins, p1, p2, data, command.le)

    # -- response chaining and Ne ------------------------------------------------------

    def next_chunk(self, command: CommandApdu) -> bytes:
        """GET RESPONSE: the next Ne bytes of the pending data, 61xx or its final SW."""
        assert self._pending is not None
        if command.p1 or command.p2:
            raise IsoError(SW.INCORRECT_P1P2, "GET RESPONSE takes P1-P2 = 0000")
        remaining, final_sw = self._pending
        ne = command.le or (EXTENDED_MAX_NE if command.extended else SHORT_MAX_NE)
        ne = min(ne, self.max_response_data)
        chunk, rest = remaining[:ne], remaining[ne:]
        if rest:
            self._pending = (rest, final_sw)
            return chunk + sw_bytes(bytes_remaining(len(rest)))
        self.reset()
        return chunk + sw_bytes(final_sw)

    def deliver(self, command: CommandApdu, data: bytes, sw: int) -> bytes:
        """Apply Ne: send what fits, keep the rest for GET RESPONSE (or answer 6Cxx)."""
        n = len(data)
        if not n:
            return sw_bytes(sw)
        le = command.le
        limit = le if le is not None else (EXTENDED_MAX_NE if command.extended else SHORT_MAX_NE)
        if limit > self.max_response_data:
            limit = self.max_response_data
        if n <= limit:
            return data + (_SW_BYTES_OK if sw == _NO_ERROR else sw_bytes(sw))
        if self.wrong_le == "6c" and le is not None and not command.extended and n <= SHORT_MAX_NE:
            return sw_bytes(wrong_le(n))
        self._pending = (data[limit:], sw)
        self.transfer = _PENDING
        return data[:limit] + sw_bytes(bytes_remaining(n - limit))

    def whole_answer(self, response: bytes) -> bytes:
        """*response* with the data still held for GET RESPONSE (a secret may straddle parts)."""
        if self._pending is None:
            return response
        return response[:-2] + self._pending[0]
