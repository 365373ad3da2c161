"""The card data a payment card is personalised with (one frozen value).

Kept apart from :mod:`.personalization`, which makes it, so that the
layout built from it (:mod:`.layout`) and the personalisation that needs
the layout's signed data import this module and not each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .brands import Brand, brand_of
from .cryptogram import CVN
from .keys import key_check_value

if TYPE_CHECKING:  # ODA's RSA keys and CA table load only for a card that has ODA
    from . import oda as oda_module

__all__ = ["VISA_AID", "Personalization"]

#: Visa credit/debit AID (what emvtool and POS terminals look for).
VISA_AID = bytes.fromhex("A0000000031010")


@dataclass(frozen=True)
class Personalization:
    """The card's data. ``icc_mk`` is secret and never printed (``repr=False``)."""

    pan: str
    icc_mk: bytes = field(repr=False)
    psn: str = "00"
    expiry: str = "2912"  # YYMM
    effective: str = "2401"  # YYMM
    cardholder_name: str = "TEST/HCEKIT CARD"
    cvn: CVN = CVN.VISA_18
    label: str = "HCEKIT TEST VISA"
    aid: bytes = VISA_AID
    country: str = "0840"  # ISO 3166 numeric (n3, stored as 4 digits)
    currency: str = "0840"  # ISO 4217 numeric
    #: Largest amount (minor units) the card approves offline with a TC; 0 = online only.
    offline_limit: int = 0
    #: True when the key was derived from the published TEST issuer master key.
    test_key: bool = True
    #: True when the PAN was accepted outside the documented test ranges.
    forced: bool = False
    #: Accept empty PDOL data (``83 00``, what emvtool sends) as "contact-style flow".
    accept_empty_pdol: bool = False
    #: Offline data authentication methods on (subset of ``sda dda fdda cda``), and a fault.
    oda_methods: tuple[str, ...] = ()
    oda_fault: str = ""
    #: Certificates and the ICC private key, made by :func:`personalize` for the methods.
    oda: oda_module.OdaData | None = field(default=None, repr=False, compare=False)
    #: Secure messaging keys for issuer scripts (integrity, confidentiality); b"" = none.
    icc_mk_smi: bytes = field(default=b"", repr=False)
    icc_mk_smc: bytes = field(default=b"", repr=False)

    @property
    def key_check_value(self) -> str:
        """KCV of the card key (safe to show; identifies the key)."""
        return key_check_value(self.icc_mk).hex().upper()

    @property
    def expiry_date(self) -> bytes:
        """5F24 YYMMDD: the last day of the expiry month."""
        import calendar  # imports locale: only when the layout is built, not at start

        year, month = 2000 + int(self.expiry[:2]), int(self.expiry[2:])
        day = calendar.monthrange(year, month)[1]
        return bytes.fromhex(f"{self.expiry}{day:02d}")

    @property
    def effective_date(self) -> bytes:
        return bytes.fromhex(f"{self.effective}01")

    @property
    def brand(self) -> Brand:
        brand = brand_of(self.pan)
        assert brand is not None, "personalize() refuses a PAN of no supported brand"
        return brand

    def masked_pan(self) -> str:
        return "*" * (len(self.pan) - 4) + self.pan[-4:]
