"""Metrics from the observer hooks: exchanges, taps, status words, latency.

:class:`MetricsCollector` is an ordinary observer plugin (it implements
``hcekit_trace`` and ``hcekit_field``); register it on a card to count what
the card does. It keeps counters and a bounded window of latencies, never
payloads, so it is safe with sensitive exchanges.
"""

from __future__ import annotations

import statistics
from collections import Counter, deque
from dataclasses import dataclass, field

from .events import DeactivationReason
from .markers import hookimpl
from .sw import describe
from .trace import TraceRecord

__all__ = ["MetricsCollector", "MetricsSnapshot"]


@dataclass(frozen=True)
class MetricsSnapshot:
    exchanges: int
    taps: int
    by_plugin: dict[str, int] = field(default_factory=dict)
    by_sw: dict[int, int] = field(default_factory=dict)
    #: Card-side time per exchange, µs, over the last ``window`` exchanges.
    median_us: float = 0.0
    p99_us: float = 0.0

    def format(self) -> str:
        lines = [f"{self.exchanges} exchanges in {self.taps} taps; card time median "
                 f"{self.median_us:.1f} µs, p99 {self.p99_us:.1f} µs"]
        lines += [f"  {name:<12} {count}" for name, count in sorted(self.by_plugin.items())]
        lines += [f"  {sw:04X} {describe(sw):<28} {count}" for sw, count in sorted(self.by_sw.items())]
        return "\n".join(lines)


class MetricsCollector:
    """Counts exchanges per plugin and status word, taps, and card-side latency."""

    name = "metrics"

    def __init__(self, window: int = 10_000) -> None:
        self._latencies: deque[int] = deque(maxlen=window)
        self._by_plugin: Counter[str] = Counter()
        self._by_sw: Counter[int] = Counter()
        self._exchanges = 0
        self._taps = 0

    @hookimpl
    def hcekit_trace(self, record: TraceRecord) -> None:
        self._exchanges += 1
        self._by_plugin[record.plugin or "-"] += 1
        self._by_sw[record.sw] += 1
        self._latencies.append(record.elapsed_ns)

    @hookimpl
    def hcekit_field(self, card: object, active: bool, reason: DeactivationReason | None) -> None:
        if active:
            self._taps += 1

    def snapshot(self) -> MetricsSnapshot:
        lat = sorted(self._latencies)
        median = statistics.median(lat) / 1000 if lat else 0.0
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1000 if lat else 0.0
        return MetricsSnapshot(self._exchanges, self._taps, dict(self._by_plugin),
                               dict(self._by_sw), median, p99)
