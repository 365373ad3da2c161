"""The PPSE (``2PAY.SYS.DDF01``), answered by the core from payment claims.

EMV Book B (contactless) / Book 1 §12.3: the FCI of the PPSE is
``6F [84 DF-name] [A5 [BF0C [61 [4F AID][50 label][87 priority]]…]]``, one
directory entry (tag 61) per payment application. The card registers this
internal plugin whenever a plugin claims a ``payment`` AID.
"""

from __future__ import annotations

from .aid import Category, Claim
from .apdu import CommandApdu
from .context import AppContext, PluginContext
from .errors import IsoError
from .markers import hookimpl
from .sw import SW

__all__ = ["CORE_OWNER", "PPSE_AID", "PPSE_CLAIM", "PpsePlugin", "core_claims", "ppse_fci"]

#: The PPSE's DF name, ``2PAY.SYS.DDF01`` (EMV Book B).
PPSE_AID = b"2PAY.SYS.DDF01"
#: The owner name the core's own claims carry in listings and conflict reports.
CORE_OWNER = "ppse"
#: The core's claim on the PPSE; category payment, as Android routes the PPSE SELECT to the
#: default payment app.
PPSE_CLAIM = Claim(PPSE_AID, Category.PAYMENT, "Proximity Payment System Environment (core)")

TAG_FCI = 0x6F
TAG_DF_NAME = 0x84
TAG_FCI_PROPRIETARY = 0xA5
TAG_FCI_ISSUER_DISCRETIONARY = 0xBF0C
TAG_DIRECTORY_ENTRY = 0x61
TAG_ADF_NAME = 0x4F
TAG_APPLICATION_LABEL = 0x50
TAG_PRIORITY = 0x87


def ppse_fci(claims: list[Claim]) -> bytes:
    """The PPSE FCI for *claims* (payment claims, in routing order)."""
    from .tlv import encode  # here: a card without payment claims never loads the TLV codec

    entries = []
    for claim in claims:
        parts = [encode(TAG_ADF_NAME, claim.aid)]
        if claim.label:
            parts.append(encode(TAG_APPLICATION_LABEL, claim.label.encode("ascii", "replace")[:16]))
        if claim.priority is not None:
            parts.append(encode(TAG_PRIORITY, bytes((claim.priority,))))
        entries.append(encode(TAG_DIRECTORY_ENTRY, parts))
    return encode(TAG_FCI, [
        encode(TAG_DF_NAME, PPSE_AID),
        encode(TAG_FCI_PROPRIETARY, [encode(TAG_FCI_ISSUER_DISCRETIONARY, entries)]),
    ])


def core_claims() -> list[tuple[str, Claim]]:
    """What the core itself claims on a card that holds any payment AID (the default).

    Checks that look at plugins one at a time (``hcekit check``, ``hcekit
    plugins``) add these, so a plugin claiming the PPSE is reported there and
    not first when a card with a payment plugin refuses to start.
    """
    return [(CORE_OWNER, PPSE_CLAIM)]


class PpsePlugin:
    """Core-owned application for the PPSE. Only SELECT is meaningful on it."""

    name = CORE_OWNER

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [PPSE_CLAIM]

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes:
        payment = [c for _, c in app.card.payment_claims()]
        return ppse_fci(payment)

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> None:
        raise IsoError(SW.INS_NOT_SUPPORTED, "the PPSE answers SELECT only")
