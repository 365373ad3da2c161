"""``hcekit transit personalize``, ``show`` and ``keygen``.

Personalisation is a declaration on the core's framework
(:mod:`hcekit.cli.personalization`), which owns ``--store``, ``--force`` and the
exit statuses. Keys are read from and written to key files only; nothing
here prints a key.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from hcekit.cli.arguments import calendar_date, hexbytes, int_range
from hcekit.errors import PersonalizationError
from hcekit.personalization import Personalization
from hcekit.store import PluginStore

from .keys import IssuerKeys
from .layout import DEFAULT_BALANCE, DEFAULT_MAX_BALANCE, CardProfile, personalize
from .persist import CardStore
from .records import CardStatus, Contract

__all__ = ["PERSONALIZATION", "cmd_keygen"]

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

_DATE = calendar_date("%Y%m%d", "20291231")
#: The card number is an unsigned 64-bit field of the card-info file (records.CardInfo).
MAX_CARD_NUMBER = 2**64 - 1


def _yyyymmdd(day: date) -> int:
    return int(day.strftime("%Y%m%d"))


def _expiry(text: str) -> int:
    return _yyyymmdd(_DATE(text))


def _contract(text: str) -> Contract:
    form = f"contract {text!r}: expected ZONE[-ZONE]:YYYYMMDD:YYYYMMDD, e.g. 1-2:20260101:20261231"
    try:
        zones, valid_from, valid_until = text.split(":")
        low, _, high = zones.partition("-")
        zone_from, zone_to = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(form) from None
    first, last = _DATE(valid_from), _DATE(valid_until)  # each a real calendar date
    if last < first:
        raise argparse.ArgumentTypeError(f"contract {text!r}: it ends before it starts")
    return Contract(zone_from, zone_to, _yyyymmdd(first), _yyyymmdd(last))


@dataclass(frozen=True)
class _Request:
    keys: IssuerKeys
    profile: CardProfile
    blocked: bool


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keys", type=Path, metavar="FILE",
                   help="issuer key file (from 'hcekit transit keygen'); default TEST keys")
    p.add_argument("--uid", type=hexbytes, help="7-byte card UID in hex (default random)")
    p.add_argument("--card-number", type=int_range(0, MAX_CARD_NUMBER), default=0,
                   help="the card number printed on the card and used in hotlists (default 0)")
    p.add_argument("--balance", type=int, default=DEFAULT_BALANCE, help="minor units")
    p.add_argument("--max-balance", type=int, default=DEFAULT_MAX_BALANCE, help="minor units")
    p.add_argument("--expiry", type=_expiry, default=20991231, metavar="YYYYMMDD",
                   help="last day the card is valid, a calendar date (default 20991231)")
    p.add_argument("--blocked", action="store_true", help="personalise a blocked card")
    p.add_argument("--contract", type=_contract, action="append", default=[],
                   metavar="ZONES:FROM:UNTIL", help="zone pass, e.g. 1-2:20260101:20261231")


def _prepare(args: argparse.Namespace) -> _Request:
    try:
        keys = IssuerKeys.load(args.keys) if args.keys else IssuerKeys.test_keys()
    except ValueError as exc:
        raise PersonalizationError(f"--keys: {exc}") from None
    kwargs = {"uid": args.uid} if args.uid else {}
    try:
        profile = CardProfile(card_number=args.card_number, balance=args.balance,
                              max_balance=args.max_balance, expiry=args.expiry,
                              status=CardStatus.BLOCKED if args.blocked else CardStatus.ACTIVE,
                              contracts=tuple(args.contract), **kwargs)
    except ValueError as exc:
        raise PersonalizationError(str(exc)) from None
    return _Request(keys, profile, args.blocked)


def _write(store: PluginStore, request: _Request) -> list[str]:
    picc = personalize(CardStore(store), request.keys, request.profile)
    label = ("TEST keys (publicly known, not for production)" if request.keys.test
             else "issuer keys")
    profile = request.profile
    return [f"personalised transit card UID {picc.uid.hex().upper()} with {label}; "
            f"balance {profile.balance}, limit {profile.max_balance}, valid until "
            f"{profile.expiry}" + (", BLOCKED" if request.blocked else "")]


def _show(store: PluginStore, args: argparse.Namespace) -> list[str]:
    card = CardStore(store).load()
    if card is None:
        raise PersonalizationError("the store holds no transit card")
    picc, apps = card
    return [f"transit card UID {picc.uid.hex().upper()}",
            f"applications: {', '.join(aid.hex().upper() for aid in sorted(apps)) or 'none'}",
            "balance, trips and log: hcekit tap transit-inspect"]


def _more_commands(sub: SubParsers) -> None:
    k = sub.add_parser("keygen", help="create a random issuer key file (mode 0600)",
                       description="Create random issuer master keys (PICC, application, "
                                   "validator, top-up, inspector) in a file readable by you only; "
                                   "use it with personalize --keys and the terminals' keys= option.")
    k.add_argument("out", type=Path, help="key file to create")
    k.add_argument("--force", action="store_true", help="overwrite an existing file")
    k.set_defaults(handler=cmd_keygen)


def cmd_keygen(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        print(f"hcekit: error: transit keygen: {args.out} exists; --force overwrites it",
              file=sys.stderr)
        return 1
    IssuerKeys.generate().save(args.out)
    print(f"wrote new issuer keys to {args.out} (keep it secret; it is not printed)")
    return 0


PERSONALIZATION: Personalization[_Request] = Personalization(
    summary="transit card: personalize, show, make issuer keys",
    description="Personalise the transit card held in the store: PICC and application keys "
                "are diversified (AN10922) from the issuer keys for this card's UID. Without "
                "--keys the publicly known TEST keys are used.",
    add_arguments=_arguments,
    prepare=_prepare,
    write=_write,
    exists=lambda store: not CardStore(store).is_empty(),
    show=_show,
    show_description="Print the stored transit card's UID and applications (never a key).",
    add_commands=_more_commands,
    noun="transit card",
)
