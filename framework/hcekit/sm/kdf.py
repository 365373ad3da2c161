"""Key derivation functions secure-messaging protocols use, on ``cryptography``.

* :func:`kbkdf_cmac` — NIST SP 800-108 KDF in counter mode with AES-CMAC as
  the PRF, counter before, after or in the middle of the fixed input.
* :func:`scp03_derive` — the SP 800-108 layout GlobalPlatform SCP03 uses
  (Amendment D §4.1.5): 11 zero bytes ‖ derivation constant ‖ 00 ‖ L (2 bytes)
  ‖ counter i (1 byte) ‖ context.
* :func:`x963_kdf` — ANSI X9.63 (SEC 1 §3.6.1) hash-based KDF.
* :func:`hkdf` — RFC 5869 HKDF (extract and expand).
* :func:`icao_kdf` — ICAO Doc 9303 Part 11 §9.7.1: ``H(K ‖ c)`` with the
  32-bit counter c (1 = encryption key, 2 = MAC key, 3 = PACE password key),
  SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256; DES keys get odd
  parity.
"""

from __future__ import annotations

from enum import Enum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFCMAC, CounterLocation, Mode
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

__all__ = [
    "CounterLocation",
    "IcaoCipher",
    "ICAO_KDF_ENC",
    "ICAO_KDF_MAC",
    "ICAO_KDF_PI",
    "kbkdf_cmac",
    "scp03_derive",
    "x963_kdf",
    "hkdf",
    "icao_kdf",
    "adjust_des_parity",
]

#: ICAO 9303 KDF counters.
ICAO_KDF_ENC = 1
ICAO_KDF_MAC = 2
ICAO_KDF_PI = 3


def kbkdf_cmac(
    key: bytes,
    fixed: bytes,
    length: int,
    *,
    counter_bytes: int = 1,
    location: CounterLocation = CounterLocation.BeforeFixed,
    break_location: int | None = None,
) -> bytes:
    """SP 800-108 counter-mode KDF, PRF = AES-CMAC under *key*: *length* bytes.

    *fixed* is the whole fixed input data (label, separator, context, [L]2 —
    the caller lays it out, as CAVP's ``FixedInputData``). *counter_bytes* is
    r/8 (1..4). With ``CounterLocation.MiddleFixed`` the counter goes after the
    first *break_location* bytes of *fixed*.
    """
    kdf = KBKDFCMAC(
        algorithms.AES, Mode.CounterMode, length, counter_bytes, None, location,
        None, None, fixed, break_location=break_location,
    )
    return kdf.derive(key)


def scp03_derive(key: bytes, constant: int, context: bytes, length_bits: int) -> bytes:
    """GlobalPlatform SCP03 data derivation (session keys, card/host cryptograms).

    Derivation constants (Amendment D table 4-1): 00 card cryptogram, 01 host
    cryptogram, 04 S-ENC, 06 S-MAC, 07 S-RMAC. *context* is usually
    host challenge ‖ card challenge.
    """
    if not 0 <= constant <= 0xFF:
        raise ValueError("the derivation constant is one byte")
    if length_bits % 8 or not 0 < length_bits <= 0xFFFF:
        raise ValueError(f"output length must be a whole number of bytes, got {length_bits} bits")
    label = bytes(11) + bytes((constant,))
    head = label + b"\x00" + length_bits.to_bytes(2, "big")
    return kbkdf_cmac(
        key, head + context, length_bits // 8, counter_bytes=1,
        location=CounterLocation.MiddleFixed, break_location=len(head),
    )


_HASHES: dict[str, type[hashes.SHA1 | hashes.SHA224 | hashes.SHA256 | hashes.SHA384
                        | hashes.SHA512]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}


def _hash(name: str) -> hashes.HashAlgorithm:
    algorithm = _HASHES.get(name.lower())
    if algorithm is None:
        raise ValueError(f"unsupported hash {name!r}; use sha1, sha224, sha256, sha384 or sha512")
    return algorithm()


def x963_kdf(shared_secret: bytes, length: int, shared_info: bytes = b"",
             hash_name: str = "sha256") -> bytes:
    """ANSI X9.63 KDF: ``Hash(Z ‖ counter32 ‖ SharedInfo)`` blocks, counter from 1."""
    return X963KDF(_hash(hash_name), length, shared_info or None).derive(shared_secret)


def hkdf(ikm: bytes, length: int, *, salt: bytes | None = None, info: bytes = b"",
         hash_name: str = "sha256") -> bytes:
    """RFC 5869 HKDF-Extract then HKDF-Expand."""
    return HKDF(_hash(hash_name), length, salt, info or None).derive(ikm)


class IcaoCipher(Enum):
    """Which key the ICAO KDF produces (decides the hash and the key length)."""

    TDES = "3des"
    AES128 = "aes128"
    AES192 = "aes192"
    AES256 = "aes256"


def adjust_des_parity(key: bytes) -> bytes:
    """Set the low bit of every byte so each byte has odd parity (DES key convention)."""
    out = bytearray(key)
    for i, b in enumerate(out):
        high = b & 0xFE
        out[i] = high | (bin(high).count("1") % 2 == 0)
    return bytes(out)


def icao_kdf(shared: bytes, counter: int, cipher: IcaoCipher = IcaoCipher.TDES) -> bytes:
    """ICAO 9303 Part 11 §9.7.1 KDF(K, c) for the given *cipher*."""
    if not 0 <= counter <= 0xFFFFFFFF:
        raise ValueError("the ICAO KDF counter is 32 bits")
    algorithm: hashes.HashAlgorithm = (
        hashes.SHA256() if cipher in (IcaoCipher.AES192, IcaoCipher.AES256) else hashes.SHA1()
    )
    digest = hashes.Hash(algorithm)
    digest.update(shared + counter.to_bytes(4, "big"))
    h = digest.finalize()
    if cipher is IcaoCipher.TDES:
        return adjust_des_parity(h[:16])
    size = {IcaoCipher.AES128: 16, IcaoCipher.AES192: 24, IcaoCipher.AES256: 32}[cipher]
    return h[:size]
