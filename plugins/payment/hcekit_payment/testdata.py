"""TEST data only: the documented test PANs this card accepts and the TEST issuer key.

This card must never carry a live account number. Personalisation refuses a
PAN outside the ranges below unless the caller forces it (for a lab that
owns its own test BIN). Every range names where it is documented as test
data; see ``docs/payment.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TEST_IMK",
    "TEST_IMK_SMI",
    "TEST_IMK_SMC",
    "DEFAULT_PAN",
    "TestRange",
    "TEST_RANGES",
    "luhn_valid",
    "documented_test_range",
]

#: TEST Issuer Master Key for application cryptograms. Published test key
#: (the one the EMV key-derivation examples and pyemv's vectors use); never
#: a production key. The card only stores the UDK derived from it.
TEST_IMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")

#: TEST issuer master keys for secure messaging integrity (MACs of issuer script commands)
#: and confidentiality (enciphered PIN blocks): the ones pyemv's published vectors use.
TEST_IMK_SMI = bytes.fromhex("FEDCBA98765432100123456789ABCDEF")
TEST_IMK_SMC = bytes.fromhex("89ABCDEF0123456776543210FEDCBA98")

#: The Visa test number payment gateways document for card-not-present tests.
DEFAULT_PAN = "4111111111111111"


@dataclass(frozen=True)
class TestRange:
    """PANs that start with ``prefix`` (or equal it when ``exact``) are test data."""

    __test__ = False  # not a pytest test class

    prefix: str
    source: str
    exact: bool = False

    def matches(self, pan: str) -> bool:
        return pan == self.prefix if self.exact else pan.startswith(self.prefix)


TEST_RANGES: tuple[TestRange, ...] = (
    TestRange("4111111111111111", "Visa test PAN in payment-gateway test-card lists "
              "(e.g. Braintree, Adyen, Stripe sandboxes)", exact=True),
    TestRange("4012888888881881", "Visa test PAN in payment-gateway test-card lists", exact=True),
    TestRange("4242424242424242", "Stripe test-mode Visa number", exact=True),
    TestRange("5555555555554444", "Mastercard test PAN in gateway test-card lists", exact=True),
    TestRange("476173", "Visa test BIN of the ADVT acquirer test cards (e.g. 4761 7390 0101 0010)"),
    TestRange("541333", "Mastercard M-TIP acquirer test-card BIN"),
)


def luhn_valid(pan: str) -> bool:
    """ISO/IEC 7812-1 check digit."""
    total = 0
    for i, ch in enumerate(reversed(pan)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def documented_test_range(pan: str) -> TestRange | None:
    """The documented test range *pan* belongs to, or None."""
    for rng in TEST_RANGES:
        if rng.matches(pan):
            return rng
    return None

