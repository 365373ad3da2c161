"""``hcekit transit personalize`` and ``hcekit transit keygen`` (added by the plugin's hook).

Keys are read from and written to key files only; nothing here prints a key.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hcekit.cli.common import hexbytes, open_cli_store, store_location

from .keys import IssuerKeys
from .layout import DEFAULT_BALANCE, DEFAULT_MAX_BALANCE, CardProfile, personalize
from .persist import CardStore
from .records import CardStatus, Contract

__all__ = ["add_commands", "cmd_personalize", "cmd_keygen"]

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _contract(text: str) -> Contract:
    try:
        zones, valid_from, valid_until = text.split(":")
        low, _, high = zones.partition("-")
        return Contract(int(low), int(high or low), int(valid_from), int(valid_until))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"contract {text!r}: expected ZONE[-ZONE]:YYYYMMDD:YYYYMMDD") from None


def add_commands(subparsers: SubParsers) -> None:
    transit = subparsers.add_parser("transit", help="transit card: personalise, make issuer keys")
    sub = transit.add_subparsers(title="transit commands", metavar="COMMAND")

    def usage(args: argparse.Namespace) -> int:
        transit.print_help()
        return 2

    transit.set_defaults(handler=usage)

    p = sub.add_parser("personalize", help="write a new transit card into a store",
                       description="Personalise the transit card held in the store: PICC and "
                       "application keys are diversified (AN10922) from the issuer keys for "
                       "this card's UID. Without --keys the publicly known TEST keys are used.")
    p.add_argument("--store", default=None, metavar="PATH",
                   help="store to write (default: $HCEKIT_STORE or the user store)")
    p.add_argument("--keys", type=Path, metavar="FILE",
                   help="issuer key file (from 'hcekit transit keygen'); default TEST keys")
    p.add_argument("--uid", type=hexbytes, help="7-byte card UID in hex (default random)")
    p.add_argument("--card-number", type=int, default=0,
                   help="the card number printed on the card and used in hotlists (default 0)")
    p.add_argument("--balance", type=int, default=DEFAULT_BALANCE, help="minor units")
    p.add_argument("--max-balance", type=int, default=DEFAULT_MAX_BALANCE, help="minor units")
    p.add_argument("--expiry", type=int, default=20991231, metavar="YYYYMMDD",
                   help="last day the card is valid (default 20991231)")
    p.add_argument("--blocked", action="store_true", help="personalise a blocked card")
    p.add_argument("--contract", type=_contract, action="append", default=[],
                   metavar="ZONES:FROM:UNTIL", help="zone pass, e.g. 1-2:20260101:20261231")
    p.add_argument("--force", action="store_true", help="replace a card the store already holds")
    p.set_defaults(handler=cmd_personalize)

    k = sub.add_parser("keygen", help="create a random issuer key file (mode 0600)",
                       description="Create random issuer master keys (PICC, application, "
                                   "validator, top-up, inspector) in a file readable by you only; "
                                   "use it with personalize --keys and the terminals' keys= option.")
    k.add_argument("out", type=Path, help="key file to create")
    k.add_argument("--force", action="store_true", help="overwrite an existing file")
    k.set_defaults(handler=cmd_keygen)


def cmd_personalize(args: argparse.Namespace) -> int:
    path = store_location(args.store)
    keys = IssuerKeys.load(args.keys) if args.keys else IssuerKeys.test_keys()
    kwargs = {"uid": args.uid} if args.uid else {}
    try:
        profile = CardProfile(card_number=args.card_number, balance=args.balance,
                              max_balance=args.max_balance, expiry=args.expiry,
                              status=CardStatus.BLOCKED if args.blocked else CardStatus.ACTIVE,
                              contracts=tuple(args.contract), **kwargs)
    except ValueError as exc:
        print(f"hcekit transit personalize: {exc}", file=sys.stderr)
        return 2
    backend = open_cli_store(args.store)
    try:
        store = CardStore(backend.namespace("transit"))
        if not store.is_empty() and not args.force:
            print(f"hcekit transit personalize: {path} already holds a transit card "
                  "(use --force to replace it)", file=sys.stderr)
            return 1
        picc = personalize(store, keys, profile)
    finally:
        backend.close()
    label = "TEST keys (publicly known, not for production)" if keys.test else "issuer keys"
    print(f"personalised transit card UID {picc.uid.hex().upper()} in {path} with {label}; "
          f"balance {profile.balance}, limit {profile.max_balance}"
          + (", BLOCKED" if args.blocked else ""))
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        print(f"hcekit transit keygen: {args.out} exists (use --force)", file=sys.stderr)
        return 1
    IssuerKeys.generate().save(args.out)
    print(f"wrote new issuer keys to {args.out} (keep it secret; it is not printed)")
    return 0
