"""What an EMV Book 3 kernel checks in a card's answers, written from the book.

This is the terminal side, deliberately independent of the card's code: it
has its own BER-TLV reader (Book 3 Annex B), its own DOL reader and its own
table of data elements (Annex A1, ``emv_data_elements.json``, source named
in the file). Feed it every exchange of one transaction with
:meth:`Book3Checker.exchange`, then call :meth:`Book3Checker.finish`; each
rule broken is a :class:`Finding` naming the section. A conforming kernel
terminates the transaction on any of them ("card error").

Rules (EMV 4.3 Book 3):

* §6.5.8.4 GPO answer: format 1 (80: AIP || AFL) or format 2 (77 with 82, 94).
* §6.5.5.4 GENERATE AC answer: format 1 (80: CID || ATC || AC [|| IAD]) or
  format 2 (77 with 9F27, 9F36, 9F26, optional 9F10; with CDA requested 9F4B
  may carry the cryptogram instead of 9F26); a second GENERATE AC
  gives TC or AAC, and no answer is above what was asked (AAC < ARQC < TC).
* §10.2 AFL: entries of 4 bytes, SFI 1–30, first record ≥ 1, last ≥ first,
  ODA records ≤ records of the entry; every record read answers 9000; a
  record from SFI 1–10 is one template 70; a primitive data object seen
  twice in the GPO answer and the records ("redundant") terminates.
* §7.2 mandatory data: 5F24 (expiry), 5A (PAN), and 8C, 8D when the card
  offers GENERATE AC (the GPO answer did not already carry the cryptogram).
* Annex A1: every primitive's format (n, cn, an, ans, b) and length; DOLs
  parse; dates are dates.
* §10.10 issuer scripts: template 71 or 72 holding an optional Script
  Identifier (9F18, 4 bytes) and Issuer Script Commands (86), sent in order;
  a command whose SW1 is not 90, 62 or 63 ends that script
  (:func:`issuer_script_commands`, :func:`script_command_succeeded`).
* §10.3 offline data authentication input: for the records the AFL marks,
  the value of template 70 (SFI 1–10) or the whole record (SFI 11–30), then
  the AIP when the SDA Tag List (9F4A) names it (and it may name only 82).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from hcekit.errors import HcekitError

__all__ = [
    "DataElement",
    "Finding",
    "Book3Checker",
    "data_elements",
    "parse_ber",
    "check_transaction",
    "issuer_script_commands",
    "script_command_succeeded",
]

_AIP, _AFL, _CID, _ATC, _AC, _IAD = 0x82, 0x94, 0x9F27, 0x9F36, 0x9F26, 0x9F10
_PAN, _EXPIRY, _CDOL1, _CDOL2, _SDA_TAG_LIST = 0x5A, 0x5F24, 0x8C, 0x8D, 0x9F4A
_FORMAT_1, _FORMAT_2, _RECORD = 0x80, 0x77, 0x70
_SDAD, _P1_CDA = 0x9F4B, 0x10
_OK = 0x9000
#: GENERATE AC P1 / CID b8-b7: the order a card may never exceed (Book 3 §6.5.5.4).
_AC_RANK = {0x00: 0, 0x80: 1, 0x40: 2}
_AC_NAME = {0x00: "AAC", 0x80: "ARQC", 0x40: "TC", 0xC0: "RFU"}


@dataclass(frozen=True)
class DataElement:
    tag: int
    name: str
    format: str
    min: int
    max: int
    date: bool = False
    dol: bool = False


def data_elements() -> dict[int, DataElement]:
    """The Annex A1 rows for the tags this card and its terminal use."""
    raw: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath("emv_data_elements.json").read_text("utf-8"))
    return {int(e["tag"], 16): DataElement(int(e["tag"], 16), e["name"], e["format"], e["min"],
                                           e["max"], e.get("date", False), e.get("dol", False))
            for e in raw["elements"]}


@dataclass(frozen=True)
class Finding:
    """One rule the card broke: where (section) and what."""

    section: str
    message: str

    def __str__(self) -> str:
        return f"Book 3 {self.section}: {self.message}"


class BerError(HcekitError, ValueError):
    """Bytes that are not BER-TLV as Annex B defines it."""


@dataclass(frozen=True)
class Ber:
    tag: int
    value: bytes
    constructed: bool
    raw: bytes


def parse_ber(data: bytes, *, padding: bool = False) -> list[Ber]:
    """One level of BER-TLV (Annex B1–B3); *padding* skips 00 bytes between objects."""
    out: list[Ber] = []
    i, n = 0, len(data)
    while i < n:
        start = i
        if padding and data[i] == 0x00:
            i += 1
            continue
        first = data[i]
        tag = first
        i += 1
        if first & 0x1F == 0x1F:
            while True:
                if i >= n:
                    raise BerError(f"tag {tag:X} runs past the end")
                tag = tag << 8 | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        if i >= n:
            raise BerError(f"tag {tag:X} has no length")
        length = data[i]
        i += 1
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 3 or i + count > n:
                raise BerError(f"tag {tag:X}: length form {length:02X} not allowed")
            length = int.from_bytes(data[i:i + count], "big")
            i += count
        if i + length > n:
            raise BerError(f"tag {tag:X}: length {length} but {n - i} bytes remain")
        out.append(Ber(tag, data[i:i + length], bool(first & 0x20), data[start:i + length]))
        i += length
    return out


def _primitives(objects: Iterable[Ber]) -> Iterable[Ber]:
    for obj in objects:
        if obj.constructed:
            yield from _primitives(parse_ber(obj.value, padding=True))
        else:
            yield obj


def _parse_dol(data: bytes) -> list[tuple[int, int]]:
    entries, i = [], 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            while True:
                if i >= len(data):
                    raise BerError("DOL ends inside a tag")
                tag = tag << 8 | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        if i >= len(data):
            raise BerError(f"DOL tag {tag:X} has no length")
        entries.append((tag, data[i]))
        i += 1
    return entries


def _nibbles(value: bytes) -> list[int]:
    return [n for b in value for n in (b >> 4, b & 0x0F)]


def format_problem(element: DataElement, value: bytes) -> str | None:
    """Why *value* is not a valid *element* per Annex A1 (None when it is)."""
    if not element.min <= len(value) <= element.max:
        size = (f"{element.min}" if element.min == element.max
                else f"{element.min}–{element.max}")
        return f"is {len(value)} bytes; Annex A allows {size}"
    kind = element.format
    if kind == "n" and any(d > 9 for d in _nibbles(value)):
        return f"is not numeric (n): {value.hex().upper()}"
    if kind == "cn":
        digits = _nibbles(value)
        text = "".join(f"{d:X}" for d in digits).rstrip("F")
        if not text.isdigit():
            return f"is not compressed numeric (cn): {value.hex().upper()}"
    if kind == "an" and not all(chr(b).isascii() and chr(b).isalnum() for b in value):
        return f"is not alphanumeric (an): {value!r}"
    if kind == "ans" and not all(0x20 <= b <= 0x7E for b in value):
        return f"is not alphanumeric special (ans): {value!r}"
    if element.date:
        month, day = int(value[1:2].hex()), int(value[2:3].hex())
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return f"is not a YYMMDD date: {value.hex().upper()}"
    if element.dol:
        try:
            _parse_dol(value)
        except BerError as exc:
            return f"is not a data object list: {exc}"
    return None


@dataclass
class Book3Checker:
    """Collects one transaction's answers and the rules they break."""

    #: Report tags missing from the Annex A table (a test wants that; a kernel ignores them).
    strict: bool = False
    findings: list[Finding] = field(default_factory=list)
    #: Primitive data objects from the GPO answer and the records: tag → value.
    card_data: dict[int, bytes] = field(default_factory=dict)
    #: Where each primitive came from (for redundancy messages).
    origin: dict[int, str] = field(default_factory=dict)
    aip: bytes | None = None
    afl: bytes | None = None
    #: (SFI, record) → raw record, as read.
    records: dict[tuple[int, int], bytes] = field(default_factory=dict)
    #: Records asked for that the card refused: (SFI, record) → SW.
    refused: dict[tuple[int, int], int] = field(default_factory=dict)
    cryptogram_in_gpo: bool = False
    generate_ac_count: int = 0
    elements: dict[int, DataElement] = field(default_factory=data_elements)

    def fail(self, section: str, message: str) -> None:
        self.findings.append(Finding(section, message))

    # -- per response ---------------------------------------------------------------------

    def exchange(self, command: bytes, response: bytes) -> None:
        """One command and the card's answer (data + SW1 SW2)."""
        if len(command) < 4 or len(response) < 2:
            return
        cla, ins, p1, p2 = command[:4]
        data, sw = response[:-2], int.from_bytes(response[-2:], "big")
        if (cla, ins) == (0x00, 0xA4) and sw == _OK:
            self._fci(data)
        elif (cla, ins) == (0x80, 0xA8):
            self._gpo(data, sw)
        elif (cla, ins) == (0x00, 0xB2):
            self._record(p2 >> 3, p1, data, sw)
        elif (cla, ins) == (0x80, 0xAE):
            self._generate_ac(p1, data, sw)

    def _check_formats(self, objects: Iterable[Ber], where: str) -> None:
        for obj in _primitives(objects):
            element = self.elements.get(obj.tag)
            if element is None:
                if self.strict:
                    self.fail("Annex A", f"{where}: tag {obj.tag:X} is not in the Annex A table")
                continue
            problem = format_problem(element, obj.value)
            if problem:
                self.fail("Annex A", f"{where}: {obj.tag:X} ({element.name}) {problem}")

    def _parse(self, data: bytes, section: str, where: str) -> list[Ber] | None:
        try:
            objects = parse_ber(data)
            for obj in objects:
                if obj.constructed:
                    list(_primitives([obj]))
        except BerError as exc:
            self.fail(section, f"{where} is not BER-TLV: {exc}")
            return None
        return objects

    def _fci(self, data: bytes) -> None:
        objects = self._parse(data, "§6.5.11.4", "SELECT answer")
        if objects:
            self._check_formats(objects, "FCI")

    def _gpo(self, data: bytes, sw: int) -> None:
        if sw != _OK:
            self.fail("§6.5.8.4", f"GET PROCESSING OPTIONS answered {sw:04X}")
            return
        objects = self._parse(data, "§6.5.8.4", "GPO answer")
        if objects is None:
            return
        if len(objects) != 1 or objects[0].tag not in (_FORMAT_1, _FORMAT_2):
            self.fail("§6.5.8.4", "the GPO answer is not one template 80 or 77")
            return
        top = objects[0]
        if top.tag == _FORMAT_1:
            if len(top.value) < 2 + 4:
                self.fail("§6.5.8.4", "format 1 GPO answer shorter than AIP + one AFL entry")
                return
            self._collect([Ber(_AIP, top.value[:2], False, b""),
                           Ber(_AFL, top.value[2:], False, b"")], "GPO answer")
        else:
            self._check_formats([top], "GPO answer")
            self._collect(_primitives([top]), "GPO answer")
        self.aip, self.afl = self.card_data.get(_AIP), self.card_data.get(_AFL)
        if self.aip is None or self.afl is None:
            self.fail("§6.5.8.4", "the GPO answer lacks the AIP (82) or the AFL (94)")
        self.cryptogram_in_gpo = _AC in self.card_data

    def _collect(self, objects: Iterable[Ber], where: str) -> None:
        for obj in objects:
            if obj.tag in self.card_data:
                self.fail("§10.2", f"redundant primitive data object {obj.tag:X}: in {where} "
                                   f"and already in {self.origin[obj.tag]}")
                continue
            self.card_data[obj.tag] = obj.value
            self.origin[obj.tag] = where

    def _record(self, sfi: int, number: int, data: bytes, sw: int) -> None:
        where = f"SFI {sfi} record {number}"
        if sw != _OK:
            self.refused[(sfi, number)] = sw
            return
        self.records[(sfi, number)] = data
        try:
            objects = parse_ber(data, padding=True)
        except BerError as exc:
            self.fail("§10.2", f"{where} is not BER-TLV: {exc}")
            return
        if 1 <= sfi <= 10 and (len(objects) != 1 or objects[0].tag != _RECORD):
            self.fail("§10.2", f"{where} (SFI 1–10) is not one record template 70")
            return
        self._check_formats(objects, where)
        self._collect(_primitives(objects), where)

    def _generate_ac(self, p1: int, data: bytes, sw: int) -> None:
        self.generate_ac_count += 1
        nth = "second" if self.generate_ac_count == 2 else "first"
        if sw != _OK:
            self.fail("§6.5.5.4", f"{nth} GENERATE AC answered {sw:04X}")
            return
        objects = self._parse(data, "§6.5.5.4", f"{nth} GENERATE AC answer")
        if objects is None:
            return
        if len(objects) != 1 or objects[0].tag not in (_FORMAT_1, _FORMAT_2):
            self.fail("§6.5.5.4", f"the {nth} GENERATE AC answer is not one template 80 or 77")
            return
        top = objects[0]
        if top.tag == _FORMAT_1:
            if len(top.value) < 11:
                self.fail("§6.5.5.4", "format 1 GENERATE AC answer shorter than CID+ATC+AC")
                return
            cid = top.value[0]
        else:
            self._check_formats([top], f"{nth} GENERATE AC answer")
            values = {o.tag: o.value for o in _primitives([top])}
            # With CDA (P1 b5) the cryptogram travels inside the signature 9F4B (Book 2 §6.6.1).
            signed = p1 & _P1_CDA and _SDAD in values
            missing = [f"{t:X}" for t in (_CID, _ATC, _SDAD if signed else _AC)
                       if t not in values]
            if missing:
                self.fail("§6.5.5.4", f"{nth} GENERATE AC answer lacks {', '.join(missing)}")
                return
            cid = values[_CID][0] if values[_CID] else 0
        asked, answered = p1 & 0xC0, cid & 0xC0
        if answered not in _AC_RANK:
            self.fail("§6.5.5.4", f"CID {cid:02X} names an RFU cryptogram type")
        elif asked in _AC_RANK and _AC_RANK[answered] > _AC_RANK[asked]:
            self.fail("§6.5.5.4", f"asked for {_AC_NAME[asked]}, the card answered "
                                  f"{_AC_NAME[answered]} (above the request)")
        if self.generate_ac_count == 2 and answered == 0x80:
            self.fail("§9.3", "the second GENERATE AC answered an ARQC (only TC or AAC)")
        if self.generate_ac_count > 2:
            self.fail("§9.3", "more than two GENERATE AC commands in one transaction")

    # -- after the records -----------------------------------------------------------------

    def afl_entries(self) -> list[tuple[int, int, int, int]]:
        """(SFI, first, last, ODA count) per AFL entry; syntax errors become findings."""
        afl = self.afl or b""
        if len(afl) % 4 or not afl:
            self.fail("§10.2", f"AFL of {len(afl)} bytes is not a non-empty multiple of 4")
            return []
        entries = []
        for i in range(0, len(afl), 4):
            sfi, first, last, oda = afl[i] >> 3, afl[i + 1], afl[i + 2], afl[i + 3]
            if afl[i] & 0x07 or not 1 <= sfi <= 30 or first == 0 or last < first \
                    or oda > last - first + 1:
                self.fail("§10.2", f"AFL entry {afl[i:i + 4].hex().upper()} is invalid")
                continue
            entries.append((sfi, first, last, oda))
        return entries

    def oda_input(self) -> bytes:
        """The static data ODA would authenticate (§10.3), from the records the AFL marks."""
        out = bytearray()
        for sfi, first, _last, oda in self.afl_entries():
            for number in range(first, first + oda):
                record = self.records.get((sfi, number))
                if record is None:
                    continue  # reported by finish()
                if sfi <= 10:
                    objects = parse_ber(record, padding=True)
                    if len(objects) == 1 and objects[0].tag == _RECORD:
                        out += objects[0].value
                else:
                    out += record
        tag_list = self.card_data.get(_SDA_TAG_LIST)
        if tag_list:
            if tag_list != bytes((_AIP,)):
                self.fail("§10.3", "the SDA Tag List (9F4A) may contain only the AIP tag 82")
            elif self.aip is not None:
                out += self.aip
        return bytes(out)

    def finish(self) -> list[Finding]:
        """Rules over the whole transaction; returns every finding so far."""
        if self.aip is None:
            self.fail("§6.5.8.4", "no GET PROCESSING OPTIONS answer seen")
            return self.findings
        for sfi, first, last, _oda in self.afl_entries():
            for number in range(first, last + 1):
                if (sfi, number) in self.refused:
                    self.fail("§10.2", f"AFL names SFI {sfi} record {number}; the card "
                                       f"answered {self.refused[(sfi, number)]:04X}")
                elif (sfi, number) not in self.records:
                    self.fail("§10.2", f"AFL record SFI {sfi} record {number} was never read")
        offers_generate_ac = not self.cryptogram_in_gpo
        mandatory = [_EXPIRY, _PAN] + ([_CDOL1, _CDOL2] if offers_generate_ac else [])
        missing = [f"{t:X}" for t in mandatory if t not in self.card_data]
        if missing:
            self.fail("§7.2", f"mandatory data missing: {', '.join(missing)}")
        self.oda_input()
        return self.findings


