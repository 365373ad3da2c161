#!/usr/bin/env python3
"""EMV purchase time for the TEST payment card, and what the durable ATC costs.

One transaction = one tap of :func:`hcekit_payment.pos.run_transaction`:
PPSE, SELECT, GPO, three READ RECORDs, GENERATE AC (or the qVSDC GPO), and
the issuer-side ARQC check. Run over the loopback transport against a card
whose store is in memory and one on SQLite (WAL, synchronous=FULL), where
the ATC commit before each cryptogram is a real fsync'd transaction. The
same-run baseline is a tap that only SELECTs the application. Also prints
the bare cryptogram computation (CVN 10 vs 18) per call. Figures: median
and p99 in milliseconds (µs for the cryptogram).

    python benchmarks/payment_transaction.py [--taps 300]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from benchlib import measure_taps, report
from hcekit.store import MemoryStore, SqliteStore, Store
from hcekit.testing import loopback_rig
from hcekit_payment import CVN, PaymentPlugin, TransactionData, application_cryptogram
from hcekit_payment.cryptogram import CryptogramType, issuer_application_data
from hcekit_payment.personalization import VISA_AID, personalize
from hcekit_payment.pos import run_transaction


def bench_store(name: str, store: Store, taps: int) -> None:
    rig = loopback_rig([PaymentPlugin()], store=store)
    print(f"{name}:")
    report("baseline: SELECT only", measure_taps(rig.terminal, taps, lambda t: t.select(VISA_AID)))
    for flow in ("generate-ac", "qvsdc"):
        report(f"purchase, {flow} flow",
               measure_taps(rig.terminal, taps, lambda t, f=flow: run_transaction(t, flow=f)))
    rig.close()


def bench_cryptogram(calls: int) -> None:
    print("cryptogram computation (card side):")
    data = TransactionData(bytes(6), bytes(6), b"\x08\x40", bytes(5), b"\x08\x40",
                           b"\x26\x11\x24", b"\x00", b"\x12\x34\x56\x78")
    for cvn in CVN:
        perso = personalize(cvn=cvn)
        iad = issuer_application_data(cvn, CryptogramType.ARQC)
        samples = []
        for atc in range(calls):
            start = time.perf_counter()
            application_cryptogram(cvn, perso.icc_mk, data, b"\x18\x00", atc.to_bytes(2, "big"), iad)
            samples.append((time.perf_counter() - start) * 1e6)
        report(f"CVN {int(cvn)}", samples, "µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=300)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {args.taps} taps each")
    bench_store("memory store", MemoryStore(), args.taps)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "card.sqlite")
        bench_store("SQLite store (durable ATC commit per transaction)", store, args.taps)
        store.close()
    bench_cryptogram(args.taps * 10)


if __name__ == "__main__":
    main()
