"""BER-TLV (ISO/IEC 8825-1 as profiled by ISO/IEC 7816-4 and EMV).

Tags are ints made of their encoded bytes (``0x9F02``, ``0xBF0C``, ``0x5F2D``),
the convention of EMV and ISO tables. ``strict`` parsing refuses what a card
should never accept: indefinite or non-minimal lengths, truncated objects,
padding between objects. Lenient parsing skips ``00``/``FF`` padding (allowed
between EMV records) and accepts non-minimal lengths.

Every plugin reads and writes BER-TLV through this module: :func:`read_tag`
for DOLs (tags without values), :func:`read_header` for readers that fetch an
object in pieces, :func:`parse` / :func:`find` / :func:`encode` for the rest.

A malformed TLV raises :class:`TlvError`, an :class:`~hcekit.errors.IsoError`
with 6A80 (incorrect data), so a plugin that parses reader data gets the right
status word without a try block.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import IsoError
from .sw import SW

__all__ = ["Tlv", "TlvError", "TlvHeader", "parse", "parse_one", "read_header", "read_tag",
           "encode", "encode_tag", "encode_length", "find", "tag_bytes"]


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


@dataclass(frozen=True, slots=True)
class TlvHeader:
    """Tag and length of one object, and how many bytes they took (the value follows)."""

    tag: int
    length: int
    size: int

    @property
    def total(self) -> int:
        """Bytes of the whole object: header plus value."""
        return self.size + self.length


def read_tag(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Decode the tag at *offset*; return it and the offset after it.

    DOLs (EMV Book 3 §5.4) list bare tags, each followed by a one-byte length,
    so they read tags with this rather than :func:`read_header`.
    """
    n = len(data)
    if offset >= n:
        raise TlvError("no tag at the end of the data")
    start = offset
    tag = data[offset]
    offset += 1
    if tag & 0x1F == 0x1F:
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
    return tag, offset


def read_header(data: bytes, offset: int = 0, strict: bool = True) -> TlvHeader:
    """Decode tag and length at *offset* without needing the value.

    A reader that fetches an object in pieces (READ BINARY of an eMRTD data
    group) reads the first few bytes, then knows :attr:`TlvHeader.total`.
    """
    n = len(data)
    start = offset
    tag, offset = read_tag(data, offset)
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
    return TlvHeader(tag, length, offset - start)


def parse_one(data: bytes, offset: int = 0, strict: bool = True) -> tuple[Tlv, int]:
    """Decode the object at *offset*; return it and the offset after it."""
    if offset >= len(data):
        raise TlvError("no TLV object at the end of the data")
    header = read_header(data, offset, strict)
    begin = offset + header.size
    end = begin + header.length
    if end > len(data):
        raise TlvError(f"tag {header.tag:X} announces {header.length} bytes but "
                       f"{len(data) - begin} remain")
    return Tlv(header.tag, bytes(data[begin:end])), end


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
