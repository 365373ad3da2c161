"""What makes one TEST card: PAN, dates, name, CVN, and the card's own AC key.

Personalisation takes the issuer master key, derives the card's ICC master
key (UDK) from it as the CVN prescribes, and keeps only that: the issuer
key never reaches the store. A PAN must be Luhn-valid and in a documented
test range (:mod:`hcekit_payment.testdata`) unless ``force`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from hcekit import errors as hcekit_errors
from hcekit.options import OptionGroup
from hcekit.store import PluginStore

from .cryptogram import CVN, icc_master_key
from .keys import key_check_value
from .testdata import DEFAULT_PAN, TEST_IMK, documented_test_range, luhn_valid

__all__ = [
    "VISA_AID",
    "Personalization",
    "PersonalizationError",
    "NotATestPanError",
    "personalize",
    "add_options",
    "from_options",
    "save",
    "load",
]

#: Visa credit/debit AID (what emvtool and POS terminals look for).
VISA_AID = bytes.fromhex("A0000000031010")

PROFILE_KEY = "profile"
ICC_MK_KEY = "icc_master_key_ac"


class PersonalizationError(hcekit_errors.PersonalizationError):
    """Card data that this TEST card refuses, with the reason."""


class NotATestPanError(PersonalizationError):
    """A PAN outside every documented test range (personalise with force=True to override)."""


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

    def masked_pan(self) -> str:
        return "*" * (len(self.pan) - 4) + self.pan[-4:]


def _check_yymm(value: str, what: str) -> None:
    if len(value) != 4 or not value.isdigit() or not 1 <= int(value[2:]) <= 12:
        raise PersonalizationError(f"{what} must be YYMM, got {value!r}")


def _check_numeric(value: str, length: int, what: str) -> None:
    if len(value) != length or not value.isdigit():
        raise PersonalizationError(f"{what} must be {length} digits, got {value!r}")


def personalize(
    pan: str = DEFAULT_PAN,
    imk: bytes = TEST_IMK,
    *,
    force: bool = False,
    **fields: Any,
) -> Personalization:
    """Validate the card data and derive the card key from the issuer master key *imk*."""
    pan = pan.replace(" ", "")
    if not pan.isdigit() or not 12 <= len(pan) <= 19:
        raise PersonalizationError(f"a PAN is 12–19 digits, got {len(pan)} characters")
    if not luhn_valid(pan):
        raise PersonalizationError("the PAN fails the Luhn check")
    if documented_test_range(pan) is None and not force:
        raise NotATestPanError(
            f"PAN {pan[:6]}…{pan[-4:]} is not in a documented test range; this card carries "
            "test data only (pass force=True / --force for your own lab BIN)"
        )
    if len(imk) != 16:
        raise PersonalizationError(f"the issuer master key is 16 bytes, got {len(imk)}")
    try:
        cvn = CVN(int(fields.pop("cvn", CVN.VISA_18)))
    except ValueError:
        raise PersonalizationError(
            f"unsupported CVN; this card implements {', '.join(str(int(c)) for c in CVN)}"
        ) from None
    psn = str(fields.pop("psn", "00"))
    _check_numeric(psn, 2, "PAN sequence number")
    draft = Personalization(pan=pan, icc_mk=b"", psn=psn, cvn=cvn,
                            test_key=imk == TEST_IMK, forced=documented_test_range(pan) is None,
                            **fields)
    _check_yymm(draft.expiry, "expiry")
    _check_yymm(draft.effective, "effective date")
    _check_numeric(draft.country, 4, "country code")
    _check_numeric(draft.currency, 4, "currency code")
    if not draft.cardholder_name.isascii() or not 2 <= len(draft.cardholder_name) <= 26:
        raise PersonalizationError("cardholder name must be 2–26 ASCII characters")
    if not draft.label.isascii() or not 1 <= len(draft.label) <= 16:
        raise PersonalizationError("application label must be 1–16 ASCII characters")
    if draft.offline_limit < 0:
        raise PersonalizationError("offline limit must be ≥ 0")
    return replace(draft, icc_mk=icc_master_key(cvn, imk, pan, psn))


def add_options(options: OptionGroup) -> None:
    """Declare the personalisation options (used when the store holds no card yet)."""
    options.add("pan", help=f"card number, in a documented test range unless force "
                            f"(default the TEST PAN {DEFAULT_PAN})")
    options.add("psn", help="PAN sequence number, 2 digits (default 00)")
    options.add("expiry", help="expiry date YYMM (default 2912)")
    options.add("effective", help="effective date YYMM (default 2401)")
    options.add("name", help="cardholder name (default TEST/HCEKIT CARD)")
    options.add("cvn", type=int, choices=tuple(int(c) for c in CVN),
                help="cryptogram version number (default 18)")
    options.add("label", help="application label (default HCEKIT TEST VISA)")
    options.add("country", help="terminal country code, ISO 3166 numeric (default 0840)")
    options.add("currency", help="currency code, ISO 4217 numeric (default 0840)")
    options.add("offline_limit", type=int,
                help="largest amount approved offline, minor units (default 0: online only)")
    options.add("imk", type=bytes, secret=True,
                help="issuer master key, 16 bytes hex (default the TEST key)")
    options.add("force", type=bool, help="accept a PAN outside the documented test ranges")


def from_options(options: Mapping[str, Any]) -> Personalization:
    """Personalise from plugin options (CLI strings or Python values); defaults are TEST data.

    Options: ``pan``, ``psn``, ``expiry``, ``effective``, ``name``, ``cvn``,
    ``label``, ``country``, ``currency``, ``offline_limit``, ``imk`` (hex),
    ``force``.
    """
    known = {"pan", "psn", "expiry", "effective", "name", "cvn", "label", "country",
             "currency", "offline_limit", "imk", "force"}
    unknown = set(options) - known
    if unknown:
        raise PersonalizationError(
            f"unknown payment option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    kwargs: dict[str, Any] = {}
    for option, name in (("psn", "psn"), ("expiry", "expiry"), ("effective", "effective"),
                         ("name", "cardholder_name"), ("label", "label"),
                         ("country", "country"), ("currency", "currency")):
        if option in options:
            kwargs[name] = str(options[option])
    try:
        if "cvn" in options:
            kwargs["cvn"] = int(options["cvn"])
        if "offline_limit" in options:
            kwargs["offline_limit"] = int(options["offline_limit"])
        raw_imk = options.get("imk", TEST_IMK)
        imk = raw_imk if isinstance(raw_imk, bytes) else bytes.fromhex(str(raw_imk))
    except ValueError as exc:
        raise PersonalizationError(f"bad payment option: {exc}") from None
    force = options.get("force", False)
    if isinstance(force, str):
        force = force.strip().lower() in ("1", "true", "yes", "on")
    return personalize(str(options.get("pan", DEFAULT_PAN)), imk, force=bool(force), **kwargs)


def save(store: PluginStore, perso: Personalization) -> None:
    """Write the card data; the ATC is left alone (it never goes backwards)."""
    profile = asdict(perso)
    del profile["icc_mk"]
    profile["aid"] = perso.aid.hex().upper()
    profile["cvn"] = int(perso.cvn)
    with store.transaction():
        store.set_json(PROFILE_KEY, profile)
        store.set(ICC_MK_KEY, perso.icc_mk)


def load(store: PluginStore) -> Personalization | None:
    """The stored card data, or None when the card was never personalised."""
    profile = store.get_json(PROFILE_KEY)
    key = store.get(ICC_MK_KEY)
    if profile is None or key is None:
        return None
    profile = dict(profile)
    profile["aid"] = bytes.fromhex(profile["aid"])
    profile["cvn"] = CVN(profile["cvn"])
    return Personalization(icc_mk=key, **profile)
