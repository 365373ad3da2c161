"""Traces as Wireshark captures: pcapng export, import, live capture; checked by tshark.

The CRC_A is checked against ISO/IEC 14443-3's examples and recomputed for every
exported frame with an implementation independent of hcekit's (the stdlib's
CRC-CCITT on bit-reversed input); command names and directions come from
tshark's own ISO 14443 and ISO 7816 dissectors.
"""

from __future__ import annotations

import binascii
import dataclasses
import io
import json
import shutil
import struct
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hcekit.capture import (
    BlockKind,
    CaptureFormatError,
    Event,
    Packet,
    PcapngWriter,
    capture_to_trace,
    crc_a,
    read_capture,
    trace_to_packets,
    write_pcapng,
)
from hcekit.capture.iso14443 import BlockError, parse_block
from hcekit.cli import main
from hcekit.conformance.checks import secret_material
from hcekit.conformance.harness import Harness, resolve_plugin_under_test
from hcekit.polling import FrameType, PollingFrame
from hcekit.store import MemoryStore
from hcekit.testing.requirements import missing
from hcekit.tracefile import Exchange, FieldEvent, Trace, format_trace, parse_trace, replay_trace

VECTORS = Path(__file__).parents[1] / "vectors" / "iso14443" / "crc_a.json"
BUILT_IN = ["access", "loyalty", "mrtd", "ndef", "payment", "transit"]
DECODE_AS = ["-d", "iso14443.subdissector,iso7816"]
#: ISO 7816-4 interindustry instructions and the names Wireshark's dissector gives them.
WIRESHARK_NAMES = {
    0xA4: "Select file",
    0xB0: "Read binary",
    0xC0: "Get response",
    0x84: "Get challenge",
    0x82: "External authenticate",
    0x88: "Internal authenticate",
    0xCA: "Get data",
    0xB2: "Read record",
}


def independent_crc_a(data: bytes) -> bytes:
    """CRC_A through the stdlib's non-reflected CRC-CCITT on bit-reversed bytes."""
    def rev(value: int, bits: int) -> int:
        return int(f"{value:0{bits}b}"[::-1], 2)

    crc = binascii.crc_hqx(bytes(rev(b, 8) for b in data), rev(0x6363, 16))
    return rev(crc, 16).to_bytes(2, "little")


def _tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        missing("tshark (Debian package tshark; scripts/install-system-deps.sh installs it)")
    assert path is not None
    return path


def _demo_trace(name: str, store: MemoryStore) -> Trace:
    harness = Harness(resolve_plugin_under_test(name))
    with harness.card(store, record=True) as card:
        assert harness.run_demo_scripts(card) == []
    return parse_trace(io.StringIO(harness.trace.getvalue()))


def _same_exchanges(a: Trace, b: Trace) -> None:
    def strip(event: Exchange | FieldEvent) -> Exchange | FieldEvent:
        return dataclasses.replace(event, line=0)

    assert [strip(e) for e in a.events] == [strip(e) for e in b.events]


# -- ISO 14443 framing ----------------------------------------------------------------------


@pytest.mark.parametrize("vector", json.loads(VECTORS.read_text())["vectors"])
def test_crc_a_matches_the_standard(vector: dict[str, str]) -> None:
    data, expected = bytes.fromhex(vector["data"]), bytes.fromhex(vector["crc"])
    assert crc_a(data) == expected
    assert independent_crc_a(data) == expected


def test_blocks_are_told_apart() -> None:
    def framed(hexdata: str) -> bytes:
        raw = bytes.fromhex(hexdata)
        return raw + independent_crc_a(raw)

    assert parse_block(framed("0300A4")).kind is BlockKind.I
    assert parse_block(framed("1200A4")).chaining
    assert parse_block(framed("A3")).kind is BlockKind.R
    wtx = parse_block(framed("F201"))
    assert wtx.kind is BlockKind.S and not wtx.is_deselect and wtx.inf == b"\x01"
    assert parse_block(framed("C2")).is_deselect
    assert parse_block(framed("0A0100A4")).inf == b"\x00\xa4"  # CID byte skipped
    with pytest.raises(BlockError, match="not an I-, R- or S-block"):
        parse_block(framed("E080"))  # RATS: ISO 14443-3/4 activation, not a block
    with pytest.raises(BlockError, match="CRC_A"):
        parse_block(bytes.fromhex("0200A40000"))


