"""A minimal POS terminal: PPSE → SELECT → GPO → READ RECORD → GENERATE AC → issuer → 2nd AC.

:func:`run_transaction` is the reader-side kernel (usable from tests and
other scripts); :data:`POS_SCRIPT` wraps it as the ``payment-pos`` terminal
script, printing a receipt-like summary. By default the issuer check uses
the same TEST issuer master key the card personalises itself with.

Every answer goes through :class:`~hcekit_payment.book3.Book3Checker`, the
checks an EMV Book 3 kernel makes (mandatory data, no redundant data, Annex
A formats, AFL); any finding terminates the transaction as a kernel would.

After an ARQC in the full flow the issuer (:class:`IssuerHost`) verifies it
and answers with Issuer Authentication Data; the terminal passes it to the
card in the second GENERATE AC (CDOL2) and asks for a TC when the issuer
approved, an AAC otherwise. ``online=offline`` plays a terminal that could
not reach the issuer: ARC ``Z3``, no issuer data.

Offline data authentication follows the AIP (Book 3 §10.3): CDA when the
card offers it (the GENERATE AC asks for a signature), else DDA (INTERNAL
AUTHENTICATE with the DDOL), else SDA; in the qVSDC flow a signature in the
GPO answer is checked as fDDA. Every check is :mod:`hcekit_payment.book2`'s,
from the CA public keys loaded from an export (``capk``: the JSON of
``hcekit payment capk --json``; default the TEST CAPK). The outcome is
reported (``PosResult.oda``); a failure is what the terminal would note in
the TVR, not an exception.

Script options (``--option key=value``): ``amount`` (decimal, default
12.34), ``currency`` / ``country`` (ISO numeric, default 0840), ``flow``
(``generate-ac`` default, or ``qvsdc``: cryptogram in the GPO answer),
``request`` (``arqc`` default, ``tc``, ``aac``), ``online`` (``approve``
default, ``decline``, ``offline``), ``imk-file`` (a file holding the issuer
master key in hex, default the TEST key; never on the command line),
``capk`` (path of a CAPK JSON export), ``script`` (issuer
script commands sent after an online approval or decline, comma-separated:
``block``, ``unblock``, ``card-block``, ``pin-unblock``,
``pin-change:NEW[:CURRENT]``, ``put-data:9F14=05``, ``update-record:SFI.RECORD=HEX``),
``script_when`` (``after`` the final GENERATE AC, template 72, or ``before`` it,
template 71).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hcekit import SW
from hcekit.errors import HcekitError
from hcekit.terminal.script import ScriptContext, ScriptOptionError, TerminalScript
from hcekit.terminal.terminal import Terminal, TerminalError
from hcekit.tlv import Tlv, TlvError, encode, find, parse

from . import tags
from .book2 import (
    OdaFailure,
    PublicKey,
    icc_public_key,
    issuer_public_key,
    load_capks,
    verify_cda,
    verify_dynamic_signature,
    verify_sda,
)
from .book3 import (
    Book3Checker,
    Finding,
    issuer_script_commands,
    parse_ber,
    script_command_succeeded,
)
from .cryptogram import CryptogramType, TransactionData, cvn_from_iad
from .dol import DolEntry, fill, parse_dol
from .issuer import BEFORE_FINAL_AC, CryptogramRecord, IssuerHost, ScriptCommand, Verdict
from .scripts import INS_PIN_CHANGE_UNBLOCK, P2_PIN_CHANGE, P2_PIN_CHANGE_WITH_PIN
from .testdata import TEST_IMK

__all__ = ["PosError", "PosResult", "run_transaction", "run_pos", "POS_SCRIPT", "PPSE_AID"]

PPSE_AID = b"2PAY.SYS.DDF01"
#: TTQ byte 1: EMV contact chip, online PIN, signature; plus qVSDC for that flow.
_TTQ_FULL_EMV = bytes.fromhex("16004000")
_TTQ_QVSDC = bytes.fromhex("36804000")
_REQUEST = {"arqc": CryptogramType.ARQC, "tc": CryptogramType.TC, "aac": CryptogramType.AAC}
_ONLINE = ("approve", "decline", "offline")
#: Authorisation Response Codes (8A): approved, do not honour (ISO 8583), and EMV Book 4
#: Annex A6 "unable to go online, offline declined".
_ARC_APPROVED, _ARC_DECLINED, _ARC_UNABLE_OFFLINE_DECLINED = b"00", b"05", b"Z3"


class PosError(HcekitError):
    """The card did not behave as a payment card should (message says where)."""


@dataclass
class PosResult:
    aid: bytes
    label: str
    flow: str
    record: CryptogramRecord
    verdict: Verdict
    expiry: str
    amount_minor: int
    currency: str
    card_data: dict[int, bytes] = field(default_factory=dict)
    #: The second GENERATE AC's TC/AAC and the issuer's check of it (full flow after an ARQC).
    final: CryptogramRecord | None = None
    final_verdict: Verdict | None = None
    #: Book 3 findings (empty: a conforming kernel would have accepted every answer).
    findings: list[Finding] = field(default_factory=list)
    #: Offline data authentication: "none", "<METHOD> verified" or "<METHOD> failed: why".
    oda: str = "none"
    #: The status word of each issuer script command delivered (in order; stops at a failure).
    script_results: list[int] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        if self.final is not None and self.final_verdict is not None:
            return self.final_verdict.valid and self.final.cryptogram_type is CryptogramType.TC
        kind = self.record.cryptogram_type
        return self.verdict.valid and kind is not CryptogramType.AAC


class _Session:
    """Sends commands and feeds every answer to the Book 3 checker."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.book3 = Book3Checker()

    def expect(self, command: bytes, what: str) -> bytes:
        response = self.terminal.transmit(command)
        self._mark_secrets(response.data)
        self.book3.exchange(command, response.to_bytes())
        if response.sw != SW.NO_ERROR:
            raise PosError(f"{what}: card answered {response.sw:04X}")
        return response.data

    def _mark_secrets(self, data: bytes) -> None:
        """The PAN and track 2 never reach a printout, over a reader too (as the card marks)."""
        objects: dict[int, bytes] = {}
        try:
            _flatten(data, objects)
        except (TlvError, ValueError):
            return
        found = (objects.get(tag, b"") for tag in (tags.PAN, tags.TRACK2_EQUIVALENT))
        self.terminal.mark_secret(*(value for value in found if len(value) >= 4))

    def conforming(self, stage: str) -> None:
        """A Book 3 kernel terminates on any finding ("card error")."""
        if self.book3.findings:
            text = "; ".join(str(f) for f in self.book3.findings)
            raise PosError(f"card error after {stage} (EMV {text})")


