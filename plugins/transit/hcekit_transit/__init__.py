"""Transit personality: a DESFire EV1-compatible card (ISO wrapped) with a stored-value purse.

The card side is :class:`~hcekit_transit.picc.DesfireCard` behind
:class:`TransitPlugin`; the reader side is :class:`~hcekit_transit.reader.DesfireReader`
and the gate / top-up / inspector terminal scripts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hcekit.lazy import lazy_exports

if TYPE_CHECKING:
    from .constants import PICC_DF_NAME, TRANSIT_AID, TRANSIT_DF_NAME
    from .keys import IssuerKeys
    from .layout import CardProfile
    from .plugin import TransitPlugin
    from .status import DesfireError, DfStatus

__all__ = ["PICC_DF_NAME", "TRANSIT_AID", "TRANSIT_DF_NAME", "CardProfile", "DesfireError",
           "DfStatus", "IssuerKeys", "TransitPlugin"]

__getattr__ = lazy_exports(__name__, {
    "IssuerKeys": ".keys",
    "PICC_DF_NAME": ".constants",
    "TRANSIT_AID": ".constants",
    "TRANSIT_DF_NAME": ".constants",
    "CardProfile": ".layout",
    "TransitPlugin": ".plugin",
    "DesfireError": ".status",
    "DfStatus": ".status",
})
