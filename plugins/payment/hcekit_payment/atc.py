"""The Application Transaction Counter: monotonic, persisted before it is used.

Every cryptogram carries the ATC; the issuer rejects a repeated one (replay)
and the session key of CVN 18 is derived from it. So the counter is bumped
and committed to the store *before* any cryptogram computed with it leaves
the card: a process killed afterwards can only skip values, never repeat
one. The counter never goes backwards, re-personalisation included.
"""

from __future__ import annotations

from hcekit import SW, IsoError
from hcekit.store import PluginStore

__all__ = ["ATC_KEY", "ATC_MAX", "current_atc", "next_atc"]

ATC_KEY = "atc"
ATC_MAX = 0xFFFF


def current_atc(store: PluginStore) -> int:
    """The last ATC handed out (0 on a fresh card)."""
    return store.get_int(ATC_KEY, 0)


def next_atc(store: PluginStore) -> int:
    """Increment, commit, and return the ATC for a new transaction.

    6985 when the counter is exhausted (the card is then unusable, as a real
    one). Must not run inside an enclosing transaction: the commit has to
    happen here, before the caller uses the value.
    """
    if store.in_transaction:
        raise RuntimeError("next_atc() must commit on its own; do not call it inside a transaction")
    with store.transaction():
        atc = current_atc(store) + 1
        if atc > ATC_MAX:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "ATC exhausted; the card is used up")
        store.set_int(ATC_KEY, atc)
    return atc
