"""The real PC/SC stack: private pcscd + vpcd + hcekit's vpcd host + pyscard / OpenSC.

Every test serves a card through the ``pcsc_card`` fixture and talks to it
the way any PC/SC application would.
"""

from __future__ import annotations

import shutil
import time

import pytest
from hcekit import SW, Card, CardConfig, Claim, CommandApdu, DeactivationReason, IsoError
from hcekit.atr import ATR_NO_HISTORICAL_BYTES, DEFAULT_ATR
from hcekit.hosts.vpcd import MAX_RESPONSE_DATA
from hcekit.terminal import Terminal
from hcekit.terminal.pcsc import PcscTransport, list_readers
from hcekit.testing.pcsc import PcscCardFactory, PrivatePcscd
from hcekit.testing.requirements import missing

from .pcsc_cards import ECHO_AID, INS_COUNT, INS_ECHO, INS_FAIL, INS_HANG, INS_REPEAT, EchoCard

pytestmark = pytest.mark.pcsc


def test_select_and_commands_through_pyscard(pcsc_card: PcscCardFactory) -> None:
    echo = EchoCard()
    served = pcsc_card(echo)
    terminal = served.terminal
    assert terminal.select(ECHO_AID).sw == SW.NO_ERROR
    assert terminal.transmit(CommandApdu(0x00, INS_ECHO, 0, 0, b"hello", 256)).data == b"hello"
    assert terminal.transmit(CommandApdu(0x00, INS_FAIL, 0, 0)).sw == SW.FILE_NOT_FOUND
    assert terminal.transmit(CommandApdu(0x00, 0x7E, 0, 0)).sw == SW.INS_NOT_SUPPORTED
    assert served.transport.atr == served.atr
    assert ("select", ECHO_AID) in echo.events


