"""Command chaining (ISO 7816-4, CLA b5) for the proprietary class, inside the plugin."""

from __future__ import annotations

from hcekit import SW, CommandApdu, IsoError

__all__ = ["CLA_CHAINING", "CommandChain", "MAX_CHAINED_DATA"]

CLA_CHAINING = 0x10
MAX_CHAINED_DATA = 4096


class CommandChain:
    """ISO 7816-4 command chaining (CLA b5) for the proprietary class.

    hcekit's core chains interindustry commands only and passes CLA 80-FE
    through untouched, so the Aliro commands (CLA 90 = 80 + chaining) are
    reassembled here: parts must keep INS/P1/P2, a different command in
    mid-chain answers 6883 and drops the chain.
    """

    def __init__(self) -> None:
        self._header: tuple[int, int, int] | None = None
        self._data = bytearray()

    def feed(self, command: CommandApdu) -> CommandApdu:
        """The command to process: a part (CLA b5 still set) or the reassembled whole."""
        header = (command.ins, command.p1, command.p2)
        if self._header is not None and header != self._header:
            self._header = None
            self._data.clear()
            raise IsoError(SW.LAST_COMMAND_OF_CHAIN_EXPECTED,
                           "a chained command was interrupted by another command")
        if command.cla & CLA_CHAINING:
            self._header = header
            self._data += command.data
            if len(self._data) > MAX_CHAINED_DATA:
                self._header = None
                self._data.clear()
                raise IsoError(SW.WRONG_LENGTH, "chained command too long")
            return command
        if self._header is None:
            return command
        data = bytes(self._data) + command.data
        self._header = None
        self._data.clear()
        return CommandApdu(command.cla, command.ins, command.p1, command.p2, data, command.le)
