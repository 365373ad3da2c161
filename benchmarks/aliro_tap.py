#!/usr/bin/env python3
"""Aliro tap times: fast and standard flows, in-process and through pcscd.

One tap = field on, SELECT, AUTH0 and, for the standard flow, AUTH1 (with
the reader certificate in LOAD CERT for the third figure), then field off —
the reader's and the credential's work together, as a door sees it. The
same-run floor is a tap that only SELECTs the expedited application. Also
printed: the P-256 operations (key generation, ECDH, ECDSA sign/verify,
certificate verify) each flow costs, reader and credential together, counted
by ``hcekit_aliro.crypto.P256_OPS``. Target (issue 18): fast flow <= 3 ms
in-process on ``cryptography``.

    python benchmarks/aliro_tap.py [--taps 300] [--pcsc-taps 100] [--no-pcsc]
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable

from benchlib import measure_taps, private_pcscd, report
from hcekit.store import MemoryStore
from hcekit.terminal import Terminal
from hcekit.testing import loopback_rig
from hcekit_aliro import EXPEDITED_AID, AliroPlugin
from hcekit_aliro.crypto import P256_OPS
from hcekit_aliro.reader import AliroReader, ReaderIdentity


def flows(reader: AliroReader) -> dict[str, Callable[[Terminal], object]]:
    def select_only(t: Terminal) -> None:
        t.select(EXPEDITED_AID).check()

    def fast(t: Terminal) -> None:
        if reader.transact(fast=True).flow != "fast":
            raise SystemExit("fast flow did not verify")

    def standard(t: Terminal) -> None:
        reader.transact(fast=False)

    def standard_cert(t: Terminal) -> None:
        reader.transact(fast=False, certificate="load")

    return {"floor: SELECT only": select_only, "fast flow (AUTH0 cryptogram)": fast,
            "standard flow (AUTH1, known reader key)": standard,
            "standard flow + LOAD CERT": standard_cert}


def run_suite(terminal: Terminal, taps: int) -> None:
    reader = AliroReader(terminal, ReaderIdentity.test())
    with terminal.tap():
        reader.transact(fast=False)          # seeds both sides' Kpersistent
    for label, body in flows(reader).items():
        measure_taps(terminal, min(taps, 10), body)  # warm-up
        before = P256_OPS.count
        samples = measure_taps(terminal, taps, body)
        ops = (P256_OPS.count - before) / taps
        report(f"{label} [{ops:.0f} P-256 ops]", samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--taps", type=int, default=300, help="in-process taps per figure")
    parser.add_argument("--pcsc-taps", type=int, default=100, help="taps through pcscd per figure")
    parser.add_argument("--no-pcsc", action="store_true", help="skip the pcscd measurement")
    args = parser.parse_args()
    print(f"aliro_tap: Python {platform.python_version()} on {platform.machine()}")
    store = MemoryStore()
    rig = loopback_rig([AliroPlugin()], store=store)   # TEST reader group
    print("in-process (loopback):")
    run_suite(rig.terminal, args.taps)
    rig.close()
    if args.no_pcsc:
        return
    print("through pcscd (vpcd + pyscard):")
    with private_pcscd() as daemon:
        if daemon is None:
            return
        from hcekit.testing.pcsc import serve_card

        served = serve_card(daemon, [AliroPlugin()], store=store, connect=False)
        try:
            run_suite(served.terminal, args.pcsc_taps)
        finally:
            served.close()


if __name__ == "__main__":
    main()
