"""Loyalty personality: a Smart-Tap-2.1-style pass with a points ledger, and its till.

See ``docs/loyalty.md``. The card is :class:`LoyaltyPlugin`; the reader side
is :class:`hcekit_loyalty.till.SmartTapTill` and the ``loyalty-till`` terminal
script.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hcekit.lazy import lazy_exports

if TYPE_CHECKING:
    from .plugin import LoyaltyPlugin

__all__ = ["LoyaltyPlugin"]

__getattr__ = lazy_exports(__name__, {
    "LoyaltyPlugin": ".plugin",
})