def _bcd(value: int, length: int) -> bytes:
    return bytes.fromhex(f"{value:0{length * 2}d}")


def _choose_application(ppse_fci: bytes) -> tuple[bytes, str]:
    """The PPSE entry with the highest priority (lowest tag 87 value)."""
    directory = find(ppse_fci, 0xBF0C)
    if directory is None:
        raise PosError("PPSE FCI has no directory (BF0C)")
    entries: list[tuple[int, bytes, str]] = []
    for obj in parse(directory, strict=False):
        if obj.tag != 0x61:
            continue
        aid = find(obj.value, 0x4F)
        if aid is None:
            continue
        label = (find(obj.value, tags.APPLICATION_LABEL) or b"").decode("ascii", "replace")
        priority = find(obj.value, tags.APPLICATION_PRIORITY)
        entries.append(((priority[0] & 0x0F) if priority else 15, aid, label))
    if not entries:
        raise PosError("PPSE lists no payment application")
    entries.sort(key=lambda e: e[0])
    return entries[0][1], entries[0][2]


def _flatten(data: bytes, into: dict[int, bytes]) -> None:
    for obj in parse(data, strict=False):
        if obj.constructed:
            _flatten(obj.value, into)
        else:
            into.setdefault(obj.tag, obj.value)


def _response_objects(data: bytes, format1: tuple[tuple[int, int], ...]) -> dict[int, bytes]:
    """Objects of a format 1 (80) or format 2 (77) response."""
    try:
        (top,) = parse(data)
    except (TlvError, ValueError):
        raise PosError(f"response is not one TLV template: {data.hex().upper()}") from None
    return _split_template(top, format1)


