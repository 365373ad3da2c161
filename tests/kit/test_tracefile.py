"""Trace files: record → readable text → parse → replay, with redaction by default."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hcekit import Card, CommandApdu, DeactivationReason
from hcekit.store import MemoryStore
from hcekit.tracefile import (
    Exchange,
    FieldEvent,
    TraceFormatError,
    TraceRecorder,
    parse_trace,
    read_trace,
    replay_trace,
)

from .sample_plugins import GOOD_AID, INS_COUNT, INS_UNLOCK, TEST_KEY, GoodCard

SELECT = CommandApdu(0x00, 0xA4, 0x04, 0x00, GOOD_AID, 256).to_bytes()
COUNT = CommandApdu(0x80, INS_COUNT, le=256).to_bytes()
UNLOCK = CommandApdu(0x80, INS_UNLOCK, 0, 0, b"\x01\x02", 256).to_bytes()


def _session(card: Card) -> list[bytes]:
    card.field_on()
    answers = [card.transceive(c) for c in (SELECT, COUNT, COUNT, UNLOCK, b"\x00\xa4")]
    card.field_off(DeactivationReason.LINK_LOSS)
    card.field_on()
    answers.append(card.transceive(SELECT))
    card.field_off(DeactivationReason.DESELECTED)
    return answers


def _record(path: Path, **kwargs: object) -> list[bytes]:
    recorder = TraceRecorder(path, **kwargs)  # type: ignore[arg-type]
    with Card([GoodCard(), recorder]) as card:
        return _session(card)


def test_recorded_file_is_readable_and_redacts_sensitive_exchanges(tmp_path: Path) -> None:
    path = tmp_path / "s.trace"
    answers = _record(path)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# hcekit trace 1"
    assert "redacted" in lines[1]
    body = [line for line in lines if not line.startswith("#")]
    assert body[0].endswith(" field on")
    assert body[1].endswith(">> " + SELECT.hex(" ").upper())
    assert "NO_ERROR" in body[2] and "goodcard" in body[2]
    assert any(line.endswith("field off DESELECTED") for line in body)
    # the unlock answer carries the key: only header, lengths and SW remain
    assert TEST_KEY.hex(" ").upper() not in text and TEST_KEY.hex().upper() not in text
    assert "80 20 00 00 [4 bytes redacted]" in text
    assert f"[{len(TEST_KEY)} bytes redacted] 90 00" in text
    # the malformed command and its 6700 are recorded too
    assert answers[4] == b"\x67\x00"
    assert ">> 00 A4\n" in text or text.count(">> 00 A4") >= 3


def test_reveal_keeps_payloads(tmp_path: Path) -> None:
    path = tmp_path / "r.trace"
    _record(path, reveal=True)
    assert TEST_KEY.hex(" ").upper() in path.read_text(encoding="utf-8")


def test_timestamps_are_utc_and_ordered(tmp_path: Path) -> None:
    ticks = iter(datetime(2026, 1, 31, 12, 0, tzinfo=UTC) + timedelta(seconds=i)
                 for i in range(1000))
    path = tmp_path / "t.trace"
    recorder = TraceRecorder(path, clock=lambda: next(ticks))
    with Card([GoodCard(), recorder]) as card:
        _session(card)
    trace = read_trace(path)
    times = [e.time for e in trace.events if isinstance(e, FieldEvent)]
    assert times[0] == datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert times == sorted(times)
    assert "2026-01-31T12:00:00.000000Z field on" in path.read_text(encoding="utf-8")


def test_parse_keeps_lengths_and_status_of_redacted_exchanges(tmp_path: Path) -> None:
    path = tmp_path / "p.trace"
    answers = _record(path)
    trace = read_trace(path)
    exchanges = trace.exchanges
    assert len(exchanges) == 6
    assert exchanges[0].command == SELECT and exchanges[0].response == answers[0]
    unlock = exchanges[3]
    assert unlock.redacted and unlock.command is None and unlock.response_data is None
    assert unlock.header == UNLOCK[:4] and unlock.command_length == len(UNLOCK)
    assert unlock.sw == 0x9000 and unlock.response_length == len(TEST_KEY) + 2
    fields = [e for e in trace.events if isinstance(e, FieldEvent)]
    assert [(f.active, f.reason) for f in fields] == [
        (True, None), (False, DeactivationReason.LINK_LOSS),
        (True, None), (False, DeactivationReason.DESELECTED),
    ]


def test_replay_against_the_same_card_matches(tmp_path: Path) -> None:
    path = tmp_path / "m.trace"
    _record(path)
    with Card([GoodCard()]) as card:
        report = replay_trace(path, card)
    assert report.ok, report.format()
    assert report.replayed == 5 and report.matched == 5
    assert [e.header for e in report.skipped] == [UNLOCK[:4]]


def test_replay_reports_each_differing_response(tmp_path: Path) -> None:
    path = tmp_path / "d.trace"
    _record(path)
    store = MemoryStore()
    with Card([GoodCard()], store=store) as card:  # a card that has counted before
        card.plugins["goodcard"].store.set_int("count", 41)
        report = replay_trace(path, card)
    assert not report.ok
    assert [d.exchange.command for d in report.differences] == [COUNT, COUNT]
    assert report.differences[0].actual == (42).to_bytes(4, "big") + b"\x90\x00"
    text = report.format()
    assert "2 differ" in text and "replayed << 00 00 00 2A 90 00" in text
    with Card([GoodCard()], store=MemoryStore()) as card:
        card.plugins["goodcard"].store.set_int("count", 41)
        assert replay_trace(path, card, compare="sw").ok


def test_recorder_on_a_stream_and_registered_at_run_time() -> None:
    out = io.StringIO()
    with Card([GoodCard()]) as card:
        card.register(TraceRecorder(out))
        card.field_on()
        card.transceive(SELECT)
    trace = parse_trace(out.getvalue().splitlines())
    assert [type(e) for e in trace.events] == [FieldEvent, Exchange, FieldEvent]


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty trace"),
    ("hello\n", "is this an hcekit trace"),
    ("# hcekit trace 1\nyesterday >> 00 A4 04 00\n", "line 2: 'yesterday' is not a timestamp"),
    ("# hcekit trace 1\n2026-01-01T00:00:00.000000Z << 90 00\n", "line 2: response without"),
    ("# hcekit trace 1\n2026-01-01T00:00:00.000000Z >> 00 A4 04 00\n", "ends before"),
    ("# hcekit trace 1\n2026-01-01T00:00:00.000000Z >> 00 ZZ 04 00\n", "not hex"),
    ("# hcekit trace 1\n2026-01-01T00:00:00.000000Z field off NAP\n", "unknown deactivation"),
    ("# hcekit trace 1\n2026-01-01T00:00:00.000000Z beep\n", "unknown event 'beep'"),
])
def test_bad_trace_lines_are_named(text: str, message: str) -> None:
    with pytest.raises(TraceFormatError, match=message):
        parse_trace(text.splitlines())