def test_reader_list_shows_the_card_and_its_atr(pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(EchoCard(), atr=ATR_NO_HISTORICAL_BYTES)
    infos = {info.name: info for info in list_readers()}
    assert infos[served.reader].present
    assert infos[served.reader].atr == ATR_NO_HISTORICAL_BYTES


@pytest.mark.parametrize("protocol", ["T0", "T1"])
def test_both_protocols(pcsc_card: PcscCardFactory, protocol: str) -> None:
    served = pcsc_card(EchoCard(), connect=False)
    transport = PcscTransport(served.reader, protocol=protocol)  # type: ignore[arg-type]
    terminal = Terminal(transport)
    with terminal.tap():
        assert transport.active_protocol == protocol
        assert terminal.select(ECHO_AID).sw == SW.NO_ERROR
        assert terminal.transmit(CommandApdu(0x00, INS_REPEAT, 0x01, 0x2C, b"", 256)).data \
            == bytes(i & 0xFF for i in range(300))
    transport.close()


def test_extended_length_both_ways(pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(EchoCard())
    terminal = served.terminal
    terminal.select(ECHO_AID)
    payload = bytes(range(256)) * 12  # 3072 bytes: needs extended Lc
    response = terminal.transmit(CommandApdu(0x00, INS_ECHO, 0, 0, payload, 65536))
    assert response.sw == SW.NO_ERROR and response.data == payload
    big = terminal.transmit(CommandApdu(0x00, INS_REPEAT, 0x20, 0x00, b"", 65536))
    assert big.sw == SW.NO_ERROR and big.data == bytes(i & 0xFF for i in range(0x2000))


def test_largest_extended_answer_is_chained_to_fit_vpcd_frames(
    pcsc_card: PcscCardFactory,
) -> None:
    served = pcsc_card(EchoCard())
    assert served.card.config.max_response_data == MAX_RESPONSE_DATA
    served.terminal.select(ECHO_AID)
    wire: list[tuple[bytes, bytes]] = []
    served.terminal.on_exchange = lambda c, r: wire.append((c, r))
    response = served.terminal.transmit(CommandApdu(0x00, INS_REPEAT, 0xFF, 0xFF, b"", 65536))
    assert response.sw == SW.NO_ERROR
    assert response.data == bytes(i & 0xFF for i in range(0xFFFF))
    assert len(wire) == 2 and wire[0][1][-2:] == bytes([0x61, 0x02])


def test_response_chaining_with_get_response(pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(EchoCard())
    served.terminal.select(ECHO_AID)
    wire: list[tuple[bytes, bytes]] = []
    served.terminal.on_exchange = lambda c, r: wire.append((c, r))
    response = served.terminal.transmit(CommandApdu(0x00, INS_REPEAT, 0x02, 0x00, b"", 256))
    assert response.data == bytes(i & 0xFF for i in range(512)) and response.sw == SW.NO_ERROR
    assert wire[0][1][-2] == 0x61  # the card chained …
    assert wire[1][0][:2] == bytes([0x00, 0xC0])  # … and the terminal sent GET RESPONSE
    served.terminal.auto_get_response = False
    raw = served.terminal.transmit(CommandApdu(0x00, INS_REPEAT, 0x02, 0x00, b"", 256))
    assert raw.sw == 0x6100 and len(raw.data) == 256


def test_command_chaining(pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(EchoCard())
    terminal = served.terminal
    terminal.select(ECHO_AID)
    first = terminal.transmit(CommandApdu(0x10, INS_ECHO, 0, 0, b"\x01" * 200))
    assert first.sw == SW.NO_ERROR and not first.data
    last = terminal.transmit(CommandApdu(0x00, INS_ECHO, 0, 0, b"\x02" * 100, 256))
    assert last.data == b"\x01" * 200 + b"\x02" * 100


def test_wrong_le_resend(pcsc_card: PcscCardFactory) -> None:
    served = pcsc_card(EchoCard(), config=CardConfig(wrong_le="6c"))
    terminal = served.terminal
    terminal.select(ECHO_AID)
    wire: list[bytes] = []
    terminal.on_exchange = lambda c, r: wire.append(r)
    response = terminal.transmit(CommandApdu(0x00, INS_REPEAT, 0x00, 0x20, b"", 0x10))
    assert response.data == bytes(range(0x20)) and response.sw == SW.NO_ERROR
    assert wire[0] == bytes([0x6C, 0x20])


def test_taps_are_field_events(pcsc_card: PcscCardFactory) -> None:
    echo = EchoCard()
    served = pcsc_card(echo, connect=False)
    terminal = served.terminal
    for _ in range(2):
        with terminal.tap():
            assert terminal.select(ECHO_AID).sw == SW.NO_ERROR
            assert served.card.field_active
        assert served.wait_field(False)
    assert ("deactivated", DeactivationReason.LINK_LOSS) in echo.events
    assert echo.events.count(("field", False)) >= 2
    assert not served.card.field_active and served.card.selected is None


def test_reset_disposition_is_a_new_activation(pcsc_card: PcscCardFactory) -> None:
    echo = EchoCard()
    served = pcsc_card(echo, connect=False)
    transport = PcscTransport(served.reader, disposition="reset")
    terminal = Terminal(transport)
    with terminal.tap():
        terminal.select(ECHO_AID)
    with terminal.tap():  # the reset deselected the application
        assert terminal.transmit(CommandApdu(0x00, INS_COUNT, 0, 0, b"", 256)).sw == SW.UNKNOWN
    transport.close()
    assert ("deactivated", DeactivationReason.LINK_LOSS) in echo.events


def test_two_cards_on_two_slots(pcsc_card: PcscCardFactory) -> None:
    first, second = EchoCard(), EchoCard()
    a = pcsc_card(first)
    b = pcsc_card(second)
    assert a.reader != b.reader and a.port != b.port
    for served in (a, b):
        served.terminal.select(ECHO_AID)
    a.terminal.transmit(CommandApdu(0x00, INS_COUNT, 0, 0, b"", 256))
    a.terminal.transmit(CommandApdu(0x00, INS_COUNT, 0, 0, b"", 256))
    b.terminal.transmit(CommandApdu(0x00, INS_COUNT, 0, 0, b"", 256))
    assert (first.counter, second.counter) == (2, 1)


def test_hung_plugin_answers_6f00_within_the_deadline(pcsc_card: PcscCardFactory) -> None:
    echo = EchoCard()
    served = pcsc_card(echo, deadline=0.3)
    terminal = served.terminal
    terminal.select(ECHO_AID)
    try:
        hung = terminal.transmit(CommandApdu(0x00, INS_HANG, 0, 0, b"", 256))
        assert hung.sw == SW.UNKNOWN
        assert echo.hanging.is_set() and served.host.busy
        # while the call is stuck the card answers everything 6F00 at once
        assert terminal.transmit(CommandApdu(0x00, INS_COUNT, 0, 0, b"", 256)).sw == SW.UNKNOWN
        assert echo.counter == 0
        assert served.host.stats.deadline_misses == 1
        # a new tap while stuck: power off/on are remembered, not delivered
        terminal.disconnect()
        terminal.connect()
        assert served.card.field_active  # (still the stuck session's field)
    finally:
        echo.release.set()
    for _ in range(200):
        if not served.host.busy:
            break
        time.sleep(0.01)
    assert not served.host.busy
    # the stuck call's session was reset, the last power event (on) replayed
    assert ("deactivated", DeactivationReason.LINK_LOSS) in echo.events
    assert served.card.field_active and served.card.selected is None
    assert terminal.select(ECHO_AID).sw == SW.NO_ERROR
    assert terminal.transmit(CommandApdu(0x00, INS_COUNT, 0, 0, b"", 256)).data == b"\0\0\0\1"


def test_pcscd_restart_host_reconnects_and_keeps_state(
    pcsc_card: PcscCardFactory, pcscd: PrivatePcscd
) -> None:
    echo = EchoCard()
    served = pcsc_card(echo)
    served.terminal.select(ECHO_AID)
    served.terminal.transmit(CommandApdu(0x00, INS_COUNT, 0, 0, b"", 256))
    connects = served.host.stats.connects
    served.terminal.disconnect()
    pcscd.kill()  # as a crash: stale pcscd.comm / pcscd.pid stay behind
    pcscd.start()
    assert served.wait_present(True, timeout=10)
    assert served.host.stats.connects > connects
    served.terminal.connect()
    served.terminal.select(ECHO_AID)
    assert served.terminal.transmit(CommandApdu(0x00, INS_COUNT, 0, 0, b"", 256)).data \
        == b"\0\0\0\2"


@pytest.mark.interop
def test_opensc_tool_reads_the_atr(pcsc_card: PcscCardFactory) -> None:
    if shutil.which("opensc-tool") is None:
        missing("opensc-tool not installed (apt-get install opensc)")
    served = pcsc_card(EchoCard(), connect=False)
    result = served.run(["opensc-tool", "-r", str(served.reader_index), "-a"])
    assert result.returncode == 0, result.stderr
    assert served.atr.hex(":") in result.stdout.lower()


@pytest.mark.interop
def test_opensc_tool_sends_apdus(pcsc_card: PcscCardFactory) -> None:
    if shutil.which("opensc-tool") is None:
        missing("opensc-tool not installed (apt-get install opensc)")
    served = pcsc_card(EchoCard(), connect=False)
    select = "00:A4:04:00:08:" + ECHO_AID.hex(":") + ":00"
    echo = "00:01:00:00:03:CA:FE:42:00"
    result = served.run(["opensc-tool", "-r", str(served.reader_index), "-s", select, "-s", echo])
    assert result.returncode == 0, result.stderr
    out = result.stdout.upper()
    assert "CA FE 42" in out
    assert out.count("SW1=0X90, SW2=0X00") == 2


class PivStub:
    """Just enough of a PIV card for OpenSC's PIV driver to claim it (SELECT → APT)."""

    name = "piv-stub"
    PIV_AID = "A000000308000010000100"

    def hcekit_claims(self, plugin: object) -> list[Claim]:
        return [Claim.parse(self.PIV_AID, description="PIV (stub)")]

    def hcekit_select(self, app: object, command: object) -> bytes:
        # application property template: 61 { 4F PIX, 79 { 4F RID } }
        return bytes.fromhex("61114F0600001000010079074F05A000000308")

    def hcekit_process(self, app: object, command: object) -> None:
        raise IsoError(SW.FILE_NOT_FOUND)


@pytest.mark.interop
@pytest.mark.parametrize("atr", [DEFAULT_ATR, ATR_NO_HISTORICAL_BYTES], ids=["default", "3B80800101"])
def test_opensc_piv_driver_detects_a_piv_card_with_either_atr(
    pcsc_card: PcscCardFactory, atr: bytes
) -> None:
    if shutil.which("opensc-tool") is None:
        missing("opensc-tool not installed (apt-get install opensc)")
    served = pcsc_card(PivStub(), atr=atr, connect=False)
    result = served.run(["opensc-tool", "-r", str(served.reader_index), "-n"])
    assert result.returncode == 0, result.stderr
    assert "Personal Identity Verification Card" in result.stdout


def test_opensc_finds_no_driver_for_a_card_without_piv(pcsc_card: PcscCardFactory) -> None:
    if shutil.which("opensc-tool") is None:
        missing("opensc-tool not installed (apt-get install opensc)")
    served = pcsc_card(EchoCard(), connect=False)
    result = served.run(["opensc-tool", "-r", str(served.reader_index), "-n"])
    assert "Personal Identity Verification Card" not in result.stdout


def test_card_object_can_be_served(pcsc_card: PcscCardFactory) -> None:
    card = Card([EchoCard()])
    served = pcsc_card(card=card)
    assert served.card is card
    assert served.terminal.select(ECHO_AID).sw == SW.NO_ERROR