def _split_template(top: Tlv, format1: tuple[tuple[int, int], ...]) -> dict[int, bytes]:
    if top.tag == tags.RESPONSE_FORMAT_2:
        out: dict[int, bytes] = {}
        _flatten(top.value, out)
        return out
    if top.tag == tags.RESPONSE_FORMAT_1:
        out, offset = {}, 0
        for i, (tag, length) in enumerate(format1):
            last = i == len(format1) - 1
            out[tag] = top.value[offset:] if last else top.value[offset:offset + length]
            offset += length
        return out
    raise PosError(f"unexpected response template {top.tag:X}")


def run_transaction(
    terminal: Terminal,
    *,
    amount_minor: int = 1234,
    currency: str = "0840",
    country: str = "0840",
    flow: str = "generate-ac",
    request: CryptogramType = CryptogramType.ARQC,
    online: str = "approve",
    issuer: IssuerHost | None = None,
    unpredictable_number: bytes | None = None,
    today: datetime.date | None = None,
    capks: str | None = None,
    scripts: list[ScriptCommand] | None = None,
    scripts_before_final_ac: bool = False,
) -> PosResult:
    """One contactless purchase against the card in the field. Raises PosError."""
    if flow not in ("generate-ac", "qvsdc"):
        raise ValueError(f"flow must be 'generate-ac' or 'qvsdc', got {flow!r}")
    if online not in _ONLINE:
        raise ValueError(f"online must be one of {', '.join(_ONLINE)}, got {online!r}")
    issuer = issuer or IssuerHost()
    day = today or datetime.date.today()
    values: dict[int, bytes] = {
        tags.TTQ: _TTQ_QVSDC if flow == "qvsdc" else _TTQ_FULL_EMV,
        tags.AMOUNT_AUTHORISED: _bcd(amount_minor, 6),
        tags.AMOUNT_OTHER: bytes(6),
        tags.TERMINAL_COUNTRY_CODE: bytes.fromhex(country),
        tags.TVR: bytes(5),
        tags.TRANSACTION_CURRENCY_CODE: bytes.fromhex(currency),
        tags.TRANSACTION_DATE: bytes.fromhex(day.strftime("%y%m%d")),
        tags.TRANSACTION_TYPE: b"\x00",
        tags.UNPREDICTABLE_NUMBER: unpredictable_number or os.urandom(4),
    }

    session = _Session(terminal)
    aid, label = _choose_application(session.expect(_select(PPSE_AID), "SELECT PPSE"))
    select = session.terminal.transmit(_select(aid))
    session.book3.exchange(_select(aid), select.to_bytes())
    if select.sw == SW.SELECTED_FILE_INVALIDATED:  # Book 1 §12.4: not a candidate
        raise PosError(f"SELECT {aid.hex().upper()}: the application is blocked (6283)")
    if select.sw != SW.NO_ERROR:
        raise PosError(f"SELECT {aid.hex().upper()}: card answered {select.sw:04X}")
    fci = select.data
    pdol_raw = find(fci, tags.PDOL)
    pdol: list[DolEntry] = parse_dol(pdol_raw) if pdol_raw else []
    pdol_data = fill(pdol, values)
    gpo_data = encode(tags.COMMAND_TEMPLATE, pdol_data)
    gpo = _response_objects(
        session.expect(bytes((0x80, 0xA8, 0, 0, len(gpo_data))) + gpo_data + b"\x00", "GPO"),
        ((tags.AIP, 2), (tags.AFL, 0)),
    )
    aip, afl = gpo.get(tags.AIP), gpo.get(tags.AFL)
    if aip is None or afl is None or len(afl) % 4:
        raise PosError("GPO answer lacks a valid AIP/AFL")

    card: dict[int, bytes] = dict(gpo)
    for i in range(0, len(afl), 4):
        sfi, first, last = afl[i] >> 3, afl[i + 1], afl[i + 2]
        for number in range(first, last + 1):
            raw = session.expect(bytes((0x00, 0xB2, number, (sfi << 3) | 4, 0)),
                                 f"READ RECORD SFI {sfi} record {number}")
            _flatten(raw, card)
    session.book3.finish()
    session.conforming("reading the records")
    oda = _Oda(aid[:5], card, session.book3.oda_input(), day, capks)

    final_answer: dict[int, bytes] | None = None
    cda = False
    if tags.APPLICATION_CRYPTOGRAM in gpo:
        used_flow, answer = "qVSDC", gpo
        if tags.SIGNED_DYNAMIC_APPLICATION_DATA in gpo:
            oda.run("fDDA", lambda: verify_dynamic_signature(
                oda.icc_key(), gpo[tags.SIGNED_DYNAMIC_APPLICATION_DATA],
                values[tags.UNPREDICTABLE_NUMBER] + values[tags.AMOUNT_AUTHORISED]
                + values[tags.TRANSACTION_CURRENCY_CODE]))
    else:
        cdol_raw = card.get(tags.CDOL1)
        if cdol_raw is None:
            raise PosError("the card has no CDOL1 and gave no cryptogram in GPO")
        if aip[0] & _AIP_CDA:
            cda = oda.run("CDA", oda.icc_key)  # key retrieval first (Book 3 §10.3)
        elif aip[0] & _AIP_DDA:
            oda.run("DDA", lambda: _dda(session, card, values, oda))
        elif aip[0] & _AIP_SDA:
            oda.run("SDA", lambda: verify_sda(oda.issuer_key(), card, oda.static_data))
        cdol_data = fill(parse_dol(cdol_raw), values)
        p1 = int(request) | (_P1_CDA if cda else 0)
        command = bytes((0x80, 0xAE, p1, 0, len(cdol_data))) + cdol_data + b"\x00"
        raw = session.expect(command, "GENERATE AC")
        answer = _generate_ac_answer(raw)
        session.conforming("GENERATE AC")
        if cda:
            oda.cda(raw, answer, values, pdol_data + cdol_data)
        used_flow = "GENERATE AC"

    record = _cryptogram_record(card, values, aip, answer)
    verdict = issuer.verify(record)
    final = final_verdict = None
    script_results: list[int] = []
    if used_flow == "GENERATE AC" and record.cryptogram_type is CryptogramType.ARQC:
        if online == "offline":
            values[tags.AUTHORISATION_RESPONSE_CODE] = _ARC_UNABLE_OFFLINE_DECLINED
            approve = False
        else:
            approve = verdict.valid and online == "approve"
            values[tags.AUTHORISATION_RESPONSE_CODE] = (_ARC_APPROVED if approve
                                                        else _ARC_DECLINED)
            if verdict.valid:
                values[tags.ISSUER_AUTHENTICATION_DATA] = issuer.authorise(record, approve)
        cdol2_raw = card.get(tags.CDOL2)
        if cdol2_raw is None:
            raise PosError("the card has no CDOL2 for the second GENERATE AC")
        cdol2_data = fill(parse_dol(cdol2_raw), values)
        if scripts and online != "offline" and scripts_before_final_ac:
            script_results = _deliver_script(
                session, issuer.script(record, scripts, template=BEFORE_FINAL_AC))
        second = CryptogramType.TC if approve else CryptogramType.AAC
        p1 = int(second) | (_P1_CDA if cda else 0)
        command = bytes((0x80, 0xAE, p1, 0, len(cdol2_data))) + cdol2_data + b"\x00"
        raw = session.expect(command, "second GENERATE AC")
        final_answer = _generate_ac_answer(raw)
        session.conforming("the second GENERATE AC")
        if cda:
            oda.cda(raw, final_answer, values, pdol_data + cdol_data + cdol2_data)
        final = _cryptogram_record(card, values, aip, final_answer)
        final_verdict = issuer.verify_final(record, final)
        if scripts and online != "offline" and not scripts_before_final_ac:
            script_results = _deliver_script(session, issuer.script(record, scripts))

    expiry = card.get(tags.EXPIRATION_DATE, b"").hex()
    return PosResult(aid, label, used_flow, record, verdict, expiry, amount_minor, currency,
                     card, final, final_verdict, list(session.book3.findings), oda.outcome,
                     script_results)


