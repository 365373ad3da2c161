"""µs per protected APDU round trip, 3DES and AES suites, next to a plain one.

A round trip is: terminal wraps → card unwraps → card wraps → terminal
unwraps (the SM work alone, in-process), and the same through the whole
stack (Terminal → LoopbackHost → Card → plugin and back). The unprotected
figures from the same run are the baseline.

    .venv/bin/python benchmarks/sm_throughput.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "framework"), str(ROOT / "tests" / "sm")]

from hcekit import Card, CommandApdu, ResponseApdu  # noqa: E402
from hcekit.hosts import LoopbackHost  # noqa: E402
from hcekit.sm import (  # noqa: E402
    AES128_PROFILE,
    TDES_PROFILE,
    AesSuite,
    AuthProfile,
    CardSession,
    CipherSuite,
    TdesSuite,
    TerminalAuthenticator,
    TerminalSession,
    mutual_authenticate,
)
from hcekit.terminal import LoopbackTransport, Terminal  # noqa: E402
from sm_example_plugin import EMRTD_AID, ProtectedFiles  # noqa: E402


def per_call_us(fn: Callable[[], object], rounds: int) -> float:
    for _ in range(min(200, rounds)):
        fn()
    best = float("inf")
    for _ in range(5):  # best of five batches: least disturbed by the machine
        start = time.perf_counter_ns()
        for _ in range(rounds):
            fn()
        best = min(best, (time.perf_counter_ns() - start) / rounds / 1000)
    return best


def sm_only(suite: CipherSuite, size: int, rounds: int) -> float:
    block = bytes(suite.block_size)
    terminal, card = TerminalSession(suite, block), CardSession(suite, block)
    command = CommandApdu(0x00, 0x01, 0, 0, os.urandom(size), size or None)
    answer = ResponseApdu(command.data)

    def trip() -> None:
        plain = card.unwrap_command(terminal.wrap_command(command))
        terminal.unwrap_response(card.wrap_response(plain, answer))

    return per_call_us(trip, rounds)


def stack(profile: AuthProfile | None, size: int, rounds: int) -> float:
    keys = (os.urandom(16), os.urandom(16))
    card = Card([ProtectedFiles(profile or TDES_PROFILE, *keys, {})])
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    terminal.connect()
    terminal.select(EMRTD_AID)
    command = CommandApdu(0x00, 0x01, 0, 0, os.urandom(size), size or None)
    if profile is None:  # baseline: the example plugin echoes without a session too
        raw = command.to_bytes()
        return per_call_us(lambda: terminal.transmit(raw), rounds)
    session = mutual_authenticate(terminal, TerminalAuthenticator(profile, *keys))
    return per_call_us(lambda: session.transmit(terminal, command), rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000, help="round trips per batch")
    args = parser.parse_args()
    rounds = args.rounds
    suites: dict[str, CipherSuite] = {
        "3DES + retail MAC": TdesSuite(os.urandom(16), os.urandom(16)),
        "AES-128 CBC + CMAC": AesSuite(os.urandom(16), os.urandom(16)),
    }
    print(f"secure messaging round trip, µs per APDU pair (best of 5 × {rounds})")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("SM layer only (terminal wrap → card unwrap → card wrap → terminal unwrap)")
    print(f"{'payload':>8}  " + "  ".join(f"{name:>20}" for name in suites))
    for size in (0, 16, 200):
        row = [sm_only(suite, size, rounds) for suite in suites.values()]
        print(f"{size:>7}B  " + "  ".join(f"{v:>17.1f} µs" for v in row))
    print("\nwhole stack (Terminal → LoopbackHost → Card → plugin → back)")
    print(f"{'payload':>8}  {'unprotected':>20}  {'3DES SM':>20}  {'AES-128 SM':>20}")
    for size in (0, 16, 200):
        base = stack(None, size, rounds)
        tdes = stack(TDES_PROFILE, size, rounds)
        aes = stack(AES128_PROFILE, size, rounds)
        print(f"{size:>7}B  {base:>17.1f} µs  {tdes:>17.1f} µs  {aes:>17.1f} µs"
              f"   (SM adds {tdes - base:.1f} / {aes - base:.1f} µs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
