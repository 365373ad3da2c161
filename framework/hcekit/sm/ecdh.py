"""ECDH on NIST P-256, ephemeral-static and ephemeral-ephemeral.

Points travel as uncompressed SEC 1 encodings (``04 ‖ X ‖ Y``, 65 bytes),
the shared secret Z is the 32-byte X coordinate (SP 800-56A "ECC CDH").
Turn Z into keys with :func:`hcekit.sm.kdf.x963_kdf` or
:func:`hcekit.sm.kdf.hkdf` — never use Z as a key directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .kdf import x963_kdf

__all__ = [
    "EcKeyPair",
    "generate_p256",
    "load_p256_private",
    "encode_point",
    "decode_point",
    "shared_secret",
    "ephemeral_static",
    "ephemeral_ephemeral",
    "POINT_LENGTH",
]

CURVE = ec.SECP256R1()
#: Length of an uncompressed P-256 point.
POINT_LENGTH = 65


@dataclass(frozen=True)
class EcKeyPair:
    """A P-256 private key with its encoded public point."""

    private: ec.EllipticCurvePrivateKey

    @property
    def public_point(self) -> bytes:
        return encode_point(self.private.public_key())

    def __repr__(self) -> str:  # never show the private scalar
        return f"EcKeyPair(public={self.public_point.hex().upper()})"


def generate_p256() -> EcKeyPair:
    """A fresh (ephemeral or long-term) P-256 key pair."""
    return EcKeyPair(ec.generate_private_key(CURVE))


def load_p256_private(scalar: bytes) -> EcKeyPair:
    """A key pair from a 32-byte big-endian private scalar (test vectors, personalisation)."""
    if len(scalar) != 32:
        raise ValueError(f"a P-256 private scalar is 32 bytes, got {len(scalar)}")
    return EcKeyPair(ec.derive_private_key(int.from_bytes(scalar, "big"), CURVE))


def encode_point(public: ec.EllipticCurvePublicKey) -> bytes:
    """Uncompressed SEC 1 encoding ``04 ‖ X ‖ Y`` (65 bytes)."""
    return public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def decode_point(point: bytes) -> ec.EllipticCurvePublicKey:
    """Decode and validate (on the curve) an uncompressed or compressed P-256 point."""
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, point)
    except ValueError as exc:
        raise ValueError(f"not a valid P-256 point: {exc}") from None


def shared_secret(own: EcKeyPair, peer_point: bytes) -> bytes:
    """Z = x-coordinate of own.d · Q_peer (32 bytes)."""
    return own.private.exchange(ec.ECDH(), decode_point(peer_point))


def ephemeral_static(static_peer_point: bytes, length: int = 32,
                     shared_info: bytes = b"") -> tuple[bytes, bytes]:
    """Initiator side of ephemeral-static ECDH (e.g. a reader against a card's static key).

    Returns (the ephemeral public point to send, *length* bytes of X9.63
    SHA-256 keying material). The ephemeral private key is discarded.
    """
    eph = generate_p256()
    z = shared_secret(eph, static_peer_point)
    return eph.public_point, x963_kdf(z, length, shared_info)


def ephemeral_ephemeral(own: EcKeyPair, peer_point: bytes, length: int = 32,
                        shared_info: bytes = b"") -> bytes:
    """Either side of ephemeral-ephemeral ECDH: X9.63 SHA-256 keying material."""
    return x963_kdf(shared_secret(own, peer_point), length, shared_info)
