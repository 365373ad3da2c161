"""``hcekit payment personalize`` and ``hcekit payment show``.

Personalisation writes the card data and the derived card key into the
store the card uses (``--store``, default ``$HCEKIT_STORE`` or the user's
data directory). The ATC is kept: it never goes backwards.
"""

from __future__ import annotations

import argparse

from hcekit.cli.common import open_cli_store

from .atc import current_atc
from .personalization import PersonalizationError, from_options, load, save
from .testdata import TEST_RANGES

__all__ = ["add_commands"]

NAMESPACE = "payment"


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("payment", help="TEST EMV payment card: personalise, show")
    sub = parser.add_subparsers(dest="payment_command", required=True)

    perso = sub.add_parser("personalize", help="write TEST card data and key into the store",
                           description="Write the TEST EMV card into the store: PAN (from a "
                                       "documented test range unless --force), expiry, name, CVN "
                                       "and the card key derived from the issuer master key "
                                       "(only its check value is printed).")
    perso.add_argument("--store", help="store path (default: $HCEKIT_STORE or user data dir)")
    perso.add_argument("--pan", help="test PAN (default: 4111111111111111)")
    perso.add_argument("--psn", help="PAN sequence number, 2 digits (default 00)")
    perso.add_argument("--expiry", help="YYMM (default 2912)")
    perso.add_argument("--name", help="cardholder name (default TEST/HCEKIT CARD)")
    perso.add_argument("--cvn", choices=["10", "18"], help="cryptogram version (default 18)")
    perso.add_argument("--imk", metavar="HEX",
                       help="issuer master key, 16 bytes hex (default: the TEST key)")
    perso.add_argument("--offline-limit", dest="offline_limit",
                       help="largest amount in minor units approved offline (default 0)")
    perso.add_argument("--force", action="store_true",
                       help="accept a PAN outside the documented test ranges (your lab BIN)")
    perso.set_defaults(handler=_personalize)

    show = sub.add_parser("show", help="print the card's data (masked PAN, key KCV, ATC)",
                          description="Print the card's data: masked PAN, expiry, CVN, the key "
                                      "check value (never the key) and the ATC.")
    show.add_argument("--store", help="store path (default: $HCEKIT_STORE or user data dir)")
    show.set_defaults(handler=_show)

    ranges = sub.add_parser("test-ranges", help="list the documented test PAN ranges",
                            description="List the PAN ranges personalize accepts without --force.")
    ranges.set_defaults(handler=_ranges)


def _personalize(args: argparse.Namespace) -> int:
    options = {key: getattr(args, key) for key in
               ("pan", "psn", "expiry", "name", "cvn", "imk", "offline_limit")
               if getattr(args, key) is not None}
    options["force"] = args.force
    try:
        perso = from_options(options)
    except PersonalizationError as exc:
        print(f"hcekit payment personalize: {exc}")
        return 2
    store = open_cli_store(args.store)
    try:
        save(store.namespace(NAMESPACE), perso)
    finally:
        store.close()
    print(f"personalised {perso.masked_pan()} CVN {int(perso.cvn)} key KCV {perso.key_check_value}"
          + (" (TEST issuer key)" if perso.test_key else ""))
    return 0


def _show(args: argparse.Namespace) -> int:
    store = open_cli_store(args.store, read_only=True)
    try:
        ns = store.namespace(NAMESPACE)
        perso = load(ns)
        if perso is None:
            print("not personalised (the card personalises itself with TEST data on first start)")
            return 1
        print(f"PAN       {perso.masked_pan()} (PSN {perso.psn}, expires {perso.expiry})")
        print(f"AID       {perso.aid.hex().upper()} label {perso.label!r}")
        print(f"CVN       {int(perso.cvn)}, card key KCV {perso.key_check_value}"
              + (", from the TEST issuer key" if perso.test_key else ""))
        print(f"ATC       {current_atc(ns)}")
    finally:
        store.close()
    return 0


def _ranges(args: argparse.Namespace) -> int:
    for rng in TEST_RANGES:
        kind = "exactly" if rng.exact else "prefix "
        print(f"{kind} {rng.prefix:<19} {rng.source}")
    return 0
