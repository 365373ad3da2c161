"""BER-TLV (ISO/IEC 8825-1 as profiled by ISO/IEC 7816-4 and EMV).

Tags are ints made of their encoded bytes (``0x9F02``, ``0xBF0C``, ``0x5F2D``),
the convention of EMV and ISO tables. ``strict`` parsing refuses what a card
should never accept: indefinite or non-minimal lengths, truncated objects,
padding between objects. Lenient parsing skips ``00``/``FF`` padding (allowed
between EMV records) and accepts non-minimal lengths.

A malformed TLV raises :class:`TlvError`, an :class:`~hcekit.errors.IsoError`
with 6A80 (incorrect data), so a plugin that parses reader data gets the right
status word without a try block.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import IsoError
from .sw import SW

__all__ = ["Tlv", "TlvError", "parse", "parse_one", "encode", "encode_tag", "encode_length",
           "find", "tag_bytes"]


class TlvError(IsoError, ValueError):
    """Malformed BER-TLV (answers 6A80)."""

    def __init__(self, message: str) -> None:
        super().__init__(SW.INCORRECT_DATA, message)


def tag_bytes(tag: int) -> bytes:
    """The encoded bytes of an int tag (``0x9F02`` → ``9F 02``)."""
    if tag < 0:
        raise ValueError(f"negative tag {tag}")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_tag(tag: int) -> bytes:
    """Validate and encode a tag: single byte unless the low five bits are all ones."""
    raw = tag_bytes(tag)
    first = raw[0]
    if len(raw) == 1:
        if first & 0x1F == 0x1F:
            raise ValueError(f"tag {tag:02X} announces subsequent bytes but has none")
        return raw
    if first & 0x1F != 0x1F:
        raise ValueError(f"tag {tag:X}: first byte {first:02X} does not announce more bytes")
    for i, b in enumerate(raw[1:], start=1):
        last = i == len(raw) - 1
        if bool(b & 0x80) == last:
            raise ValueError(f"tag {tag:X}: byte {i} has a wrong continuation bit")
    return raw


def encode_length(n: int) -> bytes:
    """Minimal definite length: short form < 128, else 81/82/83/84 + bytes."""
    if n < 0:
        raise ValueError("negative length")
    if n < 0x80:
        return bytes((n,))
    size = (n.bit_length() + 7) // 8
    if size > 4:
        raise ValueError(f"length {n} does not fit 4 length bytes")
    return bytes((0x80 | size,)) + n.to_bytes(size, "big")


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        """b6 of the first tag byte: the value is itself a TLV sequence."""
        return bool(tag_bytes(self.tag)[0] & 0x20)

    def children(self, strict: bool = True) -> list[Tlv]:
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive; it has no children")
        return parse(self.value, strict=strict)

    def to_bytes(self) -> bytes:
        return encode(self.tag, self.value)

    def __repr__(self) -> str:
        return f"Tlv({self.tag:X}, {self.value.hex().upper()})"


def encode(tag: int, value: bytes | Iterable[bytes | Tlv] = b"") -> bytes:
    """Encode one object; *value* may be bytes or an iterable of children (bytes or Tlv)."""
    if isinstance(value, bytes | bytearray | memoryview):
        body = bytes(value)
    else:
        body = b"".join(v.to_bytes() if isinstance(v, Tlv) else bytes(v) for v in value)
    return encode_tag(tag) + encode_length(len(body)) + body


def parse_one(data: bytes, offset: int = 0, strict: bool = True) -> tuple[Tlv, int]:
    """Decode the object at *offset*; return it and the offset after it."""
    n = len(data)
    if offset >= n:
        raise TlvError("no TLV object at the end of the data")
    start = offset
    first = data[offset]
    offset += 1
    tag = first
    if first & 0x1F == 0x1F:
        while True:
            if offset >= n:
                raise TlvError(f"tag starting at byte {start} is truncated")
            b = data[offset]
            offset += 1
            tag = (tag << 8) | b
            if not b & 0x80:
                break
            if offset - start > 4:
                raise TlvError(f"tag starting at byte {start} is longer than 4 bytes")
    if offset >= n:
        raise TlvError(f"tag {tag:X} at byte {start} has no length")
    lb = data[offset]
    offset += 1
    if lb < 0x80:
        length = lb
    elif lb == 0x80:
        raise TlvError(f"tag {tag:X}: indefinite length is not allowed")
    else:
        size = lb & 0x7F
        if size > 4:
            raise TlvError(f"tag {tag:X}: {size} length bytes is too many")
        if offset + size > n:
            raise TlvError(f"tag {tag:X}: length bytes truncated")
        length = int.from_bytes(data[offset:offset + size], "big")
        if strict and (length < 0x80 or length >> (8 * (size - 1)) == 0):
            raise TlvError(f"tag {tag:X}: length {length} is not minimally encoded")
        offset += size
    end = offset + length
    if end > n:
        raise TlvError(f"tag {tag:X} announces {length} bytes but {n - offset} remain")
    return Tlv(tag, bytes(data[offset:end])), end


def _iter(data: bytes, strict: bool) -> Iterator[Tlv]:
    offset = 0
    n = len(data)
    while offset < n:
        if not strict and data[offset] in (0x00, 0xFF):
            offset += 1
            continue
        obj, offset = parse_one(data, offset, strict)
        yield obj


def parse(data: bytes, strict: bool = True) -> list[Tlv]:
    """Decode a sequence of objects (the top level only; see :meth:`Tlv.children`)."""
    return list(_iter(bytes(data), strict))


def find(data: bytes, tag: int, strict: bool = False) -> bytes | None:
    """The value of the first object with *tag*, searching constructed objects depth-first."""
    for obj in _iter(bytes(data), strict):
        if obj.tag == tag:
            return obj.value
        if obj.constructed:
            found = find(obj.value, tag, strict)
            if found is not None:
                return found
    return None
