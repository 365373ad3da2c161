"""The issuer's side: recompute a card's cryptogram from the issuer master key.

What an issuer host does with an ARQC: derive the card key from the IMK and
the PAN, recompute the cryptogram over the same data, compare in constant
time, and refuse an ATC it has already seen (a replayed cryptogram). It then
answers with Issuer Authentication Data (tag 91, :mod:`hcekit_payment.arpc`)
that the card checks before its second GENERATE AC; the final TC or AAC of
that transaction verifies with :meth:`IssuerHost.verify_final` (same ATC).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hcekit.sm import tags_equal

from .arpc import issuer_authentication_data
from .cryptogram import (
    CVN,
    CryptogramType,
    TransactionData,
    application_cryptogram,
    cvn_from_iad,
    icc_master_key,
)
from .testdata import TEST_IMK

__all__ = ["CryptogramRecord", "Verdict", "IssuerHost"]


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
