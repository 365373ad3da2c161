"""The card's data layout: FCI with PDOL, AIP/AFL, and the records the AFL names.

A qVSDC-like Visa profile. Without offline data authentication the AIP says
"cardholder verification supported, terminal risk management to be
performed" and nothing else:

======  ========  =============================================================
SFI     record    content
======  ========  =============================================================
1       1         track 2 equivalent data, cardholder name
2       1         PAN, expiry/effective dates, country, usage control …
2       2         PSN, CDOL1, CDOL2, CVM list, issuer action codes
======  ========  =============================================================

Two AFLs, one per flow, so that no primitive data object reaches the
terminal twice (EMV Book 3 §10.2): the full flow reads all three records;
the qVSDC GPO answer already carries track 2 (57) and the PSN (5F34), so its
AFL names only SFI 2 record 1. Each AFL marks its SFI 2 records for offline
data authentication: the static data a signer would cover (PAN, dates,
usage control, DOLs, CVM list, IACs), never the GPO-returned track 2.

With ODA personalised (:mod:`hcekit_payment.oda`) the AIP gains its SDA /
DDA / CDA bits, SFI 2 record 1 gains the SDA Tag List (9F4A = 82), and SFI 3
holds the certificates (not signed data themselves). Both flows then mark
the same static data, SFI 2 record 1 plus the AIP, because one ICC
certificate and one SSAD cover exactly one set of static data:

======  ========  =============================================================
3       1         CA index 8F, issuer certificate 90, exponent 9F32, remainder 92
3       2         ICC certificate 9F46, exponent 9F47, remainder 9F48, DDOL 9F49
3       3         Signed Static Application Data 93 (SDA only)
======  ========  =============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hcekit.tlv import encode, parse

from . import tags
from .assumptions import DDOL
from .cryptogram import CVN
from .dol import DolEntry, encode_dol

if TYPE_CHECKING:
    from .card_data import Personalization

__all__ = ["PDOL", "CDOL1", "CDOL2", "AIP", "CardLayout", "build_layout", "cdol2",
           "track2_equivalent", "aip", "oda_static_data"]

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

#: Issuer Authentication Data (91) in CDOL2: ARPC || ARC (CVN 10, method 1: 8 + 2 bytes)
#: or ARPC || CSU (CVN 18, method 2: 4 + 4 bytes); EMV Book 2 §8.2.
_IAD_91_LENGTH = {CVN.VISA_10: 10, CVN.VISA_18: 8, CVN.MASTERCARD_16: 10}


def cdol2(cvn: CVN) -> tuple[DolEntry, ...]:
    """The second GENERATE AC's data: ARC, issuer authentication data, then CDOL1's inputs."""
    return ((tags.AUTHORISATION_RESPONSE_CODE, 2),
            (tags.ISSUER_AUTHENTICATION_DATA, _IAD_91_LENGTH[cvn]), *CDOL1)


#: CDOL2 of a CVN 18 card (the default); :func:`cdol2` for a given CVN.
CDOL2: tuple[DolEntry, ...] = cdol2(CVN.VISA_18)

#: AIP byte 1: b5 cardholder verification supported, b4 terminal risk management.
AIP = bytes((0x18, 0x00))
#: SDA Tag List (9F4A): the AIP joins the signed static data (Book 3 §10.3).
SDA_TAG_LIST = bytes((tags.AIP,))


def aip(perso: Personalization) -> bytes:
    """The AIP with the ODA bits of the personalised methods (Book 3 Annex C1)."""
    from .oda import aip_byte1  # RSA and the CA table: imported when a layout is built

    return bytes((AIP[0] | aip_byte1(perso.oda_methods), AIP[1]))

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
    #: PDOL of the brand's profile: empty for Mastercard (GPO data is 83 00).
    pdol: tuple[DolEntry, ...]
    fci: bytes
    #: AFL of the full (GENERATE AC) flow and of the qVSDC flow.
    afl: bytes
    afl_qvsdc: bytes
    #: (SFI, record number) → record (tag 70 template).
    records: dict[tuple[int, int], bytes]
    #: Records carrying the PAN (redacted in traces).
    sensitive: frozenset[tuple[int, int]]
    track2: bytes
    psn: bytes
    aip: bytes

    @property
    def sfis(self) -> frozenset[int]:
        return frozenset(sfi for sfi, _ in self.records)


def _afl_entry(sfi: int, first: int, last: int, oda: int) -> bytes:
    return bytes((sfi << 3, first, last, oda))


def build_layout(perso: Personalization) -> CardLayout:
    """Everything the card answers from, computed once per personalisation."""
    pdol = PDOL if perso.brand.qvsdc else ()
    fci = encode(tags.FCI_TEMPLATE, [
        encode(tags.DF_NAME, perso.aid),
        encode(tags.FCI_PROPRIETARY, [
            encode(tags.APPLICATION_LABEL, perso.label.encode("ascii")),
            encode(tags.APPLICATION_PRIORITY, b"\x01"),
            *([encode(tags.PDOL, encode_dol(pdol))] if pdol else []),
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
        (2, 1): _static_record(perso),
        (2, 2): encode(tags.RECORD_TEMPLATE, [
            encode(tags.PAN_SEQUENCE_NUMBER, psn),
            encode(tags.CDOL1, encode_dol(CDOL1)),
            encode(tags.CDOL2, encode_dol(cdol2(perso.cvn))),
            encode(tags.CVM_LIST, CVM_LIST),
            encode(tags.IAC_DEFAULT, IAC_DEFAULT),
            encode(tags.IAC_DENIAL, IAC_DENIAL),
            encode(tags.IAC_ONLINE, IAC_ONLINE),
        ]),
    }
    afl = _afl_entry(1, 1, 1, 0) + _afl_entry(2, 1, 2, 2)
    afl_qvsdc = _afl_entry(2, 1, 1, 1)
    if perso.oda is not None:
        oda_records = _oda_records(perso)
        records.update(oda_records)
        certificates = _afl_entry(3, 1, len(oda_records), 0)
        afl = _afl_entry(1, 1, 1, 0) + _afl_entry(2, 1, 2, 1) + certificates
        afl_qvsdc += certificates
    return CardLayout(pdol, fci, afl, afl_qvsdc, records, frozenset({(1, 1), (2, 1)}), track2, psn,
                      aip(perso))


def _static_record(perso: Personalization) -> bytes:
    """SFI 2 record 1: the data every flow signs (with the SDA Tag List when ODA is on)."""
    return encode(tags.RECORD_TEMPLATE, [
        encode(tags.PAN, _bcd_digits(perso.pan)),
        encode(tags.EXPIRATION_DATE, perso.expiry_date),
        encode(tags.EFFECTIVE_DATE, perso.effective_date),
        encode(tags.ISSUER_COUNTRY_CODE, bytes.fromhex(perso.country)),
        encode(tags.SERVICE_CODE, bytes.fromhex("0" + SERVICE_CODE)),
        encode(tags.APPLICATION_USAGE_CONTROL, APPLICATION_USAGE_CONTROL),
        encode(tags.APPLICATION_VERSION_NUMBER, APPLICATION_VERSION),
        encode(tags.APPLICATION_CURRENCY_CODE, bytes.fromhex(perso.currency)),
        *([encode(tags.SDA_TAG_LIST, SDA_TAG_LIST)] if perso.oda_methods else []),
    ])


def oda_static_data(perso: Personalization) -> bytes:
    """Static data to be authenticated (Book 3 §10.3): SFI 2 record 1's value, then the AIP."""
    return parse(_static_record(perso))[0].value + aip(perso)


def _oda_records(perso: Personalization) -> dict[tuple[int, int], bytes]:
    oda = perso.oda
    assert oda is not None
    records = {(3, 1): encode(tags.RECORD_TEMPLATE, [
        encode(tags.CA_PK_INDEX, bytes((oda.ca_index,))),
        encode(tags.ISSUER_PK_CERTIFICATE, oda.issuer_certificate),
        encode(tags.ISSUER_PK_EXPONENT, oda.issuer_exponent),
        encode(tags.ISSUER_PK_REMAINDER, oda.issuer_remainder),
    ])}
    if oda.icc_certificate:
        records[(3, 2)] = encode(tags.RECORD_TEMPLATE, [
            encode(tags.ICC_PK_CERTIFICATE, oda.icc_certificate),
            encode(tags.ICC_PK_EXPONENT, oda.icc_exponent),
            encode(tags.ICC_PK_REMAINDER, oda.icc_remainder),
            encode(tags.DDOL, encode_dol(DDOL)),
        ])
    if oda.ssad:
        records[(3, len(records) + 1)] = encode(tags.RECORD_TEMPLATE, [
            encode(tags.SIGNED_STATIC_APPLICATION_DATA, oda.ssad)])
    return records
