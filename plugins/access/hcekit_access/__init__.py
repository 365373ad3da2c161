"""Access badge personality: the PIV Card Authentication subset a door reader uses.

The card side (:class:`AccessPlugin`) answers SELECT, GET DATA and GENERAL
AUTHENTICATE as NIST SP 800-73-4 specifies; :mod:`.badge` personalizes it;
:mod:`.door` is the reader that decides grant or deny.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hcekit.lazy import lazy_exports

if TYPE_CHECKING:
    from .badge import Badge, BadgeRequest, load_badge, personalize
    from .door import Decision, DoorPolicy, decide
    from .fascn import Fascn
    from .piv import PIV_AID, PIV_ATR
    from .plugin import AccessPlugin

__all__ = ["PIV_AID", "PIV_ATR", "AccessPlugin", "Badge", "BadgeRequest", "Decision",
           "DoorPolicy", "Fascn", "decide", "load_badge", "personalize"]

__getattr__ = lazy_exports(__name__, {
    "Badge": ".badge",
    "BadgeRequest": ".badge",
    "load_badge": ".badge",
    "personalize": ".badge",
    "Decision": ".door",
    "DoorPolicy": ".door",
    "decide": ".door",
    "Fascn": ".fascn",
    "PIV_AID": ".piv",
    "PIV_ATR": ".piv",
    "AccessPlugin": ".plugin",
})
