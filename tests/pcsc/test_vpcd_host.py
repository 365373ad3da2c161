"""VpcdHost behaviour that needs no pcscd: arguments and the nothing-listens path."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from hcekit import Card
from hcekit.atr import AtrError
from hcekit.hosts.vpcd import VpcdHost
from hcekit.hosts.vpcd_connection import HELP_NOT_LISTENING
from hcekit.testing.pcsc import free_port_block


def test_nothing_listening_is_reported_with_the_fix(caplog: pytest.LogCaptureFixture) -> None:
    card = Card([])
    host = VpcdHost(card, free_port_block(1), reconnect=False)
    with caplog.at_level(logging.ERROR, logger="hcekit.vpcd"):
        host.start()
        host._stopped.wait(5)
        host.stop()
    assert not host.connected
    assert any(HELP_NOT_LISTENING in r.getMessage() for r in caplog.records)


def test_reconnecting_host_stops_promptly_while_waiting(caplog: pytest.LogCaptureFixture) -> None:
    host = VpcdHost(Card([]), free_port_block(1), backoff=(0.01, 0.05))
    with caplog.at_level(logging.WARNING, logger="hcekit.vpcd"):
        host.start()
        assert not host.wait_connected(0.3)
        host.stop()
    warnings = [r for r in caplog.records if HELP_NOT_LISTENING in r.getMessage()]
    assert len(warnings) == 1  # warned once, retries at debug level
    assert host.stats.connects == 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(AtrError):
        VpcdHost(Card([]), atr=b"\x3b")
    with pytest.raises(ValueError, match="deadline"):
        VpcdHost(Card([]), deadline=0)


BLOCK_PYSCARD = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "smartcard" or name.startswith("smartcard."):
            raise ImportError("pyscard hidden for this test")
sys.meta_path.insert(0, Block())
import hcekit.cli.pcsc_commands, hcekit.hosts.vpcd, hcekit.terminal.pcsc, hcekit.testing.pcsc
from hcekit.errors import HcekitError
from hcekit.terminal.pcsc import list_readers
try:
    list_readers()
except HcekitError as exc:
    print("ERROR:", exc)
"""


def test_modules_import_without_pyscard() -> None:
    result = subprocess.run([sys.executable, "-c", BLOCK_PYSCARD], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "ERROR: PC/SC needs pyscard: pip install 'hcekit[pcsc]'" in result.stdout
