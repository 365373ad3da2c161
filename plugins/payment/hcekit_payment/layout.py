"""The card's data layout: FCI with PDOL, AIP/AFL, and the records the AFL names.

A qVSDC-like Visa profile without offline data authentication (no CA keys
exist for test cards here), so the AIP says "cardholder verification
supported, terminal risk management to be performed" and nothing else:

======  ========  =============================================================
SFI     record    content
======  ========  =============================================================
1       1         track 2 equivalent data, cardholder name
2       1         PAN, expiry/effective dates, PSN, country, usage control …
2       2         CDOL1, CVM list, issuer action codes
======  ========  =============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from hcekit.tlv import encode

from . import tags
from .dol import DolEntry, encode_dol
from .personalization import Personalization

__all__ = ["PDOL", "CDOL1", "AIP", "CardLayout", "build_layout", "track2_equivalent"]

#: TTQ first, then exactly the cryptogram inputs (so qVSDC can answer from the GPO).
PDOL: tuple[DolEntry, ...] = (
    (tags.TTQ, 4),
    (tags.AMOUNT_AUTHORISED, 6),
    (tags.AMOUNT_OTHER, 6),
    (tags.TERMINAL_COUNTRY_CODE, 2),
    (tags.TVR, 5),
    (tags.TRANSACTION_CURRENCY_CODE, 2),
    (tags.TRANSACTION_DATE, 3),
    (tags.TRANSACTION_TYPE, 1),
    (tags.UNPREDICTABLE_NUMBER, 4),
)

#: The data GENERATE AC carries: the cryptogram inputs in MAC order.
CDOL1: tuple[DolEntry, ...] = PDOL[1:]

#: AIP byte 1: b5 cardholder verification supported, b4 terminal risk management.
AIP = bytes((0x18, 0x00))

#: CVM list: amounts X = Y = 0; online PIN (else next), signature, no CVM required.
CVM_LIST = bytes(8) + bytes.fromhex("42031E031F03")
APPLICATION_USAGE_CONTROL = bytes.fromhex("FF00")
APPLICATION_VERSION = bytes.fromhex("0096")
SERVICE_CODE = "201"
IAC_DEFAULT = bytes.fromhex("DC4000A800")
IAC_DENIAL = bytes.fromhex("0010000000")
IAC_ONLINE = bytes.fromhex("DC4004F800")


def _bcd_digits(digits: str) -> bytes:
    """Compressed numeric: digits packed two per byte, padded with F."""
    if len(digits) % 2:
        digits += "F"
    return bytes.fromhex(digits)


def track2_equivalent(perso: Personalization) -> bytes:
    """57: PAN 'D' YYMM service-code discretionary-data, F-padded."""
    return _bcd_digits(f"{perso.pan}D{perso.expiry}{SERVICE_CODE}00000000")


@dataclass(frozen=True)
class CardLayout:
    fci: bytes
    afl: bytes
    #: (SFI, record number) → record (tag 70 template).
    records: dict[tuple[int, int], bytes]
    #: Records carrying the PAN (redacted in traces).
    sensitive: frozenset[tuple[int, int]]
    track2: bytes
    psn: bytes

    @property
    def sfis(self) -> frozenset[int]:
        return frozenset(sfi for sfi, _ in self.records)


def _afl_entry(sfi: int, first: int, last: int, oda: int = 0) -> bytes:
    return bytes((sfi << 3, first, last, oda))


def build_layout(perso: Personalization) -> CardLayout:
    """Everything the card answers from, computed once per personalisation."""
    fci = encode(tags.FCI_TEMPLATE, [
        encode(tags.DF_NAME, perso.aid),
        encode(tags.FCI_PROPRIETARY, [
            encode(tags.APPLICATION_LABEL, perso.label.encode("ascii")),
            encode(tags.APPLICATION_PRIORITY, b"\x01"),
            encode(tags.PDOL, encode_dol(PDOL)),
            encode(tags.LANGUAGE_PREFERENCE, b"en"),
            encode(tags.ISSUER_CODE_TABLE_INDEX, b"\x01"),
            encode(tags.APPLICATION_PREFERRED_NAME, perso.label.encode("ascii")),
        ]),
    ])
    track2 = track2_equivalent(perso)
    psn = bytes.fromhex(perso.psn)
    records = {
        (1, 1): encode(tags.RECORD_TEMPLATE, [
            encode(tags.TRACK2_EQUIVALENT, track2),
            encode(tags.CARDHOLDER_NAME, perso.cardholder_name.encode("ascii")),
        ]),
        (2, 1): encode(tags.RECORD_TEMPLATE, [
            encode(tags.PAN, _bcd_digits(perso.pan)),
            encode(tags.EXPIRATION_DATE, perso.expiry_date),
            encode(tags.EFFECTIVE_DATE, perso.effective_date),
            encode(tags.PAN_SEQUENCE_NUMBER, psn),
            encode(tags.ISSUER_COUNTRY_CODE, bytes.fromhex(perso.country)),
            encode(tags.SERVICE_CODE, bytes.fromhex("0" + SERVICE_CODE)),
            encode(tags.APPLICATION_USAGE_CONTROL, APPLICATION_USAGE_CONTROL),
            encode(tags.APPLICATION_VERSION_NUMBER, APPLICATION_VERSION),
            encode(tags.APPLICATION_CURRENCY_CODE, bytes.fromhex(perso.currency)),
        ]),
        (2, 2): encode(tags.RECORD_TEMPLATE, [
            encode(tags.CDOL1, encode_dol(CDOL1)),
            encode(tags.CVM_LIST, CVM_LIST),
            encode(tags.IAC_DEFAULT, IAC_DEFAULT),
            encode(tags.IAC_DENIAL, IAC_DENIAL),
            encode(tags.IAC_ONLINE, IAC_ONLINE),
        ]),
    }
    afl = _afl_entry(1, 1, 1) + _afl_entry(2, 1, 2)
    return CardLayout(fci, afl, records, frozenset({(1, 1), (2, 1)}), track2, psn)
