"""The ATC is never reused: committed before the cryptogram leaves, also across SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import hcekit_payment.application as application_module
import hcekit_payment.cryptogram as cryptogram_module
import pytest
from hcekit import SW, Card
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore, SqliteStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit_payment import PaymentPlugin
from hcekit_payment.atc import ATC_KEY, ATC_MAX, current_atc, next_atc
from hcekit_payment.pos import PosError, run_transaction

WORKER = Path(__file__).with_name("atc_worker.py")
#: Kill/restart rounds; raise with HCEKIT_ATC_ROUNDS for a longer soak.
ROUNDS = int(os.environ.get("HCEKIT_ATC_ROUNDS", "3"))


def _run_worker(store: Path, count: int) -> list[int]:
    """Start a worker, read *count* ATCs, SIGKILL it at a random later moment."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(WORKER), str(store)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    seen: list[int] = []
    try:
        assert proc.stdout is not None
        while len(seen) < count:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"worker died early: {proc.stderr.read() if proc.stderr else ''}")
            seen.append(int(line))
        # let it run on a little (mid-transaction, mid-commit …), then kill it hard
        for _ in range(random.randint(0, 5)):
            line = proc.stdout.readline()
            if line:
                seen.append(int(line))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    # ATCs printed but not yet read by us also left the card: collect them
    assert proc.stdout is not None
    seen += [int(line) for line in proc.stdout.read().split()]
    return seen


def test_atc_strictly_increases_across_sigkill(tmp_path: Path) -> None:
    store = tmp_path / "card.sqlite"
    all_seen: list[int] = []
    for _ in range(ROUNDS):
        seen = _run_worker(store, random.randint(3, 12))
        assert seen == sorted(seen) and len(set(seen)) == len(seen)
        if all_seen:
            assert seen[0] > max(all_seen), "an ATC was reused after the crash"
        all_seen += seen
    # and the persisted counter is at least every ATC that left the card
    backend = SqliteStore(store)
    try:
        assert current_atc(backend.namespace("payment")) >= max(all_seen)
    finally:
        backend.close()


def test_atc_is_committed_before_the_cryptogram_is_computed(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "card.sqlite"
    card = Card([PaymentPlugin()], store=SqliteStore(path))
    observer = SqliteStore(path, read_only=True)  # a reader sees committed data only
    committed: list[tuple[int, int]] = []
    real = cryptogram_module.application_cryptogram

    def spying(*args: object, **kwargs: object) -> bytes:
        atc = args[4]
        assert isinstance(atc, bytes)
        committed.append((int.from_bytes(atc, "big"), current_atc(observer.namespace("payment"))))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(application_module, "application_cryptogram", spying)
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    for flow in ("generate-ac", "qvsdc", "generate-ac"):
        with terminal.tap():
            run_transaction(terminal, flow=flow)
    # the full flow computes two cryptograms (ARQC, then TC) under one committed ATC
    assert committed == [(1, 1), (1, 1), (2, 2), (3, 3), (3, 3)]
    observer.close()
    card.close()


def test_a_failure_after_the_increment_skips_the_atc(monkeypatch: pytest.MonkeyPatch) -> None:
    card = Card([PaymentPlugin()], store=MemoryStore())
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("power lost while computing")

    with monkeypatch.context() as patch:
        patch.setattr(application_module, "application_cryptogram", broken)
        with terminal.tap(), pytest.raises(PosError, match="6F00"):
            run_transaction(terminal, flow="qvsdc")
    with terminal.tap():
        result = run_transaction(terminal, flow="qvsdc")
    assert result.record.atc == b"\x00\x02"


def test_exhausted_atc_blocks_the_card() -> None:
    card = Card([PaymentPlugin()], store=MemoryStore())
    store = card.plugins["payment"].store
    store.set_int(ATC_KEY, ATC_MAX)
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    with terminal.tap(), pytest.raises(PosError, match=f"{SW.CONDITIONS_OF_USE_NOT_SATISFIED:04X}"):
        run_transaction(terminal)
    assert current_atc(store) == ATC_MAX


def test_next_atc_refuses_to_run_inside_a_transaction() -> None:
    store = MemoryStore().namespace("payment")
    with store.transaction(), pytest.raises(RuntimeError, match="commit on its own"):
        next_atc(store)
    assert next_atc(store) == 1
