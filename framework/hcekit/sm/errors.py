"""The one exception secure messaging raises, on both sides of the channel."""

from __future__ import annotations

from ..errors import IsoError
from ..sw import SW

__all__ = ["SmError"]


class SmError(IsoError):
    """A protected APDU failed verification, or a required SM data object is missing.

    It is an :class:`~hcekit.errors.IsoError`, so on the card side the core
    answers its status word in plain and drops the session: 6987 when SM data
    objects are missing, 6988 when they are incorrect (bad MAC, bad padding,
    replayed or reordered counter). On the terminal side it is raised from
    response unwrapping with the same meaning. The message never contains key
    material or plaintext.
    """

    def __init__(self, message: str, sw: int = SW.SM_DATA_OBJECTS_INCORRECT) -> None:
        super().__init__(sw, message)


def missing(message: str) -> SmError:
    """6987: a mandatory SM data object (e.g. DO 8E) is absent."""
    return SmError(message, SW.SM_DATA_OBJECTS_MISSING)


def incorrect(message: str) -> SmError:
    """6988: an SM data object is present but wrong (MAC, padding, encoding)."""
    return SmError(message, SW.SM_DATA_OBJECTS_INCORRECT)
