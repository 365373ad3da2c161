"""NDEF (NFC Forum NDEF 1.0) messages and the two well-known records tags carry (URI, Text).

One codec for every personality: the Type 4 Tag (``hcekit_ndef``) stores a
message, Smart Tap (``hcekit_loyalty``) nests messages inside record payloads
several levels deep. Both need the same strict reading, so it lives here.

Encoding picks the short form (SR) for payloads up to 255 bytes, adds the ID
field when a record has one, and sets MB on the first record and ME on the
last. Decoding refuses anything a well-formed message cannot hold and names
the defect and its offset: a misplaced MB, a missing ME, bytes after ME,
truncation, the reserved TNF 7, and chunked records (CF), which no
personality here sends and which would otherwise need reassembly.

Why our own and not ``ndeflib``: the card answers malformed input with a
status word, so it needs one precise exception and strict rules (ndeflib
accepts some of what Smart Tap refuses, and decodes known types into its own
record classes); this module is ~150 lines with no dependency to bundle into an
Android app; and ndeflib stays what the tests check this codec against, an
implementation written by someone else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from .errors import HcekitError

__all__ = ["Tnf", "NdefRecord", "NdefError", "encode_message", "decode_message",
           "uri_record", "text_record", "describe_record", "URI_PREFIXES"]

_MB = 0x80
_ME = 0x40
_CF = 0x20
_SR = 0x10
_IL = 0x08
_TNF_MASK = 0x07
_SHORT_MAX = 0xFF
_FIELD_MAX = 0xFF
_TEXT_UTF16 = 0x80
_TEXT_LANG_MASK = 0x3F


class Tnf(IntEnum):
    """Type Name Format (NDEF 1.0 §3.2.6)."""

    EMPTY = 0x00
    WELL_KNOWN = 0x01
    MEDIA = 0x02
    ABSOLUTE_URI = 0x03
    EXTERNAL = 0x04
    UNKNOWN = 0x05
    UNCHANGED = 0x06


class NdefError(HcekitError, ValueError):
    """Bytes that are not a well-formed NDEF message, or a record that cannot be encoded."""


@dataclass(frozen=True)
class NdefRecord:
    """One record: its TNF, type, payload and (optional) ID."""

    tnf: Tnf
    type: bytes
    payload: bytes = b""
    id: bytes = b""

    @classmethod
    def external(cls, type: bytes, payload: bytes, id: bytes = b"") -> NdefRecord:
        """An NFC Forum external-type record (TNF 4)."""
        return cls(Tnf.EXTERNAL, type, payload, id)

    def encode(self, first: bool, last: bool) -> bytes:
        """This record's bytes, with MB/ME as its place in the message says."""
        if len(self.type) > _FIELD_MAX or len(self.id) > _FIELD_MAX:
            raise NdefError("an NDEF type and ID are at most 255 bytes each")
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
        out += self.type + self.id + self.payload
        return bytes(out)


def encode_message(records: Sequence[NdefRecord]) -> bytes:
    """Encode *records* as one message (MB on the first, ME on the last)."""
    if not records:
        raise NdefError("an NDEF message has at least one record")
    last = len(records) - 1
    return b"".join(r.encode(i == 0, i == last) for i, r in enumerate(records))


def _decode_record(data: bytes, start: int) -> tuple[NdefRecord, int, int]:
    """The record at *start*, the offset after it, and its header byte."""
    n = len(data)
    if start + 3 > n:
        raise NdefError(f"record at offset {start}: truncated header")
    header, type_len = data[start], data[start + 1]
    pos = start + 2
    if header & _CF:
        raise NdefError(f"record at offset {start}: chunked records are not supported")
    if bool(header & _MB) != (start == 0):
        raise NdefError(f"record at offset {start}: MB flag misplaced")
    if header & _SR:
        payload_len = data[pos]
        pos += 1
    else:
        if pos + 4 > n:
            raise NdefError(f"record at offset {start}: truncated payload length")
        payload_len = int.from_bytes(data[pos:pos + 4], "big")
        pos += 4
    id_len = 0
    if header & _IL:
        if pos >= n:
            raise NdefError(f"record at offset {start}: truncated ID length")
        id_len = data[pos]
        pos += 1
    end = pos + type_len + id_len + payload_len
    if end > n:
        raise NdefError(f"record at offset {start}: needs {end - start} bytes, {n - start} left")
    try:
        tnf = Tnf(header & _TNF_MASK)
    except ValueError:
        raise NdefError(f"record at offset {start}: reserved TNF 7") from None
    id_at = pos + type_len
    payload_at = id_at + id_len
    record = NdefRecord(tnf, bytes(data[pos:id_at]), bytes(data[payload_at:end]),
                        bytes(data[id_at:payload_at]))
    return record, end, header


