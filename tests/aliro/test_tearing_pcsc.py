"""Tearing through the real stack: ``hcekit serve`` is SIGKILLed while a PC/SC reader runs AUTH1.

The same checks as :mod:`.test_tearing`, but the killed process is the
served card itself — ``hcekit serve --only aliro`` on a SQLite store behind
the private pcscd — and the reader is :mod:`.reader_side` in this process,
through pyscard. Each round starts a new ``serve`` (about a second), so this
variant runs a quarter of ``HCEKIT_TEARING_KILLS`` rounds (at least 3); the
loopback worker of :mod:`.test_tearing` does the bulk of the kills.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hcekit.store import SqliteStore
from hcekit.terminal import Terminal
from hcekit.terminal.pcsc import PcscTransport, wait_for_card
from hcekit.testing.pcsc import PrivatePcscd
from hcekit_aliro import Personalization, TrustedGroup

from .reader_side import Reader, pub
from .tearing_worker import GROUP, reader_key
from .test_tearing import stored_entries

pytestmark = [pytest.mark.slow, pytest.mark.pcsc]


def _hcekit() -> list[str]:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "hcekit.cli"]


class Tapper(threading.Thread):
    """Standard transactions until the card goes away; records what it saw complete."""

    def __init__(self, reader_name: str) -> None:
        super().__init__(daemon=True)
        self.reader_name = reader_name
        self.committed: list[tuple[str, str]] = []   # (reader identifier hex, Kpersistent digest)
        self.in_flight: str | None = None

    def run(self) -> None:
        transport = PcscTransport(self.reader_name, wait=2.0)
        terminal = Terminal(transport)
        key = reader_key()
        n = 0
        try:
            while True:
                sub = (n % 40).to_bytes(16, "big")
                reader = Reader(terminal, GROUP, sub, key, tool_vectors=False)
                with terminal.tap():
                    if reader.select().sw != 0x9000 or reader.auth0().sw != 0x9000:
                        return
                    self.in_flight = (GROUP + sub).hex()
                    response, _ = reader.auth1()
                    if response.sw != 0x9000:
                        return
                kp = reader.cache[reader.endpoint_public]
                self.committed.append(((GROUP + sub).hex(), hashlib.sha256(kp).hexdigest()[:16]))
                self.in_flight = None
                n += 1
        except Exception:       # the card vanished mid-exchange: that is the point
            return
        finally:
            try:
                transport.close()
            except Exception:
                pass


def test_sigkill_of_hcekit_serve_during_auth1(pcscd: PrivatePcscd, tmp_path: Path) -> None:
    rounds = max(3, int(os.environ.get("HCEKIT_TEARING_KILLS", "20")) // 4)
    rng = random.Random(os.environ.get("HCEKIT_TEARING_SEED"))
    path = tmp_path / "credential.sqlite"
    store = SqliteStore(path)
    Personalization(groups=[TrustedGroup(GROUP, pub(reader_key()))]).write(store.namespace("aliro"))
    store.close()
    env = pcscd.subprocess_env({"PYTHONUNBUFFERED": "1"})
    reported: dict[str, set[str]] = {}
    commits = landed = 0
    for round_no in range(rounds):
        slot = pcscd.acquire_slot()
        name = pcscd.reader_name(slot)
        serve = subprocess.Popen([*_hcekit(), "serve", "--port", str(pcscd.port(slot)),
                                  "--only", "aliro", "--store", str(path)],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            assert wait_for_card(name, True, timeout=30), f"round {round_no}: serve did not start"
            tapper = Tapper(name)
            tapper.start()
            time.sleep(rng.uniform(0.1, 0.6))
            serve.send_signal(signal.SIGKILL)
            assert serve.wait(timeout=20) == -signal.SIGKILL
            tapper.join(timeout=30)
            assert not tapper.is_alive(), "the reader hung after the card was killed"
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()
            pcscd.release_slot(slot)
            wait_for_card(name, False, timeout=5)
        for reader_id, digest in tapper.committed:
            reported.setdefault(reader_id, set()).add(digest)
        commits += len(tapper.committed)
        for reader_id, kp in stored_entries(path).items():
            digest = hashlib.sha256(kp).hexdigest()[:16]
            if digest in reported.get(reader_id, set()):
                continue
            assert reader_id == tapper.in_flight, f"round {round_no}: unknown key for {reader_id}"
            reported.setdefault(reader_id, set()).add(digest)
            landed += 1
    print(f"tearing through pcscd: {rounds} kills of hcekit serve, {commits} AUTH1 seen, "
          f"{landed} landed in the instant of the kill")
    assert commits > 0, "no AUTH1 completed: the test proved nothing"
