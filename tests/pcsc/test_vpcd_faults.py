"""Every frame gets an answer: faults in plugins, odd frames and shutdown, through pcscd.

vpcd waits for the card's answer with no timeout, so a frame the host does
not answer hangs the reader for every PC/SC client. Each test sends through
the real pcscd with pyscard and bounds the wait itself, so a regression fails
(and frees the reader by stopping the host) instead of hanging the suite.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hcekit import SW, CommandApdu, DeactivationReason
from hcekit.terminal import Terminal
from hcekit.terminal.pcsc import PcscTransport, wait_for_card
from hcekit.testing.pcsc import PcscCard, PcscCardFactory, PrivatePcscd

from .pcsc_cards import ECHO_AID, INS_ECHO, INS_HANG, INS_RAISE, RAISED, EchoCard

pytestmark = pytest.mark.pcsc

#: Far longer than any answer takes; vpcd itself would wait for ever.
ANSWER_WITHIN = 10.0

SW_UNKNOWN = SW.UNKNOWN.to_bytes(2, "big")
SW_WRONG_LENGTH = SW.WRONG_LENGTH.to_bytes(2, "big")


def _in_thread(action: Callable[[], bytes]) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["response"] = action()
        except BaseException as exc:  # reported by the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def answer(served: PcscCard, command: bytes, transport: PcscTransport | None = None) -> bytes:
    """The card's answer through pcscd, or a failure (not a hang) when none comes."""
    transport = transport or served.transport
    thread, outcome = _in_thread(lambda: transport.transmit(command))
    thread.join(ANSWER_WITHIN)
    if thread.is_alive():
        served.host.stop_serving()  # closing the connection frees vpcd (and the client)
        pytest.fail(f"no answer to {command.hex().upper()} within {ANSWER_WITHIN} s: "
                    "the reader hangs")
    if "error" in outcome:
        raise AssertionError(f"transmit failed: {outcome['error']!r}")
    response = outcome["response"]
    assert isinstance(response, bytes)
    return response


def echo(served: PcscCard, data: bytes, transport: PcscTransport | None = None) -> bytes:
    return answer(served, CommandApdu(0x00, INS_ECHO, 0, 0, data, 256).to_bytes(), transport)


def test_a_plugin_raising_any_base_exception_is_answered_6f00(
    pcsc_card: PcscCardFactory, caplog: pytest.LogCaptureFixture
) -> None:
    served = pcsc_card(EchoCard())
    select = CommandApdu(0x00, 0xA4, 0x04, 0x00, ECHO_AID, 256).to_bytes()
    assert answer(served, select)[-2:] == b"\x90\x00"
    with caplog.at_level(logging.ERROR):
        for index, kind in enumerate(RAISED):
            raised = CommandApdu(0x00, INS_RAISE, index, 0, b"", 256).to_bytes()
            assert answer(served, raised) == SW_UNKNOWN, kind.__name__
            # the same session goes on: the application is still selected
            assert echo(served, kind.__name__.encode()) == kind.__name__.encode() + b"\x90\x00"
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    for kind in RAISED:
        assert kind.__name__ in logged  # each failure logged with its traceback
    # another client, in a new tap, is served too
    served.terminal.disconnect()
    other = PcscTransport(served.reader)
    try:
        other.connect()
        assert answer(served, select, other)[-2:] == b"\x90\x00"
        assert echo(served, b"next", other) == b"next\x90\x00"
    finally:
        other.close()


@pytest.mark.parametrize("value", [0x03, 0x41, 0x80, 0xFF])
def test_a_one_byte_apdu_is_answered_6700(pcsc_card: PcscCardFactory, value: int) -> None:
    served = pcsc_card(EchoCard())
    served.terminal.select(ECHO_AID)
    assert answer(served, bytes([value])) == SW_WRONG_LENGTH
    assert echo(served, b"still here") == b"still here\x90\x00"
    assert served.card.selected is not None  # a wrong length changes nothing


def test_a_one_byte_apdu_04_reads_as_vpcd_s_atr_request(pcsc_card: PcscCardFactory) -> None:
    """vpcd frames the APDU 04 like its ATR request: the client gets the ATR (docs/pcsc.md)."""
    served = pcsc_card(EchoCard())
    assert answer(served, b"\x04") == served.atr


