"""The points ledger: earn and redeem, atomic, replay-proof, never negative.

The till authenticates an update with the session's ledger MAC (checked by
the card before this module is reached) and numbers it with a per-program
counter: an update is accepted only with counter = last accepted + 1, so a
replayed or reordered request is refused. Balance and counter change in one
store transaction (Java Card's beginTransaction/commit): a crash in between
leaves both as they were. A well-formed update that cannot be applied
(redeeming more than the balance, overflowing it) is *answered* with
``INVALID_VALUE``: the counter is consumed, the balance is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from hcekit.errors import HcekitError

from . import assumptions as A
from .programs import ProgramBook
from .protocol import UpdateOperation, UsageStatus

__all__ = ["LedgerOutcome", "ReplayError", "apply_update"]


class ReplayError(HcekitError, ValueError):
    """The update's counter is not the next one: replayed, reordered, or skipped."""


@dataclass(frozen=True)
class LedgerOutcome:
    status: UsageStatus
    balance: int
    counter: int


def apply_update(book: ProgramBook, collector_id: int, object_id: bytes, operation: int,
                 points: int, counter: int) -> LedgerOutcome:
    """Apply one authenticated update atomically; raise :class:`ReplayError` on a bad counter."""
    program = book.get(collector_id)
    if program is None:
        raise KeyError(f"no program for collector {collector_id}")
    store = book.store
    with store.transaction():
        last = book.counter(collector_id)
        if counter != last + 1:
            raise ReplayError(f"ledger counter {counter}, expected {last + 1}")
        balance = book.balance(collector_id)
        status = UsageStatus.SUCCESS
        if object_id != program.object_id:
            status = UsageStatus.INVALID_VALUE
        elif operation == UpdateOperation.ADD_BALANCE:
            if balance + points > A.MAX_POINTS:
                status = UsageStatus.INVALID_VALUE
            else:
                balance += points
        elif operation == UpdateOperation.SUBTRACT_BALANCE:
            if points > balance:
                status = UsageStatus.INVALID_VALUE
            else:
                balance -= points
        else:
            status = UsageStatus.INVALID_FORMAT
        store.set_int(f"counter/{collector_id}", counter)
        store.set_int(f"balance/{collector_id}", balance)
    return LedgerOutcome(status, balance, counter)
