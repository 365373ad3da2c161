"""Loyalty personality: a Smart-Tap-2.1-style pass with a points ledger, and its till.

See ``docs/loyalty.md``. The card is :class:`LoyaltyPlugin`; the reader side
is :class:`hcekit_loyalty.till.SmartTapTill` and the ``loyalty-till`` terminal
script.
"""

from .plugin import LoyaltyPlugin

__all__ = ["LoyaltyPlugin"]
