"""The APDU path on a real JVM: reader → NFC service model → shim → pyjnius → Card → answer.

Every exchange crosses the model's threads as on a phone: the NFC service's
thread, the app's main thread (processCommandApdu, onDeactivated, and every
sendResponseApdu, which only posts to it), and the shim's dispatch thread.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import SW, Card, CommandApdu, DeactivationReason, ResponseApdu
from hcekit.hosts import LoopbackHost
from hcekit.ndef import decode_message
from hcekit.sw import sw_bytes
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit_android.desktop import NfcStackTransport, install_service
from hcekit_ndef import NdefPlugin
from hcekit_ndef.reader import read_ndef

from .android_plugins import INS_BLOCK, INS_ECHO, INS_REFUSE, PROBE_AID, Probe
from .android_support import HostFactory, log_lines, select, static_xml

pytestmark = pytest.mark.jvm

DISPATCH = ["worker", "inline"]
SELECT_PROBE = select(PROBE_AID)
BLOCK = CommandApdu(0x80, INS_BLOCK, 0, 0).to_bytes()
UNKNOWN = sw_bytes(SW.UNKNOWN)
TIMEOUT_MS = 5000


def send(stack: Any, command: bytes | str) -> ResponseApdu:
    raw = bytes.fromhex(command) if isinstance(command, str) else command
    answer = stack.transceive(raw, TIMEOUT_MS)
    assert answer is not None, "the phone left the reader without an answer"
    return ResponseApdu.parse(bytes(answer))


def wait_for(condition: Any, what: str) -> None:
    """Poll *condition* (events here come from other threads); fail after 10 s."""
    end = time.monotonic() + 10
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.mark.parametrize("dispatch", DISPATCH)
def test_commands_reach_the_plugin_and_answers_come_back(
        make_host: HostFactory, stack: Any, dispatch: str) -> None:
    probe = Probe()
    make_host([probe], dispatch=dispatch)
    echo = CommandApdu(0x80, INS_ECHO, 0, 0, b"\x01\x02\x03", 256).to_bytes()
    refuse = CommandApdu(0x80, INS_REFUSE, 0, 0).to_bytes()
    assert send(stack, SELECT_PROBE).sw == SW.NO_ERROR
    assert send(stack, echo) == ResponseApdu(b"\x03\x02\x01", SW.NO_ERROR)
    assert send(stack, refuse).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED
    assert probe.commands == [echo, refuse]
    assert stack.unsolicitedResponses() == 0 and stack.droppedResponses() == 0


def test_worker_dispatch_is_the_default(jvm: SimpleNamespace, make_host: HostFactory) -> None:
    host = make_host([Probe()])
    assert host.dispatch == "worker"
    assert not jvm.Bridge.isInlineDispatch()


def test_long_answers_chain_through_get_response(make_host: HostFactory, stack: Any) -> None:
    make_host([Probe()])
    send(stack, SELECT_PROBE)
    data = bytes(range(256)) * 2
    first = send(stack, CommandApdu(0x80, INS_ECHO, 0, 0, data, 256).to_bytes())
    assert first.sw >> 8 == 0x61
    rest = send(stack, "00C0000000")
    assert first.data + rest.data == bytes(reversed(data))


def test_ndef_plugin_reads_the_same_through_the_jvm_as_in_process(
        make_host: HostFactory, stack: Any) -> None:
    options = {"ndef": {"url": "https://hcekit.example/android", "text": "over pyjnius"}}
    make_host(Card([NdefPlugin], options=options))
    over_jvm = read_ndef(Terminal(NfcStackTransport(stack)))
    loopback = LoopbackHost(Card([NdefPlugin], options=options))
    with loopback:
        term = Terminal(LoopbackTransport(loopback))
        with term.tap():
            in_process = read_ndef(term)
    assert over_jvm == in_process
    uris = [r for r in decode_message(over_jvm) if r.type == b"U"]
    assert uris, "the message should hold the URI record"


# -- the deadline -------------------------------------------------------------------------


def test_deadline_answers_6f00_while_the_plugin_is_still_running(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    """Worker dispatch: the main thread is free, so the timer's 6F00 leaves at the deadline."""
    probe = Probe()
    make_host([probe], deadline_ms=50)
    send(stack, SELECT_PROBE)
    timeouts, stale = jvm.Bridge.getTimeouts(), jvm.Bridge.getStaleAnswers()
    stack.submit(BLOCK)
    assert probe.blocked.wait(10)
    answer = stack.awaitAnswer(TIMEOUT_MS)
    assert not probe.release.is_set(), "the plugin was released before the answer came"
    assert answer is not None and bytes(answer) == UNKNOWN
    assert jvm.Bridge.getTimeouts() == timeouts + 1
    assert any("no answer to command" in line and "6F00" in line for line in log_lines(jvm))
    probe.release.set()  # the plugin now answers, too late: dropped by the shim
    echoed = send(stack, CommandApdu(0x80, INS_ECHO, 0, 0, b"\xAA\xBB").to_bytes())
    assert echoed == ResponseApdu(b"\xBB\xAA", SW.NO_ERROR)
    assert jvm.Bridge.getStaleAnswers() == stale + 1
    assert stack.unsolicitedResponses() == 0