#: PIN CHANGE/UNBLOCK P2 values whose command carries an enciphered new PIN.
_NEW_PIN_P2 = (bytes((P2_PIN_CHANGE,)), bytes((P2_PIN_CHANGE_WITH_PIN,)))


def _deliver_script(session: _Session, template: bytes) -> list[int]:
    """Book 3 §10.10: send a script's commands (71 before, 72 after the final GENERATE AC)."""
    _script_id, commands = issuer_script_commands(template)
    results = []
    for command in commands:
        sw = session.terminal.transmit(command).sw
        if command[1:2] == bytes((INS_PIN_CHANGE_UNBLOCK,)) and command[3:4] in _NEW_PIN_P2:
            session.terminal.mark_sensitive()  # an enciphered new PIN: redacted as on the card
        results.append(int(sw))
        if not script_command_succeeded(sw):
            break
    return results


_AIP_SDA, _AIP_DDA, _AIP_CDA = 0x40, 0x20, 0x01
_P1_CDA = 0x10
_INTERNAL_AUTHENTICATE = bytes((0x00, 0x88, 0x00, 0x00))


class _Oda:
    """The terminal's ODA state: keys recovered once, the outcome of the method tried."""

    def __init__(self, rid: bytes, card: dict[int, bytes], static_data: bytes,
                 today: datetime.date, capks: str | None) -> None:
        if capks is None:
            from .ca import capks_json  # the TEST CAPK, as `hcekit payment capk --json` exports

            capks = capks_json()
        self.capks = load_capks(capks)
        self.rid, self.card, self.static_data, self.today = rid, card, static_data, today
        self.outcome = "none"
        self._issuer: PublicKey | None = None
        self._icc: PublicKey | None = None

    def issuer_key(self) -> PublicKey:
        if self._issuer is None:
            self._issuer = issuer_public_key(self.capks, self.rid, self.card, self.today)
        return self._issuer

    def icc_key(self) -> PublicKey:
        if self._icc is None:
            self._icc = icc_public_key(self.issuer_key(), self.card, self.static_data,
                                       self.today)
        return self._icc

    def run(self, method: str, check: Callable[[], object]) -> bool:
        try:
            check()
        except OdaFailure as exc:
            self.outcome = f"{method} failed: {exc}"
            return False
        self.outcome = f"{method} verified"
        return True

    def cda(self, raw: bytes, answer: dict[int, bytes], values: dict[int, bytes],
            dol_data: bytes) -> None:
        """Check a CDA answer (*raw*, parsed as *answer*); its cryptogram joins *answer*."""
        sdad = answer.get(tags.SIGNED_DYNAMIC_APPLICATION_DATA)
        if sdad is None:  # an AAC comes unsigned (Book 2 §6.6)
            return
        objects = parse_ber(parse_ber(raw)[0].value)
        hashed = dol_data + b"".join(o.raw for o in objects
                                     if o.tag != tags.SIGNED_DYNAMIC_APPLICATION_DATA)

        def check() -> None:
            answer[tags.APPLICATION_CRYPTOGRAM] = verify_cda(
                self.icc_key(), sdad, values[tags.UNPREDICTABLE_NUMBER],
                answer[tags.CRYPTOGRAM_INFORMATION_DATA][0], hashed)

        if not self.run("CDA", check):
            answer[tags.APPLICATION_CRYPTOGRAM] = bytes(8)


