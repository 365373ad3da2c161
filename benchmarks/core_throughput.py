#!/usr/bin/env python3
"""APDUs per second through the in-process card core, against the bare plugin call.

Sends one short APDU (case 4, 4 data bytes, Le) over and over to a SELECTed
trivial plugin through ``Card.transceive`` (parse, route, call the plugin's
hook directly, apply Ne, encode), and calls the same plugin function bare
with a pre-parsed command, in the same run. Prints both rates and the ratio.
Target: >= 250,000 APDU/s through the core on one core (CPython 3.11).

    python benchmarks/core_throughput.py [--seconds 2] [--repeat 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from hcekit import Card, Claim, CommandApdu

AID = bytes.fromhex("F0000000010203")
TARGET = 250_000


class Trivial:
    """Echoes the command data: the least a plugin can do."""

    name = "trivial"

    def hcekit_claims(self, plugin: object) -> list[Claim]:
        return [Claim(AID, description="benchmark")]

    def hcekit_process(self, app: object, command: CommandApdu) -> bytes:
        return command.data


def rate(fn: object, seconds: float) -> float:
    call = fn  # local for speed
    batch = 10_000
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(batch):
            call()  # type: ignore[operator]
        done += batch
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="duration of one measurement")
    parser.add_argument("--repeat", type=int, default=5, help="measurements per figure (median shown)")
    args = parser.parse_args()

    plugin = Trivial()
    card = Card([plugin])
    card.field_on()
    select = CommandApdu(0x00, 0xA4, 0x04, 0x00, AID, 256).to_bytes()
    assert card.transceive(select)[-2:] == b"\x90\x00"
    raw = bytes.fromhex("00 10 00 00 04 01020304 00")
    assert card.transceive(raw) == bytes.fromhex("01020304 9000")
    parsed = CommandApdu.parse(raw)
    app = card.selected

    core_rates, bare_rates = [], []
    for _ in range(args.repeat):
        core_rates.append(rate(lambda: card.transceive(raw), args.seconds))
        bare_rates.append(rate(lambda: plugin.hcekit_process(app, parsed), args.seconds))
    core, bare = statistics.median(core_rates), statistics.median(bare_rates)
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{args.repeat} x {args.seconds:.1f} s each, medians")
    print(f"  through Card.transceive : {core:>12,.0f} APDU/s  ({1e6 / core:.2f} µs per APDU)")
    print(f"  bare plugin call        : {bare:>12,.0f} calls/s ({1e6 / bare:.2f} µs per call)")
    print(f"  ratio core/bare         : {core / bare:.3f}  (core overhead {1e6 / core - 1e6 / bare:.2f} µs)")
    verdict = "meets" if core >= TARGET else "MISSES"
    print(f"  target >= {TARGET:,} APDU/s: {verdict}")


if __name__ == "__main__":
    main()
