"""TEST reader-system keys — public, NOT secret, for the demo and tests only.

Derived deterministically from fixed labels so that ``hcekit demo``, the
``aliro-reader`` script and a freshly started credential agree without any
file: anyone can compute them. A real deployment personalises the credential
with its own reader group, reader key or issuer key (``hcekit aliro
personalize``) and keeps the reader's private key in the reader.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["TEST_GROUP_ID", "TEST_SUB_GROUP_ID", "test_reader_key", "test_issuer_key",
           "test_credential_issuer_key"]



def _sha256(label: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA256())
    h.update(label)
    return h.finalize()


#: Reader group identifier (16 bytes) and this reader's sub-group identifier (16 bytes).
TEST_GROUP_ID = _sha256(b"hcekit aliro TEST reader group")[:16]
TEST_SUB_GROUP_ID = _sha256(b"hcekit aliro TEST reader 1")[:16]


def _key(label: bytes) -> ec.EllipticCurvePrivateKey:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    scalar = int.from_bytes(_sha256(label), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def test_reader_key() -> ec.EllipticCurvePrivateKey:
    """The TEST reader's long-term signing key (Matter: the reader's signing key)."""
    return _key(b"hcekit aliro TEST reader signing key")


def test_issuer_key() -> ec.EllipticCurvePrivateKey:
    """The TEST reader-system issuer, which signs reader certificates."""
    return _key(b"hcekit aliro TEST reader-system issuer key")


def test_credential_issuer_key() -> ec.EllipticCurvePrivateKey:
    """The TEST credential issuer, which signs the Access Document."""
    return _key(b"hcekit aliro TEST credential issuer key")
