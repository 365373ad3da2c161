"""One owner per store behind a real pcscd (issue 16, finding 1).

Two ports in one ``hcekit serve`` are two cards on two stores, so two clients
topping up at once never overwrite each other; and a ``personalize --force``
(or a second serve, or a loopback tap) on the store a running serve owns is
refused with the holder named, instead of swapping the card under the gates.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from hcekit.terminal.pcsc import wait_for_card
from hcekit.testing.pcsc import PrivatePcscd

pytestmark = pytest.mark.pcsc

UID = "04A1B2C3D4E5F6"


def _hcekit() -> list[str]:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "hcekit.cli"]


def run(pcscd: PrivatePcscd, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_hcekit(), *args], env=pcscd.subprocess_env(), capture_output=True,
                          text=True, timeout=120)


@contextmanager
def serving(pcscd: PrivatePcscd, slots: Sequence[int],
            args: Sequence[str]) -> Iterator[subprocess.Popen[str]]:
    ports = [a for slot in slots for a in ("--port", str(pcscd.port(slot)))]
    process = subprocess.Popen([*_hcekit(), "serve", *ports, *args],
                               env=pcscd.subprocess_env({"PYTHONUNBUFFERED": "1"}),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for slot in slots:
            if not wait_for_card(pcscd.reader_name(slot), True, timeout=30):
                process.kill()
                out, err = process.communicate(timeout=20)
                pytest.fail(f"serve never showed up in slot {slot}:\n{out}\n{err}")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        for slot in slots:
            wait_for_card(pcscd.reader_name(slot), False, timeout=5)
    assert process.returncode == 0, out + err


def balance(text: str) -> str:
    found = re.search(r"balance (\d+\.\d\d)", text)
    assert found is not None, text
    return found[1]


def test_two_ports_are_two_cards_with_their_own_stores(pcscd: PrivatePcscd,
                                                      tmp_path: Path) -> None:
    first, second = tmp_path / "slot0.sqlite", tmp_path / "slot1.sqlite"
    slots = [pcscd.acquire_slot(), pcscd.acquire_slot()]
    try:
        with serving(pcscd, slots, ["--only", "transit", "--store", str(first),
                                    "--store", str(second)]):
            clients = [
                subprocess.Popen([*_hcekit(), "tap", "--reader", pcscd.reader_name(slot),
                                  "transit-topup", "-s", f"amount={amount}"],
                                 env=pcscd.subprocess_env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
                for slot, amount in zip(slots, (100, 50), strict=True)
            ]
            seen = []
            for client in clients:  # both clients tap at the same time, one per slot
                out, err = client.communicate(timeout=120)
                assert client.returncode == 0, out + err
                seen.append(balance(out))
    finally:
        for slot in slots:
            pcscd.release_slot(slot)
    assert seen == ["21.00", "20.50"]
    # after the restart, each store holds what its own client saw
    for store, expected in zip((first, second), seen, strict=True):
        inspected = run(pcscd, "tap", "--only", "transit", "--store", str(store),
                        "transit-inspect")
        assert inspected.returncode == 0, inspected.stderr
        assert balance(inspected.stdout) == expected


def test_personalize_force_during_serve_is_refused(pcscd: PrivatePcscd, tmp_path: Path) -> None:
    store = tmp_path / "card.sqlite"
    made = run(pcscd, "transit", "personalize", "--store", str(store), "--uid", UID)
    assert made.returncode == 0, made.stderr
    slot = pcscd.acquire_slot()
    reader = pcscd.reader_name(slot)
    try:
        with serving(pcscd, [slot], ["--only", "transit", "--store", str(store)]) as serve:
            holder = f"in use by process {serve.pid} (hcekit serve)"
            for command in (
                    ("transit", "personalize", "--store", str(store), "--force",
                     "--uid", "04000000000001"),
                    ("serve", "--port", "1", "--store", str(store)),
                    ("tap", "--only", "transit", "--store", str(store), "transit-inspect")):
                refused = run(pcscd, *command)
                assert refused.returncode == 1, (command, refused.stdout, refused.stderr)
                assert holder in refused.stderr, refused.stderr
                assert refused.stderr.count("\n") == 1, refused.stderr  # one line, no warnings
            # the card behind the reader is still the one personalised before
            inspected = run(pcscd, "tap", "--reader", reader, "transit-inspect")
            assert inspected.returncode == 0, inspected.stderr
            assert f"UID {UID}" in inspected.stdout
    finally:
        pcscd.release_slot(slot)
    replaced = run(pcscd, "transit", "personalize", "--store", str(store), "--force",
                   "--uid", "04000000000001")
    assert replaced.returncode == 0, replaced.stderr  # serve has stopped: the store is free
    assert os.path.exists(store)
