"""The transactional store: rollback, persistence, and a process killed mid-transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hcekit.errors import StoreError
from hcekit.store import MemoryStore, SqliteStore, Store


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.sqlite")


def test_namespaces_are_separate(store: Store) -> None:
    a, b = store.namespace("a"), store.namespace("b")
    a.set("k", b"1")
    assert b.get("k") is None
    assert a.keys() == ["k"]


def test_transaction_rolls_back_on_exception(store: Store) -> None:
    ns = store.namespace("p")
    ns.set_int("balance", 100)
    ns.set("keep", b"x")
    with pytest.raises(RuntimeError), ns.transaction():
        ns.set_int("balance", 40)
        ns.delete("keep")
        ns.set("new", b"y")
        with ns.transaction():  # nested joins the outer one
            ns.set_int("balance", 30)
        raise RuntimeError("tear")
    assert ns.get_int("balance") == 100
    assert ns.get("keep") == b"x"
    assert ns.get("new") is None


def test_transaction_commits(store: Store) -> None:
    ns = store.namespace("p")
    with ns.transaction():
        ns.set_json("log", [1, 2])
        ns.set_int("n", -5)
    assert ns.get_json("log") == [1, 2]
    assert ns.get_int("n") == -5
    assert not ns.in_transaction


def test_values_must_be_bytes(store: Store) -> None:
    with pytest.raises(StoreError, match="bytes"):
        store.namespace("p").set("k", "text")  # type: ignore[arg-type]


def test_sqlite_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    first = SqliteStore(path)
    first.namespace("p").set("k", b"v")
    first.close()
    assert SqliteStore(path).namespace("p").get("k") == b"v"


KILLED_WRITER = textwrap.dedent("""
    import os, sys
    from hcekit.store import SqliteStore
    ns = SqliteStore(sys.argv[1]).namespace("p")
    with ns.transaction():
        ns.set_int("balance", 1)
        ns.set("half", b"written")
        print("inside", flush=True)
        sys.stdin.readline()  # killed here, before commit
""")


def test_process_killed_inside_transaction_leaves_old_state(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path)
    store.namespace("p").set_int("balance", 500)
    store.close()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "inside"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reopened = SqliteStore(path).namespace("p")
    assert reopened.get_int("balance") == 500
    assert reopened.get("half") is None
