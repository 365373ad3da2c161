"""The WeChat facade on the Android host: raw APDUs, composed registration, duplicates, stop with NFC off.

Runs through the compiled Java shim and the pyjnius bridge on the desktop
JVM; the same reader script (``hcekit.testing.wechat``) runs on loopback and
through pcscd, so the three hosts are held to one set of expected bytes.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import Card, ErrCode
from hcekit.events import DeactivationReason
from hcekit.testing.wechat import FACADE_AID, EchoPlugin, MiniProgram, deactivated_message, run_steps
from hcekit.wx import WxHce

from .android_plugins import PROBE_AID, Probe
from .android_support import SERVICE_COMPONENT, HostFactory

pytestmark = pytest.mark.jvm


def dynamic(phone: Any, category: str) -> list[str] | None:
    aids = phone.dynamicAidsFor(SERVICE_COMPONENT, category)
    return None if aids is None else [str(a) for a in aids.toArray()]


def test_raw_facade_through_the_shim(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    plugin = EchoPlugin()
    host = make_host(Card([plugin]), dispatch="worker")
    wx = WxHce(host)
    assert wx.startHCE(aid_list=[FACADE_AID.hex()], category="other").ok
    mini = MiniProgram(wx)

    def transmit(command: bytes) -> bytes:
        return bytes(stack.transceive(command, 5000))

    assert run_steps(transmit, mini) == []
    assert plugin.events == ["select", "deselect"]
    stack.fieldOff()
    assert jvm.Bridge.awaitDispatched(5000)  # the card's thread has handled the deactivation
    assert mini.take() == [deactivated_message(DeactivationReason.LINK_LOSS)]


def test_start_composes_with_the_plugins_and_stop_restores_them(
        make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()])
    wx = WxHce(host)
    probe = PROBE_AID.hex().upper()
    assert dynamic(phone, "other") == [probe]
    assert wx.startHCE(aid_list=["F222222222", "f222222222"], category="other").ok  # duplicate: 0
    assert dynamic(phone, "other") == [probe, "F222222222"]
    phone.setNfcEnabled(False)
    res = wx.stopHCE()
    assert res.err_code == ErrCode.OK, res
    assert dynamic(phone, "other") == [probe]  # restored, although NFC is off


def test_refused_registration_leaves_the_card_without_the_facade(
        make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()])
    wx = WxHce(host)
    phone.setRegistration("false")
    res = wx.startHCE(aid_list=["F222222222"], category="other")
    assert res.err_code == ErrCode.AID_REGISTRATION_FAILED
    assert "hce" not in host.card.plugins
    assert not wx.service.started


@pytest.mark.parametrize(("deadline_ms", "timeout", "expected"), [
    (5_000, 0.05, "0000"),  # the facade's timeout first: WeChat's 00 00
    (50, 5.0, "6F00"),  # the shim's deadline first: 6F00 before the facade answers
])
def test_the_earlier_of_shim_deadline_and_facade_timeout_answers(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any,
        deadline_ms: int, timeout: float, expected: str) -> None:
    """docs/android.md: choose a deadline above the facade's timeout, or 6F00 answers first."""
    host = make_host(Card([EchoPlugin()]), deadline_ms=deadline_ms)
    wx = WxHce(host, timeout=timeout)
    assert wx.startHCE(aid_list=[FACADE_AID.hex()], category="other").ok
    # no onHCEMessage listener answers: the mini-program never calls sendHCEMessage
    answer = stack.transceive(bytes([0x00, 0xA4, 0x04, 0x00, len(FACADE_AID)]) + FACADE_AID, 10_000)
    assert answer is not None and bytes(answer).hex().upper() == expected
    assert wx.stopHCE().ok
