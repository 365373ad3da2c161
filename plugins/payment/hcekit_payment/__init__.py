"""hcekit_payment: a TEST EMV contactless payment card (Visa CVN 10 / 18, Mastercard CVN 16).

Test data only: the card refuses PANs outside documented test ranges unless
forced, and personalises itself with the TEST issuer master key by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hcekit.lazy import lazy_exports

if TYPE_CHECKING:
    from .cryptogram import CVN, CryptogramType, TransactionData, application_cryptogram
    from .issuer import CryptogramRecord, IssuerHost, Verdict
    from .personalization import (
        NotATestPanError,
        Personalization,
        PersonalizationError,
        personalize,
    )
    from .plugin import PaymentPlugin
    from .testdata import DEFAULT_PAN, TEST_IMK

__all__ = [
    "CVN",
    "DEFAULT_PAN",
    "TEST_IMK",
    "CryptogramRecord",
    "CryptogramType",
    "IssuerHost",
    "NotATestPanError",
    "PaymentPlugin",
    "Personalization",
    "PersonalizationError",
    "TransactionData",
    "Verdict",
    "application_cryptogram",
    "personalize",
]

__getattr__ = lazy_exports(__name__, {
    "CVN": ".cryptogram",
    "CryptogramType": ".cryptogram",
    "TransactionData": ".cryptogram",
    "application_cryptogram": ".cryptogram",
    "CryptogramRecord": ".issuer",
    "IssuerHost": ".issuer",
    "Verdict": ".issuer",
    "NotATestPanError": ".personalization",
    "Personalization": ".personalization",
    "PersonalizationError": ".personalization",
    "personalize": ".personalization",
    "PaymentPlugin": ".plugin",
    "DEFAULT_PAN": ".testdata",
    "TEST_IMK": ".testdata",
})
