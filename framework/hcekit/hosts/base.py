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

__all__ = ["Host", "SimulatedDeviceHost"]


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
        """Ask the platform to route *aids* (Android filter notation) here.

        Replaces the dynamic list of *category*, as Android does. Raise
        :class:`~hcekit.device.HceError` with ``AID_REGISTRATION_FAILED``
        (13006) when the platform refuses.
        """

    @abstractmethod
    def remove_aids(self, category: Category) -> None:
        """Drop the dynamic AIDs of *category*."""

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
        self.card.close()

    def __enter__(self) -> Host:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SimulatedDeviceHost(Host):
    """A host whose device is simulated data (loopback, vpcd): no platform AID routing.

    The reader reaches the card directly, so registering AIDs only records
    them (``registered``), after the same limits Android applies. Tests set
    ``device`` and ``registration_fails`` to reach every WeChat error code.
    """

    def __init__(self, card: Card, device: DeviceState | None = None, *,
                 registration_fails: bool = False) -> None:
        super().__init__(card)
        self.device = device or DeviceState()
        #: Simulate ``registerAidsForService`` returning false (→ 13006).
        self.registration_fails = registration_fails
        #: Dynamic AID registrations by category, as Android would hold them.
        self.registered: dict[Category, list[str]] = {}

    def device_state(self) -> DeviceState:
        return self.device

    def register_aids(self, category: Category, aids: Sequence[str]) -> None:
        if self.registration_fails:
            raise HceError(ErrCode.AID_REGISTRATION_FAILED, "simulated platform refusal")
        if len(aids) > MAX_DYNAMIC_AIDS:
            raise HceError(ErrCode.AID_REGISTRATION_FAILED,
                           f"{len(aids)} AIDs; Android accepts at most {MAX_DYNAMIC_AIDS}")
        self.registered[Category(category)] = list(aids)

    def remove_aids(self, category: Category) -> None:
        self.registered.pop(Category(category), None)
