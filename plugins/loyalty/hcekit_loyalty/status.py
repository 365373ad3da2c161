"""Smart Tap status words, named once.

Smart Tap answers its proprietary commands (CLA 90) with application-specific
``9xxx`` status words: SW1 tells the terminal what to do next, SW2 details.
They live here rather than in :class:`hcekit.SW` because their values overlap
other proprietary families (DESFire's ``91xx``) with different meanings.
"""

from __future__ import annotations

from enum import IntEnum

from . import assumptions as _a

__all__ = ["SmartTapSW", "describe"]


class SmartTapSW(IntEnum):
    """Public values from Google's "status words" page, plus our 93xx choices."""

    #: 9000: done (select ready / negotiate authorised / get: no more data).
    OK = 0x9000
    #: 9001: success, no passes (get: only a customer record or nothing).
    OK_NO_PASSES = 0x9001
    #: 9002: negotiate succeeded, but authentication was not live (pre-signed).
    OK_PRESIGNED_AUTH = 0x9002
    #: 9100: more data available — send GET MORE DATA (90 C0).
    MORE_DATA = 0x9100
    #: 9200: unknown transient error; the terminal may retry.
    TRANSIENT_UNKNOWN = 0x9200
    # 93xx: permanent failure, stop Smart Tap (second bytes: assumptions.py).
    PERMANENT_UNKNOWN = _a.SW_PERMANENT_UNKNOWN
    UNSUPPORTED_VERSION = _a.SW_UNSUPPORTED_VERSION
    AUTHENTICATION_FAILED = _a.SW_AUTHENTICATION_FAILED
    UNKNOWN_MERCHANT = _a.SW_UNKNOWN_MERCHANT
    FORMAT_INVALID = _a.SW_FORMAT_INVALID
    INVALID_SEQUENCE = _a.SW_INVALID_SEQUENCE
    SESSION_REQUIRED = _a.SW_SESSION_REQUIRED


def describe(sw: int) -> str:
    """Readable name of a Smart Tap status word (falls back to the ISO names)."""
    try:
        return SmartTapSW(sw).name
    except ValueError:
        from hcekit.sw import describe as iso_describe

        return iso_describe(sw)
