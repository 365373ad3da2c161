"""Card Verification Results (Visa CVR, inside the IAD) for the second GENERATE AC.

The first cryptogram's IAD comes from
:func:`hcekit_payment.cryptogram.issuer_application_data`; the second one
changes CVR byte 2 (IAD byte 5) as Visa's published CVR layout defines it
(Mastercard CVN 16: the same bits in CVR byte 1, IAD byte 3, see
:mod:`hcekit_payment.assumptions`):

=====  =====================================================================
bits   meaning
=====  =====================================================================
b8-b7  AC returned in the second GENERATE AC: 00 AAC, 01 TC, 10 not requested
b6-b5  AC returned in the first GENERATE AC: 00 AAC, 01 TC, 10 ARQC
b4     issuer authentication performed and failed
b1     unable to go online
=====  =====================================================================
"""

from __future__ import annotations

from .cryptogram import CVN, CryptogramType, cvr_state_index, issuer_application_data

__all__ = ["second_ac_iad"]

_SECOND_AC_MASK = 0xC0
_SECOND_AC = {CryptogramType.AAC: 0x00, CryptogramType.TC: 0x40}
ISSUER_AUTHENTICATION_FAILED = 0x08
UNABLE_TO_GO_ONLINE = 0x01


def second_ac_iad(cvn: CVN, first: CryptogramType, second: CryptogramType, *,
                  issuer_authentication_failed: bool, unable_to_go_online: bool) -> bytes:
    """The IAD of the second GENERATE AC answer (TC or AAC after *first*)."""
    iad = bytearray(issuer_application_data(cvn, first))
    index = cvr_state_index(cvn)
    byte = iad[index] & ~_SECOND_AC_MASK | _SECOND_AC[second]
    if issuer_authentication_failed:
        byte |= ISSUER_AUTHENTICATION_FAILED
    if unable_to_go_online:
        byte |= UNABLE_TO_GO_ONLINE
    iad[index] = byte
    return bytes(iad)
