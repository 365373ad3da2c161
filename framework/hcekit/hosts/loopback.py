"""In-process host: the card and the terminal share one Python process.

The simulated device (NFC present and on, HCE supported, default payment
app, AID registration outcome) is plain data so tests can reach every WeChat
error code.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..aid import Category
from ..card import Card
from ..device import MAX_DYNAMIC_AIDS, DeviceState, ErrCode, HceError
from ..events import DeactivationReason
from .base import Host

__all__ = ["LoopbackHost"]


class LoopbackHost(Host):
    """Runs a card in-process; the terminal side is :class:`~hcekit.terminal.LoopbackTransport`."""

    def __init__(
        self,
        card: Card,
        device: DeviceState | None = None,
        *,
        registration_fails: bool = False,
    ) -> None:
        super().__init__(card)
        self.device = device or DeviceState()
        #: Simulate ``registerAidsForService`` returning false (→ 13006).
        self.registration_fails = registration_fails
        #: Dynamic AID registrations by category, as Android would hold them.
        self.registered: dict[Category, list[str]] = {}

    def device_state(self) -> DeviceState:
        return self.device

    def start(self) -> None:
        """Check the simulated device as Android would before serving the claims."""
        self.check_claims()

    def register_aids(self, category: Category, aids: Sequence[str]) -> None:
        if self.registration_fails:
            raise HceError(ErrCode.AID_REGISTRATION_FAILED, "simulated platform refusal")
        if len(aids) > MAX_DYNAMIC_AIDS:
            raise HceError(ErrCode.AID_REGISTRATION_FAILED,
                           f"{len(aids)} AIDs; Android accepts at most {MAX_DYNAMIC_AIDS}")
        self.registered[Category(category)] = list(aids)

    def remove_aids(self, category: Category) -> None:
        self.registered.pop(Category(category), None)

    # transport side, used by LoopbackTransport
    def field_on(self) -> None:
        self.card.field_on()

    def field_off(self, reason: DeactivationReason = DeactivationReason.LINK_LOSS) -> None:
        self.card.field_off(reason)

    def transceive(self, command: bytes) -> bytes:
        return self.card.transceive(command)
