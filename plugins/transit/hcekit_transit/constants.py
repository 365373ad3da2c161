"""The card's names and personalisation defaults: what the plugin declares before it serves.

Kept apart from :mod:`.layout` so that claims and options cost no import of
the layout and its record types (the cold-start rule in
``docs/plugin-authoring.md``); :mod:`.layout` re-exports them.
"""

from __future__ import annotations

__all__ = ["PICC_DF_NAME", "TRANSIT_DF_NAME", "TRANSIT_AID", "DEFAULT_BALANCE",
           "DEFAULT_MAX_BALANCE"]

#: ISO DF name of a DESFire EV1 PICC (selects the PICC level, application 000000).
PICC_DF_NAME = bytes.fromhex("D2760000850100")
#: ISO DF name of the transit application (proprietary RID F0).
TRANSIT_DF_NAME = b"\xf0HCETRANSIT"
#: DESFire application ID of the transit application (3 bytes as sent on the wire).
TRANSIT_AID = bytes.fromhex("545201")

DEFAULT_BALANCE = 2000
DEFAULT_MAX_BALANCE = 50000
