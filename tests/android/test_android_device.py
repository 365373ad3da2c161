"""Device checks and AID registration through pyjnius, mapped to the WeChat codes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from android_plugins import PAY_AID, PROBE_AID, Payment, Probe
from android_support import SERVICE_COMPONENT, HostFactory
from hcekit import Category, DeviceState, ErrCode, HceError
from hcekit.device import check_ready
from hcekit.hce import HceMessage, HceService
from hcekit_android import NotDefaultPaymentApp

pytestmark = pytest.mark.jvm

FEATURE_NFC = "android.hardware.nfc"
FEATURE_HCE = "android.hardware.nfc.hce"
PPSE = b"2PAY.SYS.DDF01".hex().upper()


def dynamic(phone: Any, category: str) -> list[str] | None:
    aids = phone.dynamicAidsFor(SERVICE_COMPONENT, category)
    return None if aids is None else [str(a) for a in aids.toArray()]


def code_of(excinfo: pytest.ExceptionInfo[HceError]) -> ErrCode:
    return excinfo.value.code


def test_a_capable_phone_reports_ready(make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()], start=False)
    assert host.device_state() == DeviceState(True, True, True, default_payment_app=False)
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    assert host.device_state().default_payment_app


@pytest.mark.parametrize(
    ("nfc", "hce", "enabled", "code"),
    [
        (False, False, False, ErrCode.NFC_UNAVAILABLE),
        (False, True, True, ErrCode.NFC_UNAVAILABLE),
        (True, False, False, ErrCode.HCE_UNSUPPORTED),  # HCE is checked before the switch
        (True, False, True, ErrCode.HCE_UNSUPPORTED),
        (True, True, False, ErrCode.NFC_DISABLED),
    ],
)
def test_device_checks_map_to_wechat_codes(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any,
        nfc: bool, hce: bool, enabled: bool, code: ErrCode) -> None:
    phone.setFeature(FEATURE_NFC, nfc)
    phone.setFeature(FEATURE_HCE, hce)
    phone.setNfcEnabled(enabled)
    host = make_host([Probe()], start=False)
    with pytest.raises(HceError) as direct:
        check_ready(host.device_state())
    assert code_of(direct) == code
    with pytest.raises(HceError) as on_start:
        host.start()
    assert code_of(on_start) == code
    assert not jvm.Bridge.hasListener(), "a failed start must not leave the card attached"


def test_start_registers_the_claims_and_stop_removes_them(
        make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()])
    assert dynamic(phone, "other") == [PROBE_AID.hex().upper()]
    assert host.nfc.registered(Category.OTHER) == [PROBE_AID.hex().upper()]
    host.stop()
    assert dynamic(phone, "other") is None


def test_payment_claims_need_the_default_payment_role(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe(), Payment()], start=False)
    with pytest.raises(NotDefaultPaymentApp) as excinfo:
        host.start()
    assert code_of(excinfo) == ErrCode.NOT_DEFAULT_PAYMENT_APP
    intent = excinfo.value.intent
    assert intent.getAction() == "android.nfc.cardemulation.action.ACTION_CHANGE_DEFAULT"
    assert intent.getStringExtra("category") == "payment"
    from jnius import cast

    component = cast("android.content.ComponentName", intent.getParcelableExtra("component"))
    assert component.flattenToString() == SERVICE_COMPONENT
    assert dynamic(phone, "other") is None and not jvm.Bridge.hasListener()

    host.request_default_payment()
    shown = phone.lastStartedActivity()
    assert phone.startedActivityCount() == 1
    assert shown.getAction() == intent.getAction()
    assert shown.getFlags() & 0x10000000  # FLAG_ACTIVITY_NEW_TASK: started from a non-activity

    phone.setDefaultService("payment", SERVICE_COMPONENT)
    host.start()
    # the core's PPSE answers for payment claims; Android must route it here too
    assert sorted(dynamic(phone, "payment") or []) == sorted([PAY_AID.hex().upper(), PPSE])
    assert dynamic(phone, "other") == [PROBE_AID.hex().upper()]


@pytest.mark.parametrize("outcome", ["false", "throw"])
def test_refused_registration_is_13006(make_host: HostFactory, phone: Any, outcome: str) -> None:
    phone.setRegistration(outcome)
    host = make_host([Probe()], start=False)
    with pytest.raises(HceError) as excinfo:
        host.register_aids(Category.OTHER, ["F0010203040506"])
    assert code_of(excinfo) == ErrCode.AID_REGISTRATION_FAILED


@pytest.mark.parametrize(
    "aids",
    [
        [f"F0{i:010X}" for i in range(257)],  # Android throws past 256; we refuse first
        ["A00000"],  # 3 bytes
        ["A0000000031"],  # odd number of digits
        ["A000000003101G"],
        ["A0000000031010", "a0000000031010"],  # the same AID twice
        [],
        "A0000000031010",  # not a list
    ],
)
def test_invalid_aid_lists_are_13003_before_asking_android(
        make_host: HostFactory, phone: Any, aids: Any) -> None:
    phone.setRegistration("throw")  # had Android been asked, this would be 13006
    host = make_host([Probe()], start=False)
    with pytest.raises(HceError) as excinfo:
        host.register_aids(Category.OTHER, aids)
    assert code_of(excinfo) == ErrCode.INVALID_AID_LIST


def test_prefix_and_subset_aids_register_in_android_notation(
        make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()], start=False)
    host.register_aids(Category.OTHER, ["f0010203040506*", "F00102030405060708#"])
    assert dynamic(phone, "other") == ["F0010203040506*", "F00102030405060708#"]


def test_foreground_preference_follows_the_category_rules(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()])
    activity = jvm.Activity()
    assert host.prefer(activity) == [Category.OTHER]
    assert phone.getPreferredService() == SERVICE_COMPONENT
    host.unprefer(activity)
    assert phone.getPreferredService() is None


def test_payment_only_card_prefers_only_where_the_user_allows_it(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any) -> None:
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    host = make_host([Payment()])
    activity = jvm.Activity()
    assert host.prefer(activity) == []
    assert phone.getPreferredService() is None, "asked Android although no category allows it"
    phone.setPaymentAllowsForegroundPreference(True)
    assert host.prefer(activity) == [Category.PAYMENT]
    assert phone.getPreferredService() == SERVICE_COMPONENT


def test_wechat_style_service_runs_on_the_android_host(
        make_host: HostFactory, phone: Any, stack: Any) -> None:
    """hcekit.hce (startHCE/onHCEMessage/sendHCEMessage) over the real bridge."""
    host = make_host([Probe()], dispatch="worker")
    service = HceService(host)
    seen: list[HceMessage] = []

    def on_message(message: HceMessage) -> None:
        seen.append(message)
        if message.message_type == 1:
            assert message.data is not None
            service.send(message.data[-2:] + b"\x90\x00")

    service.on_message(on_message)
    with host.lock:
        service.start(["F0AABBCCDDEE01"])
    # registerAidsForService replaces the group: the plugins' AIDs are registered too
    assert dynamic(phone, "other") == [PROBE_AID.hex().upper(), "F0AABBCCDDEE01"]
    answer = bytes(stack.transceive(bytes.fromhex("00A4040007F0AABBCCDDEE01"), 5000))
    assert answer == bytes.fromhex("EE019000")
    stack.deactivate(0)
    host.bridge.close()
    assert [m.message_type for m in seen] == [1, 2]
