"""Smart Tap secure-session cryptography, on ``cryptography`` only.

Public (Google's negotiate / get-data pages and sample terminal):

* the terminal signs ``terminal nonce | device nonce | collector ID (4) |
  terminal ephemeral key (33, compressed P-256)`` with the collector's
  long-term P-256 key, ECDSA-SHA256, DER-encoded;
* both sides compute ECDH(P-256) on the two ephemeral keys and run
  HKDF-SHA256(IKM = shared secret, salt = device ephemeral key (compressed),
  info = signed data | signature) to 48 bytes: AES-128 key | HMAC-SHA256 key;
* a record bundle is ``IV (12) | AES-128-CTR ciphertext | HMAC-SHA256(IV |
  ciphertext)``; the CTR counter block is the IV followed by four zero bytes.

Ours (see :mod:`.assumptions`): 32 more HKDF bytes key the ledger MAC; the
till signs each ledger update with the collector key, as it signs NEGOTIATE.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hcekit.errors import HcekitError
from hcekit.sm.kdf import hkdf

from . import assumptions as A
from .protocol import NONCE_LENGTH, collector_id_bytes

__all__ = ["IntegrityError", "SessionKeys", "signed_data", "sign", "verify", "ecdh",
           "compressed", "load_public_key", "new_ephemeral", "derive_session_keys", "seal",
           "open_sealed", "ledger_signed_data", "ledger_mac", "ledger_mac_ok"]

CURVE = ec.SECP256R1()
IV_LENGTH = 12
MAC_LENGTH = 32
AES_KEY_LENGTH = 16


class IntegrityError(HcekitError, ValueError):
    """A sealed bundle or a MAC that does not verify: tampered, or the wrong keys."""


@dataclass(frozen=True)
class SessionKeys:
    aes_key: bytes
    hmac_key: bytes
    ledger_key: bytes

    def __repr__(self) -> str:  # never print key material
        return "SessionKeys(<redacted>)"


def compressed(key: ec.EllipticCurvePublicKey) -> bytes:
    """SEC1 compressed point (33 bytes)."""
    return key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def load_public_key(data: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from a SEC1 point (compressed or not); ValueError if invalid."""
    return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, data)


def new_ephemeral() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVE)


def signed_data(terminal_nonce: bytes, device_nonce: bytes, collector_id: int,
                terminal_key: bytes, *, live_auth: bool = True) -> bytes:
    """The blob the terminal signs (32 zero bytes replace the device nonce without live auth)."""
    nonce = device_nonce if live_auth else bytes(NONCE_LENGTH)
    return terminal_nonce + nonce + collector_id_bytes(collector_id) + terminal_key


def sign(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA-SHA256, DER."""
    return private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def ecdh(private_key: ec.EllipticCurvePrivateKey, peer: bytes) -> bytes:
    """The ECDH shared secret (x coordinate) with the peer's SEC1 public key."""
    return private_key.exchange(ec.ECDH(), load_public_key(peer))


def derive_session_keys(shared_secret: bytes, device_key: bytes, signed: bytes,
                        signature: bytes) -> SessionKeys:
    """HKDF-SHA256 as documented; the first 48 bytes are the documented session keys."""
    length = A.LEDGER_KEY_OFFSET + A.LEDGER_KEY_LENGTH
    okm = hkdf(shared_secret, length, salt=device_key, info=signed + signature)
    return SessionKeys(okm[:AES_KEY_LENGTH], okm[AES_KEY_LENGTH:A.SESSION_KEY_LENGTH],
                       okm[A.LEDGER_KEY_OFFSET:length])


def _ctr(keys: SessionKeys, iv: bytes) -> Cipher[modes.CTR]:
    return Cipher(algorithms.AES(keys.aes_key), modes.CTR(iv + bytes(16 - IV_LENGTH)))


def _mac(key: bytes, data: bytes) -> bytes:
    h = crypto_hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def _mac_ok(key: bytes, data: bytes, tag: bytes) -> bool:
    """Constant-time check (``cryptography``'s HMAC.verify)."""
    h = crypto_hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    try:
        h.verify(tag)
    except InvalidSignature:
        return False
    return True


def seal(keys: SessionKeys, plaintext: bytes, iv: bytes | None = None) -> bytes:
    """IV | AES-CTR(plaintext) | HMAC(IV | ciphertext). A fresh random IV unless given."""
    iv = os.urandom(IV_LENGTH) if iv is None else iv
    if len(iv) != IV_LENGTH:
        raise ValueError(f"IV must be {IV_LENGTH} bytes")
    enc = _ctr(keys, iv).encryptor()
    body = iv + enc.update(plaintext) + enc.finalize()
    return body + _mac(keys.hmac_key, body)


def open_sealed(keys: SessionKeys, blob: bytes) -> bytes:
    """Verify the HMAC (constant time), then decrypt; :class:`IntegrityError` if it fails."""
    if len(blob) < IV_LENGTH + MAC_LENGTH:
        raise IntegrityError(f"sealed bundle of {len(blob)} bytes is shorter than IV + MAC")
    body, tag = blob[:-MAC_LENGTH], blob[-MAC_LENGTH:]
    if not _mac_ok(keys.hmac_key, body, tag):
        raise IntegrityError("bundle HMAC does not verify (tampered, or wrong session keys)")
    dec = _ctr(keys, body[:IV_LENGTH]).decryptor()
    return dec.update(body[IV_LENGTH:]) + dec.finalize()


def ledger_signed_data(device_nonce: bytes, signed_part: bytes) -> bytes:
    """What the till signs for a ledger update (context | device nonce | ses + ssr bytes)."""
    return A.LEDGER_SIGNATURE_CONTEXT + device_nonce + signed_part


def ledger_mac(keys: SessionKeys, covered: bytes) -> bytes:
    """HMAC-SHA256 of a ledger request's covered bytes under the ledger key."""
    return _mac(keys.ledger_key, covered)


def ledger_mac_ok(keys: SessionKeys, covered: bytes, tag: bytes) -> bool:
    return _mac_ok(keys.ledger_key, covered, tag)
