"""Where Android's NFC service shapes what a card sees, as AOSP's sources say (issue #28's nine).

Each scenario runs the real framework (Robolectric) against the NFC-service
model, and names the AOSP source its rule comes from.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import SW, Category, ErrCode, HceError
from hcekit.sw import sw_bytes
from hcekit_android import NotDefaultPaymentApp
from hcekit_android.bridge import SERVICE_CLASS
from hcekit_android.desktop import install_service
from hcekit_android.platform import AndroidNfc

from .android_plugins import PAY_AID, PROBE_AID, Payment, Probe
from .android_support import SERVICE_COMPONENT, HostFactory, select, static_xml

pytestmark = pytest.mark.jvm

OK = b"\x90\x00"
NOT_FOUND = sw_bytes(SW.FILE_NOT_FOUND)
UNKNOWN = sw_bytes(SW.UNKNOWN)


@pytest.fixture
def echo(jvm: SimpleNamespace) -> Any:
    listener = jvm.EchoListener()
    jvm.Bridge.setListener(listener)
    yield listener
    jvm.Bridge.clearListener(listener)


def test_screen_off_refuses_a_service_that_requires_the_screen(
        phone: Any, stack: Any, echo: Any) -> None:
    """HostEmulationManager (A14 :260-266): requireDeviceScreenOn, true by default, answers 6A82."""
    install_service(static_xml([PROBE_AID.hex().upper()]))
    phone.setScreenOn(False)
    assert bytes(stack.transceive(select(PROBE_AID), 5000)) == NOT_FOUND
    assert stack.screenOffRefusals() == 1 and stack.binds() == 0
    stack.fieldOff()
    phone.setScreenOn(True)
    assert bytes(stack.transceive(select(PROBE_AID), 5000)) == select(PROBE_AID) + OK


def test_a_service_that_allows_screen_off_answers_with_the_screen_off(
        phone: Any, stack: Any, echo: Any) -> None:
    xml = static_xml([PROBE_AID.hex().upper()]).replace(
        "<host-apdu-service ", '<host-apdu-service android:requireDeviceScreenOn="false" ')
    install_service(xml)
    phone.setScreenOn(False)
    assert bytes(stack.transceive(select(PROBE_AID), 5000)) == select(PROBE_AID) + OK


def test_prefer_is_refused_for_a_payment_service_that_is_not_the_default_up_to_android_14(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any) -> None:
    """PreferredServices.isForegroundAllowedLocked (A14): no foreground payment unless the user allows it."""
    if jvm.api >= 35:
        pytest.skip(f"API {jvm.api}: the wallet role replaces this rule (the scenario runs at 34)")
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    host = make_host([Probe(), Payment()])
    phone.setDefaultService("payment", "com.example.wallet/.Pay")  # another app became default
    activity = phone.resumedActivity()
    with pytest.raises(HceError) as excinfo:
        host.prefer(activity)
    assert excinfo.value.code == ErrCode.AID_REGISTRATION_FAILED
    assert phone.getPreferredService() is None


def test_a_registration_during_a_tap_ends_the_tap(
        jvm: SimpleNamespace, phone: Any, stack: Any, echo: Any) -> None:
    """A changed routing table is committed with RF discovery stopped (NativeNfcManager.cpp:988-996)."""
    nfc = AndroidNfc(jvm.context(), SERVICE_CLASS)
    install_service(static_xml([PROBE_AID.hex().upper()]))
    assert bytes(stack.transceive(select(PROBE_AID), 5000)) == select(PROBE_AID) + OK
    nfc.register(Category.OTHER, [PROBE_AID.hex().upper(), "F0AABBCCDDEE01"])
    stack.drain()
    assert stack.linkLosses() == 1
    assert jvm.Bridge.awaitDispatched(5000)
    assert echo.deactivations == 1, "the service was told the link is gone (LINK_LOSS)"
    # the reader's next command starts a new activation: a non-SELECT gets 6F00 from Android
    assert bytes(stack.transceive(bytes.fromhex("00B0000000"), 5000)) == UNKNOWN
    new = bytes.fromhex("F0AABBCCDDEE01")
    assert bytes(stack.transceive(select(new), 5000)) == select(new) + OK, "the new table routes"


def test_a_registration_that_changes_nothing_keeps_the_tap(
        make_host: HostFactory, phone: Any, stack: Any) -> None:
    host = make_host([Probe()])
    assert bytes(stack.transceive(select(PROBE_AID), 5000))[-2:] == OK
    host.register_aids(Category.OTHER, [PROBE_AID.hex().upper()])
    assert bytes(stack.transceive(select(PROBE_AID), 5000))[-2:] == OK
    assert stack.linkLosses() == 0


def test_the_active_service_wins_a_conflict_within_its_tap(
        phone: Any, stack: Any, echo: Any) -> None:
    """HostEmulationManager (A14 :281-288): no default, but the active service claims the AID."""
    shared = "F0E1D2C3B4A5"
    phone.installOtherApp()
    install_service(static_xml([PROBE_AID.hex().upper(), shared]))
    assert bytes(stack.transceive(select(PROBE_AID), 5000)) == select(PROBE_AID) + OK
    answer = stack.transceive(select(bytes.fromhex(shared)), 5000)
    assert answer is not None and bytes(answer) == select(bytes.fromhex(shared)) + OK
    assert stack.conflicts() == 0
    stack.fieldOff()
    assert stack.transceive(select(bytes.fromhex(shared)), 300) is None, "a new tap asks the user"
    assert stack.conflicts() == 1


def test_the_default_payment_service_stays_bound_across_taps(
        phone: Any, stack: Any, echo: Any) -> None:
    """HostEmulationManager bindPaymentServiceLocked (A14 :515-530): bound while it is the default."""
    install_service(static_xml(payment=[PAY_AID.hex().upper()], banner=True))
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    stack.drain()
    record = phone.service(SERVICE_COMPONENT)
    assert record.isRunning() and record.creations() == 1, "bound as soon as it became the default"
    for _ in range(3):
        assert bytes(stack.transceive(select(PAY_AID), 5000))[-2:] == OK
        stack.fieldOff()
    assert record.creations() == 1 and record.isRunning()
    phone.setDefaultService("payment", None)
    stack.drain()
    assert not record.isRunning()


def test_an_other_service_is_bound_per_tap(phone: Any, stack: Any, echo: Any) -> None:
    install_service(static_xml([PROBE_AID.hex().upper()]))
    for _ in range(2):
        assert bytes(stack.transceive(select(PROBE_AID), 5000))[-2:] == OK
        stack.fieldOff()
    record = phone.service(SERVICE_COMPONENT)
    assert record.creations() == 2 and not record.isRunning()


def test_a_four_byte_select_is_no_aid_select(phone: Any, stack: Any, echo: Any) -> None:
    """findSelectAid (A14 :568-588, A16 :1441-1463): fewer than 5 AID bytes is no SELECT by AID.

    First in a tap, Android answers it 6F00 itself and binds nothing; inside a
    tap it goes to the active service like any other command.
    """
    install_service(static_xml([PROBE_AID.hex().upper()]))
    short = select(PROBE_AID[:4])
    assert bytes(stack.transceive(short, 5000)) == UNKNOWN
    assert stack.binds() == 0
    assert bytes(stack.transceive(select(PROBE_AID), 5000)) == select(PROBE_AID) + OK
    assert bytes(stack.transceive(short, 5000)) == short + OK


def test_registrations_outlive_the_process_and_a_new_run_drops_stale_groups(
        jvm: SimpleNamespace, make_host: HostFactory, phone: Any) -> None:
    """RegisteredServicesCache persists dynamic AIDs (dynamic_aids.xml): they survive process death."""
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    crashed = make_host([Probe(), Payment()])
    crashed.bridge.stop_serving()  # the process dies: no stop(), nothing removed
    crashed._attached = False
    phone.closeApp()
    assert phone.dynamicAidsFor(SERVICE_COMPONENT, "payment") is not None, "Android kept them"
    make_host([Probe()])  # the next run no longer claims payment AIDs
    assert phone.dynamicAidsFor(SERVICE_COMPONENT, "payment") is None
    assert phone.dynamicAidsFor(SERVICE_COMPONENT, "other") is not None


def test_android_15_asks_for_the_wallet_role_instead_of_the_default_payment_app(
        jvm: SimpleNamespace, make_host: HostFactory) -> None:
    host = make_host([Probe(), Payment()], start=False)
    with pytest.raises(NotDefaultPaymentApp) as excinfo:
        host.start()
    action = str(excinfo.value.intent.getAction())
    if jvm.api >= 35:
        assert action == "android.app.role.action.REQUEST_ROLE"
        assert excinfo.value.intent.getStringExtra(
            "android.intent.extra.ROLE_NAME") == "android.app.role.WALLET"
    else:
        assert action == "android.nfc.cardemulation.action.ACTION_CHANGE_DEFAULT"


def test_the_wallet_role_holder_wins_other_aids_from_android_15(
        jvm: SimpleNamespace, phone: Any, stack: Any, echo: Any) -> None:
    """A16 RegisteredAidCache.resolveAidConflictLocked (:492-510, :541-556)."""
    shared = "F0E1D2C3B4A5"
    phone.installOtherApp()
    install_service(static_xml([shared]))
    phone.setDefaultService("payment", SERVICE_COMPONENT)  # this app holds the wallet role
    answer = stack.transceive(select(bytes.fromhex(shared)), 1000)
    if jvm.api >= 35:
        assert answer is not None and bytes(answer) == select(bytes.fromhex(shared)) + OK
    else:
        assert answer is None and stack.conflicts() == 1, "Android 14 asks the user"
