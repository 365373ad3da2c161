"""The WeChat facade: every errCode reachable on the loopback host, callbacks, messages."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hcekit import SW, Card, DeviceState, ErrCode, HceError
from hcekit.hce import HceService
from hcekit.hosts import LoopbackHost
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.wx import WxHce

AID = "F222222222"


def make(device: DeviceState | None = None, **host_kw: Any) -> tuple[WxHce, Terminal, LoopbackHost]:
    host = LoopbackHost(Card(), device, **host_kw)
    return WxHce(host, timeout=0.2), Terminal(LoopbackTransport(host)), host


def test_success_calls_success_then_complete() -> None:
    wx, _, host = make()
    calls: list[tuple[str, int]] = []
    res = wx.startHCE({"aid_list": [AID],
                       "success": lambda r: calls.append(("success", r["errCode"])),
                       "fail": lambda r: calls.append(("fail", r["errCode"])),
                       "complete": lambda r: calls.append(("complete", r.err_code))})
    assert res == {"errCode": 0, "errMsg": "startHCE:ok"}
    assert calls == [("success", 0), ("complete", 0)]
    assert host.registered == {"payment": [AID]}
    assert wx.stopHCE().ok
    assert host.registered == {}


@pytest.mark.parametrize(("device", "code"), [
    (DeviceState(nfc_present=False), ErrCode.NFC_UNAVAILABLE),
    (DeviceState(hce_supported=False, nfc_enabled=False), ErrCode.HCE_UNSUPPORTED),
    (DeviceState(nfc_enabled=False), ErrCode.NFC_DISABLED),
])
def test_device_codes(device: DeviceState, code: ErrCode) -> None:
    wx, _, _ = make(device)
    calls: list[str] = []
    res = wx.getHCEState(fail=lambda r: calls.append("fail"), complete=lambda r: calls.append("complete"))
    assert res.err_code == code
    assert calls == ["fail", "complete"]
    assert wx.startHCE(aid_list=[AID]).err_code == code
    assert wx.stopHCE().err_code == code
    assert wx.sendHCEMessage(data=b"\x90\x00").err_code == code


@pytest.mark.parametrize("aid_list", [None, "F222222222", [], ["F2222222"], ["XYZ"], ["F2" * 17],
                                      ["F222222222"] * 257])
def test_invalid_aid_list_13003(aid_list: Any) -> None:
    wx, _, host = make()
    args = {} if aid_list is None else {"aid_list": aid_list}
    res = wx.startHCE(args)
    assert res.err_code == ErrCode.INVALID_AID_LIST, res
    assert host.registered == {}


def test_not_default_payment_app_13004_unless_category_other() -> None:
    wx, _, host = make(DeviceState(default_payment_app=False))
    res = wx.startHCE(aid_list=[AID])
    assert res.err_code == ErrCode.NOT_DEFAULT_PAYMENT_APP
    assert "default" in res.err_msg
    assert wx.startHCE(aid_list=[AID], category="other").ok
    assert host.registered == {"other": [AID]}


def test_registration_failure_13006() -> None:
    wx, _, host = make(registration_fails=True)
    assert wx.startHCE(aid_list=[AID]).err_code == ErrCode.AID_REGISTRATION_FAILED
    host.registration_fails = False
    assert wx.startHCE(aid_list=[AID]).ok


def test_conflict_with_a_plugin_is_a_registration_failure_13006() -> None:
    from hcekit_ndef import NdefPlugin

    host = LoopbackHost(Card([NdefPlugin()]))
    wx = WxHce(host)
    res = wx.startHCE(aid_list=["D2760000850101"])
    assert res.err_code == ErrCode.AID_REGISTRATION_FAILED
    assert "ndef" in res.err_msg
    assert host.registered == {}


@pytest.mark.parametrize("data", [None, b"", b"\x90", "zz", 1234, [0x90, 0x00]])
def test_invalid_response_13005(data: Any) -> None:
    wx, term, _ = make()
    wx.startHCE(aid_list=[AID])
    results: list[int] = []
    wx.onHCEMessage(lambda m: results.append(wx.sendHCEMessage(data=data).err_code))
    with term.tap():
        response = term.select(bytes.fromhex(AID))
    assert results == [ErrCode.INVALID_RESPONSE]
    assert response.sw == 0x0000  # nothing valid was sent: WeChat's timeout answer


def test_send_without_pending_command_is_13005() -> None:
    wx, _, _ = make()
    res = wx.sendHCEMessage(data=b"\x90\x00")
    assert res.err_code == ErrCode.INVALID_RESPONSE
    assert "no command" in res.err_msg


def test_messages_and_answers_round_trip() -> None:
    wx, term, _ = make()
    assert wx.startHCE(aid_list=[AID, "F2222222220001"]).ok
    seen: list[dict[str, Any]] = []

    def on_message(msg: dict[str, Any]) -> None:
        seen.append(msg)
        if msg["messageType"] == 1:
            data = msg["data"]
            wx.sendHCEMessage({"data": data[5:5 + data[4]][::-1] + b"\x90\x00" if data[1] == 0x01
                               else "9000"})

    wx.onHCEMessage(on_message)
    with term.tap():
        assert term.select(bytes.fromhex(AID)).ok
        assert term.transmit("00010000 03 010203 00").data == b"\x03\x02\x01"
    assert seen[0] == {"messageType": 1, "data": bytes.fromhex("00A4040005F22222222200")}
    assert seen[-1] == {"messageType": 2, "reason": 0}
    wx.offHCEMessage(on_message)
    with term.tap():
        assert term.select(bytes.fromhex(AID)).sw == 0x0000  # no listener: timeout answer


def test_answer_from_another_thread_within_the_deadline() -> None:
    wx, term, _ = make()
    wx.startHCE(aid_list=[AID])

    def later(msg: dict[str, Any]) -> None:
        if msg["messageType"] == 1:
            threading.Timer(0.01, lambda: wx.sendHCEMessage(data=b"\x6a\x82")).start()

    wx.onHCEMessage(later)
    with term.tap():
        assert term.select(bytes.fromhex(AID)).sw == SW.FILE_NOT_FOUND


def test_pythonic_api_raises_with_codes() -> None:
    service = HceService(LoopbackHost(Card(), DeviceState(nfc_enabled=False)))
    with pytest.raises(HceError) as info:
        service.start([AID])
    assert info.value.code == ErrCode.NFC_DISABLED
    assert "13001" in str(info.value)


def test_module_level_functions_and_aliases() -> None:
    from hcekit import wx

    facade = wx.use_host(LoopbackHost(Card()))
    assert wx.get_hce_state().ok
    assert wx.start_hce(aid_list=[AID]).ok
    assert facade.service.started
    assert wx.stop_hce().ok
    assert not facade.service.started


def test_host_start_checks_payment_role_for_payment_claims() -> None:
    from hcekit import Category, Claim

    class Pay:
        name = "pay"

        def hcekit_claims(self, plugin: Any) -> list[Claim]:
            return [Claim.parse("A0000000031010", Category.PAYMENT, "test")]

    host = LoopbackHost(Card([Pay()]), DeviceState(default_payment_app=False))
    with pytest.raises(HceError) as info:
        host.start()
    assert info.value.code == ErrCode.NOT_DEFAULT_PAYMENT_APP
    assert "pay" in str(info.value)
    LoopbackHost(Card([Pay()])).start()
    with pytest.raises(HceError) as off:
        LoopbackHost(Card([Pay()]), DeviceState(nfc_enabled=False)).start()
    assert off.value.code == ErrCode.NFC_DISABLED
