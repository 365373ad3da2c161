"""Issuer authentication: the ARPC an issuer returns and the card checks (EMV Book 2 §8.2).

After an ARQC the issuer answers with Issuer Authentication Data (tag 91):
a cryptogram over the ARQC that only the holder of the card's key can make,
and the issuer's decision. The two public methods, one per CVN here:

=====  =========  ===================================  ==========================
CVN    method     ARPC                                  91 = ARPC ||
=====  =========  ===================================  ==========================
10     1 (§8.2.1) 3DES(ICC MK, ARQC ⊕ (ARC || 00…00))   ARC, 2 bytes (an2)
18     2 (§8.2.2) MAC alg. 3 (session key, ARQC || CSU)  CSU, 4 bytes
                  padding method 2, leftmost 4 bytes
=====  =========  ===================================  ==========================

The card reads the issuer's decision from what the ARPC protects: the ARC
of method 1 (ISO 8583 approval codes ``00``, ``10``, ``11``), the CSU of
method 2 (byte 2 b8 "issuer approves online transaction", as Visa's
published CSU layout has it). Everything else (issuer scripts, PIN try
counter updates, blocking) is not implemented.
"""

from __future__ import annotations

from dataclasses import dataclass

from hcekit.sm import retail_mac, tags_equal

from .cryptogram import CVN
from .keys import derive_common_session_key, tdes_encrypt

__all__ = [
    "APPROVAL_CODES",
    "UNABLE_TO_GO_ONLINE",
    "CSU_APPROVED",
    "IssuerResponse",
    "arpc_method_1",
    "arpc_method_2",
    "issuer_authentication_data",
    "check_issuer_authentication",
]

ARC_LENGTH = 2
CSU_LENGTH = 4
#: Authorisation Response Codes (8A, an2) that mean "approved" (ISO 8583 response codes).
APPROVAL_CODES = frozenset({b"00", b"10", b"11"})
#: EMV Book 4 Annex A6: the terminal could not go online (offline approved / declined).
UNABLE_TO_GO_ONLINE = frozenset({b"Y3", b"Z3"})
#: CSU byte 2 b8: the issuer approves the online transaction.
CSU_APPROVED = 0x80
_ARC_APPROVED, _ARC_DECLINED = b"00", b"05"


def arpc_method_1(key: bytes, arqc: bytes, arc: bytes) -> bytes:
    """ARPC method 1: 3DES-ECB of the ARQC XOR the ARC padded with zeros (8 bytes)."""
    if len(arqc) != 8 or len(arc) != ARC_LENGTH:
        raise ValueError("ARPC method 1 takes an 8-byte ARQC and a 2-byte ARC")
    block = bytes(a ^ b for a, b in zip(arqc, arc + bytes(6), strict=True))
    return tdes_encrypt(key, block)


def arpc_method_2(key: bytes, arqc: bytes, csu: bytes, proprietary: bytes = b"") -> bytes:
    """ARPC method 2: retail MAC over ARQC || CSU || proprietary data, first 4 bytes."""
    if len(arqc) != 8 or len(csu) != CSU_LENGTH or len(proprietary) > 8:
        raise ValueError("ARPC method 2 takes an 8-byte ARQC, a 4-byte CSU, ≤ 8 bytes more")
    return retail_mac(key, arqc + csu + proprietary)[:4]  # padding method 2


#: CVNs answering with ARPC method 1 under the ICC master key itself (pyemv documents the
#: same for Mastercard CVN 16: "ARPC session key derivation method = None, method 1").
_METHOD_1 = (CVN.VISA_10, CVN.MASTERCARD_16)


def _arpc_key(cvn: CVN, icc_mk: bytes, atc: bytes) -> bytes:
    """Method 1 CVNs use the ICC master key itself, CVN 18 the common session key of the ATC."""
    return icc_mk if cvn in _METHOD_1 else derive_common_session_key(icc_mk, atc)


def issuer_authentication_data(cvn: CVN, icc_mk: bytes, atc: bytes, arqc: bytes,
                               approve: bool) -> bytes:
    """Issuer side: the value of tag 91 answering *arqc* with a decision."""
    key = _arpc_key(cvn, icc_mk, atc)
    if cvn in _METHOD_1:
        arc = _ARC_APPROVED if approve else _ARC_DECLINED
        return arpc_method_1(key, arqc, arc) + arc
    csu = bytes((0, CSU_APPROVED if approve else 0, 0, 0))
    return arpc_method_2(key, arqc, csu) + csu


@dataclass(frozen=True)
class IssuerResponse:
    """What the card concluded from the Issuer Authentication Data."""

    #: False: no issuer authentication data at all (the terminal did not go online).
    present: bool
    #: The ARPC verified with the card's key.
    authentic: bool
    #: The issuer approved (meaningful only when authentic).
    approved: bool


def check_issuer_authentication(cvn: CVN, icc_mk: bytes, atc: bytes, arqc: bytes,
                                data: bytes, arc: bytes) -> IssuerResponse:
    """Card side: verify tag 91 (all zeros = absent, as DOL filling gives it)."""
    if not any(data):
        return IssuerResponse(False, False, False)
    key = _arpc_key(cvn, icc_mk, atc)
    if cvn in _METHOD_1:
        arpc, signed_arc = data[:8], data[8:8 + ARC_LENGTH]
        if len(data) != 8 + ARC_LENGTH:
            return IssuerResponse(True, False, False)
        authentic = tags_equal(arpc_method_1(key, arqc, signed_arc), arpc)
        # the terminal's ARC (8A) must be the one the issuer signed
        approved = signed_arc in APPROVAL_CODES and signed_arc == arc
        return IssuerResponse(True, authentic, authentic and approved)
    if len(data) < 4 + CSU_LENGTH:
        return IssuerResponse(True, False, False)
    arpc, csu, proprietary = data[:4], data[4:8], data[8:]
    authentic = tags_equal(arpc_method_2(key, arqc, csu, proprietary), arpc)
    return IssuerResponse(True, authentic, authentic and bool(csu[1] & CSU_APPROVED))
