"""AOSP's observe-mode cases (polling frames, field events, the return to idle) as scenarios.

The cases of HostEmulationManagerTest and RegisteredAidCacheTest (Android 16
NFC module) about polling-loop frames, restated in our words and checked on
our model through the real framework: apps register polling-loop filters
(hcekit's service through the real ``CardEmulation``, another app's in its
service XML), the reader sends frames through ``stack`` and what each app's
service receives is what the scenario checks. docs/android-aosp-cases.md
maps the cases here. Observe mode is Android 15 (API 35): below it every
scenario skips and says why (test_android_levels runs this file at 35 and 36).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import Category, Claim, DeactivationReason, PluginContext, hookimpl
from hcekit.polling import Decision, FrameType, PollingFilter, PollingFrame, PollingLoop
from hcekit_android.manifest import ANDROID_NS
from hcekit_android.observe import encode_frames

from .android_plugins import PAY_AID, PROBE_AID, Probe
from .android_support import SERVICE_COMPONENT, HostFactory, select
from .test_aosp_scenarios import ECHO, OK, OTHER_CLASS, UNKNOWN, answer, settle

pytestmark = pytest.mark.jvm

ON = PollingFrame(FrameType.ON)
OFF = PollingFrame(FrameType.OFF)
GATE = bytes.fromhex("6A02C30100")  # a custom frame, as a transit gate announces itself
DOOR = bytes.fromhex("6A01FFFFFF")
IDLE_DELAY_MS = 2000  # A16 HostEmulationManager FIELD_OFF_IDLE_DELAY_MS
HOLDER = "com.example.holder"
HOLDER_SERVICE = f"{HOLDER}/{OTHER_CLASS}"


@pytest.fixture(autouse=True)
def observe_level(jvm: SimpleNamespace) -> None:
    if jvm.api < 35:
        pytest.skip(f"API {jvm.api}: polling frames and observe mode start with Android 15 "
                    "(API 35); run with HCEKIT_ANDROID_API=35 or 36")


class Watcher(Probe):
    """The probe, plus polling-loop filters, and a record of every polling frame it is given."""

    name = "watcher"

    def __init__(self, *filters: PollingFilter, payment: bool = False) -> None:
        super().__init__()
        self.filters = filters
        self.payment = payment
        self.frames: list[PollingFrame] = []

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        claims = super().hcekit_claims(plugin)
        if self.payment:
            claims.append(Claim(PAY_AID, Category.PAYMENT, "watcher pay", label="W", priority=1))
        return claims

    @hookimpl
    def hcekit_polling_loop(self, plugin: PluginContext) -> PollingLoop:
        return PollingLoop(filters=self.filters)

    @hookimpl
    def hcekit_polling_frame(self, plugin: PluginContext, frame: PollingFrame) -> Decision | None:
        self.frames.append(frame)
        return None


def install_with_filters(phone: Any, package: str, *, exact: Sequence[bytes] = (),
                         auto_transact: bool = False, payment: bool = False) -> str:
    """Another app's service with polling-loop filters in its service XML; its component."""
    auto = "true" if auto_transact else "false"
    filters = "".join(f'<polling-loop-filter android:name="{f.hex().upper()}" '
                      f'android:autoTransact="{auto}"/>' for f in exact)
    category, aid = ("payment", "A0000000999902") if payment else ("other", "F0AABBCCDD0201")
    xml = (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="x">'
           f'<aid-group android:category="{category}" android:description="x">'
           f'<aid-filter android:name="{aid}"/></aid-group>{filters}</host-apdu-service>')
    phone.installService(package, OTHER_CLASS, xml, "")
    return f"{package}/{OTHER_CLASS}"


def poll(stack: Any, *frames: PollingFrame, wait: bool = True) -> None:
    """The reader's polling loop; without *wait*, only the NFC thread is waited for."""
    encoded = encode_frames(list(frames))
    if wait:
        stack.poll(len(frames), encoded)
    else:
        stack.pollNoWait(len(frames), encoded)


def other_app_calls() -> list[str]:
    """What other apps' services were given: one line per processPollingFrames call."""
    from jnius import autoclass

    return [str(line) for line in autoclass("org.hcekit.desktop.OtherAppService").pollingCalls()]


def custom_frames(watcher: Watcher) -> list[tuple[bytes, bool]]:
    return [(f.data, f.triggered_auto_transact) for f in watcher.frames if f.type == FrameType.UNKNOWN]


# -- routing frames by filter (HostEmulationManagerTest, RegisteredAidCacheTest) ------------------


