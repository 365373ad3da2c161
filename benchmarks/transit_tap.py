#!/usr/bin/env python3
"""Time of a full transit gate tap: in-process and through pcscd, with the PC/SC floor.

One gate tap = :func:`hcekit_transit.terminals.gate_tap` at an exit gate:
ISO SELECT, GetVersion (UID for key diversification), read card info and
contracts, AES authentication (two passes), read the trip file (MACed),
GetValue, Debit, write the trip file, write a log record, CommitTransaction
— every exchange protected with the session's CMAC. Field on … field off is
included. Figures: median and p99 in milliseconds.

Same-run baselines: the PC/SC round-trip floor (one minimal wrapped command,
FreeMemory, answered without cryptography) and that floor multiplied by the
number of APDUs a tap sends — what the transport alone costs. Targets from
the issue: <= 2 ms in-process, <= 5 ms through pcscd.

    python benchmarks/transit_tap.py [--taps 1000] [--pcsc-taps 200] [--no-pcsc]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from benchlib import measure_taps, private_pcscd, report
from hcekit import CommandApdu
from hcekit.store import MemoryStore, SqliteStore, Store
from hcekit.terminal import Terminal
from hcekit.testing import loopback_rig
from hcekit_transit import PICC_DF_NAME, IssuerKeys, TransitPlugin
from hcekit_transit.layout import CardProfile, personalize
from hcekit_transit.persist import CardStore
from hcekit_transit.picc import Ins
from hcekit_transit.reader import DesfireReader
from hcekit_transit.terminals import gate_tap

KEYS = IssuerKeys.test_keys()
FREE_MEMORY = CommandApdu(0x90, Ins.FREE_MEMORY, 0, 0, b"", 256)


def personalised(store: Store) -> Store:
    personalize(CardStore(store.namespace("transit")), KEYS,
                CardProfile(balance=2**31 - 1, max_balance=2**31 - 1))
    return store


class Gate:
    """Exit taps at alternating stations (no anti-passback refusal), each with a debit."""

    #: Shared by every Gate, so the card's last tap is always in the past.
    now = 1_780_000_000

    def __init__(self, terminal: Terminal) -> None:
        self.reader = DesfireReader(terminal)

    def __call__(self, terminal: Terminal) -> None:
        Gate.now += 1000
        result = gate_tap(self.reader, KEYS, 1 + Gate.now // 1000 % 4, Gate.now, "out")
        if not result.accepted or not result.charged:
            raise SystemExit(f"unexpected gate result: {result}")


def round_trips(terminal: Terminal, count: int) -> list[float]:
    """One minimal wrapped command per sample, inside one tap."""
    samples = []
    with terminal.tap():
        terminal.select(PICC_DF_NAME)
        for _ in range(count):
            start = time.perf_counter()
            terminal.transmit(FREE_MEMORY)
            samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def apdus_per_tap(terminal: Terminal) -> int:
    seen: list[bytes] = []
    terminal.on_exchange = lambda cmd, resp: seen.append(cmd)
    with terminal.tap():
        Gate(terminal)(terminal)
    terminal.on_exchange = None
    return len(seen)


def suite(terminal: Terminal, taps: int, label: str) -> None:
    measure_taps(terminal, min(taps, 20), Gate(terminal))  # warm-up
    floor = report(f"{label}: round-trip floor (1 APDU)", round_trips(terminal, taps))
    n = apdus_per_tap(terminal)
    print(f"  {label}: {n} APDUs per gate tap -> transport floor ~{n * floor:.3f} ms per tap")
    report(f"{label}: full gate tap (debit + commit)", measure_taps(terminal, taps, Gate(terminal)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--taps", type=int, default=1000, help="in-process taps per figure")
    parser.add_argument("--pcsc-taps", type=int, default=200, help="taps through pcscd")
    parser.add_argument("--no-pcsc", action="store_true", help="skip the pcscd measurement")
    args = parser.parse_args()
    print(f"transit_tap: Python {platform.python_version()} on {platform.machine()}; "
          "targets: <= 2 ms in-process, <= 5 ms through pcscd")

    print("in-process (loopback), memory store:")
    rig = loopback_rig([TransitPlugin()], store=personalised(MemoryStore()))
    suite(rig.terminal, args.taps, "loopback")
    rig.close()

    with tempfile.TemporaryDirectory(prefix="hcekit-transit-bench-") as tmp:
        print("in-process (loopback), SQLite store (WAL, synchronous=FULL):")
        sqlite = personalised(SqliteStore(Path(tmp) / "card.sqlite"))
        rig = loopback_rig([TransitPlugin()], store=sqlite)
        suite(rig.terminal, max(50, args.taps // 5), "loopback+sqlite")
        rig.close()
        sqlite.close()

    if args.no_pcsc:
        return
    print("through pcscd (vpcd + pyscard), memory store:")
    with private_pcscd() as daemon:
        if daemon is None:
            return
        from hcekit.testing.pcsc import serve_card

        served = serve_card(daemon, [TransitPlugin()], store=personalised(MemoryStore()),
                            connect=False)
        try:
            suite(served.terminal, args.pcsc_taps, "pcscd")
        finally:
            served.close()


if __name__ == "__main__":
    main()
