"""What a PC/SC contactless reader answers itself: the class FF pseudo-APDUs of PC/SC Part 3.

A contactless reader under PC/SC (Interoperability Specification for ICCs
and Personal Computer Systems, Part 3, "Supplemental Document for
Contactless ICCs", §3.2.2.1) intercepts commands with CLA FF; they never
reach the card. UID-reading apps and EMV kernels send GET DATA first, so a
host that plays the reader (the vpcd host) answers them here and passes
every other command to the card:

=======================  ======================================================
command                  answer
=======================  ======================================================
FF CA 00 00 Le           GET DATA, UID (§3.2.2.1.3): the UID + 9000
FF CA 01 00 Le           GET DATA, historical bytes of the ATS (from the ATR
                         the host presents) + 9000
Le 00                    all of it; Le < length → 6Cxx (xx = length);
                         Le > length → the data + 6282 (end reached before Le)
no Le, or a data field   6700 (GET DATA carries Le only)
FF CA, other P1 / P2     6A81 function not supported
FF 82/86/88/B0/D6/C2     6A81: Part 3's storage-card and session commands, which
                         do not apply to an ISO 14443-4 card such as a phone
FF, any other INS        not Part 3's: passed on like any command; the card core
                         answers 6E00 (class FF is no card class) before any
                         plugin sees it, and a raw route (the WeChat facade)
                         gets the bytes as Android would deliver them
=======================  ======================================================

The UID: a phone in card emulation presents a random single-size UID at
every field activation (ISO/IEC 14443-3: a 4-byte UID whose first byte is
08 is a random ID, "RID"), so by default :class:`ContactlessReader` draws a
new ``08 xx xx xx`` at each :meth:`~ContactlessReader.activate`; a fixed
UID (4, 7 or 10 bytes, ``hcekit serve --uid``) is presented as given.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..atr import historical_bytes
from ..sw import SW, sw_bytes, wrong_le

__all__ = ["CLA_READER", "ContactlessReader", "random_uid", "check_uid"]

CLA_READER = 0xFF
INS_GET_DATA = 0xCA
P1_UID = 0x00
P1_HISTORICAL_BYTES = 0x01
#: Part 3 commands for storage cards and transparent sessions: LOAD KEYS, GENERAL
#: AUTHENTICATE, AUTHENTICATE (obsolete form), READ BINARY, UPDATE BINARY, MANAGE SESSION.
_STORAGE_CARD_INS = frozenset({0x82, 0x86, 0x88, 0xB0, 0xD6, 0xC2})
#: ISO/IEC 14443-3: UID0 = 08 marks a random 4-byte ID; 88 is the cascade tag, never a UID0.
RANDOM_UID_PREFIX = 0x08
CASCADE_TAG = 0x88
UID_LENGTHS = (4, 7, 10)


def random_uid(random: Callable[[int], bytes] = os.urandom) -> bytes:
    """A fresh ISO/IEC 14443-3 random single-size UID: 08 and three random bytes."""
    return bytes((RANDOM_UID_PREFIX,)) + random(3)


def check_uid(uid: bytes) -> bytes:
    """A UID a reader could report: 4, 7 or 10 bytes, not starting with the cascade tag 88."""
    if len(uid) not in UID_LENGTHS:
        raise ValueError(f"a UID is 4, 7 or 10 bytes (ISO/IEC 14443-3), got {len(uid)}")
    if uid[0] == CASCADE_TAG:
        raise ValueError("a UID cannot start with 88, the ISO/IEC 14443-3 cascade tag")
    return uid


class ContactlessReader:
    """The reader's own answers to class FF commands, for one card slot."""

    def __init__(self, atr: bytes, uid: bytes | None = None, *,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        self.historical = historical_bytes(atr)
        self.fixed_uid = None if uid is None else check_uid(bytes(uid))
        self._random = random
        self.uid = self.fixed_uid or random_uid(random)

    def activate(self) -> None:
        """A new field activation (power on / reset): a random UID changes, a fixed one not."""
        self.uid = self.fixed_uid or random_uid(self._random)

    def answer(self, command: bytes) -> bytes | None:
        """The reader's response to a class FF command; None for anything the card answers."""
        if len(command) < 4 or command[0] != CLA_READER:
            return None
        ins, p1, p2 = command[1], command[2], command[3]
        if ins != INS_GET_DATA:
            if ins in _STORAGE_CARD_INS:
                return sw_bytes(SW.FUNCTION_NOT_SUPPORTED)
            return None  # not a Part 3 command: the card core refuses class FF itself
        if p2 != 0 or p1 not in (P1_UID, P1_HISTORICAL_BYTES):
            return sw_bytes(SW.FUNCTION_NOT_SUPPORTED)
        if len(command) != 5:  # FF CA P1 P2 Le: no data field, Le present
            return sw_bytes(SW.WRONG_LENGTH)
        data = self.uid if p1 == P1_UID else self.historical
        le = command[4]
        if le == 0 or le == len(data):
            return data + sw_bytes(SW.NO_ERROR)
        if le < len(data):
            return sw_bytes(wrong_le(len(data)))
        return data + sw_bytes(SW.END_OF_FILE_REACHED)
