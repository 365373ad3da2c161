"""PC/SC Part 3 pseudo-APDUs (class FF) answered by the vpcd host as a contactless reader does.

The first half checks :class:`ContactlessReader` on its own; the second reads
the UID and the historical bytes with pyscard through the private pcscd, the
way a UID-reading app does, and shows the card never sees those commands.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hcekit import SW
from hcekit.atr import ATR_NO_HISTORICAL_BYTES, DEFAULT_ATR, contactless_atr, historical_bytes
from hcekit.hosts.reader_commands import ContactlessReader, check_uid, random_uid
from hcekit.terminal import Terminal
from hcekit.terminal.pcsc import PcscTransport, wait_for_card
from hcekit.testing.pcsc import PcscCardFactory, PrivatePcscd
from hcekit.trace import TraceRecord

from .pcsc_cards import ECHO_AID, EchoCard

GET_UID = bytes.fromhex("FFCA000000")
GET_HISTORICAL = bytes.fromhex("FFCA010000")


def _sw(raw: bytes | None) -> int:
    assert raw is not None
    return int.from_bytes(raw[-2:], "big")


def test_random_uid_is_a_14443_3_random_id_and_changes_per_activation() -> None:
    reader = ContactlessReader(DEFAULT_ATR)
    seen = set()
    for _ in range(20):
        reader.activate()
        answer = reader.answer(GET_UID)
        assert answer is not None and answer[-2:] == b"\x90\x00"
        uid = answer[:-2]
        assert len(uid) == 4 and uid[0] == 0x08
        seen.add(uid)
    assert len(seen) > 15  # 24 random bits per activation


def test_a_fixed_uid_stays() -> None:
    reader = ContactlessReader(DEFAULT_ATR, bytes.fromhex("04A1B2C3D4E5F6"))
    reader.activate()
    assert reader.answer(GET_UID) == bytes.fromhex("04A1B2C3D4E5F6") + b"\x90\x00"


@pytest.mark.parametrize(("atr", "historical"), [
    (DEFAULT_ATR, b"\x80\x56hcekit"),
    (ATR_NO_HISTORICAL_BYTES, b""),
    (contactless_atr(bytes(range(15))), bytes(range(15))),
    (bytes.fromhex("3B8F8001804F0CA000000306030001000000006A"),
     bytes.fromhex("804F0CA000000306030001000000 00".replace(" ", ""))),
])
def test_historical_bytes_come_from_the_presented_atr(atr: bytes, historical: bytes) -> None:
    assert historical_bytes(atr) == historical
    assert ContactlessReader(atr).answer(GET_HISTORICAL) == historical + b"\x90\x00"


@pytest.mark.parametrize(("command", "sw"), [
    ("FFCA000004", SW.NO_ERROR),             # Le = the length
    ("FFCA000002", 0x6C04),                  # Le too short: 6C + the length
    ("FFCA000008", SW.END_OF_FILE_REACHED),  # Le too long: data + 6282
    ("FFCA0000", SW.WRONG_LENGTH),           # no Le
    ("FFCA00000100", SW.WRONG_LENGTH),       # a data field
    ("FFCA020000", SW.FUNCTION_NOT_SUPPORTED),
    ("FFCA000100", SW.FUNCTION_NOT_SUPPORTED),
    ("FFB0000010", SW.FUNCTION_NOT_SUPPORTED),  # storage-card READ BINARY
    ("FF82000006FFFFFFFFFFFF", SW.FUNCTION_NOT_SUPPORTED),  # LOAD KEYS
])
def test_status_words(command: str, sw: int) -> None:
    reader = ContactlessReader(DEFAULT_ATR, bytes.fromhex("11223344"))
    answer = reader.answer(bytes.fromhex(command))
    assert _sw(answer) == sw
    if sw == SW.END_OF_FILE_REACHED:
        assert answer is not None and answer[:-2] == bytes.fromhex("11223344")


def test_other_classes_go_to_the_card() -> None:
    reader = ContactlessReader(DEFAULT_ATR)
    assert reader.answer(bytes.fromhex("00A4040000")) is None
    assert reader.answer(bytes.fromhex("80CA9F3600")) is None
    assert reader.answer(b"\xff") is None  # a 1-byte frame is the host's business
    # class FF outside Part 3: the card core refuses it (6E00) before any plugin
    assert reader.answer(bytes.fromhex("FF42000000")) is None


@pytest.mark.parametrize("uid", ["0102", "8811223344556677", "88112233", "00" * 11])
def test_bad_uids_are_refused(uid: str) -> None:
    with pytest.raises(ValueError, match="UID"):
        check_uid(bytes.fromhex(uid))


def test_random_uid_uses_the_given_source() -> None:
    assert random_uid(lambda n: b"\xab" * n) == bytes.fromhex("08ABABAB")


# -- through pcscd and pyscard --------------------------------------------------------------


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.commands: list[bytes] = []

    def hcekit_trace(self, record: TraceRecord) -> None:
        self.commands.append(record.command)


@pytest.mark.pcsc
def test_pyscard_reads_uid_and_historical_bytes_through_pcscd(
        pcsc_card: PcscCardFactory) -> None:
    recorder = Recorder()
    served = pcsc_card([EchoCard(), recorder])
    terminal = served.terminal
    uid = terminal.transmit(GET_UID)
    assert uid.sw == SW.NO_ERROR
    assert len(uid.data) == 4 and uid.data[0] == 0x08
    assert uid.data == served.host.reader.uid
    historical = terminal.transmit(GET_HISTORICAL)
    assert historical.sw == SW.NO_ERROR
    assert historical.data == historical_bytes(served.transport.atr) == b"\x80\x56hcekit"
    assert terminal.transmit(bytes.fromhex("FFCA050000")).sw == SW.FUNCTION_NOT_SUPPORTED
    assert terminal.transmit(bytes.fromhex("FFB0000010")).sw == SW.FUNCTION_NOT_SUPPORTED
    recorder.commands.clear()
    assert terminal.transmit(bytes.fromhex("FF42000000")).sw == SW.CLA_NOT_SUPPORTED  # the core
    assert recorder.commands == [bytes.fromhex("FF42000000")]
    recorder.commands.clear()
    # the card works as before, and never saw a class FF command
    assert terminal.select(ECHO_AID).sw == SW.NO_ERROR
    assert recorder.commands and not any(c[0] == 0xFF for c in recorder.commands)
    # a new field activation (disconnect, connect: vpcd power off/on) draws a new UID
    uids = {uid.data}
    for _ in range(3):
        terminal.disconnect()
        terminal.connect()
        again = terminal.transmit(GET_UID)
        assert again.sw == SW.NO_ERROR and again.data[0] == 0x08
        uids.add(again.data)
    assert len(uids) > 1


@pytest.mark.pcsc
def test_pyscard_reads_a_fixed_uid(pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(EchoCard(), uid=bytes.fromhex("04112233445566"))
    for _ in range(2):
        assert served.terminal.transmit(GET_UID).data == bytes.fromhex("04112233445566")
        served.terminal.disconnect()
        served.terminal.connect()


@pytest.mark.pcsc
def test_serve_uid_option_end_to_end(pcscd: PrivatePcscd) -> None:
    """``hcekit serve --uid`` in its own process; pyscard reads that UID through pcscd."""
    slot = pcscd.acquire_slot()
    reader = pcscd.reader_name(slot)
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    command = [*([exe] if exe else [sys.executable, "-m", "hcekit.cli"]), "serve",
               "--port", str(pcscd.port(slot)), "--no-installed", "--store", ":memory:",
               "--plugin", "pcsc_cards:EchoCard", "--uid", "04A1B2C3D4E5F6"]
    path = os.pathsep.join(p for p in (str(Path(__file__).parent),
                                       os.environ.get("PYTHONPATH", "")) if p)
    process = subprocess.Popen(command, env=pcscd.subprocess_env({"PYTHONPATH": path}),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_card(reader, True, timeout=20), "serve never showed up in the reader"
        transport = PcscTransport(reader)
        terminal = Terminal(transport)
        with terminal.tap():
            assert terminal.transmit(GET_UID).data == bytes.fromhex("04A1B2C3D4E5F6")
        transport.close()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
        pcscd.release_slot(slot)
        wait_for_card(reader, False, timeout=5)
    assert process.returncode == 0, err


@pytest.mark.parametrize("uid", ["0102", "88112233", "zz"])
def test_serve_refuses_a_bad_uid(uid: str, capsys: pytest.CaptureFixture[str]) -> None:
    from hcekit.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["serve", "--no-installed", "--store", ":memory:", "--uid", uid])
    assert exited.value.code == 2  # a usage error, before anything is served
    assert "--uid" in capsys.readouterr().err
