"""The metrics observer counts what the card did, from the trace and field hooks."""

from __future__ import annotations

from hcekit import SW, Claim
from hcekit.metrics import MetricsCollector
from hcekit.testing import loopback_rig

from .routing_plugins import AID_A, Recorder


def test_metrics_count_exchanges_taps_and_status_words() -> None:
    metrics = MetricsCollector()
    rig = loopback_rig([Recorder("alpha", Claim(AID_A)), metrics])
    for _ in range(2):
        with rig.terminal.tap():
            rig.terminal.select(AID_A)
            rig.terminal.transmit("0003000000")  # 6A82 from the plugin
    rig.terminal.transmit("00010000")  # outside a tap, nothing selected: 6F00
    snap = metrics.snapshot()
    assert (snap.exchanges, snap.taps) == (5, 2)
    assert snap.by_sw == {SW.NO_ERROR: 2, SW.FILE_NOT_FOUND: 2, SW.UNKNOWN: 1}
    assert snap.by_plugin == {"alpha": 4, "-": 1}
    assert 0 < snap.median_us <= snap.p99_us
    assert "5 exchanges in 2 taps" in snap.format()
