"""The conformance kit's Ne rules (ISO/IEC 7816-4 §5.1) in the `malformed` check.

A card that answers 255 bytes to Le 00, or data to a READ BINARY without Le,
fails; the built-in plugins that return data declare reads long enough
(> 256 bytes) for the rule to bite, and pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hcekit import SW, AppContext, Card, Claim, CommandApdu, IsoError, PluginContext, ResponseApdu
from hcekit.conformance import run_conformance
from hcekit.conformance.checks import ReadProbe, ne_probes
from hcekit.conformance.harness import Harness, resolve_plugin_under_test
from hcekit.hosts import LoopbackHost
from hcekit.read_binary import read_binary
from hcekit.terminal import LoopbackTransport, Terminal

AID = bytes.fromhex("F04B49544E453031")
FILE = bytes(range(256)) * 3  # 768 bytes


class _FileCard:
    name = "filecard"
    conformance = {"reads": [{"aid": AID.hex(), "read": "00B00000"}]}

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(AID, description="kit Ne test")]

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu:
        if command.ins != 0xB0:
            raise IsoError(SW.INS_NOT_SUPPORTED)
        return self.read(command)

    def read(self, command: CommandApdu) -> bytes | ResponseApdu:
        return read_binary(FILE, (command.p1 << 8) | command.p2, command)


class GoodFileCard(_FileCard):
    pass


class CappedFileCard(_FileCard):
    """Reads Le 00 as 255 (a one-byte Le taken literally): the bug of issue 15."""

    def read(self, command: CommandApdu) -> bytes:
        offset = (command.p1 << 8) | command.p2
        return FILE[offset:offset + min(command.le or 256, 255)]


class Case1FileCard(_FileCard):
    """Answers a READ BINARY without Le with data."""

    def read(self, command: CommandApdu) -> bytes | ResponseApdu:
        if command.le is None:
            return FILE[:16]
        return super().read(command)


def _malformed(plugin: type, tmp: Path) -> tuple[str, str]:
    report = run_conformance(plugin, tmp=tmp, checks=["malformed"])
    (result,) = report.results
    return result.status, result.detail


def test_a_card_following_iso_passes(tmp_path: Path) -> None:
    assert _malformed(GoodFileCard, tmp_path)[0] == "passed"


def test_le_00_answered_with_255_bytes_fails(tmp_path: Path) -> None:
    status, detail = _malformed(CappedFileCard, tmp_path)
    assert status == "failed"
    assert "with Le 00 returned 255 bytes and 9000, yet the file goes on" in detail
    assert "Ne = 256" in detail


def test_case_1_read_binary_with_data_fails(tmp_path: Path) -> None:
    status, detail = _malformed(Case1FileCard, tmp_path)
    assert status == "failed"
    assert "without Le (case 1) returned 16 bytes" in detail


@pytest.mark.parametrize("plugin", ["ndef", "mrtd", "access"])
def test_built_in_file_readers_declare_reads_longer_than_256(plugin: str) -> None:
    harness = Harness(resolve_plugin_under_test(plugin))
    declared = [p for p in ne_probes(harness) if not p.name.startswith("SELECT")]
    assert declared, f"{plugin} declares no read for the Ne check"
    longest = 0
    for probe in declared:
        with harness.card() as card:
            terminal = Terminal(LoopbackTransport(LoopbackHost(card)), auto_get_response=False)
            with terminal.tap():
                longest = max(longest, len(probe.send(terminal, 65536, True).data))
    assert longest > 256


@pytest.mark.parametrize("plugin", ["payment", "transit", "loyalty", "ndef", "mrtd", "access"])
def test_every_built_in_plugin_gets_the_ne_check(plugin: str) -> None:
    harness = Harness(resolve_plugin_under_test(plugin))
    probes = ne_probes(harness)
    assert all(isinstance(p, ReadProbe) for p in probes)
    assert any(p.name.startswith("SELECT") for p in probes)


def test_short_and_extended_ne_through_the_core() -> None:
    """The core itself: Le 00 → 256 then 61xx, Le 0000 → everything, no Le → everything
    for a non-READ BINARY command (the core does not second-guess a plugin's answer)."""
    card = Card([GoodFileCard()])
    card.field_on()
    card.transceive(bytes.fromhex("00A4040008") + AID + b"\x00")
    short = ResponseApdu.parse(card.transceive(bytes.fromhex("00B0000000")))
    assert len(short.data) == 256 and short.sw == SW.NO_ERROR
    extended = ResponseApdu.parse(card.transceive(bytes.fromhex("00B00000000000")))
    assert extended.data == FILE and extended.sw == SW.NO_ERROR
    ff = ResponseApdu.parse(card.transceive(bytes.fromhex("00B00000FF")))
    assert len(ff.data) == 255
    eof = ResponseApdu.parse(card.transceive(bytes.fromhex("00B00300FF")))
    assert (len(eof.data), eof.sw) == (0, SW.WRONG_P1P2)  # offset 768 is past the end
    tail = ResponseApdu.parse(card.transceive(bytes.fromhex("00B002F0FF")))
    assert (len(tail.data), tail.sw) == (16, SW.END_OF_FILE_REACHED)
    tail00 = ResponseApdu.parse(card.transceive(bytes.fromhex("00B002F000")))
    assert (len(tail00.data), tail00.sw) == (16, SW.NO_ERROR)
    case1 = ResponseApdu.parse(card.transceive(bytes.fromhex("00B00000")))
    assert (case1.data, case1.sw) == (b"", SW.WRONG_LENGTH)
    card.close()
