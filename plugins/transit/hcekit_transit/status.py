"""DESFire EV1 status codes, named once, and the error that carries one.

Wrapped in ISO/IEC 7816-4 a DESFire status ``xx`` travels as SW1 SW2 =
``91 xx`` (``91 00`` is success, ``91 AF`` "more frames"). Natively it is the
first byte of the response frame.
"""

from __future__ import annotations

from enum import IntEnum

from hcekit import IsoError
from hcekit.sw import register_sw1

__all__ = ["DfStatus", "DesfireError", "DESFIRE_SW1", "describe_wrapped", "wrapped_sw"]

#: SW1 of every ISO-wrapped DESFire response.
DESFIRE_SW1 = 0x91


class DfStatus(IntEnum):
    """DESFire EV1 status bytes (NXP MF3ICD81 data sheet naming)."""

    OPERATION_OK = 0x00
    NO_CHANGES = 0x0C
    OUT_OF_EEPROM = 0x0E
    ILLEGAL_COMMAND = 0x1C
    INTEGRITY_ERROR = 0x1E
    NO_SUCH_KEY = 0x40
    LENGTH_ERROR = 0x7E
    PERMISSION_DENIED = 0x9D
    PARAMETER_ERROR = 0x9E
    APPLICATION_NOT_FOUND = 0xA0
    AUTHENTICATION_ERROR = 0xAE
    ADDITIONAL_FRAME = 0xAF
    BOUNDARY_ERROR = 0xBE
    COMMAND_ABORTED = 0xCA
    DUPLICATE_ERROR = 0xDE
    EEPROM_ERROR = 0xEE
    FILE_NOT_FOUND = 0xF0


def wrapped_sw(status: int) -> int:
    """The ISO status word ``91xx`` for a DESFire status byte."""
    return (DESFIRE_SW1 << 8) | status


def describe_wrapped(sw: int) -> str:
    """``DESFIRE_PERMISSION_DENIED`` for 919D, ``DESFIRE_STATUS(xx)`` for an unnamed one."""
    try:
        return f"DESFIRE_{DfStatus(sw & 0xFF).name}"
    except ValueError:
        return f"DESFIRE_STATUS({sw & 0xFF:02X})"


register_sw1(DESFIRE_SW1, describe_wrapped)


class DesfireError(IsoError):
    """Answer DESFire status *status*; *message* says why (logs only, never on the wire)."""

    def __init__(self, status: DfStatus, message: str = "") -> None:
        self.status = DfStatus(status)
        super().__init__(wrapped_sw(self.status), message or self.status.name)
