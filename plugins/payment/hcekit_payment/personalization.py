"""What makes one TEST card: PAN, dates, name, CVN, and the card's own AC key.

Personalisation takes the issuer master key, derives the card's ICC master
key (UDK) from it as the CVN prescribes, and keeps only that: the issuer
key never reaches the store. A PAN must be Luhn-valid and in a documented
test range (:mod:`hcekit_payment.testdata`) unless ``force`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

from hcekit import errors as hcekit_errors
from hcekit.options import OptionGroup
from hcekit.store import PluginStore

from .assumptions import ODA_FAULTS, ODA_METHODS
from .brands import BRANDS, brand_of
from .card_data import VISA_AID, Personalization
from .cryptogram import CVN, icc_master_key
from .keys import derive_icc_master_key_a
from .layout import oda_static_data
from .records import forget_records
from .testdata import (
    DEFAULT_PAN,
    TEST_IMK,
    TEST_IMK_SMC,
    TEST_IMK_SMI,
    documented_test_range,
    luhn_valid,
)

if TYPE_CHECKING:  # ODA's RSA keys and CA table load only for a card that has ODA
    pass

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

PROFILE_KEY = "profile"
ICC_MK_KEY = "icc_master_key_ac"
ODA_KEY = "oda"
ICC_RSA_KEY = "icc_rsa_key"
ICC_MK_SMI_KEY, ICC_MK_SMC_KEY = "icc_master_key_smi", "icc_master_key_smc"


class PersonalizationError(hcekit_errors.PersonalizationError):
    """Card data that this TEST card refuses, with the reason."""


class NotATestPanError(PersonalizationError):
    """A PAN outside every documented test range (personalise with force=True to override)."""


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
    imk_smi: bytes = TEST_IMK_SMI,
    imk_smc: bytes = TEST_IMK_SMC,
    **fields: Any,
) -> Personalization:
    """Validate the card data and derive the card keys from the issuer master keys.

    *imk* is the AC key; *imk_smi* / *imk_smc* the secure messaging keys of issuer
    scripts (option A, as :mod:`hcekit_payment.script_sm` says).
    """
    pan = pan.replace(" ", "")
    if not pan.isdigit() or not 12 <= len(pan) <= 19:
        raise PersonalizationError(f"a PAN is 12–19 digits, got {len(pan)} characters")
    if not luhn_valid(pan):
        raise PersonalizationError("the PAN fails the Luhn check")
    brand = brand_of(pan)
    if brand is None:
        supported = "; ".join(f"{b.name} " + ", ".join(
            first if first == last else f"{first}–{last}" for first, last in b.ranges)
            for b in BRANDS)
        raise PersonalizationError(f"PAN {pan[:6]}… is of no brand this card supports "
                                   f"(IIN ranges: {supported})")
    if documented_test_range(pan) is None and not force:
        raise NotATestPanError(
            f"PAN {pan[:6]}…{pan[-4:]} is not in a documented test range; this card carries "
            "test data only (pass force=True / --force for your own lab BIN)"
        )
    for key, what in ((imk, "issuer master key"), (imk_smi, "issuer SMI key"),
                      (imk_smc, "issuer SMC key")):
        if len(key) != 16:
            raise PersonalizationError(f"the {what} is 16 bytes, got {len(key)}")
    try:
        cvn = CVN(int(fields.pop("cvn", brand.cvns[0])))
    except ValueError:
        cvn = None
    if cvn not in brand.cvns:
        raise PersonalizationError(
            f"unsupported CVN for {brand.name}; this card implements "
            f"{', '.join(str(int(c)) for c in brand.cvns)}")
    fields.setdefault("label", brand.label)
    fields["aid"] = brand.aid
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
    _check_oda(draft.oda_methods, draft.oda_fault)
    draft = replace(draft, icc_mk=icc_master_key(cvn, imk, pan, psn),
                    icc_mk_smi=derive_icc_master_key_a(imk_smi, pan, psn),
                    icc_mk_smc=derive_icc_master_key_a(imk_smc, pan, psn))
    if not draft.oda_methods:
        return draft
    from . import oda as oda_module

    return replace(draft, oda=oda_module.issue(pan, draft.oda_methods, draft.oda_fault,
                                               oda_static_data(draft)))


def _check_oda(methods: tuple[str, ...], fault: str) -> None:
    unknown = [m for m in methods if m not in ODA_METHODS]
    if unknown or len(set(methods)) != len(methods):
        raise PersonalizationError(f"ODA methods are a subset of {', '.join(ODA_METHODS)}; "
                                   f"got {', '.join(methods)}")
    if fault and fault not in ODA_FAULTS:
        raise PersonalizationError(f"ODA fault must be one of {', '.join(ODA_FAULTS)}; "
                                   f"got {fault!r}")
    if fault and not methods:
        raise PersonalizationError("an ODA fault needs at least one ODA method")


def parse_methods(text: str) -> tuple[str, ...]:
    """``"sda,cda"`` → ``("sda", "cda")``; ``"none"`` or empty → ``()``."""
    if text.strip().lower() in ("", "none"):
        return ()
    return tuple(m.strip().lower() for m in text.split(","))


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
    options.add("imk_smi", type=bytes, secret=True,
                help="issuer key for script MACs (SMI), 16 bytes hex (default the TEST key)")
    options.add("imk_smc", type=bytes, secret=True,
                help="issuer key for enciphered script data (SMC), 16 bytes hex (default the "
                     "TEST key)")
    options.add("force", type=bool, help="accept a PAN outside the documented test ranges")
    options.add("accept_empty_pdol", type=bool,
                help="take GPO data 83 00 (a terminal that ignores the PDOL, as emvtool) as the "
                     "GENERATE AC flow instead of refusing it with 6700")
    options.add("oda", help=f"offline data authentication methods, comma-separated from "
                            f"{', '.join(ODA_METHODS)} (default none)")
    options.add("oda_fault", choices=ODA_FAULTS,
                help="a deliberately wrong ODA variant for a terminal's failure paths")


def from_options(options: Mapping[str, Any]) -> Personalization:
    """Personalise from plugin options (CLI strings or Python values); defaults are TEST data.

    Options: ``pan``, ``psn``, ``expiry``, ``effective``, ``name``, ``cvn``,
    ``label``, ``country``, ``currency``, ``offline_limit``, ``imk`` (hex),
    ``force``, ``accept_empty_pdol``, ``oda`` (comma-separated methods), ``oda_fault``,
    ``imk_smi`` / ``imk_smc`` (issuer script keys, hex).
    """
    known = {"pan", "psn", "expiry", "effective", "name", "cvn", "label", "country",
             "currency", "offline_limit", "imk", "force", "oda", "oda_fault",
             "accept_empty_pdol", "imk_smi", "imk_smc"}
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
    if "oda" in options:
        raw = options["oda"]
        kwargs["oda_methods"] = parse_methods(raw) if isinstance(raw, str) else tuple(raw)
    if "oda_fault" in options:
        kwargs["oda_fault"] = str(options["oda_fault"])
    try:
        if "cvn" in options:
            kwargs["cvn"] = int(options["cvn"])
        if "offline_limit" in options:
            kwargs["offline_limit"] = int(options["offline_limit"])
        imk = _key(options.get("imk", TEST_IMK))
        for name in ("imk_smi", "imk_smc"):
            if name in options:
                kwargs[name] = _key(options[name])
    except ValueError as exc:
        raise PersonalizationError(f"bad payment option: {exc}") from None
    if "accept_empty_pdol" in options:
        kwargs["accept_empty_pdol"] = _flag(options["accept_empty_pdol"])
    return personalize(str(options.get("pan", DEFAULT_PAN)), imk,
                       force=_flag(options.get("force", False)), **kwargs)


def _key(value: object) -> bytes:
    return value if isinstance(value, bytes) else bytes.fromhex(str(value))


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def save(store: PluginStore, perso: Personalization) -> None:
    """Write the card data; the ATC is left alone (it never goes backwards)."""
    profile = {f.name: getattr(perso, f.name) for f in fields(perso)
               if f.name not in ("icc_mk", "oda", "icc_mk_smi", "icc_mk_smc")}
    profile["aid"] = perso.aid.hex().upper()
    profile["cvn"] = int(perso.cvn)
    profile["oda_methods"] = list(perso.oda_methods)
    with store.transaction():
        store.set_json(PROFILE_KEY, profile)
        store.set(ICC_MK_KEY, perso.icc_mk)
        store.set(ICC_MK_SMI_KEY, perso.icc_mk_smi)
        store.set(ICC_MK_SMC_KEY, perso.icc_mk_smc)
        forget_records(store)  # UPDATE RECORD's copies belong to the layout being replaced
        if perso.oda is None:
            store.delete(ODA_KEY)
            store.delete(ICC_RSA_KEY)
            return
        from . import oda as oda_module

        store.set_json(ODA_KEY, oda_module.to_json(perso.oda))
        if perso.oda.icc_key is None:
            store.delete(ICC_RSA_KEY)
        else:
            store.set(ICC_RSA_KEY, oda_module.icc_key_der(perso.oda.icc_key))


def load(store: PluginStore) -> Personalization | None:
    """The stored card data, or None when the card was never personalised."""
    profile = store.get_json(PROFILE_KEY)
    key = store.get(ICC_MK_KEY)
    if profile is None or key is None:
        return None
    profile = dict(profile)
    profile["aid"] = bytes.fromhex(profile["aid"])
    profile["cvn"] = CVN(profile["cvn"])
    profile["oda_methods"] = tuple(profile.get("oda_methods", ()))
    oda_raw, icc_der = store.get_json(ODA_KEY), store.get(ICC_RSA_KEY)
    oda = None
    if oda_raw is not None:
        from . import oda as oda_module

        oda = oda_module.from_json(
            oda_raw, None if icc_der is None else oda_module.load_icc_key(icc_der))
    return Personalization(icc_mk=key, oda=oda, icc_mk_smi=store.get(ICC_MK_SMI_KEY) or b"",
                           icc_mk_smc=store.get(ICC_MK_SMC_KEY) or b"", **profile)
