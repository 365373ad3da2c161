"""In-process host: the card and the terminal share one Python process.

The simulated device (NFC present and on, HCE supported, default payment
app, prefix-AID support, AID registration outcome) is plain data so tests can
reach every WeChat error code. The terminal side,
:class:`~hcekit.terminal.LoopbackTransport`, calls the host's
``field_on``/``transceive``/``field_off`` directly.

Once a dynamic AID group is registered (``startHCE``), the host also routes
SELECTs as Android's NFC service does: a routing SELECT (see
:func:`hcekit.card.routing_select_aid`) of an AID outside the registered
groups is answered 6A82 before the card sees it (AOSP ``HostEmulationManager``,
``AID_NOT_FOUND``). A category without a dynamic group routes the card's own
claims of that category (the static XML generated from them), and a dynamic
group hides that static one, so an in-process test fails where a phone would.

The host also plays Android 15's observe mode (:mod:`hcekit.polling`): a
terminal sends a polling loop first (``Terminal.poll``); with observe mode on
— *observe_mode*, by default the card's own preference
(``PollingLoop.observe_by_default``) — the card is only activated once a
filter with autoTransact matched or a plugin decided TRANSACT, and a tap that
nothing released raises :class:`~hcekit.polling.CardSilentError` where a
phone would stay silent (that reader's tap is then over).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..aid import Category, Claim
from ..card import Card, routing_select_aid
from ..device import DeviceState
from ..polling import CardSilentError, PollingFrame
from ..sw import SW, sw_bytes
from .base import SimulatedDeviceHost

__all__ = ["LoopbackHost"]

_AID_NOT_FOUND = sw_bytes(SW.FILE_NOT_FOUND)


class LoopbackHost(SimulatedDeviceHost):
    """Runs a card in-process."""

    polling_unsupported = None

    def __init__(self, card: Card, device: DeviceState | None = None, *,
                 registration_fails: bool = False, observe_mode: bool | None = None) -> None:
        super().__init__(card, device, registration_fails=registration_fails)
        #: Observe mode as this simulated phone runs it; None: the card's preference.
        self.observe_mode = observe_mode

    def _sync_observe_mode(self) -> None:
        wanted = self.observe_mode
        self.card.polling.observe_mode = (self.card.polling.observe_by_default
                                          if wanted is None else wanted)

    def poll(self, frames: Sequence[PollingFrame]) -> bool:
        with self.lock:
            self._sync_observe_mode()
            for frame in frames:
                self.card.polling_frame(frame)
            return self.card.polling.answers_reader()

    def field_on(self) -> None:
        with self.lock:
            self._sync_observe_mode()
            if not self.card.polling.answers_reader():
                decision = self.card.polling.decision.value
                self.card.polling.end_tap()  # this reader gets no answer and gives up
                raise CardSilentError(
                    f"the card stayed silent: observe mode is on and the polling loop did not "
                    f"release it (decision {decision}); send a frame a plugin's autoTransact "
                    "filter matches (Terminal.poll, hcekit tap/send --poll) or turn observe "
                    "mode off")
            self.card.field_on()

    def start(self) -> None:
        """Check the simulated device as Android would before serving the claims."""
        self.check_claims()

    def routed(self, aid: bytes) -> bool:
        """Would Android route a SELECT of *aid* to this app (exact, ``*`` prefix, ``#`` subset)?"""
        with self.lock:
            claims = self.card.claims()
        for category in Category:
            group = self.registered.get(category)
            filters = group if group is not None else [c.filter for _, c in claims
                                                       if c.category is category]
            if any(Claim.parse(text, category).matches(aid) for text in filters):
                return True
        return False

    def transceive(self, command: bytes) -> bytes:
        if self.registered:
            aid = routing_select_aid(command)
            if aid is not None and not self.routed(aid):
                return _AID_NOT_FOUND
        return super().transceive(command)
