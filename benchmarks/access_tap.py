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
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hcekit.store import MemoryStore
from hcekit.terminal import Terminal
from hcekit.testing import loopback_rig
from hcekit_access import PIV_AID, PIV_ATR, AccessPlugin, DoorPolicy, decide, load_badge


def measure(terminal: Terminal, taps: int, body: Callable[[Terminal], object]) -> list[float]:
    """Milliseconds per tap (field on … field off included)."""
    samples = []
    for _ in range(taps):
        start = time.perf_counter()
        with terminal.tap():
            body(terminal)
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def report(label: str, samples: list[float]) -> None:
    print(f"  {label:<34} median {statistics.median(samples):8.3f} ms   "
          f"p99 {p99(samples):8.3f} ms   (n={len(samples)})")


def select_only(terminal: Terminal) -> None:
    terminal.select(PIV_AID).check()


def run_suite(terminal: Terminal, taps: int, policy: DoorPolicy) -> None:
    def door(t: Terminal) -> None:
        decision = decide(t, policy)
        if not decision.granted:
            raise SystemExit(f"unexpected denial: {decision}")

    measure(terminal, min(taps, 10), door)  # warm-up
    report("baseline: SELECT only", measure(terminal, taps, select_only))
    report("door decision (grant)", measure(terminal, taps, door))


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
    try:
        from hcekit.testing.pcsc import PcscUnavailable, PrivatePcscd, serve_card
    except ImportError as exc:
        print(f"  skipped: {exc}")
        return
    workdir = Path(tempfile.mkdtemp(prefix="hcekit-bench-"))
    daemon = PrivatePcscd(workdir, slots=1)
    try:
        daemon.start()
    except PcscUnavailable as exc:
        print(f"  skipped: {exc}")
        return
    try:
        daemon.apply_env()
        served = serve_card(daemon, [AccessPlugin()], store=store, atr=PIV_ATR, connect=False)
        try:
            run_suite(served.terminal, args.pcsc_taps, policy)
        finally:
            served.close()
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
