"""Device checks and AID registration through pyjnius, mapped to the WeChat codes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import SW, Category, DeviceState, ErrCode, HceError
from hcekit.device import check_ready
from hcekit.hce import HceMessage, HceService
from hcekit.sw import sw_bytes
from hcekit_android import NotDefaultPaymentApp
from hcekit_android.desktop import install_service

from .android_plugins import PAY_AID, PROBE_AID, Payment, Probe
from .android_support import SERVICE_COMPONENT, HostFactory, select, static_xml

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
    assert host.device_state() == DeviceState(True, True, True, default_payment_app=False,
                                              aid_prefix_registration=False)
    phone.setPrefixRouting(True)
    assert host.device_state().aid_prefix_registration
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
    assert phone.routedAidsFor(SERVICE_COMPONENT, "other") is None


def test_payment_claims_need_the_default_payment_role(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe(), Payment()], start=False)
    with pytest.raises(NotDefaultPaymentApp) as excinfo:
        host.start()
    assert code_of(excinfo) == ErrCode.NOT_DEFAULT_PAYMENT_APP
    intent = excinfo.value.intent
    if jvm.api < 35:  # from 35 the wallet role is asked for (test_android_phone_rules)
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


def test_a_repeated_aid_is_registered_once(make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()], start=False)
    host.register_aids(Category.OTHER, ["A0000000031010", "a0000000031010"])
    assert dynamic(phone, "other") == ["A0000000031010"]


def test_prefix_and_subset_aids_register_in_android_notation(
        make_host: HostFactory, phone: Any) -> None:
    phone.setPrefixRouting(True)
    host = make_host([Probe()], start=False)
    host.register_aids(Category.OTHER, ["f0010203040506*", "F00102030405060708#"])
    assert dynamic(phone, "other") == ["F0010203040506*", "F00102030405060708#"]


@pytest.mark.parametrize("aid", ["F0010203040506*", "F00102030405060708#"])
def test_prefix_aids_are_refused_where_the_controller_cannot_route_them(
        make_host: HostFactory, phone: Any, aid: str) -> None:
    host = make_host([Probe()], start=False)
    with pytest.raises(HceError) as excinfo:
        host.register_aids(Category.OTHER, ["F0AABBCCDDEE01", aid])
    assert code_of(excinfo) == ErrCode.AID_REGISTRATION_FAILED
    assert aid in str(excinfo.value) and "supportsAidPrefixRegistration" in str(excinfo.value)
    assert not host.device_state().aid_prefix_registration
    assert dynamic(phone, "other") is None, "nothing may be registered after a refusal"


def test_a_subset_claim_degrades_to_its_exact_aid_without_prefix_routing(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    """Android ignores only the AID it cannot route; the card and its other plugins still start."""
    from hcekit_access import AccessPlugin  # ships an aid-suffix-filter (#) claim

    host = make_host([AccessPlugin(), Probe()], start=False)
    with caplog.at_level("WARNING", logger="hcekit.android"):
        host.start()
    assert jvm.Bridge.hasListener()
    registered = dynamic(phone, "other")
    assert registered is not None and PROBE_AID.hex().upper() in registered
    assert not any(aid.endswith(("*", "#")) for aid in registered)
    warned = [r.getMessage() for r in caplog.records if "registering" in r.getMessage()]
    assert len(warned) == 1 and "plugin access" in warned[0], warned


def test_a_dynamic_group_replaces_the_static_group_of_its_category(
        make_host: HostFactory, phone: Any, stack: Any) -> None:
    """ApduServiceInfo: a dynamic group hides the static one; removing it brings it back."""
    install_service(static_xml([PROBE_AID.hex().upper()]))
    probe = Probe()
    host = make_host([probe], register_claims=False)
    assert bytes(stack.transceive(select(PROBE_AID), 5000))[-2:] == b"\x90\x00"
    stack.fieldOff()
    host.register_aids(Category.OTHER, ["F0AABBCCDDEE01"])
    assert phone.routedAidsFor(SERVICE_COMPONENT, "other").toArray() == ["F0AABBCCDDEE01"]
    binds = stack.binds()
    assert bytes(stack.transceive(select(PROBE_AID), 5000)) == sw_bytes(SW.FILE_NOT_FOUND)
    assert stack.binds() == binds, "Android routed an AID the service no longer registers"
    stack.fieldOff()
    host.remove_aids(Category.OTHER)
    assert bytes(stack.transceive(select(PROBE_AID), 5000))[-2:] == b"\x90\x00"


def test_registration_works_with_nfc_switched_off(make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()], start=False)
    phone.setNfcEnabled(False)
    host.register_aids(Category.OTHER, ["F0AABBCCDDEE01"])
    assert dynamic(phone, "other") == ["F0AABBCCDDEE01"]
    host.remove_aids(Category.OTHER)
    assert dynamic(phone, "other") is None


def test_a_service_missing_from_the_manifest_cannot_register(
        make_host: HostFactory, jvm: SimpleNamespace) -> None:
    jvm.Phone.reset()  # nothing installed
    host = make_host([Probe()], start=False)
    with pytest.raises(HceError) as excinfo:
        host.register_aids(Category.OTHER, ["F0AABBCCDDEE01"])
    assert code_of(excinfo) == ErrCode.AID_REGISTRATION_FAILED
    assert "manifest" in str(excinfo.value)


def test_inline_dispatch_refuses_the_raw_facade_registration(make_host: HostFactory) -> None:
    host = make_host([Probe()], dispatch="inline")
    with pytest.raises(HceError) as excinfo:
        HceService(host).start(["F0AABBCCDDEE01"])
    assert code_of(excinfo) == ErrCode.AID_REGISTRATION_FAILED
    assert "worker" in str(excinfo.value)


# -- routing on the model (RegisteredAidCache / HostEmulationManager) ------------------------


def test_payment_aids_route_only_to_the_default_payment_service(
        jvm: SimpleNamespace, phone: Any, stack: Any) -> None:
    install_service(static_xml(payment=[PAY_AID.hex().upper()], banner=True))
    echo = jvm.EchoListener()
    jvm.Bridge.setListener(echo)
    try:
        assert bytes(stack.transceive(select(PAY_AID), 5000)) == sw_bytes(SW.FILE_NOT_FOUND)
        stack.fieldOff()
        phone.setDefaultService("payment", SERVICE_COMPONENT)
        assert bytes(stack.transceive(select(PAY_AID), 5000)) == select(PAY_AID) + b"\x90\x00"
    finally:
        jvm.Bridge.clearListener(echo)


def test_two_services_for_one_other_aid_make_android_ask_the_user(
        jvm: SimpleNamespace, phone: Any, stack: Any) -> None:
    other_aid = "F0E1D2C3B4A5"
    phone.installOtherApp()
    install_service(static_xml([other_aid]))
    assert stack.transceive(select(bytes.fromhex(other_aid)), 300) is None
    assert stack.conflicts() == 1
    stack.fieldOff()
    phone.preferredService = SERVICE_COMPONENT  # the app in front prefers its own service
    echo = jvm.EchoListener()
    jvm.Bridge.setListener(echo)
    try:
        answer = stack.transceive(select(bytes.fromhex(other_aid)), 5000)
        assert bytes(answer) == select(bytes.fromhex(other_aid)) + b"\x90\x00"
    finally:
        jvm.Bridge.clearListener(echo)


def test_require_device_unlock_refuses_while_locked(
        jvm: SimpleNamespace, phone: Any, stack: Any) -> None:
    install_service(static_xml([PROBE_AID.hex().upper()], unlock=True))
    phone.setLocked(True)
    assert bytes(stack.transceive(select(PROBE_AID), 5000)) == sw_bytes(SW.FILE_NOT_FOUND)
    assert stack.unlockRequests() == 1 and stack.binds() == 0
    stack.fieldOff()
    phone.setLocked(False)
    echo = jvm.EchoListener()
    jvm.Bridge.setListener(echo)
    try:
        assert bytes(stack.transceive(select(PROBE_AID), 5000))[-2:] == b"\x90\x00"
    finally:
        jvm.Bridge.clearListener(echo)


@pytest.mark.parametrize(("prefix", "routed"), [(False, False), (True, True)])
def test_prefix_aids_route_only_where_the_controller_supports_them(
        jvm: SimpleNamespace, phone: Any, stack: Any, prefix: bool, routed: bool) -> None:
    xml = static_xml().replace(
        "</host-apdu-service>",
        '<aid-group android:category="other" android:description="t">'
        '<aid-prefix-filter android:name="F0010203040506"/></aid-group></host-apdu-service>')
    install_service(xml)
    phone.setPrefixRouting(prefix)
    echo = jvm.EchoListener()
    jvm.Bridge.setListener(echo)
    try:
        command = select(bytes.fromhex("F00102030405060708"))
        answer = bytes(stack.transceive(command, 5000))
        assert answer == (command + b"\x90\x00" if routed else sw_bytes(SW.FILE_NOT_FOUND))
    finally:
        jvm.Bridge.clearListener(echo)


def test_foreground_preference_follows_the_category_rules(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()])
    activity = phone.resumedActivity()
    assert host.prefer(activity) == [Category.OTHER]
    assert phone.getPreferredService() == SERVICE_COMPONENT
    host.unprefer(activity)
    assert phone.getPreferredService() is None


def test_payment_only_card_prefers_only_where_the_user_allows_it(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any) -> None:
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    host = make_host([Payment()])
    activity = phone.resumedActivity()
    if jvm.api >= 35:
        # Android 15+ has the wallet role: the real categoryAllowsForegroundPreference is always true
        assert host.prefer(activity) == [Category.PAYMENT]
        assert phone.getPreferredService() == SERVICE_COMPONENT
        return
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
    stack.fieldOff()
    assert host.nfc  # the dispatch thread delivers the deactivation in order
    from jnius import autoclass

    assert autoclass("org.hcekit.bridge.HcekitBridge").awaitDispatched(5000)
    assert [m.message_type for m in seen] == [1, 2]
