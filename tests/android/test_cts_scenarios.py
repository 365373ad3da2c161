"""AOSP's NFC CTS cases for card emulation, restated as scenarios against the real framework and our model.

CTS (the Compatibility Test Suite) runs on a device: CardEmulationTest,
HostApduServiceTest, WalletRoleTest and NfcPreferredPaymentTest (Android 16
NFC module) state what an app calling ``CardEmulation`` or a reader tapping
the phone can see. Here the same facts are checked through Robolectric's real
framework (``CardEmulation``, ``NfcAdapter``, ``HostApduService``) with our
NFC-service model behind it. docs/android-cts-cases.md maps every case to its
scenario here, or says why it does not apply or is not mirrored; the last tests
check that table against tests/android/cts_cases.txt (the case names, with
their source commit).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import DeactivationReason, PluginContext, hookimpl
from hcekit.polling import Decision, FrameType, PollingFilter, PollingFrame, PollingLoop
from hcekit_android.desktop import install_service
from hcekit_android.manifest import ANDROID_NS
from hcekit_android.observe import encode_frames

from .android_plugins import PAY_AID, PROBE_AID, Payment, Probe
from .android_support import SERVICE_COMPONENT, HostFactory, select, static_xml
from .case_table import ROOT, CaseTable
from .test_aosp_scenarios import OK, OTHER_CLASS, SHARED_AID, answer, install_other, settle

pytestmark = pytest.mark.jvm

ASK_IF_CONFLICT, PREFER_DEFAULT, ALWAYS_ASK = 2, 0, 1  # CardEmulation.SELECTION_MODE_*
ON, OFF = PollingFrame(FrameType.ON), PollingFrame(FrameType.OFF)
POLL_A, POLL_B = PollingFrame(FrameType.A, b"\x52"), PollingFrame(FrameType.B, b"\x05\x00\x08")
CUSTOM = bytes.fromhex("7F71156B")  # a vendor annotation frame's data


def emulation(jvm: SimpleNamespace) -> Any:
    """The real CardEmulation for this app (what an app gets from getInstance)."""
    from jnius import autoclass

    adapter = autoclass("android.nfc.NfcAdapter").getDefaultAdapter(jvm.context())
    return autoclass("android.nfc.cardemulation.CardEmulation").getInstance(adapter)


def adapter(jvm: SimpleNamespace) -> Any:
    from jnius import autoclass

    return autoclass("android.nfc.NfcAdapter").getDefaultAdapter(jvm.context())


def component(phone: Any, flat: str = SERVICE_COMPONENT) -> Any:
    return phone.service(flat).component


def poll(stack: Any, *frames: PollingFrame) -> None:
    stack.poll(len(frames), encode_frames(list(frames)))


class FrameWatcher:
    """Records the polling frames that reach hcekit's service (on the card's worker)."""

    name = "frames"

    def __init__(self, *filters: PollingFilter) -> None:
        self.filters = filters
        self.frames: list[PollingFrame] = []

    @hookimpl
    def hcekit_polling_loop(self, plugin: PluginContext) -> PollingLoop | None:
        return PollingLoop(self.filters) if self.filters else None

    @hookimpl
    def hcekit_polling_frame(self, plugin: PluginContext, frame: PollingFrame) -> Decision | None:
        self.frames.append(frame)
        return None


@pytest.fixture
def api35(jvm: SimpleNamespace, phone: Any) -> None:
    """Polling loops, observe mode and the wallet role start with Android 15 (API 35)."""
    if jvm.api < 35:
        pytest.skip(f"API {jvm.api}: the case states Android 15+ behaviour (polling loop, observe "
                    "mode, wallet role); run with HCEKIT_ANDROID_API=35 or 36")
    phone.setObserveModeSupported(True)


# -- HostApduServiceTest ------------------------------------------------------------------------


def test_the_nfc_service_binds_our_service_and_talks_to_it(make_host: HostFactory, stack: Any,
                                                             phone: Any) -> None:
    """Binding the HCE service with its action yields a messenger the NFC service talks through."""
    make_host([Probe()])
    assert not phone.service(SERVICE_COMPONENT).isRunning()
    assert answer(stack, select(PROBE_AID)) == OK
    assert stack.binds() == 1 and phone.service(SERVICE_COMPONENT).isRunning()


def test_our_service_hears_both_deactivation_reasons(jvm: SimpleNamespace, make_host: HostFactory,
                                                     stack: Any, phone: Any) -> None:
    """Another AID selected: DESELECTED; the field gone: LINK_LOSS. Both reach the app."""
    probe = Probe()
    make_host([probe])
    install_other(phone, "com.example.other", [SHARED_AID])
    assert answer(stack, select(PROBE_AID)) == OK
    assert answer(stack, select(SHARED_AID)) == OK
    assert answer(stack, select(PROBE_AID)) == OK
    stack.fieldOff()
    settle(jvm, stack)
    assert probe.deactivations == [DeactivationReason.DESELECTED, DeactivationReason.LINK_LOSS]


# -- CardEmulationTest: the API an app calls ----------------------------------------------------


def test_card_emulation_is_the_real_framework_over_our_model(jvm: SimpleNamespace, phone: Any,
                                                             make_host: HostFactory) -> None:
    """getInstance gives an instance, and its answers come from the NFC service behind it."""
    make_host([Probe()], start=False)
    instance = emulation(jvm)
    assert instance is not None
    assert instance.getClass().getName() == "android.nfc.cardemulation.CardEmulation"
    phone.setPrefixRouting(False)
    assert not instance.supportsAidPrefixRegistration()


def test_both_categories_allow_a_foreground_preference(jvm: SimpleNamespace, phone: Any,
                                                       make_host: HostFactory) -> None:
    """The app in front may take over both categories (payment: Android 15+, or the user's switch)."""
    make_host([Probe()], start=False)
    instance = emulation(jvm)
    assert instance.categoryAllowsForegroundPreference("other")
    if jvm.api >= 35:
        assert instance.categoryAllowsForegroundPreference("payment")  # the wallet role: always
    else:
        # Android 14: payment only when the user chose "use the app in front"
        phone.setPaymentAllowsForegroundPreference(False)
        assert not instance.categoryAllowsForegroundPreference("payment")
        phone.setPaymentAllowsForegroundPreference(True)
        assert instance.categoryAllowsForegroundPreference("payment")


def test_payment_prefers_the_default_only_when_there_is_one(jvm: SimpleNamespace, phone: Any,
                                                            make_host: HostFactory) -> None:
    """Payment is PREFER_DEFAULT with a default payment app (role holder from 15), else ALWAYS_ASK."""
    make_host([Payment()], start=False)
    instance = emulation(jvm)
    assert instance.getSelectionModeForCategory("payment") == ALWAYS_ASK
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    assert instance.getSelectionModeForCategory("payment") == PREFER_DEFAULT
    if jvm.api >= 35:
        phone.setWalletRoleHolder(None)
        assert instance.getSelectionModeForCategory("payment") == ALWAYS_ASK
        phone.setWalletRoleHolder("com.example.uninstalled")  # a holder with no service still counts
        assert instance.getSelectionModeForCategory("payment") == PREFER_DEFAULT


def test_other_aids_ask_only_on_a_conflict(jvm: SimpleNamespace, phone: Any,
                                           make_host: HostFactory) -> None:
    """'other' is ASK_IF_CONFLICT whatever the default payment app."""
    make_host([Probe()], start=False)
    instance = emulation(jvm)
    assert instance.getSelectionModeForCategory("other") == ASK_IF_CONFLICT
    phone.setDefaultService("payment", SERVICE_COMPONENT)
    assert instance.getSelectionModeForCategory("other") == ASK_IF_CONFLICT


def test_registered_aids_read_back_until_removed(jvm: SimpleNamespace, phone: Any,
                                                 make_host: HostFactory) -> None:
    """AIDs registered for a category read back in order; once removed there is no group."""
    make_host([Probe()], start=False)
    instance, ours = emulation(jvm), component(phone)
    aids = ["A000000004101011", "A000000004101012", "A000000004101013"]
    from jnius import autoclass

    listed = autoclass("java.util.ArrayList")()
    for aid in aids:
        listed.add(aid)
    assert instance.registerAidsForService(ours, "payment", listed)
    assert list(instance.getAidsForService(ours, "payment").toArray()) == aids
    assert instance.removeAidsForService(ours, "payment")
    assert instance.getAidsForService(ours, "payment") is None


def test_the_app_in_front_sets_and_unsets_its_preferred_service(
        jvm: SimpleNamespace, phone: Any, make_host: HostFactory) -> None:
    """setPreferredService and then unsetPreferredService from a resumed activity both succeed."""
    make_host([Probe()], start=False)
    instance, activity = emulation(jvm), phone.resumedActivity()
    assert instance.setPreferredService(activity, component(phone))
    assert phone.getPreferredService() == SERVICE_COMPONENT
    assert instance.unsetPreferredService(activity)
    assert phone.getPreferredService() is None


def test_the_phone_says_whether_it_routes_prefix_aids(jvm: SimpleNamespace, phone: Any,
                                                      make_host: HostFactory) -> None:
    """supportsAidPrefixRegistration tells the controller's capability (CTS expects true)."""
    make_host([Probe()], start=False)
    phone.setPrefixRouting(True)
    assert emulation(jvm).supportsAidPrefixRegistration()
    phone.setPrefixRouting(False)
    assert not emulation(jvm).supportsAidPrefixRegistration()


def preferred_payment(jvm: SimpleNamespace) -> tuple[Any, Any, Any]:
    instance = emulation(jvm)
    aids = instance.getAidsForPreferredPaymentService()
    return (None if aids is None else list(aids.toArray()),
            instance.getRouteDestinationForPreferredPaymentService(),
            instance.getDescriptionForPreferredPaymentService())


def test_the_preferred_service_is_reported_as_the_preferred_payment_service(
        jvm: SimpleNamespace, phone: Any, make_host: HostFactory) -> None:
    """Preferred in front, a host service reports its AIDs, route "Host" and description."""
    install_service(static_xml(payment=[PAY_AID.hex().upper()]))
    make_host([Payment()], register_claims=False, start=False)
    assert preferred_payment(jvm) == (None, None, None)
    phone.setPaymentAllowsForegroundPreference(True)  # Android 14: payment in front needs the switch
    activity = phone.resumedActivity()
    assert emulation(jvm).setPreferredService(activity, component(phone))
    aids, route, description = preferred_payment(jvm)
    assert aids == [PAY_AID.hex().upper()] and route == "Host"
    assert str(description) == phone.service(SERVICE_COMPONENT).description
    assert emulation(jvm).unsetPreferredService(activity)
    assert preferred_payment(jvm) == (None, None, None)


def test_the_default_payment_service_is_reported_with_its_aids_route_and_description(
        jvm: SimpleNamespace, phone: Any, make_host: HostFactory) -> None:
    """The default payment app (the role holder from 15) is the preferred payment service."""
    aids = ["A000000004101011", "A000000004101012", "A000000004101013"]
    install_service(static_xml(payment=aids))
    make_host([Payment()], register_claims=False, start=False)
    if jvm.api >= 35:
        phone.setWalletRoleHolder(phone.packageName)  # its first payment service: ours
    else:
        phone.setDefaultService("payment", SERVICE_COMPONENT)
    assert preferred_payment(jvm) == (aids, "Host", phone.service(SERVICE_COMPONENT).description)
    phone.setDefaultService("payment", None)
    assert preferred_payment(jvm) == (None, None, None)


# -- CardEmulationTest: which service the wallet role makes the default for an AID -------------

WALLET = "com.example.wallet"
WALLET_X = "com.example.wallet/xwallet.XWalletService"  # sorts after OtherAppService's name
NON_PAYMENT = "com.example.transit"
PAYMENT_1, PAYMENT_2, PAYMENT_3 = (bytes.fromhex(h) for h in ("A000000004101011", "A000000004101012",
                                                             "A000000004101013"))
NON_PAYMENT_1 = bytes.fromhex("F0010203040506")


def install_aid_world(phone: Any) -> dict[str, Any]:
    """The role holder with two payment services, ours (payment 1), another app (an other AID)."""
    xml = static_xml(payment=[PAYMENT_1.hex().upper(), PAYMENT_2.hex().upper()])
    wallet = install_other(phone, WALLET, [PAYMENT_1, PAYMENT_2], "payment")
    phone.installService(WALLET, WALLET_X.split("/")[1], xml, "")
    install_service(static_xml(payment=[PAYMENT_1.hex().upper()]))
    transit = install_other(phone, NON_PAYMENT, [NON_PAYMENT_1])
    return {"wallet": component(phone, wallet), "x": component(phone, WALLET_X),
            "ours": component(phone), "transit": component(phone, transit)}


def defaults(jvm: SimpleNamespace, services: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (service, AID) pair isDefaultServiceForAid answers true for."""
    instance = emulation(jvm)
    aids = {"p1": PAYMENT_1, "p2": PAYMENT_2, "n1": NON_PAYMENT_1}
    return {(name, label) for name, service in services.items() for label, aid in aids.items()
            if instance.isDefaultServiceForAid(service, aid.hex().upper())}


@pytest.mark.usefixtures("api35")
@pytest.mark.parametrize("holder", ["wallet", "none", "transit"])
def test_the_role_holder_decides_the_default_service_for_each_aid(
        jvm: SimpleNamespace, phone: Any, make_host: HostFactory, holder: str) -> None:
    """The holder's first service wins its AIDs; without a holder only an uncontested other AID has one."""
    services = install_aid_world(phone)
    make_host([Payment()], register_claims=False, start=False)
    phone.setWalletRoleHolder({"wallet": WALLET, "none": None, "transit": NON_PAYMENT}[holder])
    expected = {("transit", "n1")}
    if holder == "wallet":
        expected |= {("wallet", "p1"), ("wallet", "p2")}
    assert defaults(jvm, services) == expected


@pytest.mark.usefixtures("api35")
def test_the_app_in_front_is_the_default_for_its_aid_over_the_role_holder(
        jvm: SimpleNamespace, phone: Any, make_host: HostFactory) -> None:
    """Preferred in front, ours is the default for the AID it shares with the holder; not for others."""
    services = install_aid_world(phone)
    make_host([Payment()], register_claims=False, start=False)
    activity = phone.resumedActivity()
    assert emulation(jvm).setPreferredService(activity, services["ours"])
    phone.setWalletRoleHolder(WALLET)
    assert defaults(jvm, services) == {("ours", "p1"), ("wallet", "p2"), ("transit", "n1")}
    assert emulation(jvm).unsetPreferredService(activity)
    assert ("wallet", "p1") in defaults(jvm, services)


@pytest.mark.usefixtures("api35")
def test_a_service_sharing_the_holders_priority_is_default_only_from_android_16(
        jvm: SimpleNamespace, phone: Any, make_host: HostFactory) -> None:
    """An app signed like the holder, asking for its priority, gets its own payment AID only on 16."""
    services = install_aid_world(phone)
    install_service(f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="t" '
                    'android:wantsRoleHolderPriority="true">'
                    '<aid-group android:category="payment" android:description="t">'
                    f'<aid-filter android:name="{PAYMENT_3.hex().upper()}"/></aid-group>'
                    "</host-apdu-service>")
    make_host([Payment()], register_claims=False, start=False)
    phone.setWalletRoleHolder(WALLET)
    phone.setAllowSharedRolePriority(WALLET, True)
    phone.setSigner(WALLET, "acme")
    phone.setSigner(phone.packageName, "acme")
    shares = emulation(jvm).isDefaultServiceForAid(services["ours"], PAYMENT_3.hex().upper())
    assert shares is (jvm.api >= 36)  # Android 16's associated role services
    assert {("wallet", "p1"), ("wallet", "p2")} <= defaults(jvm, services)


# -- CardEmulationTest: the polling loop and observe mode (Android 15+) ------------------------


@pytest.mark.usefixtures("api35")
def test_frames_no_filter_claims_go_to_the_preferred_service(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory) -> None:
    """Plain polling frames go to the app in front, even over the default payment app."""
    other = install_other(phone, WALLET, [PAYMENT_1], "payment")
    phone.setDefaultService("payment", other)
    watcher = FrameWatcher()
    make_host([Probe(), watcher])
    assert emulation(jvm).setPreferredService(phone.resumedActivity(), component(phone))
    delivered = stack.framesDelivered()
    sent = [ON, PollingFrame(FrameType.A, b"\x26", gain=3, timestamp=1000), OFF, ON, POLL_A, OFF]
    poll(stack, *sent)
    settle(jvm, stack)
    assert stack.activeService() == SERVICE_COMPONENT
    assert stack.framesDelivered() == delivered + 6
    assert watcher.frames == sent  # type, data, gain and timestamp as the controller saw them
    poll(stack, POLL_A)  # one frame at a time, too
    settle(jvm, stack)
    assert stack.framesDelivered() == delivered + 7 and watcher.frames[-1] == POLL_A


@pytest.mark.usefixtures("api35")
def test_frames_no_filter_claims_go_to_the_default_payment_service(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory) -> None:
    """With nobody in front, plain frames (A and B, with or without OFF) go to the default payment app."""
    make_host([Probe()])
    wallet = install_other(phone, WALLET, [PAYMENT_1], "payment")
    phone.setWalletRoleHolder(WALLET)
    stack.drain()
    delivered = stack.framesDelivered()
    poll(stack, ON, POLL_A, POLL_B, POLL_A, POLL_B)
    settle(jvm, stack)
    assert stack.framesDelivered() == delivered, "held: the loop does not look complete yet"
    poll(stack, POLL_A, POLL_B, POLL_A)  # the 4th A poll: the loop looks complete (A16 :686-691)
    settle(jvm, stack)
    assert stack.activeService() == wallet
    assert stack.framesDelivered() == delivered + 8  # all of them, in one call


def filter_xml(value: str, *, pattern: bool = False, auto: bool = False, aid: bytes = SHARED_AID) -> str:
    element = "polling-loop-pattern-filter" if pattern else "polling-loop-filter"
    return (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="t">'
            f'<aid-group android:category="other" android:description="t">'
            f'<aid-filter android:name="{aid.hex().upper()}"/></aid-group>'
            f'<{element} android:name="{value}" android:autoTransact="{str(auto).lower()}"/>'
            "</host-apdu-service>")


@pytest.mark.usefixtures("api35")
@pytest.mark.parametrize("how", ["registered", "pattern", "static"])
def test_a_frame_matching_a_filter_goes_to_its_service(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory, how: str) -> None:
    """A custom frame a service's filter matches reaches that service, not the role holder's."""
    wallet = install_other(phone, WALLET, [PAYMENT_1], "payment")
    phone.setWalletRoleHolder(WALLET)
    if how == "static":
        install_service(filter_xml(CUSTOM.hex().upper()))
        make_host([Probe()], register_claims=False, start=False)
    else:
        make_host([Probe()])
        value = CUSTOM.hex().upper()[:4] + ".*" if how == "pattern" else CUSTOM.hex().upper()
        register = (emulation(jvm).registerPollingLoopPatternFilterForService if how == "pattern"
                    else emulation(jvm).registerPollingLoopFilterForService)
        assert register(component(phone), value, False)
    stack.drain()
    poll(stack, ON, POLL_A, OFF, ON, POLL_A, OFF)  # a whole loop, passed on once complete
    settle(jvm, stack)
    assert stack.activeService() == wallet  # plain frames: the holder's
    delivered = stack.framesDelivered()
    poll(stack, PollingFrame(FrameType.UNKNOWN, CUSTOM))
    settle(jvm, stack)
    assert stack.activeService() == SERVICE_COMPONENT
    assert stack.framesDelivered() == delivered + 1
    poll(stack, PollingFrame(FrameType.UNKNOWN, bytes.fromhex("01020304")))  # matches nothing
    settle(jvm, stack)
    assert stack.activeService() == wallet


@pytest.mark.usefixtures("api35")
@pytest.mark.parametrize("preferred", ["filtering", "third"])
def test_frames_matching_two_services_filters_each_reach_their_own(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory, preferred: str) -> None:
    """Two services filter two annotations; each frame goes to its own, whoever is preferred."""
    make_host([Probe()])
    second = f"org.hcekit.example/{OTHER_CLASS}"
    phone.installService(OTHER_CLASS, static_xml([SHARED_AID.hex().upper()]))
    first_frame, second_frame = bytes.fromhex("5CADC10F"), CUSTOM
    instance = emulation(jvm)
    assert instance.registerPollingLoopFilterForService(component(phone), first_frame.hex(), False)
    assert instance.registerPollingLoopFilterForService(component(phone, second), second_frame.hex(), False)
    if preferred == "filtering":  # one of the two is preferred in front
        assert instance.setPreferredService(phone.resumedActivity(), component(phone))
        owner_of_the_rest = SERVICE_COMPONENT
        assert adapter(jvm).setObserveModeEnabled(True)
    else:  # a third service, with no filter, is the preferred one (the default payment service)
        phone.installService(WALLET, OTHER_CLASS, holder_xml(True), "")
        owner_of_the_rest = f"{WALLET}/{OTHER_CLASS}"
        phone.setDefaultService("payment", owner_of_the_rest)
        # its app, not ours, may switch observe mode (A16 NfcService.java:2476-2499): its default does
        assert not adapter(jvm).setObserveModeEnabled(True)
        assert phone.observeModeEnabled()
    stack.drain()
    for data, owner in ((first_frame, SERVICE_COMPONENT), (second_frame, second)):
        delivered = stack.framesDelivered()
        poll(stack, PollingFrame(FrameType.UNKNOWN, data))
        settle(jvm, stack)
        assert stack.activeService() == owner and stack.framesDelivered() == delivered + 1
    assert phone.observeModeEnabled()  # no autoTransact filter: still observing
    assert instance.removePollingLoopFilterForService(component(phone), first_frame.hex())
    assert instance.removePollingLoopFilterForService(component(phone), first_frame.hex())  # gone: still true
    poll(stack, PollingFrame(FrameType.UNKNOWN, first_frame))
    settle(jvm, stack)
    assert stack.activeService() == owner_of_the_rest  # unclaimed now: the preferred service's


@pytest.mark.usefixtures("api35")
@pytest.mark.parametrize("preferred", ["ours", "payment"])
def test_a_filter_several_services_claim_goes_to_the_preferred_one(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory, preferred: str) -> None:
    """A frame several services' filters match goes to the one in front, else the payment one."""
    value = CUSTOM.hex().upper()
    phone.installService("com.example.background", OTHER_CLASS, filter_xml(value), "")
    phone.installService(WALLET, OTHER_CLASS, filter_xml(value, aid=PAYMENT_1).replace(
        'category="other"', 'category="payment"'), "")
    make_host([Probe()])
    assert emulation(jvm).registerPollingLoopFilterForService(component(phone), value, False)
    phone.setDefaultService("payment", f"{WALLET}/{OTHER_CLASS}")
    if preferred == "ours":
        assert emulation(jvm).setPreferredService(phone.resumedActivity(), component(phone))
    stack.drain()
    poll(stack, PollingFrame(FrameType.UNKNOWN, CUSTOM))
    settle(jvm, stack)
    assert stack.activeService() == (SERVICE_COMPONENT if preferred == "ours" else f"{WALLET}/{OTHER_CLASS}")


@pytest.mark.usefixtures("api35")
def test_an_auto_transact_filter_lets_one_transaction_through(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory) -> None:
    """Observe mode on, a frame matching an autoTransact filter turns it off for the tap."""
    watcher = FrameWatcher(PollingFilter.exact(CUSTOM, auto_transact=True))
    make_host([Probe(), watcher])  # AndroidHost registers the filter (registerPollingLoopFilterForService)
    assert emulation(jvm).setPreferredService(phone.resumedActivity(), component(phone))
    assert adapter(jvm).setObserveModeEnabled(True)
    assert phone.observeModeEnabled()
    poll(stack, ON, POLL_A, OFF, ON, POLL_A, OFF)  # a whole loop, passed on once complete
    assert phone.observeModeEnabled()  # plain frames change nothing
    poll(stack, PollingFrame(FrameType.UNKNOWN, CUSTOM))
    assert not phone.observeModeEnabled()
    settle(jvm, stack)
    assert [f.triggered_auto_transact for f in watcher.frames] == [False] * 6 + [True]
    assert answer(stack, select(PROBE_AID)) == OK  # the reader gets its transaction
    stack.fieldOff()
    settle(jvm, stack)
    assert not phone.observeModeEnabled()  # not at once: 2 s later (A16 RE_ENABLE_OBSERVE_MODE_DELAY_MS)
    stack.advanceClock(2000)
    assert phone.observeModeEnabled()  # back on once the tap is over


UNCLAIMED = bytes.fromhex("5CADC10F")  # a custom frame no filter of ours claims


@pytest.mark.usefixtures("api35")
@pytest.mark.parametrize("app", ["background", "foreground"])
def test_unclaimed_frames_to_an_app_in_the_background_switch_observe_mode_off(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory, app: str) -> None:
    """Observe mode left on by a wallet in the background is switched off 3 s after its frames; not in front.

    A16 lets frames reach the service and then checks whether any app they
    reached is in the foreground, so a misbehaving background wallet cannot
    keep the phone deaf to readers.
    """
    watcher = FrameWatcher()
    if app == "background":  # the role holder's payment service gets the frame
        phone.setWalletRoleHolder(phone.packageName)
        make_host([Payment(), watcher])
        phone.setAppInForeground(False)
    else:  # the app in front prefers its service
        make_host([Probe(), watcher])
        assert emulation(jvm).setPreferredService(phone.resumedActivity(), component(phone))
    stack.drain()
    assert adapter(jvm).setObserveModeEnabled(True)
    poll(stack, PollingFrame(FrameType.UNKNOWN, UNCLAIMED))
    settle(jvm, stack)
    assert [(f.data, f.triggered_auto_transact) for f in watcher.frames] == [(UNCLAIMED, False)]
    stack.advanceClock(2900)
    assert phone.observeModeEnabled()
    stack.advanceClock(1100)  # CTS allows 4 s in all; in front, it waits 4 s and more
    assert phone.observeModeEnabled() is (app == "foreground")


@pytest.mark.usefixtures("api35")
def test_observe_mode_stays_on_when_any_app_that_got_frames_is_in_front(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory) -> None:
    """Frames to the role holder in the background, then to the app in front: observe mode stays on."""
    phone.installService(WALLET, OTHER_CLASS, filter_xml(UNCLAIMED.hex().upper(), aid=PAYMENT_1).replace(
        'category="other"', 'category="payment"'), "")
    phone.setWalletRoleHolder(WALLET)
    make_host([Probe()])
    instance = emulation(jvm)
    assert instance.registerPollingLoopFilterForService(component(phone), CUSTOM.hex(), False)
    assert instance.setPreferredService(phone.resumedActivity(), component(phone))
    stack.drain()
    assert adapter(jvm).setObserveModeEnabled(True)
    poll(stack, PollingFrame(FrameType.UNKNOWN, UNCLAIMED))
    settle(jvm, stack)
    assert stack.activeService() == f"{WALLET}/{OTHER_CLASS}"  # not in the foreground
    poll(stack, PollingFrame(FrameType.UNKNOWN, CUSTOM))
    settle(jvm, stack)
    assert stack.activeService() == SERVICE_COMPONENT  # in the foreground
    stack.advanceClock(5000)
    assert phone.observeModeEnabled()


def holder_xml(observe_default: bool) -> str:
    """The role holder's payment service, with its own observe-mode default (its manifest's attribute)."""
    return (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="w" '
            f'android:shouldDefaultToObserveMode="{str(observe_default).lower()}">'
            '<aid-group android:category="payment" android:description="w">'
            f'<aid-filter android:name="{PAYMENT_1.hex().upper()}"/></aid-group></host-apdu-service>')


@pytest.mark.usefixtures("api35")
@pytest.mark.parametrize("holder_observes", [True, False], ids=["holder-observes", "holder-does-not"])
def test_after_an_auto_transact_tap_the_next_preferred_service_decides_observe_mode(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory, holder_observes: bool) -> None:
    """The app in front leaves right after an autoTransact tap: observe mode follows the holder, 2 s on.

    A16 turns observe mode back on 2 s after the tap, not at once; if the
    preference passes meanwhile to a service that defaults to observe mode,
    that pending return does it (no on-off-on thrash), and if the new service
    does not, observe mode stays off.
    """
    phone.installService(WALLET, OTHER_CLASS, holder_xml(holder_observes), "")
    phone.setWalletRoleHolder(WALLET)
    make_host([Probe(), FrameWatcher(PollingFilter.exact(CUSTOM, auto_transact=True))])
    instance, ours, activity = emulation(jvm), component(phone), phone.resumedActivity()
    assert instance.setShouldDefaultToObserveModeForService(ours, True)
    assert instance.setPreferredService(activity, ours)
    assert phone.observeModeEnabled()
    poll(stack, PollingFrame(FrameType.UNKNOWN, CUSTOM))
    settle(jvm, stack)
    assert not phone.observeModeEnabled()  # the autoTransact frame let the tap through
    stack.fieldOff()
    assert instance.unsetPreferredService(activity)  # the activity finishes
    stack.advanceClock(200)
    assert not phone.observeModeEnabled()
    stack.advanceClock(2000)
    assert phone.observeModeEnabled() is holder_observes


@pytest.mark.usefixtures("api35")
def test_only_the_preferred_services_app_may_switch_observe_mode(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory) -> None:
    """An app neither preferred in front nor holding the role is refused; in front it may, but not mid-tap."""
    install_other(phone, WALLET, [PAYMENT_1], "payment")
    phone.setWalletRoleHolder(WALLET)
    make_host([Probe()])
    stack.drain()
    nfc = adapter(jvm)
    assert not nfc.setObserveModeEnabled(True)
    assert not phone.observeModeEnabled()
    assert emulation(jvm).setPreferredService(phone.resumedActivity(), component(phone))
    assert nfc.setObserveModeEnabled(True) and phone.observeModeEnabled()
    assert nfc.setObserveModeEnabled(False)
    assert answer(stack, select(PROBE_AID)) == OK  # a tap under way
    assert not nfc.setObserveModeEnabled(True)
    stack.fieldOff()
    assert nfc.setObserveModeEnabled(True)


@pytest.mark.usefixtures("api35")
@pytest.mark.parametrize("when", ["before", "after"])
def test_the_preferred_services_observe_default_sets_observe_mode(
        jvm: SimpleNamespace, phone: Any, make_host: HostFactory, when: str) -> None:
    """A service that defaults to observe mode turns it on once preferred, or when it asks while preferred."""
    make_host([Probe()], start=False)
    instance, ours = emulation(jvm), component(phone)
    if when == "before":
        assert instance.setShouldDefaultToObserveModeForService(ours, True)
    assert instance.setPreferredService(phone.resumedActivity(), ours)
    assert phone.observeModeEnabled() is (when == "before")
    if when == "after":
        assert instance.setShouldDefaultToObserveModeForService(ours, True)
        assert phone.observeModeEnabled()


@pytest.mark.usefixtures("api35")
def test_a_preferred_service_without_the_observe_default_leaves_observe_mode_off(
        jvm: SimpleNamespace, phone: Any, make_host: HostFactory) -> None:
    """Preferring a service that does not ask for observe mode leaves it off."""
    make_host([Probe()], start=False)
    assert emulation(jvm).setPreferredService(phone.resumedActivity(), component(phone))
    assert not phone.observeModeEnabled()


@pytest.mark.usefixtures("api35")
@pytest.mark.parametrize("value", ["", "????", "123"])
def test_an_invalid_polling_loop_filter_is_refused(jvm: SimpleNamespace, phone: Any,
                                                   make_host: HostFactory, value: str) -> None:
    """Empty, non-hex or odd-length filters throw IllegalArgumentException in the app."""
    from jnius import JavaException, autoclass

    make_host([Probe()], start=False)
    with pytest.raises(JavaException) as raised:
        emulation(jvm).registerPollingLoopFilterForService(component(phone), value, False)
    thrown = autoclass("java.lang.Class").forName(raised.value.classname)
    assert autoclass("java.lang.IllegalArgumentException")().getClass().isAssignableFrom(thrown)


# -- the table (docs/android-cts-cases.md) against CTS's case list ------------------------------

PAGE = CaseTable(Path(__file__).with_name("cts_cases.txt"), ROOT / "docs" / "android-cts-cases.md")


def test_the_case_list_names_its_source_commit() -> None:
    assert PAGE.header_names_a_commit()
    assert len(PAGE.names()) == len(set(PAGE.names())) == 85


def test_every_cts_case_appears_once_in_the_table() -> None:
    assert PAGE.missing_unknown_repeated() == ([], [], [])


def test_every_row_names_a_scenario_that_exists_or_says_why_not() -> None:
    PAGE.check_every_row_names_a_scenario_or_a_reason()


def test_the_counts_on_the_page_match_its_rows() -> None:
    counts = re.search(r"\*\*Counts\*\*: (\d+) cases; (\d+) mirrored.*?(\d+) not applicable.*?"
                       r"(\d+) not mirrored", PAGE.table.read_text(), re.DOTALL)
    assert counts, "docs/android-cts-cases.md states its counts"
    assert [int(n) for n in counts.groups()] == list(PAGE.counted().values())
