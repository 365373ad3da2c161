"""ECDSA P-256 / SHA-256 sign and verify, with raw ``r ‖ s`` or DER signatures.

Cards and terminals usually exchange the raw 64-byte ``r ‖ s`` form (e.g.
ICAO Active Authentication, NXP originality signatures); X.509 and CMS use DER.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .ecdh import EcKeyPair, decode_point

__all__ = ["sign", "verify", "raw_to_der", "der_to_raw"]

_SCALAR = 32


def der_to_raw(signature: bytes) -> bytes:
    """DER ``SEQUENCE {r, s}`` → 64-byte ``r ‖ s``."""
    r, s = decode_dss_signature(signature)
    return r.to_bytes(_SCALAR, "big") + s.to_bytes(_SCALAR, "big")


def raw_to_der(signature: bytes) -> bytes:
    """64-byte ``r ‖ s`` → DER ``SEQUENCE {r, s}``."""
    if len(signature) != 2 * _SCALAR:
        raise ValueError(f"a raw P-256 signature is 64 bytes, got {len(signature)}")
    return encode_dss_signature(int.from_bytes(signature[:_SCALAR], "big"),
                                int.from_bytes(signature[_SCALAR:], "big"))


def sign(key: EcKeyPair, message: bytes, *, raw: bool = True) -> bytes:
    """ECDSA-SHA256 signature of *message*: 64-byte r ‖ s, or DER if ``raw=False``."""
    der = key.private.sign(message, ec.ECDSA(hashes.SHA256()))
    return der_to_raw(der) if raw else der


def verify(public_point: bytes, message: bytes, signature: bytes, *, raw: bool = True) -> bool:
    """True if *signature* (64-byte r ‖ s, or DER if ``raw=False``) is valid for *message*."""
    try:
        der = raw_to_der(signature) if raw else signature
        decode_point(public_point).verify(der, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
