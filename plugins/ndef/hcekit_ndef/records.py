"""The little of NDEF (NFC Forum NDEF 1.0 + RTD URI/Text) the tag needs.

Short records only (payload < 256 bytes); each record is a
``(tnf, type, payload)`` triple. Decoding is for the reader-side script;
the tests decode with the independent ``ndeflib`` package.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NdefRecord", "uri_record", "text_record", "encode_message", "decode_message",
           "NdefError", "describe_record"]

TNF_WELL_KNOWN = 0x01
FLAG_MB = 0x80
FLAG_ME = 0x40
FLAG_SR = 0x10
FLAG_IL = 0x08
TNF_MASK = 0x07

#: URI identifier codes (NFC Forum RTD URI, Table 3), most specific first.
URI_PREFIXES: tuple[tuple[int, str], ...] = (
    (0x04, "https://"), (0x03, "http://"), (0x02, "https://www."), (0x01, "http://www."),
    (0x05, "tel:"), (0x06, "mailto:"),
)


class NdefError(ValueError):
    pass


@dataclass(frozen=True)
class NdefRecord:
    tnf: int
    type: bytes
    payload: bytes
    id: bytes = b""


def uri_record(uri: str) -> NdefRecord:
    """Well-known type ``U`` with the longest matching abbreviation."""
    code, rest = 0x00, uri
    for prefix_code, prefix in sorted(URI_PREFIXES, key=lambda p: -len(p[1])):
        if uri.startswith(prefix):
            code, rest = prefix_code, uri[len(prefix):]
            break
    return NdefRecord(TNF_WELL_KNOWN, b"U", bytes((code,)) + rest.encode("utf-8"))


def text_record(text: str, lang: str = "en") -> NdefRecord:
    """Well-known type ``T``, UTF-8, language code *lang*."""
    code = lang.encode("ascii")
    if not 0 < len(code) < 64:
        raise NdefError(f"language code {lang!r} must be 1..63 ASCII characters")
    return NdefRecord(TNF_WELL_KNOWN, b"T", bytes((len(code),)) + code + text.encode("utf-8"))


def encode_message(records: list[NdefRecord]) -> bytes:
    if not records:
        raise NdefError("an NDEF message has at least one record")
    out = bytearray()
    for i, rec in enumerate(records):
        flags = rec.tnf & TNF_MASK
        if i == 0:
            flags |= FLAG_MB
        if i == len(records) - 1:
            flags |= FLAG_ME
        short = len(rec.payload) < 256
        if short:
            flags |= FLAG_SR
        if rec.id:
            flags |= FLAG_IL
        out.append(flags)
        out.append(len(rec.type))
        out += bytes((len(rec.payload),)) if short else len(rec.payload).to_bytes(4, "big")
        if rec.id:
            out.append(len(rec.id))
        out += rec.type + rec.id + rec.payload
    return bytes(out)


def decode_message(data: bytes) -> list[NdefRecord]:
    records = []
    i = 0
    while i < len(data):
        try:
            flags = data[i]
            type_len = data[i + 1]
            i += 2
            if flags & FLAG_SR:
                payload_len = data[i]
                i += 1
            else:
                payload_len = int.from_bytes(data[i:i + 4], "big")
                i += 4
            id_len = 0
            if flags & FLAG_IL:
                id_len = data[i]
                i += 1
        except IndexError:
            raise NdefError(f"record header truncated at byte {i}") from None
        end = i + type_len + id_len + payload_len
        if end > len(data):
            raise NdefError("record body truncated")
        rtype = data[i:i + type_len]
        rid = data[i + type_len:i + type_len + id_len]
        payload = data[i + type_len + id_len:end]
        records.append(NdefRecord(flags & TNF_MASK, rtype, payload, rid))
        i = end
        if flags & FLAG_ME:
            break
    if i != len(data):
        raise NdefError(f"{len(data) - i} bytes after the message-end record")
    return records


def describe_record(rec: NdefRecord) -> str:
    """One readable line (URI or text record; otherwise type and size)."""
    if rec.tnf == TNF_WELL_KNOWN and rec.type == b"U" and rec.payload:
        prefix = dict(URI_PREFIXES).get(rec.payload[0], "")
        return f"URI  {prefix}{rec.payload[1:].decode('utf-8', 'replace')}"
    if rec.tnf == TNF_WELL_KNOWN and rec.type == b"T" and rec.payload:
        n = rec.payload[0] & 0x3F
        lang = rec.payload[1:1 + n].decode("ascii", "replace")
        return f"Text [{lang}] {rec.payload[1 + n:].decode('utf-8', 'replace')}"
    return f"TNF {rec.tnf} type {rec.type!r} ({len(rec.payload)} bytes)"
