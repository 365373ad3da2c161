"""``hcekit serve --pcap``: a live pcapng that tshark decodes while a PC/SC client reads the card."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hcekit import SW, CommandApdu
from hcekit.capture import capture_to_trace, read_capture
from hcekit.terminal import Terminal
from hcekit.terminal.pcsc import PcscTransport, wait_for_card
from hcekit.testing.pcsc import PrivatePcscd
from hcekit.testing.requirements import missing

pytestmark = pytest.mark.pcsc

NDEF_AID = bytes.fromhex("D2760000850101")


def test_serve_pcap_is_readable_while_the_card_is_read(pcscd: PrivatePcscd, tmp_path: Path) -> None:
    tshark = shutil.which("tshark")
    if tshark is None:
        missing("tshark (Debian package tshark; scripts/install-system-deps.sh installs it)")
    assert tshark is not None
    slot = pcscd.acquire_slot()
    reader = pcscd.reader_name(slot)
    pcap = tmp_path / "live.pcapng"
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    command = [*([exe] if exe else [sys.executable, "-m", "hcekit.cli"]), "serve",
               "--port", str(pcscd.port(slot)), "--only", "ndef", "--store", ":memory:",
               "--pcap", str(pcap)]
    process = subprocess.Popen(command, env=pcscd.subprocess_env({"PYTHONUNBUFFERED": "1"}),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_card(reader, True, timeout=20), "serve never showed up in the reader"
        transport = PcscTransport(reader)
        terminal = Terminal(transport)
        with terminal.tap():
            assert terminal.select(NDEF_AID).sw == SW.NO_ERROR
            assert terminal.transmit(CommandApdu(0x00, 0xA4, 0x00, 0x0C, b"\xe1\x03")).sw \
                == SW.NO_ERROR
            assert terminal.transmit(CommandApdu(0x00, 0xB0, 0x00, 0x00, le=15)).sw == SW.NO_ERROR
            # the card is still being read: the file is already whole, packet by packet
            result = subprocess.run(
                [tshark, "-r", str(pcap), "-d", "iso14443.subdissector,iso7816",
                 "-T", "fields", "-e", "iso14443.event", "-e", "_ws.col.Info"],
                capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            infos = [line.split("\t") for line in result.stdout.splitlines()]
            assert ["0xfe", "Select file"] in [[e, i.split(",")[0]] for e, i in infos]
            assert any(e == "0xfe" and i.startswith("Read binary, offset 0") for e, i in infos)
            assert any(e == "0xff" and i.startswith("Response APDU (to Read binary)")
                       for e, i in infos)
        transport.close()
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=20)
        pcscd.release_slot(slot)
    assert process.returncode == 0, err
    trace, report = capture_to_trace(read_capture(pcap))
    assert not report.problems, report.format()
    commands = [e.command for e in trace.exchanges]
    assert bytes.fromhex("00A4040007D276000085010100") in commands or any(
        c is not None and c[:4] == bytes.fromhex("00A40400") and NDEF_AID in c for c in commands)
    assert any(c == bytes.fromhex("00B000000F") for c in commands)
