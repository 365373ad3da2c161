"""Exceptions. A protocol error carries the status word the card answers with.

``IsoError`` plays the role of Java Card's ``ISOException.throwIt(sw)``: a
plugin raises it anywhere inside a hook and the card answers that status word.
"""

from __future__ import annotations

from .sw import SW, describe, is_error_sw

__all__ = [
    "HcekitError",
    "IsoError",
    "ApduFormatError",
    "ClaimError",
    "ClaimConflictError",
    "PersonalizationError",
    "PluginLoadError",
    "StoreError",
    "TransactionError",
]


class HcekitError(Exception):
    """Base of every hcekit exception."""


class IsoError(HcekitError):
    """Answer status word *sw*; *message* says precisely why (logs only, never on the wire)."""

    def __init__(self, sw: int, message: str = "") -> None:
        if not is_error_sw(int(sw)):
            # 9000 is not an error (a hook returns data for it); 61xx/6Cxx are the core's
            raise ValueError(f"IsoError needs an error or warning status word (SW1 62-6F but "
                             f"not 6C, or 9X but not 9000), not {int(sw):04X}")
        self.sw = int(sw)
        self.message = message or describe(self.sw)
        super().__init__(f"{self.sw:04X} {describe(self.sw)}: {self.message}")


class ApduFormatError(IsoError):
    """A byte string that is not a well-formed command APDU (answers 6700 by default)."""

    def __init__(self, message: str, sw: int = SW.WRONG_LENGTH) -> None:
        super().__init__(sw, message)


class ClaimError(HcekitError, ValueError):
    """An AID claim that Android's rules (or ours) reject."""


class ClaimConflictError(ClaimError):
    """Two plugins claim the same or overlapping AIDs; never resolved silently."""


class PluginLoadError(HcekitError):
    """A plugin named by entry point or ``module:attr`` could not be loaded."""


class StoreError(HcekitError):
    """The persistent store failed or was used wrongly."""


class PersonalizationError(HcekitError, ValueError):
    """Card data a personalisation refuses, with the reason (``personalize`` exits 2).

    Plugins derive their own (``hcekit_access.PersonalizationError``) from it, so
    ``hcekit NAME personalize`` reports every refusal the same way.
    """


class TransactionError(StoreError):
    """A transaction was misused (e.g. commit without begin)."""
