"""PC/SC resources and ports (issue 31 items 8 and 9).

Item 9: each PcscTransport held a PC/SC context until close(); Terminal.tap()
did not release it, so a long-running terminal reached pcscd's limit of 200
contexts and pcscd then refused every client. Item 8: a second host on a busy
vpcd port sat in vpcd's listen backlog, said "connected" and served nothing.
"""

from __future__ import annotations

import time

from hcekit import Card
from hcekit.hosts.vpcd import VpcdHost
from hcekit.terminal import Terminal
from hcekit.terminal.pcsc import PcscTransport
from hcekit.testing.pcsc import PcscCardFactory

from .pcsc_cards import ECHO_AID, EchoCard


def test_a_tap_releases_the_pcsc_context(pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(EchoCard(), connect=False)
    transport = PcscTransport(served.reader, wait=5.0)
    terminal = Terminal(transport)
    for _ in range(3):
        with terminal.tap():
            assert terminal.select(ECHO_AID).ok
            assert transport.holds_context
        assert not transport.holds_context  # released with the tap, re-made by the next
    with PcscTransport(served.reader, wait=5.0) as managed:
        managed.connect()
        assert managed.holds_context
    assert not managed.holds_context and not managed.connected


def test_a_second_host_on_a_busy_port_fails_naming_the_port(
        pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(EchoCard())
    second = VpcdHost(Card([EchoCard()]), served.port)
    second.start()
    try:
        deadline = time.monotonic() + 10
        while second.failure is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.failure is not None and str(served.port) in second.failure
        assert not second.connected
    finally:
        second.stop()
    assert served.terminal.select(ECHO_AID).ok  # the first card never noticed


def test_serve_on_a_busy_port_exits_naming_the_port(pcsc_card: PcscCardFactory) -> None:
    import subprocess
    import sys
    from pathlib import Path

    served = pcsc_card(EchoCard())
    exe = Path(sys.executable).parent / "hcekit"
    done = subprocess.run([str(exe), "serve", "--port", str(served.port), "--no-installed",
                           "--store", ":memory:"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"hcekit: error: vpcd port {served.port} on 127.0.0.1 is taken" in done.stderr
    assert served.terminal.select(ECHO_AID).ok
