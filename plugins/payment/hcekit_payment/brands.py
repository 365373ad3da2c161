"""Which payment network a PAN belongs to, and what that network's profile of this card is.

The brand follows the PAN's issuer identification number (ISO/IEC 7812-1
ranges as the networks publish them): Visa 4, Mastercard 51–55 and
2221–2720. Each brand has its own AID (the RIDs and application PIXes are
public: EMV Book 1 Annex, and every terminal's AID list), default label and
cryptogram versions. A PAN of no supported brand is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cryptogram import CVN

__all__ = ["Brand", "VISA", "MASTERCARD", "BRANDS", "brand_of"]


@dataclass(frozen=True)
class Brand:
    name: str
    aid: bytes
    label: str
    cvns: tuple[CVN, ...]
    #: IIN ranges: (first, last) over PAN prefixes of the same length.
    ranges: tuple[tuple[str, str], ...]
    #: The quick contactless answer (cryptogram in the GPO answer; needs the PDOL with TTQ).
    qvsdc: bool

    @property
    def rid(self) -> bytes:
        return self.aid[:5]

    def owns(self, pan: str) -> bool:
        return any(first <= pan[:len(first)] <= last for first, last in self.ranges)


VISA = Brand("Visa", bytes.fromhex("A0000000031010"), "HCEKIT TEST VISA",
             (CVN.VISA_18, CVN.VISA_10), (("4", "4"),), qvsdc=True)
MASTERCARD = Brand("Mastercard", bytes.fromhex("A0000000041010"), "HCEKIT TEST MC",
                   (CVN.MASTERCARD_16,), (("51", "55"), ("2221", "2720")), qvsdc=False)
BRANDS = (VISA, MASTERCARD)


def brand_of(pan: str) -> Brand | None:
    """The brand whose IIN ranges hold *pan*, or None."""
    for brand in BRANDS:
        if brand.owns(pan):
            return brand
    return None
