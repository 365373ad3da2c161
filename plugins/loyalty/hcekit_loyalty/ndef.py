"""The NDEF record layer Smart Tap messages are built from (NFC Forum NDEF 1.0).

Smart Tap nests NDEF messages inside record payloads several levels deep, so
this codec is small and strict: short and normal records, the ID field, and
the MB/ME flags; chunked records (CF) are refused because Smart Tap never
uses them. A malformed message raises :class:`NdefFormatError`, which the card
answers with the Smart Tap "NDEF format invalid" status word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

__all__ = ["Tnf", "NdefRecord", "NdefFormatError", "encode_message", "decode_message",
           "find_record"]

_MB = 0x80
_ME = 0x40
_CF = 0x20
_SR = 0x10
_IL = 0x08
_TNF_MASK = 0x07
_SHORT_MAX = 0xFF


class Tnf(IntEnum):
    """Type Name Format (NDEF 1.0 §3.2.6)."""

    EMPTY = 0x00
    WELL_KNOWN = 0x01
    MEDIA = 0x02
    ABSOLUTE_URI = 0x03
    EXTERNAL = 0x04
    UNKNOWN = 0x05
    UNCHANGED = 0x06


class NdefFormatError(ValueError):
    """Bytes that are not a well-formed NDEF message (the message says where)."""


@dataclass(frozen=True)
class NdefRecord:
    """One record. ``name`` is how Smart Tap names it: the type, or the ID for well-known."""

    tnf: Tnf
    type: bytes
    payload: bytes = b""
    id: bytes = b""

    @classmethod
    def external(cls, name: bytes, payload: bytes, *, with_id: bool = False) -> NdefRecord:
        """A Smart Tap record: TNF external, type = the short name (ID too if asked)."""
        return cls(Tnf.EXTERNAL, name, payload, name if with_id else b"")

    @property
    def name(self) -> bytes:
        """Smart Tap's record name: the ID for well-known records, else the type."""
        if self.tnf is Tnf.WELL_KNOWN and self.id:
            return self.id
        return self.type

    def encode(self, first: bool, last: bool) -> bytes:
        if len(self.type) > 0xFF or len(self.id) > 0xFF:
            raise ValueError("NDEF type and id are at most 255 bytes")
        header = int(self.tnf)
        if first:
            header |= _MB
        if last:
            header |= _ME
        if self.id:
            header |= _IL
        short = len(self.payload) <= _SHORT_MAX
        if short:
            header |= _SR
        out = bytearray((header, len(self.type)))
        out += bytes((len(self.payload),)) if short else len(self.payload).to_bytes(4, "big")
        if self.id:
            out.append(len(self.id))
        out += self.type
        out += self.id
        out += self.payload
        return bytes(out)


def encode_message(records: Sequence[NdefRecord]) -> bytes:
    """Encode *records* as one message (MB on the first, ME on the last)."""
    if not records:
        raise ValueError("an NDEF message has at least one record")
    last = len(records) - 1
    return b"".join(r.encode(i == 0, i == last) for i, r in enumerate(records))


def decode_message(data: bytes) -> list[NdefRecord]:
    """Decode one complete NDEF message; raise :class:`NdefFormatError` on any defect."""
    records: list[NdefRecord] = []
    pos = 0
    n = len(data)
    if n == 0:
        raise NdefFormatError("empty NDEF message")
    while pos < n:
        start = pos
        if pos + 3 > n:
            raise NdefFormatError(f"record at offset {start}: truncated header")
        header = data[pos]
        type_len = data[pos + 1]
        pos += 2
        if header & _CF:
            raise NdefFormatError(f"record at offset {start}: chunked records are not used here")
        if bool(header & _MB) != (start == 0):
            raise NdefFormatError(f"record at offset {start}: MB flag misplaced")
        if header & _SR:
            payload_len = data[pos]
            pos += 1
        else:
            if pos + 4 > n:
                raise NdefFormatError(f"record at offset {start}: truncated payload length")
            payload_len = int.from_bytes(data[pos:pos + 4], "big")
            pos += 4
        id_len = 0
        if header & _IL:
            if pos >= n:
                raise NdefFormatError(f"record at offset {start}: truncated ID length")
            id_len = data[pos]
            pos += 1
        end = pos + type_len + id_len + payload_len
        if end > n:
            raise NdefFormatError(
                f"record at offset {start}: needs {end - start} bytes, {n - start} left")
        rtype = bytes(data[pos:pos + type_len])
        pos += type_len
        rid = bytes(data[pos:pos + id_len])
        pos += id_len
        payload = bytes(data[pos:end])
        pos = end
        try:
            tnf = Tnf(header & _TNF_MASK)
        except ValueError:
            raise NdefFormatError(f"record at offset {start}: reserved TNF 7") from None
        records.append(NdefRecord(tnf, rtype, payload, rid))
        if header & _ME:
            if pos != n:
                raise NdefFormatError(f"{n - pos} byte(s) after the record flagged ME")
            return records
    raise NdefFormatError("message ends without a record flagged ME")


def find_record(records: Iterable[NdefRecord], name: bytes) -> NdefRecord | None:
    """The first record Smart Tap would call *name* (type or ID), or None."""
    for record in records:
        if record.name == name or record.type == name:
            return record
    return None
