"""The card's records as READ RECORD answers them: the personalised layout, or what UPDATE RECORD wrote.

An issuer script's UPDATE RECORD (:mod:`hcekit_payment.scripts`) stores the new
record under its SFI and number; that stored copy wins over the layout
computed at personalisation, survives the session, and is dropped when the
card is personalised again (the layout it replaced is gone then).
"""

from __future__ import annotations

from hcekit.store import PluginStore

from .layout import CardLayout

__all__ = ["RECORD_PREFIX", "current_record", "store_record", "forget_records"]

RECORD_PREFIX = "record."


def _key(sfi: int, number: int) -> str:
    return f"{RECORD_PREFIX}{sfi}.{number}"


def current_record(store: PluginStore, layout: CardLayout, sfi: int, number: int) -> bytes | None:
    """The record as the card answers it now; None when the file has no such record."""
    personalised = layout.records.get((sfi, number))
    if personalised is None:
        return None  # UPDATE RECORD rewrites records, it never adds one
    return store.get(_key(sfi, number), personalised)


def store_record(store: PluginStore, sfi: int, number: int, record: bytes) -> None:
    store.set(_key(sfi, number), record)


def forget_records(store: PluginStore) -> None:
    """Drop every rewritten record (a new personalisation brings a new layout)."""
    for key in store.keys(RECORD_PREFIX):
        store.delete(key)
