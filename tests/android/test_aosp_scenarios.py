"""AOSP's own unit tests of the NFC service, restated as scenarios against our model.

Each scenario states in our words what one case of HostEmulationManagerTest,
RegisteredAidCacheTest or PreferredServicesTest (Android 16 NFC module) shows
an app or a reader, and checks it through the real framework: the reader
sends APDUs through ``stack``, apps register through ``AndroidHost`` and the
real ``CardEmulation``. docs/android-aosp-cases.md maps every case to its
scenario here (the observe-mode cases: test_aosp_observe_scenarios.py), or
says why it does not apply; the last tests check that table
against tests/android/aosp_cases.txt (the case names, with their source commit).

A scenario the model cannot pass yet is a strict xfail naming what is missing
(it then fails once the model follows AOSP, and the marker must go).
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import SW, Category, DeactivationReason
from hcekit.sw import sw_bytes
from hcekit_android.desktop import install_service
from hcekit_android.manifest import ANDROID_NS

from .android_plugins import PROBE_AID, Payment, Probe
from .android_support import SERVICE_COMPONENT, HostFactory, select, static_xml
from .case_table import ROOT, CaseTable

pytestmark = pytest.mark.jvm

TIMEOUT_MS = 5000
QUIET_MS = 300  # how long a reader waits before deciding no answer comes
OTHER_CLASS = "org.hcekit.desktop.OtherAppService"  # answers 9000 to everything
SHARED_AID = bytes.fromhex("F0AABBCCDDEE01")
NOT_FOUND = sw_bytes(SW.FILE_NOT_FOUND)
UNKNOWN = sw_bytes(SW.UNKNOWN)
OK = sw_bytes(SW.NO_ERROR)
ECHO = bytes.fromhex("8001000002CAFE")


def install_other(phone: Any, package: str, aids: list[bytes], category: str = "other") -> str:
    """Another app's HCE service claiming *aids* statically; its flattened component."""
    filters = "".join(f'<aid-filter android:name="{aid.hex().upper()}"/>' for aid in aids)
    xml = (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="x">'
           f'<aid-group android:category="{category}" android:description="x">{filters}'
           "</aid-group></host-apdu-service>")
    phone.installService(package, OTHER_CLASS, xml, "")
    return f"{package}/{OTHER_CLASS}"


def answer(stack: Any, command: bytes) -> bytes | None:
    raw = stack.transceive(command, TIMEOUT_MS)
    return None if raw is None else bytes(raw)


def no_answer(stack: Any, command: bytes) -> bool:
    return stack.transceive(command, QUIET_MS) is None


def settle(jvm: SimpleNamespace, stack: Any) -> None:
    stack.drain()
    assert jvm.Bridge.awaitDispatched(TIMEOUT_MS)


# -- HostEmulationManagerTest: what the NFC service answers by itself -------------------------


def test_the_android_hce_aid_is_answered_by_the_nfc_service(make_host: HostFactory, stack: Any) -> None:
    make_host([Probe()])
    hce_aid = bytes.fromhex("A000000476416E64726F6964484345")
    assert answer(stack, select(hce_aid)) == bytes.fromhex("148100009000")
    assert stack.binds() == 0


def test_an_aid_nobody_routes_gets_6a82_and_binds_nothing(make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe])
    assert answer(stack, select(bytes.fromhex("F0DEADBEEF01"))) == NOT_FOUND
    assert stack.binds() == 0 and probe.commands == []


def test_an_aid_whose_group_was_removed_gets_6a82(make_host: HostFactory, stack: Any) -> None:
    host = make_host([Probe()], start=False)
    host.register_aids(Category.OTHER, [SHARED_AID.hex()])
    host.remove_aids(Category.OTHER)
    assert answer(stack, select(SHARED_AID)) == NOT_FOUND
    assert stack.binds() == 0


def test_a_command_before_any_select_gets_6f00(make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe])
    assert answer(stack, ECHO) == UNKNOWN
    assert stack.binds() == 0 and probe.commands == []


