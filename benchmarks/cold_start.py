#!/usr/bin/env python3
"""A cold tap: process start to the first SELECT answered, in a fresh process per run.

Each run starts a new interpreter that imports hcekit, builds a card with
the installed plugins (``only=`` one plugin, or all of them) on a SQLite store,
switches the field on and answers one SELECT — what a phone does when the
first tap after the app was killed starts the process. The parent reads
``time.monotonic()`` just before it spawns the child; the child prints
``time.monotonic()`` (a builtin module, no import cost) once the answer is
there, and its resident set size. Floors in the same run, measured the same way:
``python -c pass`` and ``python -c "import cryptography.hazmat.primitives.ciphers"``.

Every figure is the median over ``--runs`` runs, interleaved so that load on
the machine hits every case alike; once with the bytecode cache warm, once
without it (``PYTHONPYCACHEPREFIX`` on an empty directory and
``PYTHONDONTWRITEBYTECODE``: every module, the standard library's too, is
compiled from source, as on a first start after an install). The first run on
an empty store (self-personalisation) is printed on its own: it happens once
per store, later runs read the store.

Goals (issue 29), warm bytecode: one-plugin card <= 2x the cryptography
floor; every plugin <= 3x. Last measured (2 shared vCPUs, 20 runs): ndef
1.75x, transit 1.95x, every plugin 2.6x; none of them imports ``cryptography``,
``logging``, ``hcekit.polling`` or ``hcekit.trace`` before the first answer.

    python benchmarks/cold_start.py [--runs 20] [--no-cold-cache]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hcekit.apdu import CommandApdu
from hcekit_ndef import NDEF_APP_AID
from hcekit_transit import TRANSIT_DF_NAME

#: What every child prints when it is done: the clock, its resident set (KiB), the answer's SW.
_REPORT = """\
import os, time
now = time.monotonic()
with open("/proc/self/statm") as statm:
    rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
print(now, rss, answer[-2:].hex())
"""
_CARD = """\
import sys
from hcekit import Card
from hcekit.store import open_store
store = open_store(sys.argv[1])
card = Card.with_installed_plugins(only=sys.argv[2].split(",") if sys.argv[2] else None,
                                   store=store)
card.field_on()
answer = card.transceive(bytes.fromhex(sys.argv[3]))
""" + _REPORT + "card.close()\nstore.close()\n"


@dataclass(frozen=True)
class Case:
    label: str
    code: str
    #: ``only=`` as one comma-separated argument ("" = every installed plugin); None: a floor.
    only: str | None = None
    select: bytes = b""


def _select(aid: bytes) -> bytes:
    return CommandApdu(0x00, 0xA4, 0x04, 0x00, aid, 256).to_bytes()


FLOORS = [
    Case("floor: python -c pass", "answer = b'\\x90\\x00'\n" + _REPORT),
    Case("floor: import cryptography...ciphers",
         "import cryptography.hazmat.primitives.ciphers\nanswer = b'\\x90\\x00'\n" + _REPORT),
]
CARDS = [
    Case("card: ndef only", _CARD, "ndef", _select(NDEF_APP_AID)),
    Case("card: transit only", _CARD, "transit", _select(TRANSIT_DF_NAME)),
    Case("card: every plugin (SELECT transit)", _CARD, "", _select(TRANSIT_DF_NAME)),
]


def run_once(case: Case, store: Path, env: dict[str, str]) -> tuple[float, float]:
    """(milliseconds from spawn to the answer, resident set in MiB) of one fresh process."""
    argv = [sys.executable, "-c", case.code]
    if case.only is not None:
        argv += [str(store), case.only, case.select.hex()]
    start = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    fields = done.stdout.split()
    if done.returncode != 0 or len(fields) != 3 or fields[2] != "9000":
        raise SystemExit(f"{case.label}: the child failed (exit {done.returncode}, "
                         f"answer {fields[2:] or 'none'}):\n{done.stderr}")
    return (float(fields[0]) - start) * 1000.0, int(fields[1]) / 1024.0


def measure(cases: list[Case], runs: int, stores: dict[str, Path],
            env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Median time and RSS per case; the cases take turns, run by run."""
    samples: dict[str, list[tuple[float, float]]] = {c.label: [] for c in cases}
    for _ in range(runs):
        for case in cases:
            samples[case.label].append(run_once(case, stores.get(case.label, Path()), env))
    return {label: (statistics.median(t for t, _ in got), statistics.median(r for _, r in got))
            for label, got in samples.items()}


def table(title: str, figures: dict[str, tuple[float, float]], floor: float) -> None:
    print(title)
    for label, (ms, rss) in figures.items():
        print(f"  {label:<40} {ms:8.1f} ms  {ms / floor:5.2f}x crypto floor  RSS {rss:6.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="fresh processes per figure")
    parser.add_argument("--first-runs", type=int, default=5,
                        help="runs on an empty store (self-personalisation) per card")
    parser.add_argument("--no-cold-cache", action="store_true",
                        help="skip the runs without a bytecode cache")
    args = parser.parse_args()
    print(f"cold_start: Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; medians of {args.runs} fresh processes")
    warm_env = {k: v for k, v in os.environ.items()
                if k not in ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")}
    with tempfile.TemporaryDirectory(prefix="hcekit-cold-") as tmp:
        root = Path(tmp)
        print(f"first run on an empty store (self-personalisation), median of {args.first_runs}:")
        for case in CARDS:
            firsts = [run_once(case, root / f"first-{case.only}-{i}.sqlite", warm_env)[0]
                      for i in range(args.first_runs)]
            print(f"  {case.label:<40} {statistics.median(firsts):8.1f} ms")
        stores = {c.label: root / f"first-{c.only}-0.sqlite" for c in CARDS}  # personalised

        settings = [("warm bytecode cache", warm_env)]
        if not args.no_cold_cache:
            empty = root / "no-pycache"
            empty.mkdir()
            settings.append(("no bytecode cache (compiled from source)",
                             {**warm_env, "PYTHONPYCACHEPREFIX": str(empty),
                              "PYTHONDONTWRITEBYTECODE": "1"}))
        for title, env in settings:
            for case in FLOORS + CARDS:  # one unmeasured run each: caches written, files read
                run_once(case, stores.get(case.label, Path()), env)
            figures = measure(FLOORS + CARDS, args.runs, stores, env)
            floor = figures[FLOORS[1].label][0]
            table(f"{title}, personalised store:", figures, floor)
            if env is warm_env:
                one = max(figures[c.label][0] for c in CARDS if c.only)
                every = figures[CARDS[-1].label][0]
                print(f"  goals: one plugin <= 2x floor: {'met' if one <= 2 * floor else 'MISSED'} "
                      f"({one / floor:.2f}x); every plugin <= 3x: "
                      f"{'met' if every <= 3 * floor else 'MISSED'} ({every / floor:.2f}x)")


if __name__ == "__main__":
    main()
