"""The WeChat facade: every errCode reachable on the loopback host, callbacks, messages."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hcekit import SW, Card, Category, Claim, DeviceState, ErrCode, HceError
from hcekit.card import routing_select_aid
from hcekit.events import DeactivationReason
from hcekit.hce import HceService
from hcekit.hosts import LoopbackHost
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.testing.wechat import (
    FACADE_AID,
    LONG_ANSWER,
    PLUGIN_AID,
    RAW_STEPS,
    EchoPlugin,
    MiniProgram,
    deactivated_message,
    run_steps,
    select,
)
from hcekit.wx import WxHce
from hypothesis import given
from hypothesis import strategies as st

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
    # stopHCE restores the registration even with NFC off (Android allows it): 0
    assert wx.stopHCE().err_code == (ErrCode.OK if code is ErrCode.NFC_DISABLED else code)
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
    wx.onHCEMessage(lambda m: results.append(wx.sendHCEMessage(data=data).err_code)
                    if m["messageType"] == 1 else None)
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


# -- registration that composes with the plugins (Android replaces a category's group) --------

PAY_AID = "A0000000031010"
PPSE = b"2PAY.SYS.DDF01".hex().upper()


class Pay:
    name = "pay"

    def hcekit_claims(self, plugin: Any) -> list[Claim]:
        return [Claim.parse(PAY_AID, Category.PAYMENT, "test payment application")]

    def hcekit_select(self, app: Any, command: Any) -> bytes:
        return b""


def test_start_registers_the_plugins_aids_too_and_stop_restores_them() -> None:
    host = LoopbackHost(Card([EchoPlugin(), Pay()]))
    wx = WxHce(host, timeout=0.2)
    plugin = PLUGIN_AID.hex().upper()
    assert wx.startHCE(aid_list=[AID], category="other").ok
    assert host.registered == {"other": [plugin, AID]}
    assert wx.stopHCE().ok
    assert host.registered == {"other": [plugin]}
    # payment: the payment plugin and the core's PPSE stay routed next to the new AID
    assert wx.startHCE(aid_list=[AID]).ok
    assert host.registered == {"other": [plugin], "payment": [PAY_AID, PPSE, AID]}
    assert wx.stopHCE().ok
    assert host.registered == {"other": [plugin], "payment": [PAY_AID, PPSE]}


def test_a_second_start_replaces_the_first_and_restores_the_old_category() -> None:
    host = LoopbackHost(Card([EchoPlugin()]))
    wx = WxHce(host, timeout=0.2)
    assert wx.startHCE(aid_list=[AID], category="other").ok
    assert wx.startHCE(aid_list=["F333333333"]).ok
    assert host.registered == {"other": [PLUGIN_AID.hex().upper()], "payment": ["F333333333"]}
    assert wx.stopHCE().ok
    assert host.registered == {"other": [PLUGIN_AID.hex().upper()]}


def test_stop_with_nfc_switched_off_unregisters_and_answers_0() -> None:
    wx, term, host = make()
    assert wx.startHCE(aid_list=[AID]).ok
    host.device.nfc_enabled = False
    calls: list[str] = []
    res = wx.stopHCE(success=lambda r: calls.append("success"), fail=lambda r: calls.append("fail"))
    assert res == {"errCode": 0, "errMsg": "stopHCE:ok"}
    assert calls == ["success"]
    assert host.registered == {}
    assert not wx.service.started
    host.device.nfc_enabled = True
    with term.tap():
        assert term.select(bytes.fromhex(AID)).sw == SW.FILE_NOT_FOUND  # nothing routes it now


@pytest.mark.parametrize("host_kw", [{}, {"registration_fails": True}])
def test_stop_on_a_device_without_hce_is_13002(host_kw: dict[str, Any]) -> None:
    wx, _, host = make(**host_kw)
    host.device.hce_supported = False
    assert wx.stopHCE().err_code == ErrCode.HCE_UNSUPPORTED


def test_duplicated_aids_are_registered_once_and_answer_0() -> None:
    wx, term, host = make()
    res = wx.startHCE(aid_list=[AID, AID.lower(), "F2222222220001", AID])
    assert res.ok, res
    assert host.registered == {"payment": [AID, "F2222222220001"]}
    mini = MiniProgram(wx)
    with term.tap():
        assert host.transceive(select(FACADE_AID)) == MiniProgram.answer(select(FACADE_AID))
    assert [m["messageType"] for m in mini.messages] == [1, 2]  # delivered once, not twice


def test_prefix_aids_where_the_controller_cannot_route_them_are_13006() -> None:
    wx, _, host = make(DeviceState(aid_prefix_registration=False))
    res = wx.startHCE(aid_list=[AID, "F2222222220001*", "F3333333330001#"])
    assert res.err_code == ErrCode.AID_REGISTRATION_FAILED
    assert "F2222222220001*, F3333333330001#" in res.err_msg
    assert "supportsAidPrefixRegistration" in res.err_msg
    assert host.registered == {}
    assert not wx.service.started
    assert "hce" not in host.card.plugins  # the card does not route what the platform refused
    assert wx.startHCE(aid_list=[AID]).ok  # full AIDs are fine on the same device


def test_prefix_aids_route_where_supported() -> None:
    wx, _, host = make()
    assert wx.startHCE(aid_list=["F222222222*"]).ok
    mini = MiniProgram(wx)
    host.field_on()
    command = select(bytes.fromhex("F22222222201020304"))
    assert host.transceive(command) == MiniProgram.answer(command)
    assert mini.take() == [{"messageType": 1, "data": command}]


def test_union_over_256_aids_is_13006_naming_the_limit() -> None:
    class Many:
        name = "many"

        def hcekit_claims(self, plugin: Any) -> list[Claim]:
            return [Claim.parse(f"F1{i:08X}") for i in range(200)]

    host = LoopbackHost(Card([Many()]))
    wx = WxHce(host)
    res = wx.startHCE(aid_list=[f"F3{i:08X}" for i in range(100)], category="other")
    assert res.err_code == ErrCode.AID_REGISTRATION_FAILED
    assert "300 AIDs" in res.err_msg and "256" in res.err_msg
    assert host.registered == {}
    assert "hce" not in host.card.plugins


# -- the raw facade -----------------------------------------------------------------------------

def raw_rig() -> tuple[WxHce, LoopbackHost, MiniProgram, EchoPlugin]:
    plugin = EchoPlugin()
    host = LoopbackHost(Card([plugin]))
    wx = WxHce(host, timeout=0.5)
    assert wx.startHCE(aid_list=[FACADE_AID.hex()], category="other").ok
    return wx, host, MiniProgram(wx), plugin


def test_raw_facade_on_loopback() -> None:
    _, host, mini, plugin = raw_rig()
    host.field_on()
    assert run_steps(host.transceive, mini) == []
    assert plugin.events == ["select", "deselect"]
    host.field_off(DeactivationReason.LINK_LOSS)
    assert mini.take() == [deactivated_message(DeactivationReason.LINK_LOSS)]
    assert mini.send_results == [0] * sum(1 for s in RAW_STEPS if s.delivered
                                         and s.delivered[0]["messageType"] == 1)


def test_raw_facade_passes_bytes_the_core_could_not_parse() -> None:
    _, host, mini, _ = raw_rig()
    host.field_on()
    host.transceive(select(FACADE_AID))
    mini.take()
    for command in (b"\x00\xb2", bytes.fromhex("00DA000005AABB"), bytes.fromhex("00A4040002F222")):
        assert host.transceive(command) == MiniProgram.answer(command), command.hex()
        assert mini.take() == [{"messageType": 1, "data": command}]


def test_raw_select_without_le_and_with_next_occurrence_routes_by_aid() -> None:
    _, host, mini, _ = raw_rig()
    host.field_on()
    for command in (select(FACADE_AID, le=False), bytes.fromhex("00A4040205F222222222")):
        assert host.transceive(command) == MiniProgram.answer(command)
        assert mini.take() == [{"messageType": 1, "data": command}]


def test_raw_answer_after_the_deadline_is_the_timeout_answer_and_the_card_goes_on() -> None:
    host = LoopbackHost(Card())
    wx = WxHce(host, timeout=0.05)
    assert wx.startHCE(aid_list=[AID]).ok
    host.field_on()
    assert host.transceive(select(FACADE_AID)) == b"\x00\x00"  # nobody listens: WeChat's 00 00
    assert wx.sendHCEMessage(data="9000").err_code == ErrCode.INVALID_RESPONSE  # too late
    mini = MiniProgram(wx)
    assert host.transceive(bytes.fromhex("00B0000000")) == LONG_ANSWER
    assert mini.take() == [{"messageType": 1, "data": bytes.fromhex("00B0000000")}]


def test_a_listener_that_raises_does_not_break_the_card() -> None:
    wx, host, mini, _ = raw_rig()

    def broken(res: dict[str, Any]) -> None:
        raise RuntimeError("mini-program bug")

    wx.offHCEMessage(mini.on_message)
    wx.onHCEMessage(broken)
    host.field_on()
    assert host.transceive(select(FACADE_AID)) == b"\x00\x00"
    assert host.transceive(select(PLUGIN_AID)) == b"\x90\x00"


def test_stop_while_selected_deactivates_and_the_plugin_path_is_iso_again() -> None:
    wx, host, mini, _ = raw_rig()
    host.field_on()
    host.transceive(select(FACADE_AID))
    assert wx.stopHCE().ok
    assert mini.take()[-1] == deactivated_message(DeactivationReason.DESELECTED)
    assert host.transceive(bytes.fromhex("FF42000000")) == SW.CLA_NOT_SUPPORTED.to_bytes(2, "big")
    assert host.transceive(bytes.fromhex("00B0000000")) == SW.UNKNOWN.to_bytes(2, "big")
    assert host.transceive(select(FACADE_AID)) == SW.FILE_NOT_FOUND.to_bytes(2, "big")


def test_a_mini_program_answers_its_own_ppse() -> None:
    wx, _, host = make()
    assert wx.startHCE(aid_list=[PPSE, PAY_AID]).ok  # payment category, no payment plugin
    assert host.registered == {"payment": [PPSE, PAY_AID]}
    mini = MiniProgram(wx)
    host.field_on()
    command = select(b"2PAY.SYS.DDF01")
    assert host.transceive(command) == MiniProgram.answer(command)  # not the core's FCI
    assert mini.take() == [{"messageType": 1, "data": command}]


def test_a_mini_program_ppse_next_to_a_payment_plugin_is_a_conflict_13006() -> None:
    host = LoopbackHost(Card([Pay()]))
    res = WxHce(host).startHCE(aid_list=[PPSE])
    assert res.err_code == ErrCode.AID_REGISTRATION_FAILED
    assert "ppse" in res.err_msg
    assert host.registered == {}


def test_loopback_routes_like_android_once_a_group_is_registered() -> None:
    host = LoopbackHost(Card([EchoPlugin()]))
    host.field_on()
    assert host.transceive(select(PLUGIN_AID)) == b"\x90\x00"  # static group: the card's claims
    host.register_aids(Category.OTHER, [AID])  # replaces the group: the plugin's AID is gone
    assert host.transceive(select(PLUGIN_AID)) == SW.FILE_NOT_FOUND.to_bytes(2, "big")
    assert host.transceive(bytes.fromhex("0001000000")) == b"\x90\x00"  # still selected
    host.register_aids(Category.OTHER, [PLUGIN_AID[:5].hex().upper() + "*"])
    assert host.transceive(select(PLUGIN_AID)) == b"\x90\x00"  # prefix resolution, as Android
    host.remove_aids(Category.OTHER)
    assert host.transceive(select(PLUGIN_AID)) == b"\x90\x00"


@given(st.binary(min_size=1, max_size=300))
def test_any_bytes_but_a_routing_select_reach_the_selected_mini_program_unchanged(
        command: bytes) -> None:
    wx, host, mini, _ = raw_rig()
    wx.service.timeout = 2.0
    host.field_on()
    host.transceive(select(FACADE_AID))
    mini.take()
    if routing_select_aid(command) is None:
        assert host.transceive(command) == MiniProgram.answer(command)
        assert mini.take() == [{"messageType": 1, "data": command}]
    else:
        response = host.transceive(command)  # routed by AID: to it, a plugin, or 6A82
        assert len(response) >= 2
    host.field_off()


@pytest.mark.parametrize("command", [
    "00A4040004F2222222",  # too short for Android to route by: never the facade
    "00A4040005F222222222",  # a partial name of the facade's AID: Android matches exactly
])
def test_partial_or_short_selects_never_reach_the_facade(command: str) -> None:
    host = LoopbackHost(Card())
    wx = WxHce(host, timeout=0.05)
    assert wx.startHCE(aid_list=["F22222222201"], category="other").ok
    mini = MiniProgram(wx)
    host.field_on()
    for transceive in (host.transceive, host.card.transceive):  # with and without the platform
        assert transceive(bytes.fromhex(command)) == SW.FILE_NOT_FOUND.to_bytes(2, "big")
        assert mini.take() == []
        assert host.card.selected is None
