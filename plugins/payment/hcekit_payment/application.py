"""The payment application's command handling: GPO, READ RECORD, GENERATE AC, GET DATA.

One transaction per selection, as a contactless card does it:

==============  ==========================  =====================================
phase           command                     effect
==============  ==========================  =====================================
selected        GET PROCESSING OPTIONS      ATC bumped and committed; AIP/AFL
                                            (qVSDC reader: the ARQC too) → initiated
                                            (qVSDC: completed)
initiated       GENERATE AC (CDOL1 data)    AAC / TC → completed; ARQC → online
online          GENERATE AC (CDOL2 data)    TC / AAC after issuer authentication
                                            → completed
any             READ RECORD, GET DATA       static data; no state change
initiated+      INTERNAL AUTHENTICATE       DDA signature over the DDOL data
after an AC     issuer script command       MAC checked, then block / PIN / PUT DATA /
                                            UPDATE RECORD
selected        GENERATE AC                 6985 (no GPO yet)
initiated+      GET PROCESSING OPTIONS      6985 (one transaction per selection)
completed       GENERATE AC                 6985 (the transaction is over)
online          GENERATE AC asking ARQC     6A86 (the second AC is TC or AAC)
==============  ==========================  =====================================

The second GENERATE AC (EMV Book 3 §9.3) carries CDOL2 data: the ARC (8A),
the Issuer Authentication Data (91) and the cryptogram inputs again. The
card answers TC only when the ARPC in 91 verifies with its own key
(:mod:`hcekit_payment.arpc`), the issuer approved, and the terminal asked
for a TC; in every other case (no 91 because the terminal could not go
online, a wrong ARPC, a declining issuer, an AAC request) it answers AAC.

Offline data authentication (personalised methods, :mod:`hcekit_payment.oda`):
INTERNAL AUTHENTICATE (DDOL data) answers a DDA signature; with fDDA the
qVSDC GPO answer carries one over the unpredictable number, amount and
currency; GENERATE AC with P1 b5 (CDA) answers a TC or ARQC inside a signature
over the transaction data hash (EMV Book 2 §6.6), an AAC unsigned.

A GPO with empty PDOL data (``83 00``, what emvtool sends) is refused with
6700 like any other wrong length, since the card has a PDOL; personalised
with ``accept_empty_pdol`` the card takes it as a terminal that does not
fill the PDOL: the contact-style flow, where the cryptogram comes from
GENERATE AC. Wrong lengths answer 6700, wrong P1/P2
6A86, an unknown SFI 6A82 and an unknown record 6A83.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum

from hcekit import SW, AppContext, CommandApdu, IsoError, ResponseApdu
from hcekit.tlv import TlvError, encode, parse

from . import oda, tags
from .arpc import UNABLE_TO_GO_ONLINE, check_issuer_authentication
from .assumptions import DDOL, ICC_DYNAMIC_NUMBER_LENGTH
from .atc import current_atc, next_atc
from .cryptogram import (
    CryptogramType,
    TransactionData,
    application_cryptogram,
    issuer_application_data,
)
from .cvr import second_ac_iad
from .dol import dol_length, split
from .layout import CDOL1, CardLayout, cdol2
from .personalization import Personalization
from .records import current_record
from .scripts import (
    SCRIPT_COMMANDS,
    ScriptKeys,
    is_blocked,
    is_card_blocked,
    pin_tries,
    put_data_value,
    run_script_command,
)

__all__ = ["PaymentApplication", "Phase", "Flow"]

CLA_ISO = 0x00
CLA_EMV = 0x80
INS_GET_PROCESSING_OPTIONS = 0xA8
INS_READ_RECORD = 0xB2
INS_GENERATE_AC = 0xAE
INS_GET_DATA = 0xCA
INS_INTERNAL_AUTHENTICATE = 0x88

#: READ RECORD P2 b3-b1 = 100: "P1 is a record number".
P2_RECORD_NUMBER = 0x04
MAX_SFI = 30
#: GENERATE AC P1: b8-b7 cryptogram type, b5 CDA signature requested, rest RFU.
P1_AC_TYPE_MASK = 0xC0
P1_CDA_REQUESTED = 0x10
#: TTQ byte 1 bits.
TTQ_QVSDC_SUPPORTED = 0x20
TTQ_OFFLINE_ONLY_READER = 0x08

_SESSION_KEY = "payment.transaction"


class Phase(Enum):
    SELECTED = "selected"
    INITIATED = "initiated"
    #: The first GENERATE AC answered an ARQC: the second one (CDOL2) may follow.
    ONLINE = "online"
    COMPLETED = "completed"


class Flow(Enum):
    #: Cryptogram in the GPO answer (Visa qVSDC).
    QVSDC = "qVSDC"
    #: Cryptogram from GENERATE AC over CDOL1 data.
    GENERATE_AC = "GENERATE AC"


@dataclass
class Transaction:
    """Transient per-selection state (cleared on deselect / field loss)."""

    phase: Phase = Phase.SELECTED
    atc: int = 0
    flow: Flow | None = None
    terminal: dict[int, bytes] = field(default_factory=dict)
    #: The last cryptogram the card gave (after an ARQC: what the issuer's ARPC answers).
    cryptogram: bytes = b""
    #: The first application cryptogram: issuer script MACs cover it (Book 2 §9.2).
    first_cryptogram: bytes = b""
    #: PDOL and CDOL1 data as sent: CDA's transaction data hash covers them (Book 2 §6.6.1).
    pdol_data: bytes = b""
    cdol1_data: bytes = b""


def _bcd_amount(value: bytes) -> int | None:
    text = value.hex()
    return int(text) if text.isdigit() else None


class PaymentApplication:
    """Answers the payment commands for one personalised card."""

    def __init__(self, perso: Personalization, layout: CardLayout) -> None:
        self.perso = perso
        self.layout = layout
        self.cdol2 = cdol2(perso.cvn)
        self._handlers = {
            INS_GET_PROCESSING_OPTIONS: (CLA_EMV, self._get_processing_options),
            INS_READ_RECORD: (CLA_ISO, self._read_record),
            INS_GENERATE_AC: (CLA_EMV, self._generate_ac),
            INS_GET_DATA: (CLA_EMV, self._get_data),
            INS_INTERNAL_AUTHENTICATE: (CLA_ISO, self._internal_authenticate),
            **{ins: (cla, self._issuer_script) for ins, cla in SCRIPT_COMMANDS.items()},
        }
        methods = perso.oda_methods
        self._icc_key = perso.oda.icc_key if perso.oda is not None else None
        self._dda = "dda" in methods and self._icc_key is not None
        self._fdda = "fdda" in methods and self._icc_key is not None
        self._cda = "cda" in methods and self._icc_key is not None

    # -- hooks ------------------------------------------------------------------

    def select(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu:
        if command.p2 & 0x0C:
            raise IsoError(SW.INCORRECT_P1P2, "SELECT P2 asks for FCP/FMD; this card returns the FCI")
        if is_card_blocked(app.store):  # Book 3 §6.5.3: blocked for good
            raise IsoError(SW.FUNCTION_NOT_SUPPORTED, "the card was blocked by its issuer")
        app.session[_SESSION_KEY] = Transaction()
        if is_blocked(app.store):  # Book 3 §6.5.1: a blocked application still selects
            return ResponseApdu(self.layout.fci, SW.SELECTED_FILE_INVALIDATED)
        return self.layout.fci

    def process(self, app: AppContext, command: CommandApdu) -> bytes:
        entry = self._handlers.get(command.ins)
        if entry is None:
            raise IsoError(SW.INS_NOT_SUPPORTED, f"INS {command.ins:02X} is not a payment command")
        cla, handler = entry
        if command.cla != cla:
            raise IsoError(SW.CLA_NOT_SUPPORTED,
                           f"INS {command.ins:02X} needs CLA {cla:02X}, got {command.cla:02X}")
        txn = app.session.setdefault(_SESSION_KEY, Transaction())
        return handler(app, txn, command)

    # -- GET PROCESSING OPTIONS -----------------------------------------------------

    def _get_processing_options(self, app: AppContext, txn: Transaction,
                                command: CommandApdu) -> bytes:
        if command.p1 or command.p2:
            raise IsoError(SW.INCORRECT_P1P2, "GET PROCESSING OPTIONS takes P1-P2 = 0000")
        if not command.data:
            raise IsoError(SW.WRONG_LENGTH, "GPO needs data: a command template 83 (Lc absent)")
        try:
            objects = parse(command.data)
        except TlvError as exc:
            raise IsoError(SW.WRONG_LENGTH, f"GPO data is not one TLV object: {exc.message}") \
                from None
        if len(objects) != 1 or objects[0].tag != tags.COMMAND_TEMPLATE:
            raise IsoError(SW.INCORRECT_DATA, "GPO data must be one command template (tag 83)")
        if txn.phase is not Phase.SELECTED:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED,
                           "GPO already done in this selection; select the application again")
        pdol_data = objects[0].value
        pdol = self.layout.pdol
        if pdol and not pdol_data and not self.perso.accept_empty_pdol:
            raise IsoError(SW.WRONG_LENGTH, "GPO data 83 00 is empty; the card's PDOL asks "
                                            f"for {dol_length(pdol)} bytes")
        terminal = split(pdol, pdol_data, "PDOL") if pdol_data or not pdol else {}
        ttq = terminal.get(tags.TTQ, bytes(4))
        flow = Flow.QVSDC if ttq[0] & TTQ_QVSDC_SUPPORTED else Flow.GENERATE_AC

        atc = next_atc(app.store)  # committed before any cryptogram can leave
        txn.atc, txn.flow, txn.terminal, txn.pdol_data = atc, flow, terminal, pdol_data
        txn.phase = Phase.INITIATED
        afl = self.layout.afl_qvsdc if flow is Flow.QVSDC else self.layout.afl
        parts = [encode(tags.AIP, self.layout.aip), encode(tags.AFL, afl)]
        if flow is Flow.QVSDC:
            decision = (CryptogramType.AAC if is_blocked(app.store)
                        else self._decide_qvsdc(ttq, terminal))
            txn.phase = Phase.COMPLETED  # one cryptogram per ATC, even if this one fails
            parts += [encode(tags.TRACK2_EQUIVALENT, self.layout.track2),
                      encode(tags.PAN_SEQUENCE_NUMBER, self.layout.psn)]
            parts += self._cryptogram(txn, decision, terminal)
            if self._fdda and decision is not CryptogramType.AAC:
                parts.append(encode(tags.SIGNED_DYNAMIC_APPLICATION_DATA, self._signature(
                    oda.dynamic_data_dda(os.urandom(ICC_DYNAMIC_NUMBER_LENGTH)),
                    terminal[tags.UNPREDICTABLE_NUMBER] + terminal[tags.AMOUNT_AUTHORISED]
                    + terminal[tags.TRANSACTION_CURRENCY_CODE])))
            app.mark_sensitive()
        app.log.info("transaction started: ATC %d, %s flow", atc, flow.value)
        return encode(tags.RESPONSE_FORMAT_2, parts)

    def _decide_qvsdc(self, ttq: bytes, terminal: dict[int, bytes]) -> CryptogramType:
        """An online-capable reader gets an ARQC; an offline-only one a TC only with fDDA.

        Without fDDA the reader cannot authenticate the card offline, so it declines (AAC).
        """
        if not ttq[0] & TTQ_OFFLINE_ONLY_READER:
            return CryptogramType.ARQC
        if self._fdda and self._decide(CryptogramType.TC, terminal) is CryptogramType.TC:
            return CryptogramType.TC
        return CryptogramType.AAC

    def _signature(self, icc_dynamic_data: bytes, terminal_dynamic_data: bytes) -> bytes:
        assert self._icc_key is not None
        return oda.sign_dynamic_data(self._icc_key, icc_dynamic_data, terminal_dynamic_data)

    # -- INTERNAL AUTHENTICATE (DDA) ---------------------------------------------------------

    def _internal_authenticate(self, app: AppContext, txn: Transaction,
                               command: CommandApdu) -> bytes:
        if not self._dda:
            raise IsoError(SW.INS_NOT_SUPPORTED, "INTERNAL AUTHENTICATE: this card was "
                                                 "personalised without DDA")
        if command.p1 or command.p2:
            raise IsoError(SW.INCORRECT_P1P2, "INTERNAL AUTHENTICATE takes P1-P2 = 0000")
        if txn.phase is Phase.SELECTED:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "INTERNAL AUTHENTICATE before GPO")
        split(DDOL, command.data, "DDOL")
        sdad = self._signature(oda.dynamic_data_dda(os.urandom(ICC_DYNAMIC_NUMBER_LENGTH)),
                               command.data)
        return encode(tags.RESPONSE_FORMAT_2, [
            encode(tags.SIGNED_DYNAMIC_APPLICATION_DATA, sdad)])

    # -- READ RECORD ---------------------------------------------------------------------

    def _read_record(self, app: AppContext, txn: Transaction, command: CommandApdu) -> bytes:
        if command.p2 & 0x07 != P2_RECORD_NUMBER:
            raise IsoError(SW.INCORRECT_P1P2, "READ RECORD P2 b3-b1 must be 100 (P1 = record number)")
        sfi = command.p2 >> 3
        if not 1 <= sfi <= MAX_SFI or command.p1 == 0:
            raise IsoError(SW.INCORRECT_P1P2, f"SFI {sfi} / record {command.p1} is out of range")
        if sfi not in self.layout.sfis:
            raise IsoError(SW.FILE_NOT_FOUND, f"no file with SFI {sfi}")
        record = current_record(app.store, self.layout, sfi, command.p1)
        if record is None:
            raise IsoError(SW.RECORD_NOT_FOUND, f"SFI {sfi} has no record {command.p1}")
        if (sfi, command.p1) in self.layout.sensitive:
            app.mark_sensitive()
        return record

    # -- GENERATE AC ---------------------------------------------------------------------

    def _generate_ac(self, app: AppContext, txn: Transaction, command: CommandApdu) -> bytes:
        requested_bits = command.p1 & P1_AC_TYPE_MASK
        allowed = P1_AC_TYPE_MASK | (P1_CDA_REQUESTED if self._cda else 0)
        if command.p2 or command.p1 & ~allowed or requested_bits == P1_AC_TYPE_MASK:
            raise IsoError(SW.INCORRECT_P1P2,
                           f"GENERATE AC P1-P2 {command.p1:02X}{command.p2:02X}: "
                           "only AAC/TC/ARQC" + (", CDA" if self._cda else " without CDA")
                           + " is supported")
        cda = bool(command.p1 & P1_CDA_REQUESTED)
        if txn.phase is Phase.SELECTED:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "GENERATE AC before GPO")
        if txn.phase is Phase.COMPLETED:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED,
                           "the transaction already has its final cryptogram")
        requested = CryptogramType(requested_bits)
        if txn.phase is Phase.ONLINE:
            return self._second_generate_ac(app, txn, requested, command.data, cda)
        terminal = split(CDOL1, command.data, "CDOL1")
        txn.cdol1_data = command.data
        decision = (CryptogramType.AAC if is_blocked(app.store)
                    else self._decide(requested, terminal))
        parts = self._cryptogram(txn, decision, terminal)
        if decision is CryptogramType.ARQC:
            txn.phase, txn.terminal = Phase.ONLINE, terminal
        else:
            txn.phase = Phase.COMPLETED  # one cryptogram per ATC, even if this one fails
        if cda and decision is not CryptogramType.AAC:
            return self._cda_answer(txn, parts, terminal, txn.pdol_data + command.data)
        return encode(tags.RESPONSE_FORMAT_2, parts)

    def _cda_answer(self, txn: Transaction, parts: list[bytes], terminal: dict[int, bytes],
                    dol_data: bytes) -> bytes:
        """CID, ATC, SDAD (with the AC inside), IAD: EMV Book 2 §6.6.1, Table 19."""
        cid, atc, _ac, iad = parts
        hash_code = oda.sha1(dol_data + cid + atc + iad)
        icc_data = oda.dynamic_data_cda(os.urandom(ICC_DYNAMIC_NUMBER_LENGTH),
                                        parse(cid)[0].value[0], txn.cryptogram, hash_code)
        sdad = self._signature(icc_data, terminal[tags.UNPREDICTABLE_NUMBER])
        return encode(tags.RESPONSE_FORMAT_2, [
            cid, atc, encode(tags.SIGNED_DYNAMIC_APPLICATION_DATA, sdad), iad])

    def _second_generate_ac(self, app: AppContext, txn: Transaction,
                            requested: CryptogramType, data: bytes, cda: bool) -> bytes:
        """TC only after a verified, approving ARPC and a TC request; AAC otherwise."""
        if requested is CryptogramType.ARQC:
            raise IsoError(SW.INCORRECT_P1P2, "the second GENERATE AC asks for a TC or an AAC")
        terminal = split(self.cdol2, data, "CDOL2")
        arc = terminal[tags.AUTHORISATION_RESPONSE_CODE]
        atc = txn.atc.to_bytes(2, "big")
        issuer = check_issuer_authentication(
            self.perso.cvn, self.perso.icc_mk, atc, txn.cryptogram,
            terminal[tags.ISSUER_AUTHENTICATION_DATA], arc)
        approve = (requested is CryptogramType.TC and issuer.authentic and issuer.approved
                   and not is_blocked(app.store))
        decision = CryptogramType.TC if approve else CryptogramType.AAC
        iad = second_ac_iad(self.perso.cvn, CryptogramType.ARQC, decision,
                            issuer_authentication_failed=issuer.present and not issuer.authentic,
                            unable_to_go_online=not issuer.present or arc in UNABLE_TO_GO_ONLINE)
        txn.phase = Phase.COMPLETED
        app.log.info("second GENERATE AC: %s (issuer data %s)", decision.name,
                     "absent" if not issuer.present
                     else "verified" if issuer.authentic else "NOT verified")
        parts = self._cryptogram(txn, decision, terminal, iad)
        if cda and decision is not CryptogramType.AAC:
            return self._cda_answer(txn, parts, terminal, txn.pdol_data + txn.cdol1_data + data)
        return encode(tags.RESPONSE_FORMAT_2, parts)

    def _decide(self, requested: CryptogramType, terminal: dict[int, bytes]) -> CryptogramType:
        """Card risk management: never answer above what was asked (AAC < ARQC < TC)."""
        if requested is not CryptogramType.TC:
            return requested
        amount = _bcd_amount(terminal[tags.AMOUNT_AUTHORISED])
        limit = self.perso.offline_limit
        if limit and amount is not None and amount <= limit:
            return CryptogramType.TC
        return CryptogramType.ARQC

    def _cryptogram(self, txn: Transaction, decision: CryptogramType,
                    terminal: dict[int, bytes], iad: bytes | None = None) -> list[bytes]:
        data = TransactionData(*(terminal.get(tag, bytes(length)) for tag, length in CDOL1))
        atc = txn.atc.to_bytes(2, "big")
        if iad is None:
            iad = issuer_application_data(self.perso.cvn, decision)
        ac = application_cryptogram(self.perso.cvn, self.perso.icc_mk, data, self.layout.aip,
                                    atc, iad)
        txn.cryptogram = ac
        txn.first_cryptogram = txn.first_cryptogram or ac
        return [
            encode(tags.CRYPTOGRAM_INFORMATION_DATA, bytes((int(decision),))),
            encode(tags.ATC, atc),
            encode(tags.APPLICATION_CRYPTOGRAM, ac),
            encode(tags.ISSUER_APPLICATION_DATA, iad),
        ]

    # -- issuer scripts ---------------------------------------------------------------------

    def _issuer_script(self, app: AppContext, txn: Transaction, command: CommandApdu) -> bytes:
        if not self.perso.icc_mk_smi or not self.perso.icc_mk_smc:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED,
                           "this card was personalised without secure messaging keys")
        if not txn.first_cryptogram:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED,
                           "issuer script command before the transaction's first cryptogram")
        keys = ScriptKeys(self.perso.icc_mk_smi, self.perso.icc_mk_smc, self.perso.icc_mk,
                          txn.atc.to_bytes(2, "big"), txn.first_cryptogram)
        done = run_script_command(app, command, keys, self.layout)
        app.log.info("issuer script: %s", done)
        return b""

    # -- GET DATA ---------------------------------------------------------------------------

    def _get_data(self, app: AppContext, txn: Transaction, command: CommandApdu) -> bytes:
        tag = (command.p1 << 8) | command.p2
        if tag == tags.ATC:
            return encode(tags.ATC, current_atc(app.store).to_bytes(2, "big"))
        if tag == tags.PIN_TRY_COUNTER:
            return encode(tag, bytes((pin_tries(app.store),)))
        value = put_data_value(app.store, tag)
        if value is not None:
            return encode(tag, value)
        raise IsoError(SW.REFERENCED_DATA_NOT_FOUND, f"GET DATA {tag:04X}: not kept by this card")
