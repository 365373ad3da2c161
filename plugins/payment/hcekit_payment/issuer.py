"""The issuer's side: recompute a card's cryptogram from the issuer master key.

What an issuer host does with an ARQC: derive the card key from the IMK and
the PAN, recompute the cryptogram over the same data, compare in constant
time, and refuse an ATC it has already seen (a replayed cryptogram). It then
answers with Issuer Authentication Data (tag 91, :mod:`hcekit_payment.arpc`)
that the card checks before its second GENERATE AC; the final TC or AAC of
that transaction verifies with :meth:`IssuerHost.verify_final` (same ATC).
With the answer it may send an issuer script (:meth:`IssuerHost.script`):
commands MACed, PIN blocks enciphered, under the card's SMI / SMC session
keys for this transaction (:mod:`hcekit_payment.script_sm`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hcekit.sm import tags_equal
from hcekit.tlv import encode as tlv

from . import script_sm
from .arpc import issuer_authentication_data
from .cryptogram import (
    CVN,
    CryptogramType,
    TransactionData,
    application_cryptogram,
    cvn_from_iad,
    icc_master_key,
)
from .keys import derive_icc_master_key_a
from .testdata import TEST_IMK, TEST_IMK_SMC, TEST_IMK_SMI

__all__ = ["CryptogramRecord", "Verdict", "IssuerHost", "ScriptCommand", "BEFORE_FINAL_AC",
           "AFTER_FINAL_AC"]

#: Issuer Script Templates 1 (sent before the final GENERATE AC) and 2 (after it).
BEFORE_FINAL_AC, AFTER_FINAL_AC = 0x71, 0x72
SCRIPT_ID, SCRIPT_COMMAND = 0x9F18, 0x86


@dataclass(frozen=True)
class ScriptCommand:
    """One issuer script command before secure messaging: header and plain data."""

    cla: int
    ins: int
    p1: int = 0
    p2: int = 0
    data: bytes = field(default=b"", repr=False)
    #: Encipher *data* with the SMC session key (PIN blocks).
    encipher: bool = False
    #: PIN CHANGE with the current PIN: (new PIN, current PIN); the issuer builds the PIN
    #: data from them and the card's AC master key (:func:`script_sm.pin_block_with_current`).
    pins: tuple[str, str] | None = field(default=None, repr=False)

    @classmethod
    def application_block(cls) -> ScriptCommand:
        return cls(0x84, 0x1E)

    @classmethod
    def application_unblock(cls) -> ScriptCommand:
        return cls(0x84, 0x18)

    @classmethod
    def card_block(cls) -> ScriptCommand:
        return cls(0x84, 0x16)

    @classmethod
    def pin_unblock(cls) -> ScriptCommand:
        return cls(0x84, 0x24, 0, 0x00)

    @classmethod
    def pin_change(cls, pin: str, current_pin: str | None = None) -> ScriptCommand:
        """P2 02 (the new PIN only), or P2 01 when the current PIN is given."""
        if current_pin is None:
            return cls(0x84, 0x24, 0, 0x02, script_sm.pin_block(pin), encipher=True)
        script_sm.check_pin(pin)  # refused here, not when the script is built
        script_sm.check_pin(current_pin)
        return cls(0x84, 0x24, 0, 0x01, encipher=True, pins=(pin, current_pin))

    @classmethod
    def update_record(cls, sfi: int, number: int, record: bytes) -> ScriptCommand:
        """ISO/IEC 7816-4 UPDATE RECORD: *record* (a template 70) replaces SFI *sfi*'s record."""
        if not 1 <= sfi <= 30 or not 1 <= number <= 254:
            raise ValueError(f"UPDATE RECORD names SFI 1–30 and record 1–254, not {sfi}.{number}")
        return cls(0x04, 0xDC, number, sfi << 3 | 0x04, record)

    @classmethod
    def put_data(cls, tag: int, value: bytes) -> ScriptCommand:
        return cls(0x04, 0xDA, tag >> 8, tag & 0xFF, value)


@dataclass(frozen=True)
class CryptogramRecord:
    """What the terminal collected and forwards to the issuer."""

    pan: str
    psn: str
    data: TransactionData
    aip: bytes
    atc: bytes
    iad: bytes
    cid: int
    cryptogram: bytes

    @property
    def cryptogram_type(self) -> CryptogramType:
        return CryptogramType(self.cid & 0xC0)


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str
    cvn: CVN | None = None