# -- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILT_IN)
def test_trace_to_pcapng_and_back_gives_the_same_exchanges(name: str, tmp_path: Path) -> None:
    trace = _demo_trace(name, MemoryStore())
    assert trace.exchanges
    path = tmp_path / f"{name}.pcapng"
    count = write_pcapng(trace, path)
    blocks = [-(-max(1, n) // 253) for e in trace.exchanges for n in (e.command_length,
                                                                       e.response_length)]
    # each I-block but the last of a message is answered by an R(ACK)
    expected = sum(2 * b - 1 for b in blocks) + sum(isinstance(e, FieldEvent) for e in trace.events)
    assert count == expected
    capture = read_capture(path)
    assert any(f"plugins that answered: {name}" in c for c in capture.comments)
    back, report = capture_to_trace(capture)
    assert report.exchanges == len(trace.exchanges) and not report.problems
    _same_exchanges(trace, back)
    # and the text form of the imported trace parses to the same exchanges too
    _same_exchanges(trace, parse_trace(io.StringIO(format_trace(back))))


def test_redacted_payloads_stay_redacted(tmp_path: Path) -> None:
    trace = _demo_trace("access", MemoryStore())
    redacted = [e for e in trace.exchanges if e.redacted]
    assert redacted, "the access demo has sensitive exchanges (GENERAL AUTHENTICATE)"
    packets = list(trace_to_packets(trace))
    notes = [p for p in packets if any(c.startswith("redacted: ") for c in p.comments)]
    assert len(notes) >= len(redacted)
    for packet in notes:
        (comment,) = [c for c in packet.comments if c.startswith("redacted: ")]
        hidden = int(comment.split()[1])
        inf = packet.frame[1:-2]
        filler = inf[4:] if packet.event is Event.PCD_TO_PICC else inf[:-2]
        assert len(filler) == hidden and set(filler) == {0}


# -- tshark -----------------------------------------------------------------------------------


def _tshark_fields(path: Path, *fields: str) -> list[list[str]]:
    args = [_tshark(), "-r", str(path), *DECODE_AS, "-T", "fields", "-E", "separator=\t"]
    for name in fields:
        args += ["-e", name]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines()]


@pytest.mark.parametrize("name", BUILT_IN)
def test_tshark_decodes_every_exported_demo(name: str, tmp_path: Path) -> None:
    store = MemoryStore()
    trace = _demo_trace(name, store)
    path = tmp_path / f"{name}.pcapng"
    write_pcapng(trace, path)
    rows = _tshark_fields(path, "frame.number", "iso14443.event", "iso14443.pcb", "iso14443.inf",
                          "iso14443.crc", "_ws.col.Protocol", "_ws.col.Info", "_ws.malformed")
    packets = list(trace_to_packets(trace))
    assert len(rows) == len(packets)
    named = 0
    first_of_command: bytes | None = None
    for row, packet in zip(rows, packets, strict=True):
        number, event, pcb, inf, crc, _protocol, info, malformed = row
        assert int(event, 16) == packet.event, f"frame {number}: direction"
        if packet.event in (Event.FIELD_ON, Event.FIELD_OFF):
            assert info == ("Field on" if packet.event is Event.FIELD_ON else "Field off")
            continue
        body = bytes([int(pcb, 16)]) + bytes.fromhex(inf.replace(":", ""))
        assert independent_crc_a(body) == int(crc, 16).to_bytes(2, "little"), f"frame {number}: CRC"
        assert body == packet.frame[:-2], f"frame {number}: tshark saw other bytes"
        block = parse_block(packet.frame)
        if block.kind is not BlockKind.I:
            continue
        if packet.event is Event.PCD_TO_PICC:
            first_of_command = first_of_command or block.inf
            if block.chaining:
                continue
            cla, ins = first_of_command[0], first_of_command[1]
            first_of_command = None
            if cla & 0x80 == 0 and ins in WIRESHARK_NAMES:
                assert info.startswith(WIRESHARK_NAMES[ins]), f"frame {number}: {info!r}"
                named += 1
        elif not block.chaining:
            assert info.startswith("Response APDU"), f"frame {number}: {info!r}"
        redacted = any(c.startswith("redacted") for c in packet.comments)
        assert not malformed or redacted, f"frame {number} is malformed for tshark"
    assert named, "every demo sends at least one interindustry command tshark names"
    # no key material from the plugin's store appears anywhere in the file
    data = path.read_bytes()
    plugin_store = store.namespace(name)
    values = {k: plugin_store.get(k) or b"" for k in plugin_store.keys()}
    for key, secret in secret_material(values):
        for i in range(len(secret) - 8 + 1):
            assert secret[i:i + 8] not in data, f"store key {key!r} leaked into the pcapng"


