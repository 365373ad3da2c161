"""Observe mode on the Android host, through the real framework (API 35+) and the NFC model.

The transit ticket with ``gates_only`` registers its ECP gate pattern with
the real ``CardEmulation`` and asks for observe mode by default; the model
delivers the reader's polling frames as AOSP's HostEmulationManager does
(A16 ``onPollingLoopDetected``), so a payment terminal gets no answer and a
transit gate is let through for one transaction. Android applies that
default only to its preferred service (A16 ``CardEmulationManager
.updateForShouldDefaultToObserveMode``), so the app prefers its service in
front; a gate-only app that is not preferred answers every reader.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import Card, Category
from hcekit.polling import FrameType, PollingFrame
from hcekit.store import MemoryStore
from hcekit.terminal import Terminal
from hcekit_android.desktop import NfcStackTransport
from hcekit_transit import IssuerKeys, TransitPlugin
from hcekit_transit.gates import gate_announcement
from hcekit_transit.reader import DesfireReader
from hcekit_transit.terminals import gate_tap

from .android_support import SERVICE_COMPONENT, HostFactory

pytestmark = pytest.mark.jvm

UID = bytes.fromhex("04112233445566")
T0 = 1_780_000_000
ON = PollingFrame(FrameType.ON)
WUPA = PollingFrame(FrameType.A, b"\x52")
WUPB = PollingFrame(FrameType.B, bytes.fromhex("050008"))
PAYMENT_LOOP = [ON, WUPA, WUPB]
GATE_LOOP = [ON, WUPA, PollingFrame.custom(gate_announcement()), WUPB]


def gates_card() -> Card:
    return Card([TransitPlugin()], store=MemoryStore(),
                options={"transit": {"gates_only": True, "uid": UID}})


@pytest.fixture
def api35(jvm: SimpleNamespace) -> None:
    if jvm.api < 35:
        pytest.skip(f"observe mode is Android 15 (API 35); this process runs API {jvm.api} "
                    "(test_android_levels runs this file at 35 and 36)")


def test_a_gate_is_let_through_and_a_payment_terminal_hears_nothing(
        api35: None, jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory) -> None:
    host = make_host(gates_card())
    assert phone.service(SERVICE_COMPONENT).hasPollingFilter("6A02..01.*"), \
        "the gate pattern was registered through the real CardEmulation"
    assert not phone.observeModeEnabled(), "not the preferred service yet: its default does not apply"
    activity = phone.resumedActivity()
    assert host.prefer(activity) == [Category.OTHER]  # the app's on_resume
    assert phone.observeModeEnabled(), "shouldDefaultToObserveMode of the service preferred in front"
    terminal = Terminal(NfcStackTransport(stack))

    assert not terminal.poll(*PAYMENT_LOOP)
    assert stack.transceive(bytes.fromhex("00A4040007D2760000850100"), 500) is None
    assert stack.observedCommands() == 1, "nothing answered the payment terminal"
    stack.fieldOff()

    assert terminal.poll(*GATE_LOOP), "the gate's annotation released the card (autoTransact)"
    assert stack.framesDelivered() >= 1
    with terminal.tap():
        result = gate_tap(DesfireReader(terminal), IssuerKeys.test_keys(), 1, T0)
    assert result.accepted and result.direction == "in"
    stack.drain()
    assert not phone.observeModeEnabled(), "not at once: a late SELECT of this tap must not be observed"
    stack.advanceClock(2000)  # A16 RE_ENABLE_OBSERVE_MODE_DELAY_MS
    assert phone.observeModeEnabled(), "observe mode is back on after the tap"

    host.unprefer(activity)  # on_pause: no preferred service is left, so no default applies
    assert not phone.observeModeEnabled()


@pytest.mark.parametrize("holder", ["this app", "nobody"])
def test_a_gate_only_app_that_is_not_preferred_answers_every_reader(
        api35: None, holder: str, phone: Any, stack: Any, make_host: HostFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    # the wallet role holder's default applies only through its payment service
    # (A16 PreferredServices.java:166-200); gate AIDs are "other", so it has none
    if holder == "this app":
        phone.setWalletRoleHolder(phone.packageName)
    with caplog.at_level("INFO", logger="hcekit.android"):
        make_host(gates_card())
    assert any("observe mode stays off until this service is Android's preferred one" in r.getMessage()
               for r in caplog.records)
    assert phone.getPreferredService() is None
    assert not phone.observeModeEnabled(), "no preferred service: shouldDefaultToObserveMode is not applied"
    terminal = Terminal(NfcStackTransport(stack))

    assert terminal.poll(*PAYMENT_LOOP), "observe mode is off: the payment terminal hears the card"
    assert stack.observedCommands() == 0
    stack.fieldOff()

    assert terminal.poll(*GATE_LOOP)
    with terminal.tap():
        result = gate_tap(DesfireReader(terminal), IssuerKeys.test_keys(), 1, T0)
    assert result.accepted and result.direction == "in"
    stack.drain()
    # A16 HostEmulationManager arms observe mode after any autoTransact tap
    # (allowOneTransaction :736-741, re-enabled at deactivation :1061-1064),
    # whether or not it was on before: from here the phone observes, once
    # RE_ENABLE_OBSERVE_MODE_DELAY_MS (:123) has passed
    assert not phone.observeModeEnabled()
    stack.advanceClock(2000)
    assert phone.observeModeEnabled()


def test_the_default_is_applied_only_when_the_preferred_service_changes(
        api35: None, phone: Any, make_host: HostFactory) -> None:
    host = make_host(gates_card())
    activity = phone.resumedActivity()
    host.prefer(activity)
    assert phone.observeModeEnabled()
    assert host.nfc.set_observe_mode(False)  # the app lets the next reader in
    # the same service preferred again, the same flag set again: nothing changed, so
    # Android leaves observe mode alone (A16 CardEmulationManager.java:1603-1606, :844-850)
    host.prefer(activity)
    host.nfc.set_default_observe_mode(True)
    assert not phone.observeModeEnabled()
    phone.setNfcEnabled(False)
    phone.setNfcEnabled(True)  # NFC turned on applies it again (NfcService.java:2152-2154)
    assert phone.observeModeEnabled()


def test_below_api_35_the_card_answers_every_reader_and_says_why(
        jvm: SimpleNamespace, phone: Any, stack: Any, make_host: HostFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    if jvm.api >= 35:
        pytest.skip(f"API {jvm.api} has observe mode (the scenario above runs here)")
    with caplog.at_level("WARNING", logger="hcekit.android"):
        make_host(gates_card())
    assert any("observe mode needs Android 15" in r.getMessage() for r in caplog.records)
    terminal = Terminal(NfcStackTransport(stack))
    assert terminal.poll(*PAYMENT_LOOP), "no observe mode: the phone answers every reader"
