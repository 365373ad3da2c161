"""The AIDs a Smart Tap pass answers and its OSE label: what the plugin claims before it serves.

A module of constants, so that claiming costs no import of the protocol
(:mod:`.protocol` re-exports these).
"""

from __future__ import annotations

__all__ = ["AID_OSE", "AID_SMART_TAP_2", "WALLET_LABEL"]

#: ``OSE.VAS.01``: the wallet-neutral value-added-services AID (public).
AID_OSE = b"OSE.VAS.01"
#: Smart Tap 2 (public).
AID_SMART_TAP_2 = bytes.fromhex("A000000476D0000111")
#: OSE application label a Smart Tap device answers (kormax notes; terminals key on it).
WALLET_LABEL = b"AndroidPay"
