"""What the tap benchmarks share: timing taps, median/p99, a private pcscd.

Imported by the scripts next to it (``python benchmarks/x.py`` puts this
folder on ``sys.path``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hcekit.terminal import Terminal

__all__ = ["measure_taps", "p99", "report", "private_pcscd"]


def measure_taps(terminal: Terminal, taps: int, body: Callable[[Terminal], object]) -> list[float]:
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


def report(label: str, samples: list[float], unit: str = "ms") -> float:
    """Print median and p99; return the median."""
    median = statistics.median(samples)
    print(f"  {label:<38} median {median:8.3f} {unit}   p99 {p99(samples):8.3f} {unit}   "
          f"(n={len(samples)})")
    return median


@contextmanager
def private_pcscd() -> Iterator[Any]:
    """The tests' private pcscd (own mount namespace, free ports), or None with the reason printed."""
    try:
        from hcekit.testing.pcsc import PcscUnavailable, shared_pcscd
    except ImportError as exc:
        print(f"  skipped: {exc}")
        yield None
        return
    try:
        cm = shared_pcscd()
        daemon = cm.__enter__()
    except PcscUnavailable as exc:
        print(f"  skipped: {exc}")
        yield None
        return
    try:
        yield daemon
    finally:
        cm.__exit__(None, None, None)
