"""Aliro's cryptography on ``cryptography``: ECDH/X9.63, HKDF key schedules, ECDSA, AES-GCM.

The byte layouts follow the public readers (CSA aliro-actuator
``encryption.py``/``reader.py``, Proxmark3 ``cmdhfaliro.c``) and the
UnifiedAccess write-up they descend from (kormax/apple-home-key):

* Kdh = ANSI X9.63 KDF (SHA-256) of the ephemeral ECDH x-coordinate, shared
  info = transaction identifier, 32 bytes.
* HKDF-SHA-256 salt = reader public key x | 12-byte label | reader identifier |
  5E 5C 02 | version | reader ephemeral x | transaction identifier |
  command parameters | authentication policy | A5 proprietary TLV from SELECT
  [| endpoint public key x]; info = endpoint ephemeral x | AUTH0 response
  vendor TLV.
* Volatile (standard): 160 bytes = SKReader | SKDevice | step-up seed | BLE seed
  | URSK; step-up keys = HKDF(seed, 32 zero bytes, "SKReader"/"SKDevice").
  Persistent: 32 bytes = Kpersistent. Fast: HKDF(Kpersistent) 160 bytes =
  CryptogramSK | SKReader | SKDevice | BLE seed | URSK.
* Secure channel: AES-256-GCM, IV = 8-byte direction (reader 0, device 1) |
  32-bit big-endian counter starting at 1, no associated data.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hcekit import tlv

from .assumptions import COUNTER_LIMIT, KEY_SLOT_HASH_PREFIX
from .protocol import (
    COORDINATE_LENGTH,
    NFC_INTERFACE,
    POINT_LENGTH,
    SALT_PERSISTENT,
    SALT_VOLATILE,
    SALT_VOLATILE_FAST,
    STEP_UP_DEVICE_INFO,
    STEP_UP_READER_INFO,
    TAG_ENDPOINT_EPHEMERAL,
    TAG_READER_EPHEMERAL,
    TAG_READER_ID,
    TAG_TRANSACTION_ID,
    TAG_USAGE,
    TAG_VERSIONS,
)

__all__ = [
    "CryptoError", "DecryptionFailed", "ExpeditedKeys", "FastKeys", "GcmChannel", "KdfInputs",
    "authentication_data", "cryptogram_open", "digest", "cryptogram_seal", "derive_fast", "derive_kdh",
    "derive_persistent", "derive_standard", "key_slot", "load_point", "point_of", "sign_raw",
    "verify_raw", "x_of", "P256_OPS",
]

CURVE = ec.SECP256R1()
_ZERO_SALT = bytes(32)
_ZERO_IV = bytes(12)
READER_DIRECTION = bytes(8)
DEVICE_DIRECTION = bytes(7) + b"\x01"


class CryptoError(ValueError):
    """A key, point or signature that is not what the protocol needs."""


class DecryptionFailed(CryptoError):
    """An AES-GCM tag did not verify (wrong key, counter or tampered data)."""


class _OpCounter:
    """Counts P-256 operations (key generation, ECDH, sign, verify) for the benchmark."""

    def __init__(self) -> None:
        self.count = 0


#: Incremented by every P-256 operation done through this module.
P256_OPS = _OpCounter()


def load_point(point: bytes) -> ec.EllipticCurvePublicKey:
    """An uncompressed P-256 point (65 bytes, 04|X|Y) that lies on the curve."""
    if len(point) != POINT_LENGTH or point[0] != 0x04:
        raise CryptoError(f"expected a 65-byte uncompressed P-256 point, got {len(point)} bytes")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, point)
    except ValueError:
        raise CryptoError("the point is not on P-256") from None


def point_of(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> bytes:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def x_of(point: bytes) -> bytes:
    return point[1:1 + COORDINATE_LENGTH]


def generate_key() -> ec.EllipticCurvePrivateKey:
    P256_OPS.count += 1
    return ec.generate_private_key(CURVE)


def sign_raw(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA-SHA-256 signature as r|s (32 bytes each)."""
    P256_OPS.count += 1
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_raw(key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
    if len(signature) != 64:
        return False
    P256_OPS.count += 1
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def derive_kdh(private: ec.EllipticCurvePrivateKey, peer_point: bytes,
               transaction_id: bytes) -> bytes:
    """Kdh: X9.63 KDF (SHA-256) of the ECDH secret, shared info = transaction identifier."""
    peer = load_point(peer_point)
    P256_OPS.count += 1
    z = private.exchange(ec.ECDH(), peer)
    return X963KDF(algorithm=hashes.SHA256(), length=32, sharedinfo=transaction_id).derive(z)


def authentication_data(reader_id: bytes, endpoint_ephemeral: bytes, reader_ephemeral: bytes,
                        transaction_id: bytes, usage: bytes) -> bytes:
    """What reader (usage 415D9569) and endpoint (4E887B4C) sign in AUTH1."""
    return b"".join((
        tlv.encode(TAG_READER_ID, reader_id),
        tlv.encode(TAG_ENDPOINT_EPHEMERAL, x_of(endpoint_ephemeral)),
        tlv.encode(TAG_READER_EPHEMERAL, x_of(reader_ephemeral)),
        tlv.encode(TAG_TRANSACTION_ID, transaction_id),
        tlv.encode(TAG_USAGE, usage),
    ))


@dataclass(frozen=True)
class KdfInputs:
    """Everything both sides know after AUTH0 that enters the HKDF salt and info."""

    reader_public: bytes          # reader long-term public key (65 bytes)
    reader_id: bytes              # 32 bytes: group identifier | sub-group identifier
    version: int
    reader_ephemeral: bytes
    transaction_id: bytes
    command_parameters: int
    policy: int
    proprietary: bytes            # the A5 TLV of the SELECT answer, tag and length included
    endpoint_ephemeral: bytes
    response_vendor: bytes = b""  # the B2 TLV of the AUTH0 answer, if any

    def salt(self, label: bytes, endpoint_public: bytes | None) -> bytes:
        parts = [x_of(self.reader_public), label, self.reader_id,
                 bytes((NFC_INTERFACE, TAG_VERSIONS, 2)), self.version.to_bytes(2, "big"),
                 x_of(self.reader_ephemeral), self.transaction_id,
                 bytes((self.command_parameters, self.policy)), self.proprietary]
        if endpoint_public is not None:
            parts.append(x_of(endpoint_public))
        return b"".join(parts)

    def info(self) -> bytes:
        return x_of(self.endpoint_ephemeral) + self.response_vendor


def _hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


@dataclass(frozen=True)
class ExpeditedKeys:
    """The symmetric keys of one expedited transaction."""

    sk_reader: bytes
    sk_device: bytes
    step_up_reader: bytes | None
    step_up_device: bytes | None
    ursk: bytes


@dataclass(frozen=True)
class FastKeys:
    cryptogram_sk: bytes
    expedited: ExpeditedKeys


def derive_standard(kdh: bytes, inputs: KdfInputs) -> ExpeditedKeys:
    material = _hkdf(kdh, inputs.salt(SALT_VOLATILE, None), inputs.info(), 160)
    seed = material[64:96]
    return ExpeditedKeys(
        sk_reader=material[:32], sk_device=material[32:64],
        step_up_reader=_hkdf(seed, _ZERO_SALT, STEP_UP_READER_INFO, 32),
        step_up_device=_hkdf(seed, _ZERO_SALT, STEP_UP_DEVICE_INFO, 32),
        ursk=material[128:160])


def derive_persistent(kdh: bytes, inputs: KdfInputs, endpoint_public: bytes) -> bytes:
    return _hkdf(kdh, inputs.salt(SALT_PERSISTENT, endpoint_public), inputs.info(), 32)


def derive_fast(kpersistent: bytes, inputs: KdfInputs, endpoint_public: bytes) -> FastKeys:
    material = _hkdf(kpersistent, inputs.salt(SALT_VOLATILE_FAST, endpoint_public),
                     inputs.info(), 160)
    return FastKeys(material[:32], ExpeditedKeys(
        sk_reader=material[32:64], sk_device=material[64:96],
        step_up_reader=None, step_up_device=None, ursk=material[128:160]))


def cryptogram_seal(cryptogram_sk: bytes, plaintext: bytes) -> bytes:
    """AUTH0 tag 9D: AES-256-GCM under CryptogramSK with an all-zero IV (48 + 16 bytes)."""
    return AESGCM(cryptogram_sk).encrypt(_ZERO_IV, plaintext, None)


def cryptogram_open(cryptogram_sk: bytes, cryptogram: bytes) -> bytes:
    try:
        return AESGCM(cryptogram_sk).decrypt(_ZERO_IV, cryptogram, None)
    except InvalidTag:
        raise DecryptionFailed("cryptogram does not decrypt under this Kpersistent") from None


def digest(data: bytes, algorithm: hashes.HashAlgorithm | None = None) -> bytes:
    """SHA-256 (or *algorithm*) of *data*, from ``cryptography`` like every primitive here."""
    h = hashes.Hash(algorithm or hashes.SHA256())
    h.update(data)
    return h.finalize()


def key_slot(endpoint_public: bytes) -> bytes:
    return digest(endpoint_public)[:KEY_SLOT_HASH_PREFIX]


class GcmChannel:
    """One side of the AES-GCM secure channel (expedited or step-up keys).

    *device* is True on the credential: it encrypts with the device key and
    direction 1, decrypts the reader's messages with direction 0. Counters
    start at 1 and advance on every message, also after a failed decryption.
    """

    def __init__(self, sk_reader: bytes, sk_device: bytes, *, device: bool,
                 first_send: int = 1) -> None:
        send_key, receive_key = (sk_device, sk_reader) if device else (sk_reader, sk_device)
        self._send = AESGCM(send_key)
        self._receive = AESGCM(receive_key)
        self._send_dir = DEVICE_DIRECTION if device else READER_DIRECTION
        self._receive_dir = READER_DIRECTION if device else DEVICE_DIRECTION
        self.send_counter = first_send
        self.receive_counter = 1

    @property
    def exhausted(self) -> bool:
        return self.send_counter >= COUNTER_LIMIT or self.receive_counter >= COUNTER_LIMIT

    def seal(self, plaintext: bytes) -> bytes:
        iv = self._send_dir + self.send_counter.to_bytes(4, "big")
        self.send_counter += 1
        return self._send.encrypt(iv, plaintext, None)

    def open(self, ciphertext: bytes) -> bytes:
        iv = self._receive_dir + self.receive_counter.to_bytes(4, "big")
        self.receive_counter += 1
        try:
            return self._receive.decrypt(iv, ciphertext, None)
        except InvalidTag:
            raise DecryptionFailed("secure-channel message does not decrypt") from None

    def try_open(self, ciphertext: bytes) -> bytes | None:
        """:meth:`open`, but a message that does not decrypt leaves the counter alone.

        For a message that may belong to another channel (EXCHANGE after step-up):
        only the channel it was sealed for moves on.
        """
        iv = self._receive_dir + self.receive_counter.to_bytes(4, "big")
        try:
            plaintext = self._receive.decrypt(iv, ciphertext, None)
        except InvalidTag:
            return None
        self.receive_counter += 1
        return plaintext