def test_a_one_byte_apdu_00_is_reported_with_advice(
    pcsc_card: PcscCardFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """00 reads as vpcd's power-off: unanswerable, but said at WARNING and recoverable."""
    served = pcsc_card(EchoCard())
    with caplog.at_level(logging.WARNING, logger="hcekit.vpcd"):
        thread, _outcome = _in_thread(lambda: served.transport.transmit(b"\x00"))
        deadline = time.monotonic() + ANSWER_WITHIN
        while not served.host.stats.silent_after_power and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served.host.stats.silent_after_power == 1
        served.host.stop_serving()  # what the advice says: restart the host
        thread.join(ANSWER_WITHIN)
        assert not thread.is_alive()
    warning = next(r.getMessage() for r in caplog.records
                   if r.levelno == logging.WARNING and "1-byte APDU 00" in r.getMessage())
    assert "POWER_OFF" in warning and "at least 4 bytes" in warning
    # served again after the restart, for a new client
    served.host.start()
    assert served.wait_present(True, timeout=ANSWER_WITHIN)
    fresh = PcscTransport(served.reader)
    try:
        fresh.connect()
        assert answer(served, CommandApdu(0x00, 0xA4, 0x04, 0x00, ECHO_AID, 256).to_bytes(),
                      fresh)[-2:] == b"\x90\x00"
    finally:
        fresh.close()


def _stop_during_hang(served: PcscCard, plugin: EchoCard,
                      release_after: float | None) -> tuple[bytes, float]:
    served.terminal.select(ECHO_AID)
    thread, outcome = _in_thread(
        lambda: served.transport.transmit(CommandApdu(0x00, INS_HANG, 0, 0, b"", 256).to_bytes()))
    assert plugin.hanging.wait(ANSWER_WITHIN)
    if release_after is not None:
        threading.Timer(release_after, plugin.release.set).start()
    started = time.monotonic()
    served.host.stop()
    stopped_in = time.monotonic() - started
    thread.join(ANSWER_WITHIN)
    plugin.release.set()
    assert not thread.is_alive()
    response = outcome.get("response")
    assert isinstance(response, bytes), outcome
    return response, stopped_in


def test_stopping_mid_apdu_delivers_the_card_s_answer(pcsc_card: PcscCardFactory) -> None:
    plugin = EchoCard()
    served = pcsc_card(plugin, deadline=5.0)
    response, _ = _stop_during_hang(served, plugin, release_after=0.3)
    assert response == b"late\x90\x00"  # never an empty "success"
    # the card was powered off before it closed
    assert ("deactivated", DeactivationReason.LINK_LOSS) in plugin.events
    assert not served.card.field_active


def test_stopping_with_a_stuck_plugin_answers_6f00(pcsc_card: PcscCardFactory) -> None:
    plugin = EchoCard()
    served = pcsc_card(plugin, deadline=0.5)
    response, _ = _stop_during_hang(served, plugin, release_after=None)
    assert response == SW_UNKNOWN
    assert served.host.stats.deadline_misses == 1


HERE = Path(__file__).parent


def test_serve_outlives_a_plugin_raising_keyboard_interrupt_and_stops_on_ctrl_c(
    pcscd: PrivatePcscd,
) -> None:
    exe = shutil.which("hcekit", path=str(Path(sys.executable).parent))
    command = [*([exe] if exe else [sys.executable, "-m", "hcekit.cli"]), "serve", "--no-installed",
               "--store", ":memory:", "--plugin", "pcsc_cards:EchoCard"]
    slot = pcscd.acquire_slot()
    reader = pcscd.reader_name(slot)
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    process = subprocess.Popen([*command, "--port", str(pcscd.port(slot))],
                               env=pcscd.subprocess_env({"PYTHONPATH": path}),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_card(reader, True, timeout=20), "serve never showed up in the reader"
        transport = PcscTransport(reader)
        terminal = Terminal(transport)
        interrupt = RAISED.index(KeyboardInterrupt)
        with terminal.tap():
            assert terminal.select(ECHO_AID).sw == SW.NO_ERROR
            raised = terminal.transmit(CommandApdu(0x00, INS_RAISE, interrupt, 0, b"", 256))
            assert raised.sw == SW.UNKNOWN
            assert terminal.transmit(CommandApdu(0x00, INS_ECHO, 0, 0, b"on", 256)).data == b"on"
        transport.close()
        assert process.poll() is None  # the plugin's KeyboardInterrupt did not stop serve
    finally:
        process.send_signal(signal.SIGINT)  # the user's Ctrl-C does
        out, err = process.communicate(timeout=30)
        pcscd.release_slot(slot)
        wait_for_card(reader, False, timeout=5)
    assert process.returncode == 0, err
    assert "hcekit: stopped" in out
    assert "KeyboardInterrupt" in err  # logged with its traceback
