"""``hcekit send --reader`` hides reference data (PINs) without knowing the card."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hcekit import CommandApdu
from hcekit.testing.pcsc import PcscCardFactory

from .pcsc_cards import ECHO_AID, EchoCard

pytestmark = pytest.mark.pcsc

PIN = b"2580"


def _send(served_env: dict[str, str], *argv: str) -> str:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    command = [*([exe] if exe else [sys.executable, "-m", "hcekit.cli"]), "send", *argv]
    result = subprocess.run(command, env=served_env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_send_over_a_reader_hides_a_verify_pin(pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(EchoCard(), connect=False)
    select = CommandApdu(0x00, 0xA4, 0x04, 0x00, ECHO_AID, 256).to_bytes().hex()
    verify = CommandApdu(0x00, 0x20, 0x00, 0x80, PIN + b"\xff" * 4).to_bytes().hex()
    out = _send(served.env, "--reader", served.reader, select, verify)
    assert "00 20 00 80 <9 bytes redacted>" in out
    assert PIN.hex(" ").upper() not in out
    assert ECHO_AID.hex(" ").upper() in out  # the rest is printed as it is
    revealed = _send(served.env, "--reader", served.reader, "--reveal-secrets", select, verify)
    assert PIN.hex(" ").upper() in revealed


def test_tap_over_a_reader_hides_the_pan_and_track_2(pcsc_card: PcscCardFactory) -> None:
    """Issue 31 item 5: over a reader the POS marks what it reads, as the card would."""
    from hcekit.store import MemoryStore
    from hcekit_payment.plugin import PaymentPlugin

    served = pcsc_card(PaymentPlugin(), store=MemoryStore(), connect=False)
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    command = [*([exe] if exe else [sys.executable, "-m", "hcekit.cli"]), "tap", "--reader",
               served.reader, "--trace", "payment-pos"]
    result = subprocess.run(command, env=served.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "redacted" in result.stdout
    pan = "41 11 11 11 11 11 11 11"
    assert pan not in result.stdout and pan.replace(" ", "") not in result.stdout
