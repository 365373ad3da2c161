"""Field events the card core receives from a host.

Android reports why an HCE service lost the reader with
``HostApduService.DEACTIVATION_LINK_LOSS`` (0) and ``DEACTIVATION_DESELECTED``
(1); hcekit uses the same numbers on every host so a plugin sees one meaning
everywhere.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["DeactivationReason"]


class DeactivationReason(IntEnum):
    """Why the card lost the reader (``hcekit_deactivated``, WeChat messageType 2)."""

    #: The RF field went away (phone moved off the reader, vpcd power off).
    LINK_LOSS = 0
    #: The reader selected an AID served by something outside this card.
    DESELECTED = 1
