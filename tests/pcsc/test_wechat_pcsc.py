"""The raw WeChat facade behind a real pcscd: the same reader script as on loopback and Android.

pyscard → pcscd → vpcd → the hcekit vpcd host → the card's raw route → the
mini-program's callback, and its bytes all the way back.
"""

from __future__ import annotations

import pytest
from hcekit import Card
from hcekit.events import DeactivationReason
from hcekit.testing.pcsc import PcscCardFactory
from hcekit.testing.wechat import (
    FACADE_AID,
    EchoPlugin,
    MiniProgram,
    deactivated_message,
    run_steps,
)
from hcekit.wx import WxHce

pytestmark = pytest.mark.pcsc


@pytest.mark.parametrize("protocol", ["T0", "T1"])
def test_raw_facade_through_pcscd(pcsc_card: PcscCardFactory, protocol: str) -> None:
    plugin = EchoPlugin()
    served = pcsc_card(card=Card([plugin]), connect=False)
    served.transport.protocol = protocol  # type: ignore[assignment]
    wx = WxHce(served.host)
    duplicated = [FACADE_AID.hex(), FACADE_AID.hex().upper()]  # accepted once, as on Android
    assert wx.startHCE(aid_list=duplicated, category="other").ok
    assert served.host.registered == {"other": ["F0686365656B0001", "F222222222"]}
    mini = MiniProgram(wx)
    served.transport.connect()
    assert served.transport.active_protocol == protocol
    assert run_steps(served.transport.transmit, mini) == []
    assert plugin.events == ["select", "deselect"]
    served.transport.disconnect()
    assert served.wait_field(False)
    assert mini.take() == [deactivated_message(DeactivationReason.LINK_LOSS)]
    assert wx.stopHCE().ok
    assert served.host.registered == {"other": ["F0686365656B0001"]}
