"""Data Object Lists (EMV Book 3 §5.4): a card's recipe for the data a terminal sends.

A DOL is a concatenation of tag + one-byte length, without values. The card
publishes PDOL and CDOL1; the terminal answers with the values concatenated
in that order, and the card cuts them apart again with :func:`split`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hcekit import SW, IsoError
from hcekit.tlv import TlvError, encode_tag, read_tag

__all__ = ["DolEntry", "parse_dol", "encode_dol", "dol_length", "split", "fill"]

DolEntry = tuple[int, int]


def parse_dol(data: bytes) -> list[DolEntry]:
    """``9F02 06 9F37 04`` → ``[(0x9F02, 6), (0x9F37, 4)]``; TlvError (a ValueError) when malformed."""
    entries: list[DolEntry] = []
    i, n = 0, len(data)
    while i < n:
        tag, i = read_tag(data, i)
        if i >= n:
            raise TlvError(f"DOL tag {tag:X} has no length")
        entries.append((tag, data[i]))
        i += 1
    return entries


def encode_dol(entries: Sequence[DolEntry]) -> bytes:
    """The wire form of a DOL (what goes into tag 9F38 / 8C)."""
    return b"".join(encode_tag(tag) + bytes((length,)) for tag, length in entries)


def dol_length(entries: Sequence[DolEntry]) -> int:
    """How many bytes the terminal's DOL-related data must have."""
    return sum(length for _, length in entries)


def split(entries: Sequence[DolEntry], data: bytes, what: str) -> dict[int, bytes]:
    """Cut DOL-related data into values by tag; a wrong total length answers 6700."""
    expected = dol_length(entries)
    if len(data) != expected:
        raise IsoError(SW.WRONG_LENGTH,
                       f"{what} data is {len(data)} bytes; the DOL asks for {expected}")
    values: dict[int, bytes] = {}
    offset = 0
    for tag, length in entries:
        values[tag] = data[offset:offset + length]
        offset += length
    return values


def fill(entries: Sequence[DolEntry], values: Mapping[int, bytes]) -> bytes:
    """Terminal side: build DOL-related data; unknown tags are zeros (Book 3 §5.4).

    A value shorter than its slot is left-padded with zeros (numeric data),
    a longer one is refused: the caller must format it for the slot.
    """
    out = bytearray()
    for tag, length in entries:
        value = values.get(tag, bytes(length))
        if len(value) > length:
            raise ValueError(f"value for tag {tag:X} is {len(value)} bytes; the DOL allows {length}")
        out += bytes(length - len(value)) + value
    return bytes(out)
