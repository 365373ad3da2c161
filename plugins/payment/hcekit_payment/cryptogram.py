"""Application cryptograms (ARQC / TC / AAC) for Visa CVN 10 and CVN 18.

The cryptogram is an ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC": single-DES
CBC, then decrypt with the right key half and encrypt with the left) over the
transaction data the terminal sent plus the card's AIP, ATC and either the
CVR (CVN 10) or the whole issuer application data (CVN 18):

=====  ==========================  ==================  ================
CVN    key                         data ends with      padding
=====  ==========================  ==================  ================
10     ICC master key (option A)   CVR (4 bytes)       zeros ("Visa")
18     common session key (ATC)    IAD (9F10)          80 00…  (EMV)
=====  ==========================  ==================  ================

Both the card (:mod:`hcekit_payment.application`) and the issuer host
(:mod:`hcekit_payment.issuer`) compute it with :func:`application_cryptogram`.
The MAC and both paddings (ISO/IEC 9797-1 methods 1 and 2) are
:mod:`hcekit.sm`'s, the same code secure messaging uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from hcekit.sm import pad, retail_mac, zero_pad

from .keys import (
    BLOCK,
    derive_common_session_key,
    derive_icc_master_key_a,
    derive_icc_master_key_b,
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
    """Visa IAD (9F10) with the CVR saying which cryptogram this is."""
    cvr = bytes((_CVR_LENGTH, _CVR_SECOND_AC_NOT_REQUESTED | _CVR_FIRST_AC[cryptogram], 0, 0))
    return bytes((_IAD_LENGTH, _DERIVATION_KEY_INDEX, int(cvn))) + cvr


def cvn_from_iad(iad: bytes) -> CVN:
    """The CVN an IAD names (byte 3); ValueError for one this code does not know."""
    if len(iad) < 7 or iad[0] != _IAD_LENGTH:
        raise ValueError(f"not a Visa IAD: {iad.hex().upper()}")
    return CVN(iad[2])


def cvr_from_iad(iad: bytes) -> bytes:
    return iad[3:7]


def icc_master_key(cvn: CVN, imk: bytes, pan: str, psn: str) -> bytes:
    """The card's AC master key as its CVN derives it from the issuer master key."""
    if cvn is CVN.VISA_10:
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
        return retail_mac(icc_mk, zero_pad(message, BLOCK), padded=True)
    session_key = derive_common_session_key(icc_mk, atc)
    message = data.to_bytes() + aip + atc + iad
    return retail_mac(session_key, pad(message, BLOCK), padded=True)