def check_transaction(exchanges: Iterable[tuple[bytes, bytes]], *,
                      strict: bool = True) -> Book3Checker:
    """Run a recorded transaction (command, response) pairs through a fresh checker."""
    checker = Book3Checker(strict=strict)
    for command, response in exchanges:
        checker.exchange(command, response)
    checker.finish()
    return checker


_SCRIPT_TEMPLATES, _SCRIPT_ID, _SCRIPT_COMMAND = (0x71, 0x72), 0x9F18, 0x86


def issuer_script_commands(template: bytes) -> tuple[bytes, list[bytes]]:
    """§10.10: (script identifier, the commands) of one issuer script template 71/72."""
    objects = parse_ber(template)
    if len(objects) != 1 or objects[0].tag not in _SCRIPT_TEMPLATES:
        raise BerError("an issuer script is one template 71 or 72")
    script_id, commands = b"", list[bytes]()
    for obj in parse_ber(objects[0].value):
        if obj.tag == _SCRIPT_ID and len(obj.value) == 4 and not commands:
            script_id = obj.value
        elif obj.tag == _SCRIPT_COMMAND and len(obj.value) >= 4:
            commands.append(obj.value)
        else:
            raise BerError(f"tag {obj.tag:X} does not belong in an issuer script here")
    return script_id, commands


def script_command_succeeded(sw: int) -> bool:
    """§10.10: SW1 90, 62 or 63 lets the script go on; anything else ends it."""
    return sw >> 8 in (0x90, 0x62, 0x63)
