"""The card keeps no copy of its stored state: every command reads it inside its own store
transaction, so a second card on the same store, or a re-personalisation, is never overwritten
(issue 16: two cards on one store lost a committed top-up)."""

from __future__ import annotations

import ast
from pathlib import Path

import hcekit_transit
import pytest
from hcekit.store import MemoryStore
from hcekit_transit import PICC_DF_NAME, IssuerKeys
from hcekit_transit.layout import FILE_LOG, FILE_PURSE, FILE_TRIP, CardProfile, personalize
from hcekit_transit.model import CommMode
from hcekit_transit.persist import CardStore
from hcekit_transit.reader import ReaderError
from hcekit_transit.records import TripState
from hcekit_transit.status import DfStatus

from ..code_size import over
from .conftest import UID, RigFactory

INITIAL = 2000


def test_two_cards_on_one_store_keep_both_top_ups(make_rig: RigFactory) -> None:
    store = MemoryStore()
    first, second = make_rig(store=store), make_rig(store=store)
    first.open_app("topup").credit(FILE_PURSE, 100, CommMode.MACED)
    first.reader.commit()
    second.open_app("topup").credit(FILE_PURSE, 50, CommMode.MACED)
    second.reader.commit()
    assert first.open_app().get_value(FILE_PURSE, CommMode.PLAIN) == INITIAL + 150
    assert make_rig(store=store).open_app().get_value(FILE_PURSE, CommMode.PLAIN) == INITIAL + 150


def test_a_transaction_commits_onto_what_another_card_committed_meanwhile(
        make_rig: RigFactory) -> None:
    """A's pending debit, trip write and log record land on top of B's committed top-up."""
    store = MemoryStore()
    a, b = make_rig(store=store), make_rig(store=store)
    ra = a.open_app("validator")
    ra.debit(FILE_PURSE, 300, CommMode.MACED)
    ra.write_data(FILE_TRIP, 0, TripState(True, 1, 2, 3, 4, 5).encode(), CommMode.MACED)
    ra.write_record(FILE_LOG, 0, b"\x01" * 20, CommMode.MACED)
    b.open_app("topup").credit(FILE_PURSE, 1000, CommMode.MACED)
    b.reader.commit()
    ra.commit()
    r = b.open_app("validator")
    assert r.get_value(FILE_PURSE, CommMode.MACED) == INITIAL + 1000 - 300
    assert TripState.decode(r.read_data(FILE_TRIP, 0, 0, CommMode.MACED)).counter == 5
    r = b.open_app("inspector")
    assert r.read_records(FILE_LOG, 20, CommMode.MACED, count=1) == [b"\x01" * 20]


def test_a_commit_that_would_break_a_limit_after_another_commit_is_refused(
        make_rig: RigFactory) -> None:
    store = MemoryStore()
    a, b = make_rig(store=store), make_rig(store=store)
    ra = a.open_app("validator")
    ra.debit(FILE_PURSE, 1500, CommMode.MACED)  # fine against 2000
    rb = b.open_app("validator")
    rb.debit(FILE_PURSE, 1000, CommMode.MACED)
    rb.commit()
    before = a.snapshot()
    with pytest.raises(ReaderError) as exc:
        ra.commit()  # 2000 - 1000 - 1500 < 0: refused, nothing written
    assert exc.value.status == DfStatus.BOUNDARY_ERROR
    assert a.snapshot() == before
    assert b.open_app().get_value(FILE_PURSE, CommMode.PLAIN) == INITIAL - 1000


def test_a_re_personalised_store_is_served_as_it_is_now(make_rig: RigFactory,
                                                        keys: IssuerKeys) -> None:
    """A serving card uses the new UID and keys at once and never writes the old card back."""
    store = MemoryStore()
    t = make_rig(store=store)
    new_uid = bytes.fromhex("04A1A2A3A4A5A6")
    assert new_uid != UID
    personalize(CardStore(store.namespace("transit")), keys,
                CardProfile(uid=new_uid, balance=700))
    t.retap()
    t.reader.select(PICC_DF_NAME)
    assert t.reader.uid() == new_uid
    t.uid = new_uid
    r = t.open_app("validator")
    r.debit(FILE_PURSE, 100, CommMode.MACED)
    r.commit()
    loaded = CardStore(store.namespace("transit")).load()
    assert loaded is not None and loaded[0].uid == new_uid
    assert t.open_app().get_value(FILE_PURSE, CommMode.PLAIN) == 600


def test_the_card_side_is_cut_by_concept() -> None:
    """Issue 17: no function over 60 lines and no class over 300 in the DESFire card code
    (issue 26 holds all of framework/ to the class limit: tests/core/test_code_size.py)."""
    package = Path(hcekit_transit.__file__).parent
    sources = sorted(package.glob("*.py"))
    assert over(sources, ast.FunctionDef, 60) == []
    assert over(sources, ast.ClassDef, 300) == []
    # The PICC level is a level like an application: the router never asks which one it is.
    picc = ast.parse((package / "picc.py").read_text())
    compared = [ast.unparse(n) for n in ast.walk(picc) if isinstance(n, ast.Compare)
                and "PICC_AID" in ast.unparse(n)]
    assert compared == []