@pytest.mark.parametrize("command", [b"\x00", bytes.fromhex("00A4040010F06863656B01")],
                         ids=["one-byte", "lc-past-the-end"])
def test_what_is_not_a_whole_select_is_not_routed(
        make_host: HostFactory, stack: Any, command: bytes) -> None:
    make_host([Probe()])
    assert answer(stack, command) == UNKNOWN  # not a SELECT: nobody chosen yet
    assert stack.binds() == 0


# -- requirements of the service and the phone --------------------------------------------------


def test_a_service_needing_unlock_gets_nothing_on_a_locked_phone(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    install_service(static_xml([PROBE_AID.hex().upper()], unlock=True))
    make_host([Probe()], register_claims=False)
    phone.setLocked(True)
    assert answer(stack, select(PROBE_AID)) == NOT_FOUND
    assert stack.unlockRequests() == 1 and stack.binds() == 0
    stack.fieldOff()
    phone.setLocked(False)
    assert answer(stack, select(PROBE_AID)) == OK


def test_secure_nfc_refuses_every_host_service_while_locked(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    make_host([Probe()])  # no requireDeviceUnlock
    phone.setLocked(True)
    assert answer(stack, select(PROBE_AID)) == OK  # Secure NFC off: works locked
    stack.fieldOff()
    phone.setSecureNfc(True)
    assert answer(stack, select(PROBE_AID)) == NOT_FOUND
    assert stack.unlockRequests() == 1
    stack.fieldOff()
    phone.setLocked(False)
    assert answer(stack, select(PROBE_AID)) == OK


def test_a_service_needing_the_screen_on_gets_nothing_with_the_screen_off(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    xml = static_xml([PROBE_AID.hex().upper()]).replace(
        "<host-apdu-service ", '<host-apdu-service android:requireDeviceScreenOn="true" ', 1)
    install_service(xml)
    make_host([Probe()], register_claims=False)
    phone.setScreenOn(False)
    assert answer(stack, select(PROBE_AID)) == NOT_FOUND
    assert stack.binds() == 0


# -- conflicts -----------------------------------------------------------------------------------


def test_two_other_services_on_one_aid_make_android_ask_the_user(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    probe = Probe()
    make_host([probe])
    install_other(phone, "com.example.twin", [PROBE_AID])
    assert no_answer(stack, select(PROBE_AID))
    assert stack.conflicts() == 1 and stack.binds() == 0


def test_while_the_user_is_asked_every_command_is_dropped(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    probe = Probe()
    make_host([probe])
    install_other(phone, "com.example.twin", [PROBE_AID])
    assert no_answer(stack, select(PROBE_AID))
    dropped = stack.droppedCommands()
    assert no_answer(stack, ECHO)
    assert no_answer(stack, select(PROBE_AID))
    assert stack.droppedCommands() == dropped + 2
    assert stack.binds() == 0 and probe.commands == []


def test_the_service_active_in_this_tap_wins_a_conflicting_aid(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    host = make_host([Probe()])
    host.register_aids(Category.OTHER, [PROBE_AID.hex(), SHARED_AID.hex()])
    install_other(phone, "com.example.twin", [SHARED_AID])
    assert answer(stack, select(PROBE_AID)) == OK  # ours alone: active now
    assert answer(stack, select(SHARED_AID)) is not None  # both claim it: the active one answers
    assert stack.conflicts() == 0 and stack.activeService() == SERVICE_COMPONENT


def test_a_preferred_service_wins_a_conflict_until_it_is_unset(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    host = make_host([Probe()])
    install_other(phone, "com.example.twin", [PROBE_AID])
    assert phone.getPreferredService() is None
    activity = phone.resumedActivity()
    assert host.prefer(activity) == [Category.OTHER]
    assert phone.getPreferredService() == SERVICE_COMPONENT
    assert answer(stack, select(PROBE_AID)) == OK
    assert stack.activeService() == SERVICE_COMPONENT
    stack.fieldOff()
    host.unprefer(activity)
    assert phone.getPreferredService() is None
    assert no_answer(stack, select(PROBE_AID))
    assert stack.conflicts() == 1


# -- binding and the transfer ----------------------------------------------------------------------


def test_the_first_select_binds_the_service_and_is_its_first_command(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    jvm.Bridge.setListener(listener := jvm.EchoListener())
    try:
        phone.installService(SERVICE_COMPONENT.split("/")[1], static_xml([PROBE_AID.hex().upper()]))
        record = phone.service(SERVICE_COMPONENT)
        assert not record.isRunning()
        command = select(PROBE_AID)
        assert answer(stack, command) == command + OK  # the echo: the SELECT arrived unchanged
        assert stack.binds() == 1 and record.isRunning() and record.creations() == 1
        stack.fieldOff()
    finally:
        jvm.Bridge.clearListener(listener)


def test_a_command_while_the_service_is_being_bound_is_dropped(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    probe = Probe()
    make_host([probe])
    dropped = stack.droppedCommands()
    phone.holdMainThread()  # the app is busy: the binding cannot complete
    try:
        stack.submit(select(PROBE_AID))
        stack.submit(ECHO)  # a second command before the binding completes
        deadline = time.monotonic() + 10
        while stack.droppedCommands() == dropped and time.monotonic() < deadline:
            time.sleep(0.005)
        assert stack.droppedCommands() == dropped + 1
    finally:
        phone.releaseMainThread()
    settle(jvm, stack)
    assert probe.commands == []  # the dropped command never reached the card


def test_a_binding_that_completes_after_the_field_left_delivers_nothing(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    host = make_host([Probe()])
    phone.holdMainThread()
    releaser = threading.Timer(0.2, phone.releaseMainThread)
    try:
        stack.submit(select(PROBE_AID))
        releaser.start()
        stack.fieldOff()  # posted before the binding connects; waits for both threads
    finally:
        releaser.join()
        phone.releaseMainThread()
    settle(jvm, stack)
    assert stack.awaitAnswer(0) is None and stack.unsolicitedResponses() == 0
    with host.lock:
        assert host.card.selected is None  # the held SELECT was never sent


def test_later_commands_go_to_the_selected_service_unchanged(
        make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe])
    assert answer(stack, select(PROBE_AID)) == OK
    assert answer(stack, ECHO) == bytes.fromhex("FECA") + OK
    assert probe.commands == [ECHO]


def test_selecting_the_active_service_again_keeps_it_without_a_deactivation(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe])
    assert answer(stack, select(PROBE_AID)) == OK
    assert answer(stack, select(PROBE_AID)) == OK
    settle(jvm, stack)
    assert probe.deactivations == [] and stack.binds() == 1


def test_selecting_another_apps_aid_binds_it_and_deselects_ours(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    probe = Probe()
    make_host([probe])
    other = install_other(phone, "com.example.other", [SHARED_AID])
    assert answer(stack, select(PROBE_AID)) == OK
    assert answer(stack, select(SHARED_AID)) == OK
    settle(jvm, stack)
    assert stack.activeService() == other and stack.binds() == 2
    assert probe.deactivations == [DeactivationReason.DESELECTED]


def test_field_loss_deactivates_and_unbinds_the_active_service(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    probe = Probe()
    make_host([probe])
    assert answer(stack, select(PROBE_AID)) == OK
    assert phone.service(SERVICE_COMPONENT).isRunning()
    stack.fieldOff()
    settle(jvm, stack)
    assert probe.deactivations == [DeactivationReason.LINK_LOSS]
    assert stack.activeService() is None
    assert not phone.service(SERVICE_COMPONENT).isRunning()  # unbound, not started: destroyed


def test_field_loss_with_no_active_service_tells_nobody(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    probe = Probe()
    make_host([probe])
    assert answer(stack, select(bytes.fromhex("F0DEADBEEF01"))) == NOT_FOUND
    stack.fieldOff()
    settle(jvm, stack)
    assert probe.deactivations == [] and stack.binds() == 0


def test_a_killed_service_is_bound_again_by_the_next_select(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    jvm.Bridge.setListener(listener := jvm.EchoListener())
    try:
        phone.installService(SERVICE_COMPONENT.split("/")[1], static_xml([PROBE_AID.hex().upper()]))
        record = phone.service(SERVICE_COMPONENT)
        command = select(PROBE_AID)
        assert answer(stack, command) == command + OK
        phone.closeApp()  # the app's process dies mid-tap
        assert not record.isRunning()
        assert answer(stack, command) == command + OK
        assert record.creations() == 2 and stack.binds() == 2
        stack.fieldOff()
    finally:
        jvm.Bridge.clearListener(listener)


# -- the payment service and the preferred service stay bound ---------------------------------------


def test_the_default_payment_service_is_bound_before_any_tap(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    make_host([Payment()], start=False)
    record = phone.service(SERVICE_COMPONENT)
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    stack.drain()
    assert record.isRunning() and record.creations() == 1


def test_changing_the_default_payment_service_rebinds(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    make_host([Payment()], start=False)
    other = install_other(phone, "com.example.wallet", [bytes.fromhex("A0000000041010")], "payment")
    phone.setDefaultService("payment", other)
    stack.drain()
    assert phone.service(other).isRunning()
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    stack.drain()
    assert not phone.service(other).isRunning()
    assert phone.service(SERVICE_COMPONENT).isRunning()


def test_clearing_the_default_payment_service_unbinds_it(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    make_host([Payment()], start=False)
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    stack.drain()
    assert phone.service(SERVICE_COMPONENT).isRunning()
    phone.setDefaultService("payment", None)
    stack.drain()
    assert not phone.service(SERVICE_COMPONENT).isRunning()


def test_a_killed_default_payment_service_is_bound_again_at_once(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    make_host([Payment()])
    stack.drain()
    record = phone.service(SERVICE_COMPONENT)
    assert record.isRunning() and record.creations() == 1
    phone.forceStopApp()  # force-stopped (or updated): the binding is dead for good
    stack.drain()
    if phone.apiLevel >= jvm.Phone.MODULE_API:
        assert record.isRunning() and record.creations() == 2  # bound again at once
        assert stack.binds() == 2
    else:
        # Android 14's payment connection ignores a dead binding: only a tap binds it again
        assert not record.isRunning()
        assert answer(stack, select(bytes.fromhex("A0000000999901"))) is not None
        assert record.isRunning() and record.creations() == 2


def test_a_dead_payment_service_is_bound_again_by_the_next_tap(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    make_host([Payment()])
    stack.drain()
    record = phone.service(SERVICE_COMPONENT)
    assert record.isRunning()
    phone.closeApp()  # its process dies: the NFC service forgets the binding
    stack.drain()
    assert answer(stack, select(bytes.fromhex("A0000000999901"))) is not None
    assert record.isRunning() and record.creations() == 2
    assert stack.activeService() == SERVICE_COMPONENT


def test_the_default_payment_service_is_bound_by_a_tap(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    make_host([Payment()])
    pay_aid = bytes.fromhex("A0000000999901")
    assert answer(stack, select(pay_aid)) is not None
    assert phone.service(SERVICE_COMPONENT).isRunning()
    assert stack.activeService() == SERVICE_COMPONENT


def test_a_preferred_service_is_bound_when_it_becomes_preferred(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    host = make_host([Probe()])
    record = phone.service(SERVICE_COMPONENT)
    assert not record.isRunning()
    activity = phone.resumedActivity()
    host.prefer(activity)
    stack.drain()
    assert record.isRunning()
    assert record.creations() == 1 and stack.binds() == 1
    host.unprefer(activity)
    stack.drain()
    assert not record.isRunning()


def test_a_preferred_service_replaces_the_one_bound_before(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    host = make_host([Probe()])
    activity = phone.resumedActivity()
    host.prefer(activity)
    stack.drain()
    assert phone.service(SERVICE_COMPONENT).isRunning()
    other = install_other(phone, "com.example.other", [SHARED_AID])
    emulation = host.nfc.card_emulation()
    assert emulation.setPreferredService(activity, phone.service(other).component)
    stack.drain()
    assert phone.service(other).isRunning()
    assert not phone.service(SERVICE_COMPONENT).isRunning()
    host.unprefer(activity)
    stack.drain()
    assert not phone.service(other).isRunning()


# -- RegisteredAidCacheTest: prefix and subset AIDs ---------------------------------------------


def prefix_subset_xml() -> str:
    return (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="t">'
            '<aid-group android:category="other" android:description="t">'
            '<aid-prefix-filter android:name="F0AA0203040506"/>'
            '<aid-suffix-filter android:name="F0BB0102030405060708"/>'
            "</aid-group></host-apdu-service>")


@pytest.mark.parametrize("supported", [True, False], ids=["supported", "unsupported"])
def test_prefix_and_subset_aids_route_only_where_the_controller_can(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any, supported: bool) -> None:
    phone.setPrefixRouting(supported)
    phone.setSubsetRouting(supported)
    host = make_host([Probe()], start=False)
    assert host.device_state().aid_prefix_registration is supported
    jvm.Bridge.setListener(listener := jvm.EchoListener())
    try:
        install_service(prefix_subset_xml())
        longer = select(bytes.fromhex("F0AA020304050699"))  # starts with the prefix
        shorter = select(bytes.fromhex("F0BB010203"))  # the start of the subset AID
        for command in (longer, shorter):
            assert answer(stack, command) == (command + OK if supported else NOT_FOUND)
            stack.fieldOff()
        assert stack.binds() == (2 if supported else 0)
    finally:
        jvm.Bridge.clearListener(listener)


# -- RegisteredAidCacheTest and PreferredServicesTest: the wallet role (Android 15+) --------------

WALLET_PAY_AID = bytes.fromhex("A0000000041010")


@pytest.fixture
def wallet_level(jvm: SimpleNamespace) -> None:
    if jvm.api < 35:
        pytest.skip(f"API {jvm.api}: the wallet role starts with Android 15 (API 35); "
                    "run with HCEKIT_ANDROID_API=35 or 36")


@pytest.mark.usefixtures("wallet_level")
def test_the_role_holders_payment_service_wins_a_payment_aid(
        jvm: SimpleNamespace, stack: Any, phone: Any) -> None:
    jvm.Bridge.setListener(listener := jvm.EchoListener())
    try:
        install_service(static_xml([SHARED_AID.hex().upper()], [WALLET_PAY_AID.hex().upper()]))
        install_other(phone, "com.example.otherpay", [WALLET_PAY_AID], "payment")
        phone.setDefaultService("payment", SERVICE_COMPONENT)  # this app holds the role
        command = select(WALLET_PAY_AID)
        assert answer(stack, command) == command + OK  # ours (the echo), not the other wallet
        stack.fieldOff()
        command = select(SHARED_AID)
        assert answer(stack, command) == command + OK  # an uncontested other AID: its service
        stack.fieldOff()
    finally:
        jvm.Bridge.clearListener(listener)


@pytest.mark.usefixtures("wallet_level")
def test_the_app_in_front_wins_a_payment_aid_over_the_role_holder(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    other = install_other(phone, "com.example.wallet", [bytes.fromhex("A0000000999901")], "payment")
    phone.setDefaultService("payment", other)  # another app holds the role
    host = make_host([Payment()], start=False)
    host.register_aids(Category.PAYMENT, ["A0000000999901"])
    emulation = host.nfc.card_emulation()  # asked directly: the rule is the NFC service's
    assert emulation.setPreferredService(phone.resumedActivity(),
                                         phone.service(SERVICE_COMPONENT).component)
    assert answer(stack, select(bytes.fromhex("A0000000999901"))) is not None
    assert stack.activeService() == SERVICE_COMPONENT


@pytest.mark.usefixtures("wallet_level")
def test_the_role_holders_prefix_aid_wins_over_another_apps_exact_aid(
        jvm: SimpleNamespace, stack: Any, phone: Any) -> None:
    phone.setPrefixRouting(True)
    jvm.Bridge.setListener(listener := jvm.EchoListener())
    try:
        install_service(f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="t">'
                        '<aid-group android:category="payment" android:description="t">'
                        '<aid-prefix-filter android:name="A000000004"/></aid-group>'
                        "</host-apdu-service>")
        install_other(phone, "com.example.otherpay", [WALLET_PAY_AID], "payment")
        phone.setDefaultService("payment", SERVICE_COMPONENT)
        command = select(WALLET_PAY_AID)
        assert answer(stack, command) == command + OK
        assert stack.activeService() == SERVICE_COMPONENT
        stack.fieldOff()
    finally:
        jvm.Bridge.clearListener(listener)


@pytest.mark.usefixtures("wallet_level")
def test_two_services_of_the_role_holder_one_wins_without_asking(
        jvm: SimpleNamespace, stack: Any, phone: Any) -> None:
    xml = static_xml(payment=[WALLET_PAY_AID.hex().upper()])
    jvm.Bridge.setListener(listener := jvm.EchoListener())
    try:
        install_service(xml)
        phone.installService(OTHER_CLASS, xml)  # a second service of this app
        install_other(phone, "com.example.otherpay", [WALLET_PAY_AID], "payment")
        phone.setDefaultService("payment", SERVICE_COMPONENT)
        assert answer(stack, select(WALLET_PAY_AID)) is not None
        assert stack.conflicts() == 0
        assert stack.activeService().startswith("org.hcekit.example/")
        stack.fieldOff()
    finally:
        jvm.Bridge.clearListener(listener)


@pytest.mark.usefixtures("wallet_level")
def test_without_a_role_holder_no_payment_aid_routes(make_host: HostFactory, stack: Any) -> None:
    host = make_host([Payment()], start=False)
    host.register_aids(Category.PAYMENT, ["A0000000999901"])
    assert answer(stack, select(bytes.fromhex("A0000000999901"))) == NOT_FOUND
    assert stack.binds() == 0


@pytest.mark.usefixtures("wallet_level")
def test_a_service_switched_off_for_other_leaves_its_other_aid_to_the_next_one(
        jvm: SimpleNamespace, stack: Any, phone: Any) -> None:
    jvm.Bridge.setListener(listener := jvm.EchoListener())
    try:
        install_service(static_xml([SHARED_AID.hex().upper()], [WALLET_PAY_AID.hex().upper()]))
        twin = install_other(phone, "com.example.twin", [SHARED_AID])
        phone.setDefaultService("payment", SERVICE_COMPONENT)  # this app holds the role
        command = select(SHARED_AID)
        assert answer(stack, command) == command + OK  # the holder's other AID: ours (the echo)
        stack.fieldOff()
        # the user switches this service off for "other" (Settings): the twin gets the AID
        assert phone.setServiceEnabledForCategoryOther(SERVICE_COMPONENT, False)
        assert not phone.setServiceEnabledForCategoryOther(SERVICE_COMPONENT, False)  # already off
        assert answer(stack, command) == OK
        assert stack.activeService() == twin and stack.conflicts() == 0
        stack.fieldOff()
        command = select(WALLET_PAY_AID)
        assert answer(stack, command) == command + OK  # its payment AID is not affected
        stack.fieldOff()
    finally:
        jvm.Bridge.clearListener(listener)


@pytest.mark.usefixtures("wallet_level")
def test_an_aid_whose_only_service_is_switched_off_for_other_gets_6a82(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    install_service(static_xml([PROBE_AID.hex().upper()], [WALLET_PAY_AID.hex().upper()]))
    make_host([Probe()], register_claims=False)
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    phone.setServiceEnabledForCategoryOther(SERVICE_COMPONENT, False)
    stack.drain()
    binds = stack.binds()  # the payment binding, kept across taps
    assert answer(stack, select(PROBE_AID)) == NOT_FOUND
    assert stack.binds() == binds and stack.activeService() is None
    stack.fieldOff()
    phone.setServiceEnabledForCategoryOther(SERVICE_COMPONENT, True)
    assert answer(stack, select(PROBE_AID)) == OK


def shared_priority_xml(aid: bytes, *, wants: bool) -> str:
    attribute = ' android:wantsRoleHolderPriority="true"' if wants else ""
    return (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="@string/t"{attribute}>'
            '<aid-group android:category="payment" android:description="@string/t">'
            f'<aid-filter android:name="{aid.hex().upper()}"/></aid-group></host-apdu-service>')


def test_an_app_signed_like_the_role_holder_may_share_its_priority(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    if phone.apiLevel < jvm.Phone.SHARED_ROLE_PRIORITY_API:
        pytest.skip(f"API {phone.apiLevel}: apps share the role holder's priority from Android 16 "
                    "(API 36); run with HCEKIT_ANDROID_API=36")
    ours = bytes.fromhex("A0000000999901")
    install_service(shared_priority_xml(ours, wants=True))
    make_host([Payment()], register_claims=False, start=False)
    install_other(phone, "com.example.wallet", [WALLET_PAY_AID], "payment")
    phone.setWalletRoleHolder("com.example.wallet")
    assert answer(stack, select(ours)) == NOT_FOUND  # not the holder's: no payment AID routes
    stack.fieldOff()
    phone.setAllowSharedRolePriority("com.example.wallet", True)  # the holder's manifest property
    assert answer(stack, select(ours)) == NOT_FOUND  # but signed by another certificate
    stack.fieldOff()
    phone.setSigner("com.example.wallet", "acme")
    phone.setSigner(jvm.Phone.PACKAGE, "acme")
    assert answer(stack, select(ours)) is not None
    assert stack.activeService() == SERVICE_COMPONENT
    stack.fieldOff()
    phone.setAllowSharedRolePriority("com.example.wallet", False)
    assert answer(stack, select(ours)) == NOT_FOUND


@pytest.mark.usefixtures("wallet_level")
def test_a_role_holder_with_no_payment_service_makes_no_default_payment_service(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    host = make_host([Probe()])  # an "other" service only
    install_other(phone, "com.example.twin", [PROBE_AID])
    phone.setWalletRoleHolder(phone.packageName)
    stack.drain()
    emulation = host.nfc.card_emulation()
    component = phone.service(SERVICE_COMPONENT).component
    assert emulation.isDefaultServiceForCategory(component, "payment")  # the holder's: any service
    assert not phone.service(SERVICE_COMPONENT).isRunning()  # but no payment service to keep bound
    assert stack.binds() == 0
    assert answer(stack, select(PROBE_AID)) == OK  # the holder still wins its other AID
    assert stack.conflicts() == 0 and stack.activeService() == SERVICE_COMPONENT


@pytest.mark.usefixtures("wallet_level")
def test_a_role_holder_that_is_not_installed_leaves_no_default_payment_service(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    phone.setWalletRoleHolder(phone.packageName)  # before start(): its payment AIDs need the role
    host = make_host([Payment()])
    stack.drain()
    emulation = host.nfc.card_emulation()
    component = phone.service(SERVICE_COMPONENT).component
    assert emulation.isDefaultServiceForCategory(component, "payment")
    assert phone.service(SERVICE_COMPONENT).isRunning()
    phone.setWalletRoleHolder("com.example.uninstalled")
    stack.drain()
    assert not emulation.isDefaultServiceForCategory(component, "payment")
    assert not phone.service(SERVICE_COMPONENT).isRunning()
    assert answer(stack, select(bytes.fromhex("A0000000999901"))) == NOT_FOUND


# -- PreferredServicesTest: the foreground preference ---------------------------------------------


def test_a_preferred_service_that_adds_a_payment_group_loses_the_preference(
        make_host: HostFactory, phone: Any) -> None:
    if phone.apiLevel > 34:
        pytest.skip(f"API {phone.apiLevel}: the rule is Android <= 14's (the wallet role replaces it)")
    host = make_host([Probe()])
    activity = phone.resumedActivity()
    assert host.prefer(activity) == [Category.OTHER]
    host.register_aids(Category.PAYMENT, ["A0000000999901"])
    assert phone.getPreferredService() is None



def test_a_preferred_service_that_adds_other_aids_keeps_the_preference(
        make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()])
    assert host.prefer(phone.resumedActivity()) == [Category.OTHER]
    host.register_aids(Category.OTHER, [PROBE_AID.hex(), SHARED_AID.hex()])
    assert phone.getPreferredService() == SERVICE_COMPONENT


def test_unsetting_the_preference_from_the_background_fails(
        make_host: HostFactory, phone: Any) -> None:
    host = make_host([Probe()])
    activity = phone.resumedActivity()
    emulation = host.nfc.card_emulation()
    component = phone.service(SERVICE_COMPONENT).component
    assert emulation.setPreferredService(activity, component)
    phone.setAppInForeground(False)
    assert not emulation.unsetPreferredService(activity)
    assert not emulation.setPreferredService(activity, component)  # nor set from there
    phone.setAppInForeground(True)
    assert emulation.setPreferredService(activity, component)
    assert emulation.unsetPreferredService(activity)
    assert not emulation.unsetPreferredService(activity)  # nothing left to unset


def test_an_app_sent_to_the_background_loses_its_preference(
        make_host: HostFactory, stack: Any, phone: Any) -> None:
    host = make_host([Probe()])
    install_other(phone, "com.example.twin", [PROBE_AID])
    activity = phone.resumedActivity()
    host.prefer(activity)
    stack.drain()
    record = phone.service(SERVICE_COMPONENT)
    assert record.isRunning()  # bound while preferred
    phone.setAppInForeground(False)  # the user went home; onPause never unset it
    stack.drain()
    assert phone.getPreferredService() is None and not record.isRunning()
    assert no_answer(stack, select(PROBE_AID))  # back to asking the user
    stack.fieldOff()
    phone.setAppInForeground(True)
    assert phone.getPreferredService() is None  # nothing comes back by itself
    assert host.prefer(activity) == [Category.OTHER]  # the app prefers again in on_resume
    assert answer(stack, select(PROBE_AID)) == OK

# -- the table (docs/android-aosp-cases.md) against AOSP's case list ------------------------------

PAGE = CaseTable(Path(__file__).with_name("aosp_cases.txt"),
                 ROOT / "docs" / "android-aosp-cases.md")


def test_the_case_list_names_its_source_commit() -> None:
    assert PAGE.header_names_a_commit()
    assert len(PAGE.names()) == len(set(PAGE.names())) == 101


def test_every_aosp_case_appears_once_in_the_table() -> None:
    assert PAGE.missing_unknown_repeated() == ([], [], [])


def test_every_row_names_a_scenario_that_exists_or_says_why_not() -> None:
    PAGE.check_every_row_names_a_scenario_or_a_reason()


def test_the_counts_on_the_page_match_its_rows() -> None:
    counted = PAGE.counted()
    text = PAGE.table.read_text()
    counts = re.search(r"\*\*Counts\*\*: (\d+) cases; (\d+) mirrored.*?(\d+) not applicable",
                       text, re.DOTALL)
    assert counts, "docs/android-aosp-cases.md states its counts"
    assert [int(n) for n in counts.groups()] == [counted["cases"], counted["mirrored"],
                                                 counted["not applicable"]]
    assert counted["not mirrored"] == 0 or f"{counted['not mirrored']} not mirrored" in text