def _dda(session: _Session, card: dict[int, bytes], values: dict[int, bytes],
         oda: _Oda) -> None:
    key = oda.icc_key()
    ddol = card.get(tags.DDOL)
    data = fill(parse_dol(ddol) if ddol else [(tags.UNPREDICTABLE_NUMBER, 4)], values)
    answer = _response_objects(session.expect(
        _INTERNAL_AUTHENTICATE + bytes((len(data),)) + data + b"\x00", "INTERNAL AUTHENTICATE"),
        ((tags.SIGNED_DYNAMIC_APPLICATION_DATA, 0),))
    verify_dynamic_signature(key, answer.get(tags.SIGNED_DYNAMIC_APPLICATION_DATA, b""), data)


def _generate_ac_answer(data: bytes) -> dict[int, bytes]:
    return _response_objects(
        data, ((tags.CRYPTOGRAM_INFORMATION_DATA, 1), (tags.ATC, 2),
               (tags.APPLICATION_CRYPTOGRAM, 8), (tags.ISSUER_APPLICATION_DATA, 0)))


def _cryptogram_record(card: dict[int, bytes], values: dict[int, bytes], aip: bytes,
                       answer: dict[int, bytes]) -> CryptogramRecord:
    try:
        pan = (card[tags.PAN].hex().upper()).rstrip("F")
        return CryptogramRecord(
            pan=pan,
            psn=card.get(tags.PAN_SEQUENCE_NUMBER, b"\x00").hex(),
            data=TransactionData(*(values[tag] for tag in (
                tags.AMOUNT_AUTHORISED, tags.AMOUNT_OTHER, tags.TERMINAL_COUNTRY_CODE, tags.TVR,
                tags.TRANSACTION_CURRENCY_CODE, tags.TRANSACTION_DATE, tags.TRANSACTION_TYPE,
                tags.UNPREDICTABLE_NUMBER))),
            aip=aip,
            atc=answer[tags.ATC],
            iad=answer[tags.ISSUER_APPLICATION_DATA],
            cid=answer[tags.CRYPTOGRAM_INFORMATION_DATA][0],
            cryptogram=answer[tags.APPLICATION_CRYPTOGRAM],
        )
    except (KeyError, IndexError) as exc:
        raise PosError(f"card data incomplete: missing {exc}") from None