def test_inline_dispatch_holds_the_deadline_answer_until_the_plugin_returns(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    """Why inline is unsafe: the 6F00 is posted to the main thread the plugin is blocking."""
    probe = Probe()
    make_host([probe], dispatch="inline", deadline_ms=50)
    send(stack, SELECT_PROBE)
    timeouts, stale = jvm.Bridge.getTimeouts(), jvm.Bridge.getStaleAnswers()
    stack.submit(BLOCK)
    assert probe.blocked.wait(10)
    wait_for(lambda: jvm.Bridge.getTimeouts() == timeouts + 1, "the deadline timer")
    time.sleep(0.2)  # room for a (wrong) delivery; the assertion below does not depend on it
    assert not stack.answerReady(), "6F00 left although the main thread is blocked"
    probe.release.set()
    answer = stack.awaitAnswer(TIMEOUT_MS)
    assert answer is not None and bytes(answer) == UNKNOWN  # the deadline's, only now
    assert jvm.Bridge.getStaleAnswers() == stale + 1  # the plugin's own answer: dropped


def test_a_command_whose_deadline_passed_in_the_queue_is_not_delivered(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe], deadline_ms=50)
    send(stack, SELECT_PROBE)
    stack.submit(BLOCK)
    assert probe.blocked.wait(10)
    assert bytes(stack.awaitAnswer(TIMEOUT_MS)) == UNKNOWN
    # the dispatch thread is still inside the plugin: this command waits behind it
    assert send(stack, "8001000001AA").to_bytes() == UNKNOWN
    probe.release.set()
    assert jvm.Bridge.awaitDispatched(TIMEOUT_MS)
    assert probe.commands == [BLOCK], "an expired command reached the plugin"
    assert any("not delivered: already answered" in line for line in log_lines(jvm))
    assert send(stack, "8001000001BB") == ResponseApdu(b"\xBB", SW.NO_ERROR)


