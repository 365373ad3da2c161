"""How much a READ BINARY answers: ISO/IEC 7816-4 Ne rules in one place for every plugin.

ISO/IEC 7816-4 (§5.1, command-response pairs) encodes Ne, the most response
bytes the reader expects, in the Le field: a short Le of ``00`` means 256, an
extended Le of ``0000`` means 65 536, and an absent Le means Ne = 0 — the
response data field stays empty. The READ BINARY clause (7.2.3 in the 2005
edition; the data-unit-handling commands of clause 11 in later ones) adds
that an Le of only zero bytes asks for everything up to the end of the file
within that limit, and the status words list 6282 "end of file reached
before reading Ne bytes" for a shorter answer to an explicit Le. So:

=========================  ===============================================
command                    answer
=========================  ===============================================
case 1 (no Le, Ne = 0)     6700 "wrong length": no data may be returned
                           (Nr ≤ Ne = 0) and a read of nothing is no read —
                           hcekit's reading; the standard names no SW here
offset at or past the end  6B00 (wrong parameters P1-P2)
Le all zeros (00 / 0000)   the rest of the file, at most 256 / 65 536, 9000
Le = N, N bytes left       N bytes, 9000
Le = N, fewer left         what is left, 6282
=========================  ===============================================

(:attr:`hcekit.apdu.CommandApdu.le` already holds Ne: 256 for ``00``.)
"""

from __future__ import annotations

from .apdu import EXTENDED_MAX_NE, SHORT_MAX_NE, CommandApdu, ResponseApdu
from .errors import IsoError
from .sw import SW

__all__ = ["le_is_maximum", "read_binary"]


def le_is_maximum(command: CommandApdu) -> bool:
    """True when the Le field is all zero bytes: short ``00`` or extended ``0000``."""
    if command.le == EXTENDED_MAX_NE:
        return True
    return command.le == SHORT_MAX_NE and not command.extended


def read_binary(content: bytes, offset: int, command: CommandApdu,
                size: int | None = None) -> ResponseApdu:
    """The answer to a READ BINARY of *content* at *offset* (``size``: the file's length,
    when the stored content is shorter and the rest reads as zeros)."""
    length = len(content) if size is None else size
    if command.le is None:
        raise IsoError(SW.WRONG_LENGTH,
                       "READ BINARY without Le (case 1) expects no data; send Le=00 to read")
    if offset >= length:
        raise IsoError(SW.WRONG_P1P2, f"offset {offset} is beyond the file ({length} bytes)")
    end = min(offset + command.le, length)
    chunk = content[offset:end].ljust(end - offset, b"\x00")
    if len(chunk) < command.le and not le_is_maximum(command):
        return ResponseApdu(chunk, SW.END_OF_FILE_REACHED)
    return ResponseApdu(chunk, SW.NO_ERROR)