def _select(aid: bytes) -> bytes:
    return bytes((0x00, 0xA4, 0x04, 0x00, len(aid))) + aid + b"\x00"


def _parse_amount(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"amount {text!r} is not a number") from None
    minor = value * 100
    if minor != minor.to_integral_value() or not 0 <= minor < 10**12:
        raise ValueError(f"amount {text!r} must be ≥ 0 with at most 2 decimals")
    return int(minor)


def _read_imk(path: Path) -> bytes:
    """The issuer master key from a file (16 bytes hex): never from argv, where ps shows it."""
    try:
        imk = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError, ValueError):
        raise ScriptOptionError(f"option imk-file={path}: not a file holding the key "
                                "in hex") from None
    if len(imk) != 16:
        raise ScriptOptionError(f"option imk-file={path}: the key is {len(imk)} bytes, "
                                "expected 16")
    return imk


def format_receipt(result: PosResult) -> list[str]:
    rec = result.record
    masked = "*" * (len(rec.pan) - 4) + rec.pan[-4:]
    expiry = f"{result.expiry[2:4]}/{result.expiry[:2]}" if len(result.expiry) == 6 else "?"
    try:
        cvn = f"CVN {int(cvn_from_iad(rec.iad))}"
    except ValueError:
        cvn = "CVN ?"
    outcome = ("APPROVED" if result.approved else "DECLINED") + (
        " (online authorisation)" if rec.cryptogram_type is CryptogramType.ARQC else "")
    valid = result.verdict.valid
    second: list[str] = []
    if result.final is not None and result.final_verdict is not None:
        second = [
            f"Second AC     {result.final.cryptogram_type.name} "
            f"{result.final.cryptogram.hex().upper()}",
            f"Final check   {'OK' if result.final_verdict.valid else 'FAILED'}: "
            f"{result.final_verdict.reason}",
        ]
        valid = valid and result.final_verdict.valid
    return [
        "======== HCEKIT TEST TERMINAL - NOT A REAL PAYMENT ========",
        f"Application   {result.label} ({result.aid.hex().upper()})",
        f"Card          {masked}  PSN {rec.psn}  exp {expiry}",
        f"Amount        {Decimal(result.amount_minor) / 100:.2f}  currency {result.currency}",
        f"Flow          {result.flow} ({cvn})",
        f"ATC           {int.from_bytes(rec.atc, 'big')}",
        f"Cryptogram    {rec.cryptogram_type.name} {rec.cryptogram.hex().upper()}",
        f"Offline auth  {result.oda}",
        f"Issuer check  {'OK' if result.verdict.valid else 'FAILED'}: {result.verdict.reason}",
        *second,
        *([f"Issuer script {' '.join(f'{sw:04X}' for sw in result.script_results)}"]
          if result.script_results else []),
        f"Result        {outcome if valid else 'DECLINED (cryptogram invalid)'}",
        "==========================================================",
    ]


