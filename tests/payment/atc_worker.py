"""Subprocess for the crash test: taps the card in a loop, prints every ATC that left it.

    python atc_worker.py STORE.sqlite

Each line is ``<ATC>`` of a cryptogram the terminal has received, flushed
at once, so the parent knows exactly which ATCs left the card before it
SIGKILLs this process at an arbitrary point.
"""

from __future__ import annotations

import sys

from hcekit import Card
from hcekit.hosts import LoopbackHost
from hcekit.store import SqliteStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit_payment import PaymentPlugin
from hcekit_payment.pos import run_transaction


def main(path: str) -> None:
    card = Card([PaymentPlugin()], store=SqliteStore(path))
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    flows = ("generate-ac", "qvsdc")
    n = 0
    while True:
        with terminal.tap():
            result = run_transaction(terminal, flow=flows[n % 2])
        n += 1
        print(int.from_bytes(result.record.atc, "big"), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