def test_section_header_names_hcekit_and_the_plugins(tmp_path: Path) -> None:
    _tshark()
    trace = _demo_trace("ndef", MemoryStore())
    path = tmp_path / "ndef.pcapng"
    write_pcapng(trace, path)
    # capinfos comes with tshark (Debian's wireshark-common)
    info = subprocess.run(["capinfos", str(path)], capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    assert "Capture application: hcekit" in info.stdout
    assert "plugins that answered: ndef" in info.stdout
    assert "ISO 14443" in info.stdout


# -- import from other tools -------------------------------------------------------------------


def _sniffer_capture(path: Path, linktype: int = 264) -> None:
    """A classic-pcap capture as an ISO 14443 sniffer writes it: activation frames, a chained
    command with R(ACK), a waiting-time extension, then two ordinary exchanges (NDEF tag)."""
    def frame(hexdata: str, crc: bool = True) -> bytes:
        raw = bytes.fromhex(hexdata)
        return raw + independent_crc_a(raw) if crc else raw

    select_ndef = "00A4040007D276000085010100"
    frames = [
        (0xFC, b""),
        (0xFE, frame("26", crc=False)),          # REQA (7 bits, no CRC)
        (0xFF, frame("0400", crc=False)),        # ATQA
        (0xFE, frame("9320", crc=False)),        # anticollision
        (0xFF, frame("08A1B2C3D2", crc=False)),  # random UID + BCC
        (0xFE, frame("937008A1B2C3D2")),         # SELECT
        (0xFF, frame("20")),                     # SAK: ISO 14443-4 compliant
        (0xFE, frame("E080")),                   # RATS
        (0xFF, frame("0578807002")),             # ATS
        (0xFE, frame("12" + select_ndef[:12])),  # I-block, chaining
        (0xFF, frame("A2")),                     # R(ACK)
        (0xFE, frame("03" + select_ndef[12:])),  # last part
        (0xFF, frame("F201")),                   # S(WTX)
        (0xFE, frame("F201")),                   # S(WTX) answer
        (0xFF, frame("039000")),
        (0xFE, frame("0200A4000C02E103")),       # SELECT capability container
        (0xFF, frame("029000")),
        (0xFE, frame("C2")),                     # DESELECT
        (0xFF, frame("C2")),
        (0xFD, b""),
    ]
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, (event, data) in enumerate(frames):
        payload = struct.pack(">BBH", 0, event, len(data)) + data
        out += struct.pack("<IIII", 1_764_000_000, i * 1000, len(payload), len(payload)) + payload
    path.write_bytes(out)


def test_sniffer_capture_imports_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "sniffer.pcap"
    _sniffer_capture(path)
    trace, report = capture_to_trace(read_capture(path))
    assert report.exchanges == 2 and not report.problems
    assert report.polls == 1  # the REQA is the reader's NFC-A poll
    assert [p.frame for p in trace.polls] == [PollingFrame(FrameType.A, b"\x26")]
    assert report.skipped == {
        "ISO 14443-3 frame(s) or frame(s) with a bad CRC": 7,  # ATQA … ATS
        "R-block(s) (chaining acknowledgements)": 1,
        "S-block(s) (waiting-time extensions and DESELECT answers)": 3,
    }
    (first, second) = trace.exchanges
    assert first.command == bytes.fromhex("00A4040007D276000085010100")
    assert first.response == b"\x90\x00"
    assert second.command == bytes.fromhex("00A4000C02E103")
    from hcekit import Card

    with Card.with_installed_plugins(only=["ndef"], store=MemoryStore()) as card:
        result = replay_trace(trace, card)
    assert result.ok and result.replayed == 2, result.format()


def test_other_link_types_are_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "ethernet.pcap"
    _sniffer_capture(path, linktype=1)
    with pytest.raises(CaptureFormatError, match=r"link type 1 is not supported.*264"):
        read_capture(path)
    (tmp_path / "junk.pcap").write_bytes(b"hello world")
    with pytest.raises(CaptureFormatError, match="not a pcap or pcapng"):
        read_capture(tmp_path / "junk.pcap")


def test_big_endian_pcapng_sections_are_read(tmp_path: Path) -> None:
    def block(kind: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        return struct.pack(">II", kind, 12 + len(body)) + body + struct.pack(">I", 12 + len(body))

    payload = struct.pack(">BBH", 0, 0xFE, 3) + b"\x02\x00\xa4"
    data = (block(0x0A0D0D0A, struct.pack(">IHHq", 0x1A2B3C4D, 1, 0, -1))
            + block(1, struct.pack(">HHI", 264, 0, 0))
            + block(6, struct.pack(">IIIII", 0, 0, 5, len(payload), len(payload)) + payload))
    (tmp_path / "be.pcapng").write_bytes(data)
    (packet,) = read_capture(tmp_path / "be.pcapng").packets
    assert packet.event is Event.PCD_TO_PICC and packet.frame == b"\x02\x00\xa4"


# -- command line -------------------------------------------------------------------------------


def test_cli_export_import_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "demo.trace"
    assert main(["demo", "--quiet", "--only", "ndef", "--record", str(record)]) == 0
    assert main(["trace", "export", str(record)]) == 0
    exported = tmp_path / "demo.pcapng"
    assert exported.exists()
    assert main(["trace", "export", str(record)]) == 1
    assert "the file exists; add --force" in capsys.readouterr().err
    assert main(["trace", "import", str(exported), "-o", str(tmp_path / "back.trace")]) == 0
    back = parse_trace(io.StringIO((tmp_path / "back.trace").read_text()))
    original = parse_trace(io.StringIO(record.read_text()))
    _same_exchanges(original, back)
    (tmp_path / "binary.trace").write_bytes(bytes(range(256)))
    assert main(["trace", "export", str(tmp_path / "binary.trace")]) == 1
    assert "not UTF-8 text" in capsys.readouterr().err


def test_demo_pcap_is_written_live(tmp_path: Path) -> None:
    path = tmp_path / "live.pcapng"
    assert main(["demo", "--quiet", "--only", "mrtd", "--pcap", str(path)]) == 0
    capture = read_capture(path)
    assert any("live capture" in c and "mrtd" in c for c in capture.comments)
    trace, report = capture_to_trace(capture)
    assert report.exchanges > 5 and not report.problems
    assert any(e.redacted for e in trace.exchanges)  # BAC / secure messaging stay hidden


def test_writer_flushes_whole_blocks() -> None:
    out = io.BytesIO()
    writer = PcapngWriter(out, application="test")
    start = out.tell()
    writer.write(Packet(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=7),
                        Event.FIELD_ON))
    block_length = struct.unpack_from("<I", out.getvalue(), start + 4)[0]
    assert out.tell() - start == block_length
