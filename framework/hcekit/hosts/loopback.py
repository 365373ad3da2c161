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
"""

from __future__ import annotations

from ..aid import Category, Claim
from ..card import routing_select_aid
from ..sw import SW, sw_bytes
from .base import SimulatedDeviceHost

__all__ = ["LoopbackHost"]

_AID_NOT_FOUND = sw_bytes(SW.FILE_NOT_FOUND)


class LoopbackHost(SimulatedDeviceHost):
    """Runs a card in-process."""

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