@dataclass
class IssuerHost:
    """Verifies cryptograms with one issuer master key (the TEST key by default)."""

    imk: bytes = field(default=TEST_IMK, repr=False)
    imk_smi: bytes = field(default=TEST_IMK_SMI, repr=False)
    imk_smc: bytes = field(default=TEST_IMK_SMC, repr=False)
    #: Highest ATC seen per PAN, for replay detection.
    seen: dict[str, int] = field(default_factory=dict)

    def expected(self, record: CryptogramRecord) -> bytes:
        cvn = cvn_from_iad(record.iad)
        mk = icc_master_key(cvn, self.imk, record.pan, record.psn)
        return application_cryptogram(cvn, mk, record.data, record.aip, record.atc, record.iad)

    def verify(self, record: CryptogramRecord) -> Verdict:
        try:
            cvn = cvn_from_iad(record.iad)
        except ValueError as exc:
            return Verdict(False, f"unknown issuer application data: {exc}")
        if not tags_equal(self.expected(record), record.cryptogram):
            return Verdict(False, "cryptogram does not verify with this issuer key", cvn)
        atc = int.from_bytes(record.atc, "big")
        if atc <= self.seen.get(record.pan, -1):
            return Verdict(False, f"ATC {atc} already seen (replay)", cvn)
        self.seen[record.pan] = atc
        return Verdict(True, f"{record.cryptogram_type.name} verified (CVN {int(cvn)})", cvn)

    def authorise(self, record: CryptogramRecord, approve: bool = True) -> bytes:
        """The Issuer Authentication Data (91 value) answering an ARQC with a decision."""
        cvn = cvn_from_iad(record.iad)
        mk = icc_master_key(cvn, self.imk, record.pan, record.psn)
        return issuer_authentication_data(cvn, mk, record.atc, record.cryptogram, approve)

    def verify_final(self, arqc: CryptogramRecord, final: CryptogramRecord) -> Verdict:
        """The TC/AAC of the second GENERATE AC: same card, same ATC as the ARQC it answers."""
        if (final.pan, final.psn, final.atc) != (arqc.pan, arqc.psn, arqc.atc):
            return Verdict(False, "the final cryptogram is not from the authorised transaction")
        if final.cryptogram_type is CryptogramType.ARQC:
            return Verdict(False, "the second GENERATE AC answered an ARQC")
        try:
            cvn = cvn_from_iad(final.iad)
        except ValueError as exc:
            return Verdict(False, f"unknown issuer application data: {exc}")
        if not tags_equal(self.expected(final), final.cryptogram):
            return Verdict(False, "final cryptogram does not verify with this issuer key", cvn)
        return Verdict(True, f"{final.cryptogram_type.name} verified (CVN {int(cvn)})", cvn)

    def script(self, record: CryptogramRecord, commands: list[ScriptCommand],
               script_id: bytes = b"\x00\x00\x00\x01",
               template: int = AFTER_FINAL_AC) -> bytes:
        """An issuer script (template 72, or 71) for the card that produced *record*."""
        smi = script_sm.session_key(derive_icc_master_key_a(self.imk_smi, record.pan, record.psn),
                                    record.cryptogram)
        smc = script_sm.session_key(derive_icc_master_key_a(self.imk_smc, record.pan, record.psn),
                                    record.cryptogram)
        parts = [tlv(SCRIPT_ID, script_id)]
        for command in commands:
            if command.pins is not None:
                mk_ac = icc_master_key(cvn_from_iad(record.iad), self.imk, record.pan, record.psn)
                data = script_sm.encipher_counted(smc, script_sm.pin_block_with_current(
                    mk_ac, *command.pins))
            elif command.encipher:
                data = script_sm.encipher(smc, command.data)
            else:
                data = command.data
            header = bytes((command.cla, command.ins, command.p1, command.p2,
                            len(data) + script_sm.MAC_LENGTH))
            mac = script_sm.command_mac(smi, header, record.atc, record.cryptogram, data)
            parts.append(tlv(SCRIPT_COMMAND, header + data + mac))
        return tlv(template, b"".join(parts))
