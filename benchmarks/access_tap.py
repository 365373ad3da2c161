#!/usr/bin/env python3
"""Door-reader decision time for the PIV access badge: in-process and through pcscd.

One decision = one tap of :func:`hcekit_access.door.decide`: SELECT, GET DATA
CHUID, GET DATA Card Authentication certificate (chained with 61xx), the
certificate checks, GENERAL AUTHENTICATE with a fresh challenge, signature
verification, allow-list. Measured over the loopback transport (the card in
this process) and over the real PC/SC stack (a private pcscd + vpcd + the
hcekit vpcd host + pyscard, as in the tests). The same-run baseline is a tap
that only SELECTs the application, so the figures separate the transport's
fixed cost from the door's work. Prints median and p99 in milliseconds.

    python benchmarks/access_tap.py [--taps 300] [--pcsc-taps 100] [--no-pcsc]
"""

from __future__ import annotations

import argparse
import platform

from benchlib import measure_taps, private_pcscd, report
from hcekit.store import MemoryStore
from hcekit.terminal import Terminal
from hcekit.testing import loopback_rig
from hcekit_access import PIV_AID, PIV_ATR, AccessPlugin, DoorPolicy, decide, load_badge


def select_only(terminal: Terminal) -> None:
    terminal.select(PIV_AID).check()


def run_suite(terminal: Terminal, taps: int, policy: DoorPolicy) -> None:
    def door(t: Terminal) -> None:
        decision = decide(t, policy)
        if not decision.granted:
            raise SystemExit(f"unexpected denial: {decision}")

    measure_taps(terminal, min(taps, 10), door)  # warm-up
    report("baseline: SELECT only", measure_taps(terminal, taps, select_only))
    report("door decision (grant)", measure_taps(terminal, taps, door))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--taps", type=int, default=300, help="in-process taps per figure")
    parser.add_argument("--pcsc-taps", type=int, default=100, help="taps through pcscd per figure")
    parser.add_argument("--no-pcsc", action="store_true", help="skip the pcscd measurement")
    args = parser.parse_args()
    print(f"access_tap: Python {platform.python_version()} on {platform.machine()}")

    store = MemoryStore()
    rig = loopback_rig([AccessPlugin()], store=store)  # self-personalizes (TEST CA)
    badge = load_badge(store.namespace("access"))
    assert badge is not None
    policy = DoorPolicy(DoorPolicy.test().trust_anchors, frozenset({badge.identifier}))
    print("in-process (loopback):")
    run_suite(rig.terminal, args.taps, policy)
    rig.close()

    if args.no_pcsc:
        return
    print("through pcscd (vpcd + pyscard):")
    with private_pcscd() as daemon:
        if daemon is None:
            return
        from hcekit.testing.pcsc import serve_card

        served = serve_card(daemon, [AccessPlugin()], store=store, atr=PIV_ATR, connect=False)
        try:
            run_suite(served.terminal, args.pcsc_taps, policy)
        finally:
            served.close()


if __name__ == "__main__":
    main()
