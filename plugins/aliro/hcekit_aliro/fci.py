"""The SELECT answers (FCI) of the two Aliro applications.

Public: ``6F{84 AID, A5{80 application type, 5C versions, 7F66{02 max command,
02 max response}, [B3 vendor]}}`` (CSA aliro-actuator ``encryption.py``
``create_proprietary_information``; Proxmark3 ``cmdhfaliro.c``). The ``A5``
template, tag and length included, also enters every HKDF salt, so both
sides must use the very bytes the SELECT carried.
"""

from __future__ import annotations

from hcekit import tlv

from .assumptions import MAX_COMMAND_APDU, MAX_RESPONSE_APDU, SUPPORTED_VERSIONS
from .protocol import (
    APPLICATION_TYPE_CSA,
    EXPEDITED_AID,
    STEP_UP_AID,
    TAG_APPLICATION_TYPE,
    TAG_EXTENDED_LENGTH,
    TAG_FCI,
    TAG_FCI_AID,
    TAG_INTEGER,
    TAG_PROPRIETARY,
    TAG_VERSIONS,
)

__all__ = ["proprietary_tlv", "select_answer", "step_up_select_answer"]


def proprietary_tlv() -> bytes:
    """The FCI's A5 template; it also enters every HKDF salt."""
    versions = b"".join(v.to_bytes(2, "big") for v in SUPPORTED_VERSIONS)
    return tlv.encode(TAG_PROPRIETARY, [
        tlv.encode(TAG_APPLICATION_TYPE, APPLICATION_TYPE_CSA.to_bytes(2, "big")),
        tlv.encode(TAG_VERSIONS, versions),
        tlv.encode(TAG_EXTENDED_LENGTH, [tlv.encode(TAG_INTEGER, MAX_COMMAND_APDU.to_bytes(2, "big")),
                                         tlv.encode(TAG_INTEGER, MAX_RESPONSE_APDU.to_bytes(2, "big"))]),
    ])


def select_answer() -> bytes:
    return tlv.encode(TAG_FCI, [tlv.encode(TAG_FCI_AID, EXPEDITED_AID), proprietary_tlv()])


def step_up_select_answer() -> bytes:
    return tlv.encode(TAG_FCI, [tlv.encode(TAG_FCI_AID, STEP_UP_AID), tlv.encode(
        TAG_PROPRIETARY, [tlv.encode(TAG_APPLICATION_TYPE, APPLICATION_TYPE_CSA.to_bytes(2, "big"))])])