@pytest.mark.parametrize("exception", [RuntimeError, KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("dispatch", DISPATCH)
def test_python_exception_answers_6f00_at_once(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any,
        monkeypatch: pytest.MonkeyPatch, dispatch: str, exception: type[BaseException]) -> None:
    host = make_host([Probe()], deadline_ms=60_000, dispatch=dispatch)
    send(stack, SELECT_PROBE)
    failures = jvm.Bridge.getFailures()

    def broken(command: bytes) -> bytes:
        raise exception("bug in the host")

    monkeypatch.setattr(host.bridge, "transceive", broken)
    # The deadline is a minute: an answer within TIMEOUT_MS comes from the failure path.
    assert send(stack, "8001000001AA").to_bytes() == UNKNOWN
    assert jvm.Bridge.getFailures() == failures + 1
    monkeypatch.undo()
    assert send(stack, "8001000001AA") == ResponseApdu(b"\xAA", SW.NO_ERROR)


def test_raising_python_listener_never_leaves_the_reader_hanging(
        jvm: SimpleNamespace, stack: Any) -> None:
    from jnius import PythonJavaClass, java_method

    class Raising(PythonJavaClass):  # type: ignore[misc]
        __javainterfaces__ = ["org/hcekit/bridge/ApduListener"]
        __javacontext__ = "app"

        @java_method("(I[B)Z")  # type: ignore[untyped-decorator]
        def onCommand(self, serial: int, command: Any) -> bool:
            raise ValueError("plugin author's bug")

        @java_method("(I)V")  # type: ignore[untyped-decorator]
        def onDeactivated(self, reason: int) -> None:
            raise ValueError("plugin author's bug")

    install_service(static_xml([PROBE_AID.hex().upper()]))
    listener = Raising()
    jvm.Bridge.setDeadlineMillis(60_000)
    jvm.Bridge.setListener(listener)
    try:
        assert send(stack, SELECT_PROBE).to_bytes() == UNKNOWN
        stack.fieldOff()  # must not propagate into the NFC stack
        assert jvm.Bridge.awaitDispatched(TIMEOUT_MS)
        assert send(stack, SELECT_PROBE).to_bytes() == UNKNOWN
    finally:
        jvm.Bridge.clearListener(listener)


def test_answer_without_status_word_is_replaced_by_6f00(jvm: SimpleNamespace, stack: Any) -> None:
    from hcekit_android.bridge import CardBridge, make_listener

    class Short(CardBridge):
        def transceive(self, command: bytes) -> bytes:
            return b"\x90"

    install_service(static_xml([PROBE_AID.hex().upper()]))
    listener = make_listener(Short(Card([Probe()])))
    jvm.Bridge.setListener(listener)
    try:
        assert send(stack, SELECT_PROBE).to_bytes() == UNKNOWN
        assert any("no status word" in line for line in log_lines(jvm))
    finally:
        jvm.Bridge.clearListener(listener)


# -- cold start, deactivation, routing ---------------------------------------------------------


def test_cold_start_command_is_held_until_python_attaches(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    install_service(static_xml([PROBE_AID.hex().upper()]))  # routes before Python registers
    jvm.Bridge.setDeadlineMillis(60_000)
    stack.submit(SELECT_PROBE)
    stack.drain()  # bound, processCommandApdu has run: no listener, command held
    assert any("held: no listener yet" in line for line in log_lines(jvm))
    probe = Probe()
    make_host([probe])
    answer = stack.awaitAnswer(TIMEOUT_MS)
    assert answer is not None and ResponseApdu.parse(bytes(answer)).sw == SW.NO_ERROR
    assert send(stack, "8001000001AA") == ResponseApdu(b"\xAA", SW.NO_ERROR)
    assert stack.unsolicitedResponses() == 0


def test_cold_start_past_the_deadline_answers_6f00_and_forgets_the_command(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    install_service(static_xml([PROBE_AID.hex().upper()]))
    jvm.Bridge.setDeadlineMillis(50)
    assert send(stack, SELECT_PROBE).to_bytes() == UNKNOWN
    assert any("cold start" in line and "6F00" in line for line in log_lines(jvm))
    probe = Probe()
    make_host([probe])
    assert send(stack, SELECT_PROBE).sw == SW.NO_ERROR
    assert send(stack, "8001000001BB") == ResponseApdu(b"\xBB", SW.NO_ERROR)
    assert probe.commands == [bytes.fromhex("8001000001BB")], "the expired command was replayed"


@pytest.mark.parametrize("dispatch", DISPATCH)
@pytest.mark.parametrize("reason", list(DeactivationReason))
def test_deactivation_reaches_the_plugin_and_ends_the_tap(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, dispatch: str,
        reason: DeactivationReason) -> None:
    probe = Probe()
    host = make_host([probe], dispatch=dispatch)
    send(stack, SELECT_PROBE)
    stack.deactivate(int(reason))  # 1: the reader selects another app's AID
    assert jvm.Bridge.awaitDispatched(TIMEOUT_MS)
    assert probe.deactivations == [reason]
    with host.lock:
        assert host.card.selected is None
        assert not host.card.field_active


def test_deselect_by_another_apps_aid_is_what_android_sends(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    phone.installOtherApp()
    probe = Probe()
    make_host([probe])
    send(stack, SELECT_PROBE)
    assert send(stack, "00A4040006F0E1D2C3B4A5").sw == SW.NO_ERROR  # the other app answers
    assert jvm.Bridge.awaitDispatched(TIMEOUT_MS)
    assert probe.deactivations == [DeactivationReason.DESELECTED]
    assert send(stack, SELECT_PROBE).sw == SW.NO_ERROR  # and back: a new session here
    assert send(stack, "8001000001CC") == ResponseApdu(b"\xCC", SW.NO_ERROR)


def test_deactivation_drops_the_outstanding_command(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe], deadline_ms=60_000)
    send(stack, SELECT_PROBE)
    stack.submit(BLOCK)
    assert probe.blocked.wait(10)
    stack.fieldOff()
    assert stack.awaitAnswer(0) is None
    probe.release.set()
    assert jvm.Bridge.awaitDispatched(TIMEOUT_MS)
    # next tap: the first command after the deactivation is a new field
    assert send(stack, SELECT_PROBE).sw == SW.NO_ERROR
    assert probe.deactivations == [DeactivationReason.LINK_LOSS]
    assert stack.unsolicitedResponses() == 0


def test_a_command_before_select_is_answered_by_android(make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe])
    assert send(stack, "8001000001AA").sw == SW.UNKNOWN  # the NFC service's own 6F00
    assert probe.commands == []


def test_an_aid_nobody_registered_gets_6a82_from_android(make_host: HostFactory, stack: Any) -> None:
    make_host([Probe()])
    assert send(stack, "00A4040006F0DEADBEEF01").sw == SW.FILE_NOT_FOUND


def test_a_service_that_never_answers_leaves_the_reader_waiting(
        jvm: SimpleNamespace, stack: Any) -> None:
    """No listener and a one-minute shim deadline: Android itself never answers for the app."""
    install_service(static_xml([PROBE_AID.hex().upper()]))
    jvm.Bridge.setDeadlineMillis(60_000)
    stack.submit(SELECT_PROBE)
    stack.drain()  # bound, delivered to the service, held by the shim
    assert stack.awaitAnswer(300) is None
    assert stack.unsolicitedResponses() == 0 and stack.droppedResponses() == 0


def test_pure_java_listener_floor_works_through_the_same_bridge(
        jvm: SimpleNamespace, stack: Any) -> None:
    install_service(static_xml([PROBE_AID.hex().upper()]))
    echo = jvm.EchoListener()
    jvm.Bridge.setListener(echo)
    try:
        assert bytes(stack.transceive(SELECT_PROBE, TIMEOUT_MS)) == SELECT_PROBE + b"\x90\x00"
        assert bytes(stack.transceive(b"\x00\x01\x02\x03", TIMEOUT_MS)) == b"\x00\x01\x02\x03\x90\x00"
        stack.fieldOff()
        assert jvm.Bridge.awaitDispatched(TIMEOUT_MS)
        assert echo.deactivations == 1
    finally:
        jvm.Bridge.clearListener(echo)


def test_an_unknown_deactivation_reason_counts_as_link_loss(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe])
    send(stack, SELECT_PROBE)
    stack.deactivate(7)  # a reason a future Android might add
    assert jvm.Bridge.awaitDispatched(TIMEOUT_MS)
    assert probe.deactivations == [DeactivationReason.LINK_LOSS]


def test_the_default_deadline_is_the_documented_1000_ms(
        jvm: SimpleNamespace, make_host: HostFactory) -> None:
    make_host([Probe()])  # no deadline_ms: the shim's default stays
    assert jvm.Bridge.DEFAULT_DEADLINE_MS == 1000
    assert jvm.Bridge.getDeadlineMillis() == 1000
