"""Lock discipline: the vpcd host calls the card under ``host.lock``, as every host must.

The WeChat facade changes the card's routes (``startHCE``/``stopHCE`` register
and unregister an application) from the app's thread while pcscd's clients
talk to the card through the host's connection thread. The card is not
thread-safe; ``host.lock`` is what keeps the two apart.
"""

from __future__ import annotations

import threading

import pytest
from hcekit import SW, CommandApdu
from hcekit.testing.pcsc import PcscCardFactory
from hcekit.wx import WxHce

from .pcsc_cards import ECHO_AID, INS_ECHO, INS_HANG, EchoCard

pytestmark = pytest.mark.pcsc

DYNAMIC_AID = "F0A0B0C0D0E0"
WAIT = 10.0


def test_a_route_change_waits_for_the_card_call_in_progress(pcsc_card: PcscCardFactory) -> None:
    plugin = EchoCard()
    served = pcsc_card(plugin, deadline=WAIT)
    wx = WxHce(served.host)
    served.terminal.select(ECHO_AID)
    answers: list[bytes] = []
    client = threading.Thread(target=lambda: answers.append(
        served.transport.transmit(CommandApdu(0x00, INS_HANG, 0, 0, b"", 256).to_bytes())))
    client.start()
    assert plugin.hanging.wait(WAIT)  # the card is inside the plugin now
    results: list[dict[str, object]] = []
    facade = threading.Thread(target=lambda: results.append(
        wx.startHCE(aid_list=[DYNAMIC_AID], category="other")))
    facade.start()
    try:
        facade.join(0.5)
        assert facade.is_alive(), "startHCE changed the routes in the middle of a card call"
        assert "hce" not in served.card.plugins
    finally:
        plugin.release.set()
    facade.join(WAIT)
    client.join(WAIT)
    assert answers == [b"late\x90\x00"]
    assert results and results[0]["errCode"] == 0
    # the new route is served through PC/SC, answered by the facade's listener
    wx.onHCEMessage(lambda message: wx.sendHCEMessage(data="CAFE9000")
                    if message["messageType"] == 1 else None)
    selected = served.terminal.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x00,
                                                    bytes.fromhex(DYNAMIC_AID), 256))
    assert (selected.data, selected.sw) == (b"\xca\xfe", SW.NO_ERROR)


def test_routes_changing_while_a_client_sends(pcsc_card: PcscCardFactory) -> None:
    """A client's session stays exact while the facade registers and unregisters a route."""
    served = pcsc_card(EchoCard())
    wx = WxHce(served.host)
    wx.onHCEMessage(lambda message: wx.sendHCEMessage(data="9000")
                    if message["messageType"] == 1 else None)
    stop = threading.Event()
    changes: list[int] = []

    def churn() -> None:
        while not stop.is_set():
            changes.append(int(wx.startHCE(aid_list=[DYNAMIC_AID], category="other")["errCode"]))
            changes.append(int(wx.stopHCE()["errCode"]))

    facade = threading.Thread(target=churn)
    facade.start()
    wrong: list[tuple[int, bytes, int]] = []
    try:
        terminal = served.terminal
        for i in range(300):
            if i % 25 == 0:
                assert terminal.select(ECHO_AID).sw == SW.NO_ERROR
            data = i.to_bytes(2, "big")
            response = terminal.transmit(CommandApdu(0x00, INS_ECHO, 0, 0, data, 256))
            if (response.data, response.sw) != (data, SW.NO_ERROR):
                wrong.append((i, response.data, response.sw))
    finally:
        stop.set()
        facade.join(WAIT)
    assert not wrong
    assert changes and set(changes) == {0}
