"""The native DESFire EV1 command codes, named once (card and reader use the same table)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["SENSITIVE_INS", "Ins"]


class Ins(IntEnum):
    """Native DESFire EV1 command codes this card implements."""

    AUTHENTICATE_AES = 0xAA
    ADDITIONAL_FRAME = 0xAF
    GET_VERSION = 0x60
    GET_CARD_UID = 0x51
    FREE_MEMORY = 0x6E
    FORMAT_PICC = 0xFC
    SELECT_APPLICATION = 0x5A
    GET_APPLICATION_IDS = 0x6A
    CREATE_APPLICATION = 0xCA
    DELETE_APPLICATION = 0xDA
    GET_KEY_SETTINGS = 0x45
    CHANGE_KEY_SETTINGS = 0x54
    GET_KEY_VERSION = 0x64
    CHANGE_KEY = 0xC4
    GET_FILE_IDS = 0x6F
    GET_FILE_SETTINGS = 0xF5
    CREATE_STD_DATA_FILE = 0xCD
    CREATE_BACKUP_DATA_FILE = 0xCB
    CREATE_VALUE_FILE = 0xCC
    CREATE_LINEAR_RECORD_FILE = 0xC1
    CREATE_CYCLIC_RECORD_FILE = 0xC0
    DELETE_FILE = 0xDF
    READ_DATA = 0xBD
    WRITE_DATA = 0x3D
    GET_VALUE = 0x6C
    CREDIT = 0x0C
    DEBIT = 0xDC
    LIMITED_CREDIT = 0x1C
    WRITE_RECORD = 0x3B
    READ_RECORDS = 0xBB
    CLEAR_RECORD_FILE = 0xEB
    COMMIT_TRANSACTION = 0xC7
    ABORT_TRANSACTION = 0xA7


#: Commands whose exchanges are redacted in traces on both sides (authentication, key
#: changes, the real UID); every exchange inside an authenticated session is, too.
SENSITIVE_INS = frozenset((Ins.AUTHENTICATE_AES, Ins.ADDITIONAL_FRAME, Ins.CHANGE_KEY,
                           Ins.CHANGE_KEY_SETTINGS, Ins.GET_CARD_UID))
