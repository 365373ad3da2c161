"""The APDU path on a real JVM: Java NFC stack → shim → pyjnius → Card → sendResponseApdu."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from android_plugins import INS_BLOCK, INS_ECHO, INS_REFUSE, PROBE_AID, Probe
from android_support import HostFactory, log_lines
from hcekit import SW, Card, CommandApdu, DeactivationReason, ResponseApdu
from hcekit.hosts import LoopbackHost
from hcekit.ndef import decode_message
from hcekit.sw import sw_bytes
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit_android.desktop import NfcStackTransport
from hcekit_ndef import NdefPlugin
from hcekit_ndef.reader import read_ndef

pytestmark = pytest.mark.jvm

DISPATCH = ["inline", "worker"]
SELECT_PROBE = CommandApdu(0x00, 0xA4, 0x04, 0x00, PROBE_AID).to_bytes()
UNKNOWN = sw_bytes(SW.UNKNOWN)
TIMEOUT_MS = 5000


def send(stack: Any, command: bytes | str) -> ResponseApdu:
    raw = bytes.fromhex(command) if isinstance(command, str) else command
    answer = stack.transceive(raw, TIMEOUT_MS)
    assert answer is not None, "the shim left the reader without an answer"
    return ResponseApdu.parse(bytes(answer))


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
    assert stack.unsolicitedResponses() == 0


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


@pytest.mark.parametrize("dispatch", DISPATCH)
def test_deadline_answers_6f00_and_drops_the_late_answer(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, dispatch: str) -> None:
    probe = Probe()
    make_host([probe], dispatch=dispatch, deadline_ms=50)
    send(stack, SELECT_PROBE)
    timeouts, stale = jvm.Bridge.getTimeouts(), jvm.Bridge.getStaleAnswers()
    assert send(stack, CommandApdu(0x80, INS_BLOCK, 0, 0).to_bytes()).to_bytes() == UNKNOWN
    assert jvm.Bridge.getTimeouts() == timeouts + 1
    assert any("no answer to command" in line and "6F00" in line for line in log_lines(jvm))
    probe.release.set()  # the plugin now answers, too late
    echoed = send(stack, CommandApdu(0x80, INS_ECHO, 0, 0, b"\xAA\xBB").to_bytes())
    assert echoed == ResponseApdu(b"\xBB\xAA", SW.NO_ERROR)
    assert jvm.Bridge.getStaleAnswers() == stale + 1
    assert stack.unsolicitedResponses() == 0


def test_python_exception_in_the_callback_answers_6f00_at_once(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    host = make_host([Probe()], deadline_ms=60_000)
    send(stack, SELECT_PROBE)
    failures = jvm.Bridge.getFailures()

    def broken(command: bytes) -> bytes:
        raise RuntimeError("bug in the host")

    monkeypatch.setattr(host.bridge, "transceive", broken)
    # The deadline is a minute: an answer within TIMEOUT_MS comes from the failure path.
    assert send(stack, "8001000001AA").to_bytes() == UNKNOWN
    assert jvm.Bridge.getFailures() == failures + 1
    monkeypatch.undo()
    assert send(stack, "8001000001AA") == ResponseApdu(b"\xAA", SW.NO_ERROR)


def test_worker_exception_is_answered_by_the_deadline(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    host = make_host([Probe()], dispatch="worker", deadline_ms=50)
    send(stack, SELECT_PROBE)

    def broken(command: bytes) -> bytes:
        raise RuntimeError("bug in the host")

    monkeypatch.setattr(host.bridge, "transceive", broken)
    assert send(stack, "8001000001AA").to_bytes() == UNKNOWN


def test_raising_python_listener_never_leaves_the_reader_hanging(
        jvm: SimpleNamespace, phone: Any, stack: Any) -> None:
    from jnius import PythonJavaClass, java_method

    class Raising(PythonJavaClass):  # type: ignore[misc]
        __javainterfaces__ = ["org/hcekit/android/ApduListener"]
        __javacontext__ = "app"

        @java_method("(I[B)Z")  # type: ignore[untyped-decorator]
        def onCommand(self, serial: int, command: Any) -> bool:
            raise ValueError("plugin author's bug")

        @java_method("(I)V")  # type: ignore[untyped-decorator]
        def onDeactivated(self, reason: int) -> None:
            raise ValueError("plugin author's bug")

    listener = Raising()
    jvm.Bridge.setDeadlineMillis(60_000)
    jvm.Bridge.setListener(listener)
    try:
        assert send(stack, SELECT_PROBE).to_bytes() == UNKNOWN
        stack.deactivate(0)  # must not propagate into the NFC stack
        assert send(stack, SELECT_PROBE).to_bytes() == UNKNOWN
    finally:
        jvm.Bridge.clearListener(listener)


def test_answer_without_status_word_is_replaced_by_6f00(
        jvm: SimpleNamespace, phone: Any, stack: Any) -> None:
    from hcekit_android.bridge import CardBridge

    class Short(CardBridge):
        def transceive(self, command: bytes) -> bytes:
            return b"\x90"

    from hcekit_android.bridge import make_listener

    bridge = Short(Card([Probe()]))
    listener = make_listener(bridge)
    jvm.Bridge.setListener(listener)
    try:
        assert send(stack, SELECT_PROBE).to_bytes() == UNKNOWN
        assert any("no status word" in line for line in log_lines(jvm))
    finally:
        jvm.Bridge.clearListener(listener)


def test_cold_start_command_is_held_until_python_attaches(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    jvm.Bridge.setDeadlineMillis(60_000)
    stack.submit(SELECT_PROBE)
    stack.drain()  # processCommandApdu has run: no listener, command held
    assert any("held: no listener yet" in line for line in log_lines(jvm))
    probe = Probe()
    make_host([probe])
    answer = stack.awaitAnswer(TIMEOUT_MS)
    assert answer is not None and ResponseApdu.parse(bytes(answer)).sw == SW.NO_ERROR
    assert send(stack, "8001000001AA") == ResponseApdu(b"\xAA", SW.NO_ERROR)
    assert stack.unsolicitedResponses() == 0


def test_cold_start_past_the_deadline_answers_6f00_and_forgets_the_command(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    jvm.Bridge.setDeadlineMillis(50)
    assert send(stack, "8001000001AA").to_bytes() == UNKNOWN
    assert any("cold start" in line and "6F00" in line for line in log_lines(jvm))
    probe = Probe()
    make_host([probe])
    assert send(stack, SELECT_PROBE).sw == SW.NO_ERROR
    assert send(stack, "8001000001BB") == ResponseApdu(b"\xBB", SW.NO_ERROR)
    assert probe.commands == [bytes.fromhex("8001000001BB")], "the expired command was replayed"


@pytest.mark.parametrize("dispatch", DISPATCH)
@pytest.mark.parametrize("reason", list(DeactivationReason))
def test_deactivation_reaches_the_plugin_and_ends_the_tap(
        make_host: HostFactory, stack: Any, dispatch: str, reason: DeactivationReason) -> None:
    probe = Probe()
    host = make_host([probe], dispatch=dispatch)
    send(stack, SELECT_PROBE)
    stack.deactivate(int(reason))
    host.bridge.close()  # the worker (if any) finishes its queue first
    assert probe.deactivations == [reason]
    with host.lock:
        assert host.card.selected is None
        assert not host.card.field_active


def test_deactivation_drops_the_outstanding_command(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe], dispatch="worker", deadline_ms=60_000)
    send(stack, SELECT_PROBE)
    stack.submit(CommandApdu(0x80, INS_BLOCK, 0, 0).to_bytes())
    assert probe.blocked.wait(10)
    stack.deactivate(int(DeactivationReason.LINK_LOSS))
    assert stack.awaitAnswer(0) is None
    probe.release.set()
    # next tap: the first command after the deactivation is a new field
    assert send(stack, SELECT_PROBE).sw == SW.NO_ERROR
    assert probe.deactivations == [DeactivationReason.LINK_LOSS]
    assert stack.unsolicitedResponses() == 0


def test_a_command_before_select_is_answered_as_android_does(
        make_host: HostFactory, stack: Any) -> None:
    make_host([Probe()])
    assert send(stack, "8001000001AA").sw == SW.UNKNOWN


def test_pure_java_listener_floor_works_through_the_same_bridge(
        jvm: SimpleNamespace, phone: Any, stack: Any) -> None:
    echo = jvm.EchoListener()
    jvm.Bridge.setListener(echo)
    try:
        assert bytes(stack.transceive(b"\x00\x01\x02\x03", TIMEOUT_MS)) == b"\x00\x01\x02\x03\x90\x00"
        stack.deactivate(1)
        assert echo.deactivations == 1
    finally:
        jvm.Bridge.clearListener(echo)


def test_an_unknown_deactivation_reason_counts_as_link_loss(
        make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe])
    send(stack, SELECT_PROBE)
    stack.deactivate(7)  # a reason a future Android might add
    assert probe.deactivations == [DeactivationReason.LINK_LOSS]
