"""``hcekit serve`` and ``hcekit readers`` against the private pcscd."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hcekit import SW, CommandApdu
from hcekit.atr import ATR_NO_HISTORICAL_BYTES
from hcekit.terminal import Terminal
from hcekit.terminal.pcsc import PcscTransport, list_readers, wait_for_card
from hcekit.testing.pcsc import PcscCardFactory, PrivatePcscd, free_port_block

from .pcsc_cards import ECHO_AID, INS_ECHO, EchoCard

pytestmark = pytest.mark.pcsc

HERE = Path(__file__).parent


def _hcekit() -> list[str]:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "hcekit.cli"]


def _env(pcscd: PrivatePcscd) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    return pcscd.subprocess_env({"PYTHONPATH": path, "PYTHONUNBUFFERED": "1"})


def test_readers_lists_the_card_and_atr(pcsc_card: PcscCardFactory, pcscd: PrivatePcscd) -> None:
    served = pcsc_card(EchoCard(), connect=False)
    result = subprocess.run([*_hcekit(), "readers"], env=_env(pcscd), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if served.reader in line)
    assert line.startswith(f"{served.reader_index}: ")
    assert served.atr.hex(" ").upper() in line


def test_serve_runs_plugins_behind_vpcd(pcscd: PrivatePcscd, tmp_path: Path) -> None:
    slot = pcscd.acquire_slot()
    reader = pcscd.reader_name(slot)
    record = tmp_path / "session.trace"
    command = [*_hcekit(), "serve", "--port", str(pcscd.port(slot)), "--no-installed",
               "--store", ":memory:", "--plugin", "pcsc_cards:EchoCard", "--trace",
               "--atr", ATR_NO_HISTORICAL_BYTES.hex(), "--record", str(record)]
    process = subprocess.Popen(command, env=_env(pcscd), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_card(reader, True, timeout=20), "serve never showed up in the reader"
        info = next(i for i in list_readers() if i.name == reader)
        assert info.atr == ATR_NO_HISTORICAL_BYTES
        transport = PcscTransport(reader)
        terminal = Terminal(transport)
        with terminal.tap():
            assert terminal.select(ECHO_AID).sw == SW.NO_ERROR
            assert terminal.transmit(CommandApdu(0x00, INS_ECHO, 0, 0, b"\xca\xfe", 256)).data \
                == b"\xca\xfe"
        transport.close()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
        pcscd.release_slot(slot)
        wait_for_card(reader, False, timeout=5)
    assert process.returncode == 0, err
    assert "serving echo" in out and "stopped" in out
    assert ">> 00 01 00 00 02 CA FE 00" in err and "<< CA FE 90 00" in err
    recorded = record.read_text()
    assert "CA FE" in recorded.upper()


#: SP 800-73-4's PIV AID without version as compact-TLV historical bytes (category 80,
#: tag F "application identifier", length 9) in a PC/SC part 3 contactless ATR.
PIV_CONTACTLESS_ATR = bytes.fromhex("3B8B800180F9A00000030800001000C8")


def _served_atr(pcscd: PrivatePcscd, tmp_path: Path, *extra: str) -> bytes:
    """Start ``hcekit serve --only access`` with *extra* options; the ATR pyscard reads."""
    slot = pcscd.acquire_slot()
    reader = pcscd.reader_name(slot)
    command = [*_hcekit(), "serve", "--port", str(pcscd.port(slot)), "--only", "access",
               "--store", str(tmp_path / "store.sqlite"), *extra]
    process = subprocess.Popen(command, env=_env(pcscd), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_card(reader, True, timeout=20), "serve never showed up in the reader"
        return next(i for i in list_readers() if i.name == reader).atr
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
        pcscd.release_slot(slot)
        wait_for_card(reader, False, timeout=5)
        assert process.returncode == 0, err


def test_serve_only_access_presents_the_piv_atr(pcscd: PrivatePcscd, tmp_path: Path) -> None:
    """The access plugin says its ATR (hcekit_atr); no --atr needed."""
    assert _served_atr(pcscd, tmp_path) == PIV_CONTACTLESS_ATR


def test_serve_atr_option_wins_over_the_plugin(pcscd: PrivatePcscd, tmp_path: Path) -> None:
    atr = _served_atr(pcscd, tmp_path, "--atr", ATR_NO_HISTORICAL_BYTES.hex())
    assert atr == ATR_NO_HISTORICAL_BYTES != PIV_CONTACTLESS_ATR


def test_serve_rejects_a_bad_atr() -> None:
    result = subprocess.run([*_hcekit(), "serve", "--no-installed", "--store", ":memory:",
                             "--atr", "3B80800100"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2  # a refused value (issue 31 item 12)
    assert result.stderr.startswith("hcekit: error: --atr") and "TCK" in result.stderr
    short = subprocess.run([*_hcekit(), "serve", "--no-installed", "--store", ":memory:",
                            "--atr", "3B"], capture_output=True, text=True, timeout=60)
    assert short.returncode == 2 and len(short.stderr.splitlines()) == 1, short.stderr


def test_serve_without_vpcd_says_what_to_run() -> None:
    port = free_port_block(1)
    process = subprocess.Popen(
        [*_hcekit(), "serve", "--port", str(port), "--no-installed", "--store", ":memory:"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        # SIGTERM only once serve says it runs: sooner, Python's default action kills it
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if "Ctrl-C to stop" in line:
                break
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    out = "".join(seen) + out
    assert process.returncode == 0, err
    assert "is pcscd with vsmartcard-vpcd running? see docs/pcsc.md" in err
    assert f"waiting for vpcd on 127.0.0.1:{port}" in out


def test_send_reaches_the_card_through_a_reader(
    pcsc_card: PcscCardFactory, pcscd: PrivatePcscd
) -> None:
    served = pcsc_card(EchoCard(), connect=False)
    select = "00A4040008" + ECHO_AID.hex() + "00"
    result = subprocess.run(
        [*_hcekit(), "send", "--reader", served.reader, select, "0001000003ABCDEF00"],
        env=_env(pcscd), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "<< AB CD EF 90 00" in result.stdout
