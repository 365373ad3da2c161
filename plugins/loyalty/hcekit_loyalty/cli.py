"""``hcekit loyalty personalize`` and ``hcekit loyalty show``: issue a loyalty pass.

A declaration on the core's personalisation framework
(:mod:`hcekit.cli.personalization`), which owns ``--store``, ``--force`` and the
exit statuses. The pass holds the TEST program (its member ID and opening
balance chosen here) and any programs given as JSON, in the format of the
``loyalty.programs`` option. Nothing secret is stored: merchant keys are
public keys.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, replace
from typing import Any

from hcekit.errors import PersonalizationError
from hcekit.personalization import Personalization
from hcekit.store import PluginStore

from . import assumptions as A
from .programs import (
    KEY_PROGRAMS,
    Program,
    ProgramBook,
    ProgramConfigError,
    make_test_program,
    program_from_options,
)

__all__ = ["PERSONALIZATION"]

MAX_MEMBER_ID = 32


@dataclass(frozen=True)
class _Pass:
    programs: tuple[tuple[Program, int], ...]


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--member-id", default=None, metavar="TEXT",
                        help="the member ID in the TEST program (default: a random TEST-… ID)")
    parser.add_argument("--balance", type=int, default=0,
                        help="opening points balance of the TEST program (default 0)")
    parser.add_argument("--programs", default=None, metavar="JSON",
                        help='more programs: a JSON list of {"collector_id", "name", '
                             '"merchant_keys", "member_id", "balance", "offers"} tables '
                             "(docs/loyalty.md)")
    parser.add_argument("--no-test-program", action="store_true",
                        help="leave the TEST program out (then --programs is needed)")


def _prepare(args: argparse.Namespace) -> _Pass:
    programs: list[tuple[Program, int]] = []
    try:
        if not args.no_test_program:
            test = make_test_program()
            if args.member_id is not None:
                member = args.member_id.encode()
                if not args.member_id.isascii() or not 0 < len(member) <= MAX_MEMBER_ID:
                    raise PersonalizationError(
                        f"--member-id: 1 to {MAX_MEMBER_ID} ASCII characters")
                test = replace(test, member_id=member)
            if not 0 <= args.balance <= A.MAX_POINTS:
                raise PersonalizationError(f"--balance: 0 to {A.MAX_POINTS} points")
            programs.append((test, args.balance))
        entries: Any = json.loads(args.programs) if args.programs else []
        if not isinstance(entries, list):
            raise PersonalizationError("--programs: a JSON list of program tables")
        for entry in entries:
            if not isinstance(entry, dict):
                raise PersonalizationError("--programs: each entry is a table")
            programs.append(program_from_options(entry))
    except json.JSONDecodeError as exc:
        raise PersonalizationError(f"--programs is not valid JSON: {exc}") from None
    except ProgramConfigError as exc:
        raise PersonalizationError(str(exc)) from None
    ids = [program.collector_id for program, _ in programs]
    if not ids:
        raise PersonalizationError("no program: drop --no-test-program or give --programs")
    if len(set(ids)) != len(ids):
        raise PersonalizationError("a collector ID is given twice")
    return _Pass(tuple(programs))


def _describe(book: ProgramBook, program: Program) -> str:
    test = " (TEST keys)" if program.test else ""
    return (f"program {program.collector_id} {program.name!r}{test}: member "
            f"{program.member_id.decode(errors='replace')}, balance "
            f"{book.balance(program.collector_id)} (ledger counter "
            f"{book.counter(program.collector_id)})")


def _write(store: PluginStore, request: _Pass) -> list[str]:
    for key in store.keys():  # a new pass replaces the old one as a whole
        store.delete(key)
    book = ProgramBook(store)
    for program, balance in request.programs:
        book.add(program, balance)
    return ["personalised loyalty pass:", *(f"  {_describe(book, p)}" for p in book.all())]


def _show(store: PluginStore, args: argparse.Namespace) -> list[str]:
    book = ProgramBook(store)
    return [_describe(book, program) for program in book.all()]


PERSONALIZATION: Personalization[_Pass] = Personalization(
    summary="Smart Tap loyalty pass: personalize, show",
    description="Issue the loyalty pass in the store: the TEST program (public sample collector "
                "and key) with the member ID and opening balance given here, and any programs "
                "given with --programs.",
    add_arguments=_arguments,
    prepare=_prepare,
    write=_write,
    exists=lambda store: KEY_PROGRAMS in store,
    show=_show,
    show_description="Print the pass's programs: collector, member ID, balance and ledger "
                     "counter.",
    noun="loyalty pass",
)