def test_each_apps_filter_brings_it_its_own_frames(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    install_with_filters(phone, "com.example.door", exact=[DOOR])
    watcher = Watcher(PollingFilter.pattern("6A02.*"))
    make_host([watcher])  # its pattern filter goes through the real CardEmulation
    assert phone.service(SERVICE_COMPONENT).hasPollingFilter("6A02.*")
    poll(stack, PollingFrame.custom(DOOR))
    poll(stack, PollingFrame.custom(GATE))
    settle(jvm, stack)
    assert other_app_calls() == [f"U:{DOOR.hex().upper()}"]  # the exact filter's frame
    assert custom_frames(watcher) == [(GATE, False)]  # the pattern's frame, and only that one


def test_a_shared_filter_goes_to_the_service_preferred_in_front_and_transacts(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    install_with_filters(phone, HOLDER, exact=[GATE], auto_transact=True)
    phone.setWalletRoleHolder(HOLDER)  # the role holder claims the frame too, but is not in front
    watcher = Watcher(PollingFilter.exact(GATE, auto_transact=True))
    host = make_host([watcher])
    assert host.prefer(phone.resumedActivity()) == [Category.OTHER]
    assert host.nfc.set_observe_mode(True)
    poll(stack, ON, PollingFrame.custom(GATE))
    settle(jvm, stack)
    assert custom_frames(watcher) == [(GATE, True)], "ours, marked as having left observe mode"
    assert other_app_calls() == []
    assert not phone.observeModeEnabled()
    assert answer(stack, select(PROBE_AID)) == OK  # the reader is let through for this tap
    stack.fieldOff()
    assert not phone.observeModeEnabled(), "not at once (A16 RE_ENABLE_OBSERVE_MODE_DELAY_MS)"
    stack.advanceClock(2000)
    assert phone.observeModeEnabled(), "observe mode is back once the tap is over"


def test_without_a_preference_the_role_holder_gets_a_shared_filter(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    watcher = Watcher(PollingFilter.exact(GATE))
    make_host([watcher])  # hcekit's service comes first in the registry
    install_with_filters(phone, HOLDER, exact=[GATE])  # "other" AIDs only: no payment service
    phone.setWalletRoleHolder(HOLDER)
    assert phone.getPreferredService() is None
    poll(stack, PollingFrame.custom(GATE))
    settle(jvm, stack)
    assert other_app_calls() == [f"U:{GATE.hex().upper()}"]
    assert custom_frames(watcher) == []


def test_polling_frames_reach_the_bound_payment_service_in_one_call(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    watcher = Watcher()
    make_host([watcher])
    install_with_filters(phone, HOLDER, exact=[GATE], payment=True)
    phone.setDefaultService("payment", HOLDER_SERVICE)  # the holder's payment service, bound now
    stack.drain()
    assert phone.service(HOLDER_SERVICE).isRunning()
    poll(stack, ON, ON, OFF, OFF)
    settle(jvm, stack)
    assert other_app_calls() == ["O O X X"]
    assert watcher.frames == []


POLL_A = PollingFrame(FrameType.A)
POLL_B = PollingFrame(FrameType.B)


@pytest.mark.parametrize(("first", "last", "call"), [
    ([ON, POLL_A, OFF], [ON, OFF], "O A X O X"),  # the 2nd OFF after 2 ONs
    ([ON, POLL_A, POLL_A, POLL_A], [POLL_A], "O A A A A"),  # the 4th type-A poll
    ([POLL_B, POLL_B, POLL_B, OFF], [POLL_B], "B B B X B"),  # the 4th type-B poll
], ids=["on-off", "type-a", "type-b"])
def test_plain_frames_wait_until_the_loop_looks_complete(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any,
        first: list[PollingFrame], last: list[PollingFrame], call: str) -> None:
    """A16 holds the reader's A, B, ON and OFF frames until a whole loop seems to have gone by."""
    make_host([Watcher()])
    install_with_filters(phone, HOLDER, payment=True)
    phone.setDefaultService("payment", HOLDER_SERVICE)
    stack.drain()
    poll(stack, *first)
    settle(jvm, stack)
    assert other_app_calls() == [], "not a whole loop yet: nothing passed on"
    poll(stack, *last)
    settle(jvm, stack)
    assert other_app_calls() == [call], "then everything so far, in one call"
    poll(stack, POLL_A)
    settle(jvm, stack)
    assert other_app_calls() == [call, "A"], "from then on, as they come"


def test_once_a_filter_matched_plain_frames_are_not_passed_on(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    install_with_filters(phone, HOLDER, payment=True)
    phone.setDefaultService("payment", HOLDER_SERVICE)
    watcher = Watcher(PollingFilter.exact(GATE))
    make_host([watcher])
    poll(stack, PollingFrame.custom(GATE), ON, POLL_A, OFF, ON, POLL_A, OFF)
    settle(jvm, stack)
    assert custom_frames(watcher) == [(GATE, False)]
    assert other_app_calls() == [], "the tap belongs to the filter's service now"


def test_a_whole_loop_with_no_service_to_take_it_lets_one_tap_through(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    """No service preferred in front and no payment default: observe mode goes off for the tap."""
    host = make_host([Watcher()])  # "other" AIDs only: no payment service anywhere
    phone.setWalletRoleHolder(phone.packageName)  # allowed to switch observe mode on
    assert host.nfc.set_observe_mode(True)
    assert phone.getPreferredService() is None
    poll(stack, ON, POLL_A, OFF)
    settle(jvm, stack)
    assert phone.observeModeEnabled(), "not a whole loop yet"
    poll(stack, ON, OFF)
    settle(jvm, stack)
    assert not phone.observeModeEnabled(), "nobody to give the loop to: the reader is let through"
    assert answer(stack, select(PROBE_AID)) == OK
    stack.fieldOff()
    stack.advanceClock(2000)
    assert phone.observeModeEnabled(), "back on once the tap is over"


# -- frames held for a binding ------------------------------------------------------------------


def test_held_frames_reach_the_service_when_its_binding_completes(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any) -> None:
    watcher = Watcher(PollingFilter.exact(GATE))
    make_host([watcher])
    record = phone.service(SERVICE_COMPONENT)
    assert not record.isRunning() and stack.binds() == 0
    poll(stack, PollingFrame.custom(GATE))  # binds the service; the frame waits for it
    settle(jvm, stack)
    assert stack.binds() == 1 and record.isRunning()
    assert custom_frames(watcher) == [(GATE, False)]


@pytest.mark.parametrize(("ending", "wait_ms", "delivered"), [
    ("off-frame", IDLE_DELAY_MS, False),
    ("field-change", IDLE_DELAY_MS, False),
    ("off-frame", IDLE_DELAY_MS // 2, True),
    ("field-still-on", IDLE_DELAY_MS, True),
], ids=["loop-ends", "field-goes", "too-early", "field-still-on"])
def test_frames_held_for_a_binding_are_dropped_once_the_field_has_been_gone_a_while(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, phone: Any,
        ending: str, wait_ms: int, delivered: bool) -> None:
    watcher = Watcher(PollingFilter.exact(GATE))
    make_host([watcher])
    phone.holdMainThread()  # the app is busy: the binding the frame asks for stays pending
    try:
        frames = [PollingFrame.custom(GATE, timestamp=1)] + ([OFF] if ending == "off-frame" else [])
        poll(stack, *frames, wait=False)
        if ending == "field-change":
            stack.fieldChange(False)
        stack.advanceClock(wait_ms)
        poll(stack, PollingFrame.custom(GATE, timestamp=2), wait=False)  # the next reader
    finally:
        phone.releaseMainThread()
    settle(jvm, stack)
    assert phone.service(SERVICE_COMPONENT).isRunning(), "the binding itself completed"
    got = [f.timestamp for f in watcher.frames if f.type == FrameType.UNKNOWN]
    assert got == ([1, 2] if delivered else [2])


@pytest.mark.parametrize("in_time", [True, False], ids=["bound-in-time", "bound-after-idle"])
def test_frames_for_the_payment_service_wait_for_its_binding(
        jvm: SimpleNamespace, stack: Any, phone: Any, in_time: bool) -> None:
    install_with_filters(phone, HOLDER, payment=True)
    record = phone.service(HOLDER_SERVICE)
    phone.holdMainThread()
    try:
        phone.setDefaultService("payment", HOLDER_SERVICE)  # defined, its binding pending
        poll(stack, PollingFrame.custom(b"\x42"), OFF, wait=False)  # no filter: to the default
        assert not record.isRunning()
        stack.advanceClock(IDLE_DELAY_MS // 2 if in_time else IDLE_DELAY_MS)
    finally:
        phone.releaseMainThread()
    settle(jvm, stack)
    assert record.isRunning(), "bound all the same"
    # the custom frame went to the default at once and waited for its binding; the OFF frame
    # came meanwhile and, sorted after the binding, is held until the loop looks complete
    assert other_app_calls() == (["U:42"] if in_time else [])


# -- what cancels the return to idle -------------------------------------------------------------


@pytest.mark.parametrize("comes_back_by", ["activation", "data"])
def test_a_reader_that_comes_back_in_time_keeps_its_tap(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any, comes_back_by: str) -> None:
    watcher = Watcher()
    make_host([watcher])
    if comes_back_by == "activation":
        stack.fieldChange(False)  # the field flickers before anything was activated
        assert answer(stack, select(PROBE_AID)) == OK
    else:
        assert answer(stack, select(PROBE_AID)) == OK
        stack.fieldChange(False)  # the field flickers mid-transaction
        assert answer(stack, ECHO) == bytes.fromhex("FECA") + OK
    stack.advanceClock(IDLE_DELAY_MS)
    # still the same tap: the selected service gets the command (a forgotten tap answers 6F00)
    assert answer(stack, ECHO) == bytes.fromhex("FECA") + OK
    assert DeactivationReason.LINK_LOSS not in watcher.deactivations


def test_a_tap_whose_field_went_for_good_is_forgotten(
        jvm: SimpleNamespace, make_host: HostFactory, stack: Any) -> None:
    """The control of the scenario above: without the reader coming back, the tap ends."""
    make_host([Watcher()])
    assert answer(stack, select(PROBE_AID)) == OK
    stack.fieldChange(False)
    stack.advanceClock(IDLE_DELAY_MS)
    assert answer(stack, ECHO) == UNKNOWN  # no service selected any more
