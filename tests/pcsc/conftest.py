"""PC/SC fixtures (``pcscd``, ``pcsc_card``) until the pytest11 plugin exports them."""

from hcekit.testing.pcsc import pcsc_card, pcscd

__all__ = ["pcsc_card", "pcscd"]
