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

With offline data authentication: a purchase with fDDA (qVSDC) and with
CDA (GENERATE AC flow, both cryptograms signed), the RSA operations each
tap costs (card: private, terminal: public recoveries), and the floor: one
RSA private operation of the ICC key size through ``cryptography``'s own
PKCS #1 v1.5 signer, next to the card's CRT operation on the same key.

    python benchmarks/payment_transaction.py [--taps 300]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from benchlib import measure_taps, report
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hcekit.store import MemoryStore, SqliteStore, Store
from hcekit.testing import loopback_rig
from hcekit_payment import (
    CVN,
    DEFAULT_PAN,
    PaymentPlugin,
    TransactionData,
    application_cryptogram,
    book2,
    oda,
)
from hcekit_payment.assumptions import ICC_EXPONENT, ICC_KEY_BITS
from hcekit_payment.cryptogram import CryptogramType, issuer_application_data
from hcekit_payment.personalization import VISA_AID, personalize
from hcekit_payment.pos import run_transaction
from hcekit_payment.rsa_recovery import modulus_length, private_operation


def bench_store(name: str, store: Store, taps: int) -> None:
    rig = loopback_rig([PaymentPlugin()], store=store)
    print(f"{name}:")
    report("baseline: SELECT only", measure_taps(rig.terminal, taps, lambda t: t.select(VISA_AID)))
    for flow in ("generate-ac", "qvsdc"):
        report(f"purchase, {flow} flow",
               measure_taps(rig.terminal, taps, lambda t, f=flow: run_transaction(t, flow=f)))
    rig.close()


class RsaCounter:
    """Counts the card's private and the terminal's public RSA operations."""

    def __init__(self) -> None:
        self.private = self.public = 0
        sign, recover = oda.private_operation, book2.PublicKey.recover

        def counted_sign(key: rsa.RSAPrivateKey, message: bytes) -> bytes:
            self.private += 1
            return sign(key, message)

        def counted_recover(key: book2.PublicKey, *args: str) -> bytes:
            self.public += 1
            return recover(key, *args)  # type: ignore[arg-type]

        oda.private_operation = counted_sign  # type: ignore[assignment]
        book2.PublicKey.recover = counted_recover  # type: ignore[method-assign,assignment]


def bench_oda(taps: int) -> None:
    print("offline data authentication (memory store):")
    counter = RsaCounter()
    for label, methods, flow in (("purchase, qvsdc flow + fDDA", "fdda", "qvsdc"),
                                 ("purchase, generate-ac flow + CDA", "cda", "generate-ac")):
        rig = loopback_rig([PaymentPlugin()], store=MemoryStore(),
                           options={"payment": {"oda": methods}})
        counter.private = counter.public = 0
        samples = measure_taps(rig.terminal, taps, lambda t, f=flow: run_transaction(t, flow=f))
        report(label, samples)
        print(f"  {'':<38} RSA per tap: {counter.private / taps:.0f} private (card), "
              f"{counter.public / taps:.0f} public (terminal)")
        rig.close()
    key = rsa.generate_private_key(ICC_EXPONENT, ICC_KEY_BITS)
    block = b"\x6a" + bytes(modulus_length(key) - 1)
    floor, ours = [], []
    for _ in range(taps):
        start = time.perf_counter()
        key.sign(b"floor", padding.PKCS1v15(), hashes.SHA1())
        floor.append((time.perf_counter() - start) * 1000.0)
        start = time.perf_counter()
        private_operation(key, block)
        ours.append((time.perf_counter() - start) * 1000.0)
    report(f"floor: cryptography RSA-{ICC_KEY_BITS} sign", floor)
    report(f"card's CRT operation, RSA-{ICC_KEY_BITS}", ours)


def bench_cryptogram(calls: int) -> None:
    print("cryptogram computation (card side):")
    data = TransactionData(bytes(6), bytes(6), b"\x08\x40", bytes(5), b"\x08\x40",
                           b"\x26\x11\x24", b"\x00", b"\x12\x34\x56\x78")
    for cvn in CVN:
        perso = personalize("5555555555554444" if cvn is CVN.MASTERCARD_16 else DEFAULT_PAN,
                            cvn=cvn)
        iad = issuer_application_data(cvn, CryptogramType.ARQC)
        samples = []
        for atc in range(calls):
            start = time.perf_counter()
            application_cryptogram(cvn, perso.icc_mk, data, b"\x18\x00", atc.to_bytes(2, "big"), iad)
            samples.append((time.perf_counter() - start) * 1e6)
        report(f"CVN {int(cvn)} ({perso.brand.name})", samples, "µs")


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
    bench_oda(args.taps)
    bench_cryptogram(args.taps * 10)


if __name__ == "__main__":
    main()
