"""``hcekit payment personalize``, ``show``, ``test-ranges`` and ``capk``.

Personalisation is a declaration on the core's framework
(:mod:`hcekit.cli.personalization`), which owns ``--store``, ``--force`` and the
exit statuses. It writes the card data and the derived card key; only the
key's check value is ever printed. The ATC is kept: it never goes backwards.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hcekit.cli.arguments import calendar_date
from hcekit.personalization import Personalization
from hcekit.store import PluginStore

from .assumptions import CA_INDEX, ODA_FAULTS, ODA_METHODS
from .atc import current_atc
from .ca import capks_json, capks_table
from .cryptogram import CVN
from .personalization import NotATestPanError, PersonalizationError, from_options, load, save
from .personalization import Personalization as CardData
from .testdata import TEST_RANGES

__all__ = ["PERSONALIZATION"]

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

_YYMM = calendar_date("%y%m", "2912")


def _expiry(text: str) -> str:
    month: date = _YYMM(text)
    return month.strftime("%y%m")


def _arguments(perso: argparse.ArgumentParser) -> None:
    perso.add_argument("--pan", help="test PAN (default: 4111111111111111)")
    perso.add_argument("--psn", help="PAN sequence number, 2 digits (default 00)")
    perso.add_argument("--expiry", type=_expiry, metavar="YYMM",
                       help="expiry month, YYMM (default 2912)")
    perso.add_argument("--name", help="cardholder name (default TEST/HCEKIT CARD)")
    perso.add_argument("--cvn", choices=[str(int(c)) for c in CVN],
                       help="cryptogram version: Visa 18 (default) or 10, Mastercard 16")
    # keys come from files only: on the command line, ps and the shell history show them
    perso.add_argument("--imk-file", metavar="PATH",
                       help="file holding the issuer master key, 16 bytes hex (default: the "
                            "TEST key)")
    perso.add_argument("--imk-smi-file", metavar="PATH",
                       help="file holding the issuer's script MAC key (SMI), 16 bytes hex "
                            "(default: the TEST key)")
    perso.add_argument("--imk-smc-file", metavar="PATH",
                       help="file holding the issuer's script encipherment key (SMC), 16 bytes "
                            "hex (default: the TEST key)")
    perso.add_argument("--offline-limit", dest="offline_limit",
                       help="largest amount in minor units approved offline (default 0)")
    perso.add_argument("--oda", metavar="METHODS",
                       help=f"offline data authentication, comma-separated from "
                            f"{', '.join(ODA_METHODS)} (default none)")
    perso.add_argument("--oda-fault", dest="oda_fault", choices=ODA_FAULTS,
                       help="a deliberately wrong ODA variant, for a terminal's failure paths")
    perso.add_argument("--allow-non-test-pan", action="store_true",
                       help="accept a PAN outside the documented test ranges (your lab BIN; "
                            "see 'hcekit payment test-ranges')")


def _prepare(args: argparse.Namespace) -> CardData:
    options: dict[str, Any] = {key: getattr(args, key) for key in
                               ("pan", "psn", "expiry", "name", "cvn", "offline_limit",
                                "oda", "oda_fault")
                               if getattr(args, key) is not None}
    for option, flag, path in (("imk", "--imk-file", args.imk_file),
                               ("imk_smi", "--imk-smi-file", args.imk_smi_file),
                               ("imk_smc", "--imk-smc-file", args.imk_smc_file)):
        if path is not None:
            options[option] = _read_key(flag, path)
    options["force"] = args.allow_non_test_pan
    try:
        return from_options(options)  # PersonalizationError: a usage error
    except NotATestPanError:
        raise NotATestPanError(
            f"PAN {options['pan'][:6]}…{options['pan'][-4:]} is not in a documented test range "
            "(hcekit payment test-ranges); --allow-non-test-pan accepts your own lab BIN"
        ) from None


def _read_key(flag: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PersonalizationError(f"{flag} {path}: cannot read it "
                                   f"({getattr(exc, 'strerror', None) or exc})") from None


def _write(store: PluginStore, perso: CardData) -> list[str]:
    save(store, perso)
    return [f"personalised {perso.masked_pan()} CVN {int(perso.cvn)} key KCV "
            f"{perso.key_check_value}" + (" (TEST issuer key)" if perso.test_key else ""),
            f"offline data authentication: {_oda_text(perso)}"]


def _oda_text(perso: CardData) -> str:
    if not perso.oda_methods:
        return "none"
    text = ", ".join(m.upper().replace("FDDA", "fDDA") for m in perso.oda_methods)
    text += f" under TEST CAPK index {CA_INDEX:02X} (hcekit payment capk)"
    return text + (f"; DELIBERATELY WRONG: {perso.oda_fault}" if perso.oda_fault else "")


def _show(store: PluginStore, args: argparse.Namespace) -> list[str]:
    perso = load(store)
    assert perso is not None  # the framework checked that a card exists
    return [
        f"PAN       {perso.masked_pan()} (PSN {perso.psn}, expires {perso.expiry})",
        f"AID       {perso.aid.hex().upper()} label {perso.label!r}",
        f"CVN       {int(perso.cvn)}, card key KCV {perso.key_check_value}"
        + (", from the TEST issuer key" if perso.test_key else ""),
        f"ODA       {_oda_text(perso)}",
        f"ATC       {current_atc(store)}",
    ]


def _more_commands(sub: SubParsers) -> None:
    ranges = sub.add_parser("test-ranges", help="list the documented test PAN ranges",
                            description="List the PAN ranges personalize accepts without "
                                        "--allow-non-test-pan.")
    ranges.set_defaults(handler=_ranges)
    capk = sub.add_parser("capk", help="export the TEST CA public keys for a terminal",
                          description="Print the TEST CA public key as terminals load it: RID, "
                                      "index, modulus, exponent and SHA-1 check value, once "
                                      "per brand RID. TEST ONLY: never load it into a "
                                      "terminal that accepts live cards.")
    capk.add_argument("--json", action="store_true", help="JSON instead of the text table")
    capk.set_defaults(handler=_capk)


def _capk(args: argparse.Namespace) -> int:
    print(capks_json() if args.json else "\n".join(capks_table()).rstrip())
    return 0


def _ranges(args: argparse.Namespace) -> int:
    for rng in TEST_RANGES:
        kind = "exactly" if rng.exact else "prefix "
        print(f"{kind} {rng.prefix:<19} {rng.source}")
    return 0


PERSONALIZATION: Personalization[CardData] = Personalization(
    summary="TEST EMV payment card: personalize, show, list test PAN ranges, export the CAPK",
    description="Write the TEST EMV card into the store: PAN (from a documented test range "
                "unless --allow-non-test-pan), expiry, name, CVN and the card key derived from "
                "the issuer master key (only its check value is printed; the issuer key is not "
                "stored). The ATC of a replaced card is kept: it never goes backwards.",
    add_arguments=_arguments,
    prepare=_prepare,
    write=_write,
    exists=lambda store: load(store) is not None,
    show=_show,
    show_description="Print the card's data: masked PAN, expiry, CVN, the key check value "
                     "(never the key) and the ATC.",
    add_commands=_more_commands,
    noun="payment card",
)
