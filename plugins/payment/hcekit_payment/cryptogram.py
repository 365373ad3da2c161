"""Application cryptograms (ARQC / TC / AAC): Visa CVN 10 and 18, Mastercard CVN 16.

The cryptogram is an ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC": single-DES
CBC, then decrypt with the right key half and encrypt with the left) over the
transaction data the terminal sent plus the card's AIP, ATC and either the
CVR (CVN 10) or the whole issuer application data (CVN 18):

=====  ==========================  ==================  ================
CVN    key                         data ends with      padding
=====  ==========================  ==================  ================
10     ICC master key (option A)   CVR (4 bytes)       zeros ("Visa")
18     common session key (ATC)    IAD (9F10)          80 00…  (EMV)
16 MC  session key (ATC, UN)       CVR (6 bytes)       80 00…  (EMV)
=====  ==========================  ==================  ================

Mastercard CVN 16 derives the ICC master key with option A and the session
key with EMV Book 2 A1.3's common derivation over R = ATC || 00 00 || UN, as
pyemv's public ``MasterCardCVN16`` documents it; its IAD layout is decided
in :mod:`hcekit_payment.assumptions`.

Both the card (:mod:`hcekit_payment.application`) and the issuer host
(:mod:`hcekit_payment.issuer`) compute it with :func:`application_cryptogram`.
The MAC and both paddings (ISO/IEC 9797-1 methods 1 and 2) are
:mod:`hcekit.sm`'s, the same code secure messaging uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from hcekit import sm
from hcekit.sm import pad, zero_pad

from . import assumptions
from .keys import (
    BLOCK,
    derive_common_session_key,
    derive_icc_master_key_a,
    derive_icc_master_key_b,
    derive_session_key,
)

__all__ = [
    "CVN",
    "CryptogramType",
    "TransactionData",
    "issuer_application_data",
    "cvr_from_iad",
    "cvn_from_iad",
    "icc_master_key",
    "application_cryptogram",
]


class CVN(IntEnum):
    """Cryptogram version numbers this card implements (Visa numbering)."""

    VISA_10 = 0x0A
    VISA_18 = 0x12
    MASTERCARD_16 = 0x10


class CryptogramType(IntEnum):
    """Cryptogram Information Data (9F27) b8-b7, also GENERATE AC P1 b8-b7."""

    AAC = 0x00
    TC = 0x40
    ARQC = 0x80


#: Visa IAD: length 06, derivation key index, CVN, CVR (4 bytes, first = its length 03).
_IAD_LENGTH = 0x06
_DERIVATION_KEY_INDEX = 0x01
_CVR_LENGTH = 0x03
#: CVR byte 2 b8-b7 = 10: "second GENERATE AC not requested" (single-tap contactless).
_CVR_SECOND_AC_NOT_REQUESTED = 0x80
#: CVR byte 2 b6-b5: the cryptogram type returned in the first GENERATE AC.
_CVR_FIRST_AC = {CryptogramType.AAC: 0x00, CryptogramType.TC: 0x10, CryptogramType.ARQC: 0x20}


@dataclass(frozen=True)
class TransactionData:
    """The terminal data the cryptogram covers, in the order it is MACed."""

    amount_authorised: bytes  # 9F02, n12 BCD, 6 bytes
    amount_other: bytes  # 9F03, 6 bytes
    terminal_country: bytes  # 9F1A, 2 bytes
    tvr: bytes  # 95, 5 bytes
    currency: bytes  # 5F2A, 2 bytes
    date: bytes  # 9A, YYMMDD BCD, 3 bytes
    transaction_type: bytes  # 9C, 1 byte
    unpredictable_number: bytes  # 9F37, 4 bytes

    _LENGTHS = (6, 6, 2, 5, 2, 3, 1, 4)

    def __post_init__(self) -> None:
        for value, length, name in zip(self.fields(), self._LENGTHS, (
            "amount authorised (9F02)", "amount other (9F03)", "terminal country (9F1A)",
            "TVR (95)", "currency (5F2A)", "date (9A)", "transaction type (9C)",
            "unpredictable number (9F37)"), strict=True):
            if len(value) != length:
                raise ValueError(f"{name} is {len(value)} bytes; it must be {length}")

    def fields(self) -> tuple[bytes, ...]:
        return (self.amount_authorised, self.amount_other, self.terminal_country, self.tvr,
                self.currency, self.date, self.transaction_type, self.unpredictable_number)

    def to_bytes(self) -> bytes:
        return b"".join(self.fields())


def issuer_application_data(cvn: CVN, cryptogram: CryptogramType) -> bytes:
    """The IAD (9F10) with the CVR saying which cryptogram this is (second AC not requested)."""
    state = _CVR_SECOND_AC_NOT_REQUESTED | _CVR_FIRST_AC[cryptogram]
    if cvn is CVN.MASTERCARD_16:
        cvr = bytes((state,)) + bytes(5)
        return (bytes((assumptions.MC_KEY_DERIVATION_INDEX, int(cvn))) + cvr
                + bytes(assumptions.MC_IAD_LENGTH - 2 - len(cvr)))
    cvr = bytes((_CVR_LENGTH, state, 0, 0))
    return bytes((_IAD_LENGTH, _DERIVATION_KEY_INDEX, int(cvn))) + cvr


def cvn_from_iad(iad: bytes) -> CVN:
    """The CVN an IAD names; ValueError for one this code does not know."""
    if len(iad) == assumptions.MC_IAD_LENGTH and iad[1] == CVN.MASTERCARD_16:
        return CVN.MASTERCARD_16
    if len(iad) < 7 or iad[0] != _IAD_LENGTH or iad[2] == CVN.MASTERCARD_16:
        raise ValueError(f"not an IAD of a known CVN: {iad.hex().upper()}")
    return CVN(iad[2])


def cvr_from_iad(iad: bytes) -> bytes:
    if cvn_from_iad(iad) is CVN.MASTERCARD_16:
        return iad[2:8]
    return iad[3:7]


def cvr_state_index(cvn: CVN) -> int:
    """Where in the IAD the CVR byte with the cryptogram types sits."""
    return 2 if cvn is CVN.MASTERCARD_16 else 4


def icc_master_key(cvn: CVN, imk: bytes, pan: str, psn: str) -> bytes:
    """The card's AC master key as its CVN derives it from the issuer master key."""
    if cvn in (CVN.VISA_10, CVN.MASTERCARD_16):
        return derive_icc_master_key_a(imk, pan, psn)
    return derive_icc_master_key_b(imk, pan, psn)


def application_cryptogram(
    cvn: CVN,
    icc_mk: bytes,
    data: TransactionData,
    aip: bytes,
    atc: bytes,
    iad: bytes,
) -> bytes:
    """The 8-byte AC of *cvn* from the card's ICC master key."""
    if cvn is CVN.VISA_10:
        message = data.to_bytes() + aip + atc + cvr_from_iad(iad)
        return sm.retail_mac(icc_mk, zero_pad(message, BLOCK), padded=True)
    if cvn is CVN.MASTERCARD_16:
        key = derive_session_key(icc_mk, atc + bytes(2) + data.unpredictable_number)
        message = data.to_bytes() + aip + atc + cvr_from_iad(iad)
        return sm.retail_mac(key, pad(message, BLOCK), padded=True)
    session_key = derive_common_session_key(icc_mk, atc)
    message = data.to_bytes() + aip + atc + iad
    return sm.retail_mac(session_key, pad(message, BLOCK), padded=True)
