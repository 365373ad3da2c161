"""The interface every host implements: loopback, vpcd, Android.

A host turns its transport's events into card calls (``field_on``,
``transceive``, ``field_off``) and never interprets an APDU. It also answers
for the device: what the phone (or the simulation) can do, and registering
AIDs with the platform (Android's ``registerAidsForService``). The WeChat
facade and the Pythonic HCE API work against this interface only.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from ..aid import Category
from ..card import Card
from ..device import MAX_DYNAMIC_AIDS, DeviceState, ErrCode, HceError, check_ready
from ..events import DeactivationReason
from ..polling import PollingFrame, PollingUnsupportedError

__all__ = ["Host", "SimulatedDeviceHost", "check_prefix_support"]


class Host(ABC):
    """One card on one transport."""

    def __init__(self, card: Card) -> None:
        self.card = card
        self._card_lock = threading.RLock()

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """Serialises use of :attr:`card`: hosts that serve from their own thread hold
        it around card calls, and code that changes the card while it is served (e.g.
        ``HceService.start``) takes it too."""
        return self._card_lock

    @abstractmethod
    def device_state(self) -> DeviceState:
        """The device's NFC/HCE capabilities right now."""

    @abstractmethod
    def register_aids(self, category: Category, aids: Sequence[str]) -> None:
        """Make *aids* (distinct, Android filter notation) the platform's group for *category*.

        Replaces the whole group, as Android's ``registerAidsForService`` does
        (a dynamic group also hides the static XML group of its category), so
        callers pass everything the app wants routed in that category
        (``HceService`` adds the plugins' claims). Raise
        :class:`~hcekit.device.HceError` with ``AID_REGISTRATION_FAILED`` (13006)
        and a precise detail when the platform refuses — more than 256 AIDs, or
        ``*``/``#`` AIDs where ``supportsAidPrefixRegistration()`` is false —
        instead of letting Android drop them silently.
        """

    @abstractmethod
    def remove_aids(self, category: Category) -> None:
        """Drop the dynamic group of *category* (the static one, if any, applies again)."""

    # -- transport events: what a host feeds the card (under the card lock) ------------

    def field_on(self) -> None:
        """The reader activated the card (tap start, vpcd power on, Android's first SELECT)."""
        with self.lock:
            self.card.field_on()

    def field_off(self, reason: DeactivationReason = DeactivationReason.LINK_LOSS) -> None:
        """The reader went away (link loss) or chose an AID outside this card (deselected)."""
        with self.lock:
            self.card.field_off(reason)

    def transceive(self, command: bytes) -> bytes:
        """One command APDU in, its response APDU out."""
        with self.lock:
            return self.card.transceive(command)

    #: Why this host never sees a reader's polling loop (None: it can deliver frames).
    polling_unsupported: str | None = "this host has no channel for a reader's polling loop"

    def poll(self, frames: Sequence[PollingFrame]) -> bool:
        """A reader's polling loop before activation; True if the card would now answer it.

        Raises :class:`~hcekit.polling.PollingUnsupportedError` on hosts that
        cannot see polling frames (vpcd), rather than pretend.
        """
        raise PollingUnsupportedError(self.polling_unsupported or "polling is not implemented")

    def polling_downgrade(self) -> str | None:
        """One log line when the card's plugins declared polling-loop filters or observe
        mode that this host cannot honour (None: nothing to say)."""
        if self.polling_unsupported is None:
            return None
        names = sorted({name for name, _ in self.card.polling.filters()}
                       | set(self.card.polling.observe_requested_by()))
        if not names:
            return None
        return (f"polling-loop filters and observe mode of {', '.join(names)} are inactive: "
                f"{self.polling_unsupported}; the card answers every reader")

    def check_claims(self) -> None:
        """Raise :class:`HceError` unless the device can serve the card's claims now.

        The device checks (13000, 13002, 13001), then the payment role: a card
        with ``payment`` claims needs this app to be the default payment
        service (13004), as on Android.
        """
        state = self.device_state()
        check_ready(state)
        if self.card.payment_claims() and not state.default_payment_app:
            names = sorted({name for name, _ in self.card.payment_claims()})
            raise HceError(ErrCode.NOT_DEFAULT_PAYMENT_APP,
                           f"plugins {', '.join(names)} claim payment AIDs; make this app the "
                           "default payment service (Android: Settings > Contactless payments)")

    def start(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Begin serving (open sockets, attach to the platform). Default: nothing to do."""

    def stop(self) -> None:
        """Stop serving and close the card."""
        with self.lock:
            self.card.close()

    def __enter__(self) -> Host:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SimulatedDeviceHost(Host):
    """A host whose device is simulated data (loopback, vpcd): no platform AID routing.

    The reader reaches the card directly, so registering AIDs only records
    them (``registered``) — with Android's semantics, so a simulation is never
    kinder than a phone: a registration replaces the category's group, more
    than 256 AIDs and ``*``/``#`` AIDs without
    ``DeviceState.aid_prefix_registration`` are refused (13006). Tests set
    ``device`` and ``registration_fails`` to reach every WeChat error code.
    """

    def __init__(self, card: Card, device: DeviceState | None = None, *,
                 registration_fails: bool = False) -> None:
        super().__init__(card)
        self.device = device or DeviceState()
        #: Simulate ``registerAidsForService`` returning false (→ 13006).
        self.registration_fails = registration_fails
        #: Dynamic AID groups by category, as Android would hold them.
        self.registered: dict[Category, list[str]] = {}

    def device_state(self) -> DeviceState:
        return self.device

    def register_aids(self, category: Category, aids: Sequence[str]) -> None:
        if self.registration_fails:
            raise HceError(ErrCode.AID_REGISTRATION_FAILED, "simulated platform refusal")
        if len(aids) > MAX_DYNAMIC_AIDS:
            raise HceError(ErrCode.AID_REGISTRATION_FAILED,
                           f"{len(aids)} AIDs in the {Category(category).value} group (the "
                           f"card's plugins' and the new ones); Android accepts at most "
                           f"{MAX_DYNAMIC_AIDS}")
        if not self.device.aid_prefix_registration:
            check_prefix_support(aids)
        self.registered[Category(category)] = list(aids)

    def remove_aids(self, category: Category) -> None:
        self.registered.pop(Category(category), None)


def check_prefix_support(aids: Sequence[str]) -> None:
    """13006 naming the ``*``/``#`` AIDs, for a device that cannot route them."""
    unsupported = [aid for aid in aids if aid.endswith(("*", "#"))]
    if unsupported:
        raise HceError(ErrCode.AID_REGISTRATION_FAILED,
                       f"{', '.join(unsupported)}: this device's NFC controller cannot route "
                       "prefix (*) or subset (#) AIDs "
                       "(CardEmulation.supportsAidPrefixRegistration() is false); "
                       "list the full AIDs instead")
