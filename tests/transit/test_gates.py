"""``gates_only``: the transit ticket answers only readers that announce a transit gate (ECP).

End to end in-process (a loopback reader sending polling loops, then the gate
validator), and through a recorded trace: trace file → replay, trace → pcapng
(read by tshark) → trace.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from hcekit import Card
from hcekit.capture import PcapRecorder, capture_to_trace, read_capture, write_pcapng
from hcekit.polling import CardSilentError, Decision, FrameType, PollingFrame
from hcekit.store import MemoryStore
from hcekit.testing.loopback import LoopbackRig, loopback_rig
from hcekit.testing.requirements import missing
from hcekit.tracefile import Exchange, FieldEvent, PollEvent, Trace, TraceRecorder, read_trace, replay_trace
from hcekit_transit import IssuerKeys, TransitPlugin
from hcekit_transit.gates import ECP_TRANSIT, TRANSIT_GATE_PATTERN, gate_announcement
from hcekit_transit.reader import DesfireReader
from hcekit_transit.terminals import gate_tap

from .conftest import UID

T0 = 1_780_000_000
ON = PollingFrame(FrameType.ON)
WUPA = PollingFrame(FrameType.A, b"\x52")
WUPB = PollingFrame(FrameType.B, bytes.fromhex("050008"))
SENSF_REQ = PollingFrame(FrameType.F, bytes.fromhex("0600FFFF0100"))
#: A payment terminal polls A and B, with no annotation.
PAYMENT_LOOP = [ON, WUPA, WUPB]
#: An ECP door reader: the same frame with terminal type 02 (access).
ACCESS_LOOP = [ON, WUPA, PollingFrame.custom(gate_announcement(terminal_type=0x02)), WUPB]
#: An ECP transit gate: A, its announcement, B, F — as the public description shows the loop.
GATE_LOOP = [ON, WUPA, PollingFrame.custom(gate_announcement()), WUPB, SENSF_REQ]


def gates_rig(store: MemoryStore, gates_only: bool = True) -> LoopbackRig:
    return loopback_rig([TransitPlugin()], store=store,
                        options={"transit": {"gates_only": gates_only, "uid": UID}})


def test_the_pattern_is_ecp_version_2_terminal_type_transit() -> None:
    frame = gate_announcement()
    assert frame[:2] == b"\x6a\x02" and frame[3] == ECP_TRANSIT
    assert TRANSIT_GATE_PATTERN == "6A02..01.*"
    with pytest.raises(ValueError, match="3 bytes"):
        gate_announcement(b"\x00")


def test_gates_only_answers_a_transit_gate_and_no_other_reader() -> None:
    rig = gates_rig(MemoryStore())
    terminal, keys = rig.terminal, IssuerKeys.test_keys()
    assert rig.card.polling.observe_by_default
    for loop in (PAYMENT_LOOP, ACCESS_LOOP):
        assert not terminal.poll(*loop, loops=3)
        with pytest.raises(CardSilentError):
            terminal.connect()  # that reader gave up: the next one starts a new tap
    assert terminal.poll(*GATE_LOOP)
    with terminal.tap():
        result = gate_tap(DesfireReader(terminal), keys, 1, T0)
    assert result.accepted and result.direction == "in"
    with pytest.raises(CardSilentError):  # a new tap observes again
        terminal.connect()
    assert terminal.poll(*GATE_LOOP)
    with terminal.tap():
        out = gate_tap(DesfireReader(terminal), keys, 4, T0 + 1800)
    assert out.accepted and out.direction == "out" and out.charged > 0
    rig.close()


def test_without_gates_only_the_ticket_answers_every_reader() -> None:
    rig = gates_rig(MemoryStore(), gates_only=False)
    assert not rig.card.polling.observe_by_default
    assert rig.terminal.poll(*PAYMENT_LOOP)
    with rig.terminal.tap():
        assert gate_tap(DesfireReader(rig.terminal), IssuerKeys.test_keys(), 1, T0).accepted
    # the plugin declares nothing then: its service XML stays as before Android 15
    assert rig.card.polling.filters() == []
    event = rig.card.polling_frame(PollingFrame.custom(gate_announcement()))
    assert event.plugin is None and not event.frame.triggered_auto_transact
    rig.close()


def _record_a_commute(tmp_path: Path) -> tuple[Path, Path]:
    trace_path, pcap_path = tmp_path / "commute.trace", tmp_path / "commute.pcapng"
    rig = gates_rig(MemoryStore())
    rig.card.register(TraceRecorder(trace_path))
    rig.card.register(PcapRecorder(pcap_path, plugins=["transit"]))
    terminal = rig.terminal
    assert not terminal.poll(*PAYMENT_LOOP)
    with pytest.raises(CardSilentError):
        terminal.connect()
    terminal.poll(*GATE_LOOP)
    with terminal.tap():
        assert gate_tap(DesfireReader(terminal), IssuerKeys.test_keys(), 1, T0).accepted
    rig.close()
    return trace_path, pcap_path


def _polling_only(trace: Trace) -> Trace:
    return Trace([e for e in trace.events if not isinstance(e, Exchange)])


def test_a_recorded_commute_keeps_its_polling_loop_and_replays_it(tmp_path: Path) -> None:
    trace_path, _ = _record_a_commute(tmp_path)
    trace = read_trace(trace_path)
    polls = trace.polls
    assert [p.frame.type for p in polls] == [f.type for f in PAYMENT_LOOP + GATE_LOOP]
    gate = polls[len(PAYMENT_LOOP) + 2]
    assert gate.frame.data == gate_announcement() and gate.frame.triggered_auto_transact
    assert (gate.plugin, gate.decision) == ("transit", Decision.TRANSACT)
    assert [p.decision for p in polls[:len(PAYMENT_LOOP)]] == [Decision.OBSERVE] * 3
    # the polling loop comes before the activation it led to
    first_field_on = next(i for i, e in enumerate(trace.events)
                          if isinstance(e, FieldEvent) and e.active)
    assert trace.events.index(gate) < first_field_on
    # replayed against a fresh card: same routing, same decisions
    with Card([TransitPlugin()], store=MemoryStore(),
              options={"transit": {"gates_only": True, "uid": UID}}) as card:
        report = replay_trace(_polling_only(trace), card)
    assert report.ok and report.polls == len(polls), report.format()
    # …and a card without the transit plugin routes them elsewhere: the replay says so
    from hcekit_ndef import NdefPlugin

    with Card([NdefPlugin()], store=MemoryStore()) as other:
        report = replay_trace(_polling_only(trace), other)
    assert not report.ok
    assert any("plugin transit, replayed (no filter)" in d for d in report.poll_differences)


def _tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        missing("tshark (Debian package tshark)")
    assert path is not None
    return path


def test_the_polling_loop_travels_through_pcapng_both_ways(tmp_path: Path) -> None:
    trace_path, live_path = _record_a_commute(tmp_path)
    trace = read_trace(trace_path)
    exported = tmp_path / "exported.pcapng"
    write_pcapng(trace, exported)

    def strip(event: FieldEvent | PollEvent | Exchange) -> object:
        return dataclasses.replace(event, line=0, time=event.time.replace(microsecond=0))

    for path in (exported, live_path):
        back, report = capture_to_trace(read_capture(path))
        assert report.polls == len(trace.polls) and not report.problems, report.format()
        assert [dataclasses.replace(p, line=0, time=trace.polls[0].time) for p in back.polls] \
            == [dataclasses.replace(p, line=0, time=trace.polls[0].time) for p in trace.polls]
        assert len(back.exchanges) == len(trace.exchanges)
    back, _ = capture_to_trace(read_capture(exported))
    assert [strip(e) for e in back.events] == [strip(e) for e in trace.events]

    rows = subprocess.run(
        [_tshark(), "-r", str(exported), "-T", "fields", "-E", "separator=\t",
         "-e", "iso14443.event", "-e", "frame.len", "-e", "_ws.col.Info", "-e", "frame.comment"],
        capture_output=True, text=True, timeout=120, check=True).stdout.splitlines()
    polling_rows = [row.split("\t") for row in rows if "polling: " in row]
    assert len(polling_rows) == len(trace.polls)
    for (event, length, info, comment), poll in zip(polling_rows, trace.polls, strict=True):
        expected_event = {FrameType.ON: 0xFC, FrameType.OFF: 0xFD}.get(poll.frame.type, 0xFE)
        assert int(event, 16) == expected_event, comment
        assert int(length) == 4 + len(poll.frame.data)  # pseudo-header + the frame as held
        assert comment.startswith(f"polling: {poll.frame.type.name}")
        if poll.frame.type is FrameType.A:
            assert info == "WUPA"  # Wireshark's own ISO 14443-3 dissector names the poll


def test_the_cli_exports_imports_and_replays_the_polling_loop(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hcekit.cli import main
    from hcekit.tracefile import format_trace

    trace_path, _ = _record_a_commute(tmp_path)
    polling = tmp_path / "polling.trace"
    polling.write_text(format_trace(_polling_only(read_trace(trace_path))))
    assert main(["trace", "export", str(polling), "-o", str(tmp_path / "p.pcapng")]) == 0
    # a capture with polling frames and no exchange imports, and says so
    assert main(["trace", "import", str(tmp_path / "p.pcapng"),
                 "-o", str(tmp_path / "back.trace")]) == 0
    assert f"{len(read_trace(polling).polls)} polling frame(s) imported" in capsys.readouterr().err
    card = ["--no-installed", "--plugin", "hcekit_transit:TransitPlugin", "--store", ":memory:"]
    assert main(["replay", str(tmp_path / "back.trace"), *card,
                 "--option", "transit.gates_only=true"]) == 0
    assert "polling frame(s): 0 differ" in capsys.readouterr().out
    assert main(["replay", str(tmp_path / "back.trace"), *card]) == 1
    out = capsys.readouterr().out
    assert "decision transact, replayed observe" in out and "plugin transit, replayed (no filter)" in out


def test_hcekit_tap_plays_a_gate_with_poll(capsys: pytest.CaptureFixture[str]) -> None:
    from hcekit.cli import main

    card = ["--no-installed", "--plugin", "hcekit_transit:TransitPlugin", "--store", ":memory:",
            "--option", "transit.gates_only=true"]
    assert main(["tap", "transit-gate", *card, "-s", "station=1"]) == 1
    assert "the card stayed silent" in capsys.readouterr().err
    access = gate_announcement(terminal_type=0x02).hex()
    assert main(["tap", "transit-gate", *card, "--poll", access, "-s", "station=1"]) == 1
    assert "the card stayed silent" in capsys.readouterr().err
    gate = gate_announcement().hex()
    assert main(["tap", "transit-gate", *card, "--poll", access, "--poll", gate,
                 "-s", "station=1"]) == 0
    assert "OPEN" in capsys.readouterr().out
    assert main(["send", "--reader", "0", "--poll", gate, "00A4040000"]) == 2  # a usage error
    assert "no access to its polling loop" in capsys.readouterr().err
