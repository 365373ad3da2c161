"""ISO/IEC 7816-4 status words, named once.

Every interindustry status word the core or a personality answers is a member
of :class:`SW`; code never spells a status word as a bare literal. ``SW`` is an
``IntEnum`` so a member is usable wherever an ``int`` status word is.

The core knows no personality's proprietary status words: a plugin that
answers some (DESFire's ``91xx``) names them in its own module and calls
:func:`register_sw1` so traces and terminals print them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

__all__ = ["SW", "sw_bytes", "describe", "bytes_remaining", "wrong_le", "register_sw1",
           "is_error_sw"]


def is_error_sw(sw: int) -> bool:
    """True for a status word an application may answer instead of data (``IsoError``).

    ISO/IEC 7816-3 and -4 allow SW1 only as 6X (not 60) or 9X. Of those, 9000
    is success (return data instead), and SW1 61 and 6C belong to the card
    core, which answers them for response chaining and Le: from a plugin they
    would announce bytes nothing holds. Proprietary 9XXX (DESFire's 91XX, Smart
    Tap's) pass.
    """
    if not 0 <= sw <= 0xFFFF or sw == SW.NO_ERROR:
        return False
    sw1 = sw >> 8
    return (0x62 <= sw1 <= 0x6F and sw1 != SW.WRONG_LE >> 8) or 0x90 <= sw1 <= 0x9F


class SW(IntEnum):
    """Status words from ISO/IEC 7816-4:2020, section 5.6 (and Table 5/6)."""

    NO_ERROR = 0x9000
    #: SW1 61: response bytes still available (SW2 = how many, 00 = 256 or more).
    BYTES_REMAINING = 0x6100
    #: SW1 6C: wrong Le field (SW2 = the exact number of available bytes).
    WRONG_LE = 0x6C00

    # 62xx / 63xx warnings (state of non-volatile memory unchanged / changed)
    WARNING_NO_INFORMATION = 0x6200
    END_OF_FILE_REACHED = 0x6282
    SELECTED_FILE_INVALIDATED = 0x6283
    VERIFICATION_FAILED = 0x6300

    # 64xx / 65xx execution errors
    EXECUTION_ERROR = 0x6400
    MEMORY_FAILURE = 0x6581

    # 67xx / 68xx
    WRONG_LENGTH = 0x6700
    FUNCTION_IN_CLA_NOT_SUPPORTED = 0x6800
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    LAST_COMMAND_OF_CHAIN_EXPECTED = 0x6883
    COMMAND_CHAINING_NOT_SUPPORTED = 0x6884

    # 69xx command not allowed
    COMMAND_NOT_ALLOWED = 0x6900
    COMMAND_INCOMPATIBLE_WITH_FILE_STRUCTURE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTHENTICATION_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_OF_USE_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_CURRENT_EF = 0x6986
    SM_DATA_OBJECTS_MISSING = 0x6987
    SM_DATA_OBJECTS_INCORRECT = 0x6988

    # 6Axx wrong parameters P1-P2
    WRONG_PARAMETERS = 0x6A00
    INCORRECT_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NOT_ENOUGH_MEMORY = 0x6A84
    NC_INCONSISTENT_WITH_TLV = 0x6A85
    INCORRECT_P1P2 = 0x6A86
    NC_INCONSISTENT_WITH_P1P2 = 0x6A87
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    FILE_ALREADY_EXISTS = 0x6A89
    DF_NAME_ALREADY_EXISTS = 0x6A8A

    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    #: No precise diagnosis. Also what Android answers on a command before SELECT.
    UNKNOWN = 0x6F00


_SW_BYTES: dict[int, bytes] = {}


def sw_bytes(sw: int) -> bytes:
    """The two trailer bytes SW1 SW2 of a status word (cached, it is on the hot path)."""
    try:
        return _SW_BYTES[sw]
    except KeyError:
        if not 0 <= sw <= 0xFFFF:
            raise ValueError(f"status word out of range: {sw:#x}") from None
        encoded = _SW_BYTES[sw] = sw.to_bytes(2, "big")
        return encoded


def bytes_remaining(count: int) -> int:
    """``61xx``: *count* more bytes wait for GET RESPONSE (xx = 00 when 256 or more)."""
    return SW.BYTES_REMAINING | (count if count < 256 else 0)


def wrong_le(available: int) -> int:
    """``6Cxx``: re-send with Le = *available* (xx = 00 means 256)."""
    return SW.WRONG_LE | (available & 0xFF)


#: SW1 values ISO/IEC 7816-4 defines (61–6F, 90); a plugin may not rename them.
_INTERINDUSTRY_SW1 = frozenset(range(0x61, 0x70)) | {0x90}
_DESCRIBERS: dict[int, Callable[[int], str]] = {}


def register_sw1(sw1: int, describer: Callable[[int], str]) -> None:
    """Name the proprietary status words ``sw1 xx`` of a personality (e.g. DESFire's 91).

    *describer* gets the whole status word and returns its name. Registering
    an interindustry SW1 is refused; registering the same SW1 again replaces
    the describer (a plugin module reloaded).
    """
    if not 0 <= sw1 <= 0xFF or sw1 in _INTERINDUSTRY_SW1:
        raise ValueError(f"SW1 {sw1:02X} is defined by ISO/IEC 7816-4, not by a personality")
    _DESCRIBERS[sw1] = describer


def describe(sw: int) -> str:
    """Human-readable name of a status word, for traces and terminal output."""
    try:
        return SW(sw).name
    except ValueError:
        pass
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x61:
        return f"BYTES_REMAINING({sw2 or 256})"
    if sw1 == 0x6C:
        return f"WRONG_LE(exact={sw2 or 256})"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"VERIFICATION_FAILED(tries_left={sw2 & 0x0F})"
    describer = _DESCRIBERS.get(sw1)
    if describer is not None:
        return describer(sw)
    return f"SW_{sw:04X}"