def decode_message(data: bytes) -> list[NdefRecord]:
    """Decode one complete NDEF message; raise :class:`NdefError` on any defect."""
    if not data:
        raise NdefError("empty NDEF message")
    records: list[NdefRecord] = []
    pos = 0
    while pos < len(data):
        record, pos, header = _decode_record(data, pos)
        records.append(record)
        if header & _ME:
            if pos != len(data):
                raise NdefError(f"{len(data) - pos} byte(s) after the record flagged ME")
            return records
    raise NdefError("message ends without a record flagged ME")


#: URI identifier codes (NFC Forum URI RTD 1.0, Table 3).
URI_PREFIXES: dict[int, str] = {
    0x01: "http://www.", 0x02: "https://www.", 0x03: "http://", 0x04: "https://",
    0x05: "tel:", 0x06: "mailto:", 0x07: "ftp://anonymous:anonymous@", 0x08: "ftp://ftp.",
    0x09: "ftps://", 0x0A: "sftp://", 0x0B: "smb://", 0x0C: "nfs://", 0x0D: "ftp://",
    0x0E: "dav://", 0x0F: "news:", 0x10: "telnet://", 0x11: "imap:", 0x12: "rtsp://",
    0x13: "urn:", 0x14: "pop:", 0x15: "sip:", 0x16: "sips:", 0x17: "tftp:", 0x18: "btspp://",
    0x19: "btl2cap://", 0x1A: "btgoep://", 0x1B: "tcpobex://", 0x1C: "irdaobex://",
    0x1D: "file://", 0x1E: "urn:epc:id:", 0x1F: "urn:epc:tag:", 0x20: "urn:epc:pat:",
    0x21: "urn:epc:raw:", 0x22: "urn:epc:", 0x23: "urn:nfc:",
}
_PREFIXES_LONGEST_FIRST = sorted(URI_PREFIXES.items(), key=lambda item: -len(item[1]))


def uri_record(uri: str) -> NdefRecord:
    """Well-known type ``U``, abbreviated with the longest matching identifier code."""
    if any(ord(c) < 0x20 for c in uri):
        raise NdefError(f"URI {uri!r} holds control characters (URI RTD: an RFC 3987 IRI)")
    for code, prefix in _PREFIXES_LONGEST_FIRST:
        if uri.startswith(prefix):
            return NdefRecord(Tnf.WELL_KNOWN, b"U",
                              bytes((code,)) + uri[len(prefix):].encode("utf-8"))
    return NdefRecord(Tnf.WELL_KNOWN, b"U", b"\x00" + uri.encode("utf-8"))


def text_record(text: str, lang: str = "en") -> NdefRecord:
    """Well-known type ``T``, UTF-8, language code *lang* (NFC Forum Text RTD 1.0)."""
    code = lang.encode("ascii") if lang.isascii() else b""
    if not 0 < len(code) <= _TEXT_LANG_MASK:
        raise NdefError(f"language code {lang!r} must be 1..63 ASCII characters")
    return NdefRecord(Tnf.WELL_KNOWN, b"T", bytes((len(code),)) + code + text.encode("utf-8"))


def describe_record(record: NdefRecord) -> str:
    """One readable line (URI or text record; otherwise TNF, type and size)."""
    payload = record.payload
    if record.tnf is Tnf.WELL_KNOWN and record.type == b"U" and payload:
        prefix = URI_PREFIXES.get(payload[0], "")
        return f"URI  {prefix}{payload[1:].decode('utf-8', 'replace')}"
    if record.tnf is Tnf.WELL_KNOWN and record.type == b"T" and payload:
        n = payload[0] & _TEXT_LANG_MASK
        lang = payload[1:1 + n].decode("ascii", "replace")
        encoding = "utf-16" if payload[0] & _TEXT_UTF16 else "utf-8"
        return f"Text [{lang}] {payload[1 + n:].decode(encoding, 'replace')}"
    return f"TNF {record.tnf.name} type {record.type!r} ({len(payload)} bytes)"
