"""A session recorded through the real PC/SC stack (pcscd + vpcd + pyscard) replays
in-process: the path from a bug seen with a reader to a test."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hcekit import Card, CommandApdu
from hcekit.terminal import ScriptContext
from hcekit.tracefile import FieldEvent, TraceRecorder, read_trace, replay_trace

from .sample_plugins import INS_UNLOCK, TEST_KEY, GoodCard

pytestmark = pytest.mark.pcsc


def test_pcsc_session_records_and_replays(pcsc_card: object, tmp_path: Path) -> None:
    path = tmp_path / "reader.trace"
    served = pcsc_card([GoodCard(), TraceRecorder(path)])  # type: ignore[operator]
    (script,) = GoodCard().hcekit_terminal_scripts()
    out = io.StringIO()
    assert script.run(ScriptContext(served.terminal, out=out)) == 0
    served.terminal.transmit(CommandApdu(0x80, INS_UNLOCK, 0, 0, b"\x01", 256))
    served.terminal.disconnect()
    assert served.wait_field(False)
    served.close()

    text = path.read_text(encoding="utf-8")
    assert TEST_KEY.hex(" ").upper() not in text  # the key answer stayed redacted
    trace = read_trace(path)
    fields = [e.active for e in trace.events if isinstance(e, FieldEvent)]
    assert fields[:1] == [True] and fields[-1] is False  # vpcd power on / off
    assert len(trace.exchanges) >= 4

    with Card([GoodCard()]) as fresh:
        report = replay_trace(trace, fresh)
    assert report.ok, report.format()
    assert report.replayed == len(trace.exchanges) - 2  # two sensitive UNLOCKs skipped
    assert len(report.skipped) == 2