def parse_script(text: str) -> list[ScriptCommand]:
    """``block,pin-change:4321:1234,put-data:9F14=05,update-record:2.1=70…`` → the commands."""
    simple = {"block": ScriptCommand.application_block,
              "unblock": ScriptCommand.application_unblock,
              "card-block": ScriptCommand.card_block,
              "pin-unblock": ScriptCommand.pin_unblock}
    commands = []
    for item in filter(None, (part.strip().lower() for part in text.split(","))):
        name, _, argument = item.partition(":")
        if name in simple and not argument:
            commands.append(simple[name]())
        elif name == "pin-change" and argument:
            new_pin, _, current = argument.partition(":")
            commands.append(ScriptCommand.pin_change(new_pin, current or None))
        elif name == "put-data" and "=" in argument:
            tag, value = argument.split("=", 1)
            commands.append(ScriptCommand.put_data(int(tag, 16), bytes.fromhex(value)))
        elif name == "update-record" and "=" in argument and "." in argument.split("=")[0]:
            where, value = argument.split("=", 1)
            sfi, number = where.split(".", 1)
            commands.append(ScriptCommand.update_record(int(sfi), int(number),
                                                        bytes.fromhex(value)))
        else:
            raise ValueError(f"script command {item!r}: use block, unblock, card-block, "
                             "pin-unblock, pin-change:NEW[:CURRENT], put-data:TAG=HEX or "
                             "update-record:SFI.RECORD=HEX")
    return commands


def run_pos(ctx: ScriptContext) -> int:
    """The ``payment-pos`` script: 0 when the cryptogram verified, 1 when not, 2 on errors."""
    opts: Mapping[str, str] = ctx.options
    try:  # every option is read before the first command (hcekit.terminal.script.rehearse)
        amount = _parse_amount(opts.get("amount", "12.34"))
    except ValueError as exc:
        raise ScriptOptionError(f"option amount: {exc}") from None
    request = _REQUEST[ctx.choice("request", tuple(_REQUEST), "arqc")]
    online = ctx.choice("online", _ONLINE, "approve")
    ctx.choice("flow", ("generate-ac", "qvsdc"), "generate-ac")
    imk_file = ctx.path("imk-file")
    imk = TEST_IMK if imk_file is None else _read_imk(imk_file)
    issuer = ctx.extras.get("issuer") or IssuerHost(imk)
    capk_file = ctx.path("capk")
    try:
        capks = capk_file.read_text("utf-8") if capk_file is not None else None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptOptionError(f"option capk={capk_file}: cannot read it ({exc})") from None
    try:
        scripts = parse_script(opts.get("script", ""))
    except ValueError as exc:
        raise ScriptOptionError(f"option script: {exc}") from None
    when = ctx.choice("script_when", ("before", "after"), "after")
    try:  # the runner (hcekit demo / tap) holds the tap open around this script
        result = run_transaction(
            ctx.terminal, amount_minor=amount,
            currency=opts.get("currency", "0840"), country=opts.get("country", "0840"),
            flow=opts.get("flow", "generate-ac"), request=request, online=online, issuer=issuer,
            capks=capks, scripts=scripts, scripts_before_final_ac=when == "before",
        )
    except (PosError, TerminalError, ValueError) as exc:
        ctx.echo(f"payment-pos: transaction failed: {exc}")
        return 2
    for line in format_receipt(result):
        ctx.echo(line)
    final_ok = result.final_verdict is None or result.final_verdict.valid
    return 0 if result.verdict.valid and final_ok else 1


POS_SCRIPT = TerminalScript(
    name="payment-pos",
    description="EMV contactless purchase: PPSE, GPO, records, GENERATE AC, ARQC check "
                "with the TEST issuer key, second GENERATE AC with the issuer's ARPC",
    run=run_pos,
    demo=True,
    options={
        "amount": "purchase amount, e.g. 12.34 (default 12.34)",
        "currency": "ISO 4217 numeric currency code (default 0840)",
        "country": "ISO 3166 numeric terminal country code (default 0840)",
        "flow": "generate-ac or qvsdc (default generate-ac)",
        "request": "cryptogram to ask for: arqc, tc or aac (default arqc)",
        "online": "issuer answer after an ARQC: approve, decline or offline (default approve)",
        "imk-file": "file holding the issuer master key, 16 bytes hex (default: the TEST "
                    "key)",
        "capk": "CA public keys, the JSON of `hcekit payment capk --json` (default: the TEST CAPK)",
        "script": "issuer script after the online answer: block, unblock, card-block, "
                  "pin-unblock, pin-change:NEW[:CURRENT], put-data:9F14=05, "
                  "update-record:SFI.RECORD=HEX (comma-separated)",
        "script_when": "before or after (default) the final GENERATE AC: template 71 or 72",
    },
)
