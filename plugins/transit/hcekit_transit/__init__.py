"""Transit personality: a DESFire EV1-compatible card (ISO wrapped) with a stored-value purse.

The card side is :class:`~hcekit_transit.picc.DesfireCard` behind
:class:`TransitPlugin`; the reader side is :class:`~hcekit_transit.reader.DesfireReader`
and the gate / top-up / inspector terminal scripts.
"""

from .keys import IssuerKeys
from .layout import PICC_DF_NAME, TRANSIT_AID, TRANSIT_DF_NAME, CardProfile
from .plugin import TransitPlugin
from .status import DesfireError, DfStatus

__all__ = ["PICC_DF_NAME", "TRANSIT_AID", "TRANSIT_DF_NAME", "CardProfile", "DesfireError",
           "DfStatus", "IssuerKeys", "TransitPlugin"]
