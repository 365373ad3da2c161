"""EMV card key derivation (EMV Book 2 Annex A1.3, A1.4) on ``cryptography``'s 3DES.

The issuer holds one Issuer Master Key (IMK); each card holds only the key
derived from it and its PAN (the ICC master key, "UDK"), and a session key
per transaction may be derived from that with the ATC. The IMK never sits on
the card: personalisation stores the UDK only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

__all__ = [
    "BLOCK",
    "tdes_encrypt",
    "odd_parity",
    "key_check_value",
    "derive_icc_master_key_a",
    "derive_icc_master_key_b",
    "derive_common_session_key",
    "derive_session_key",
]

#: The DES block (``cryptography`` is imported by the functions that cipher, at the first
#: transaction: a card starts without it).
BLOCK = 8
_FF = b"\xff" * BLOCK


def _check_double_length(key: bytes) -> None:
    if len(key) != 16:
        raise ValueError(f"a double-length 3DES key is 16 bytes, got {len(key)}")


@cache
def _tdes_parts() -> tuple[type[Cipher[Any]], type[TripleDES], type[modes.ECB],
                           Callable[[bytes], bytes]]:
    """``cryptography``'s 3DES ECB, imported at the first call (not when the card starts)."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    from hcekit.sm.mac import tdes_key

    return Cipher, TripleDES, modes.ECB, tdes_key


def tdes_encrypt(key: bytes, data: bytes) -> bytes:
    """Two-key 3DES ECB (K1, K2, K1) over whole blocks."""
    _check_double_length(key)
    cipher, tdes, ecb, tdes_key = _tdes_parts()
    enc = cipher(tdes(tdes_key(key)), ecb()).encryptor()
    return enc.update(data) + enc.finalize()


def odd_parity(key: bytes) -> bytes:
    """Set each byte's low bit so the byte has odd parity (DES key convention)."""
    return bytes((b & 0xFE) | ((bin(b >> 1).count("1") + 1) & 1) for b in key)


def key_check_value(key: bytes, length: int = 3) -> bytes:
    """KCV: the first bytes of the key encrypting a zero block (identifies a key safely)."""
    return tdes_encrypt(key, bytes(BLOCK))[:length]


def _digits(text: str, what: str) -> str:
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"{what} must be decimal digits, got {text!r}")
    return text


def _udk_from_y(imk: bytes, y: str) -> bytes:
    block = bytes.fromhex(y)
    left = tdes_encrypt(imk, block)
    right = tdes_encrypt(imk, bytes(a ^ b for a, b in zip(block, _FF, strict=True)))
    return odd_parity(left + right)


def derive_icc_master_key_a(imk: bytes, pan: str, psn: str = "00") -> bytes:
    """Option A: Y = rightmost 16 digits of PAN || PSN (zero-padded on the left)."""
    _check_double_length(imk)
    x = _digits(pan, "PAN") + _digits(psn, "PAN sequence number")
    y = x[-16:].rjust(16, "0")
    return _udk_from_y(imk, y)


def derive_icc_master_key_b(imk: bytes, pan: str, psn: str = "00") -> bytes:
    """Option B: as A for PANs up to 16 digits; for longer ones PAN || PSN goes through SHA-1.

    The SHA-1 of the packed digits is decimalised: its decimal digits in order,
    then (if fewer than 16) its A–F digits mapped to 0–5.
    """
    _check_double_length(imk)
    x = _digits(pan, "PAN") + _digits(psn, "PAN sequence number")
    if len(pan) <= 16:
        return derive_icc_master_key_a(imk, pan, psn)
    packed = bytes.fromhex(x if len(x) % 2 == 0 else "0" + x)
    from cryptography.hazmat.primitives import hashes

    digest = hashes.Hash(hashes.SHA1())
    digest.update(packed)
    hexed = digest.finalize().hex().upper()
    decimal = [c for c in hexed if c.isdigit()]
    if len(decimal) < 16:
        decimal += [str(ord(c) - ord("A")) for c in hexed if not c.isdigit()]
    return _udk_from_y(imk, "".join(decimal[:16]))


def derive_session_key(icc_mk: bytes, r: bytes) -> bytes:
    """EMV common session key derivation (Book 2 A1.3.1) for an 8-byte diversifier R.

    The left half encrypts R with byte 3 set to F0, the right half with 0F.
    """
    _check_double_length(icc_mk)
    if len(r) != BLOCK:
        raise ValueError(f"the diversifier R is {BLOCK} bytes, got {len(r)}")
    left = tdes_encrypt(icc_mk, r[:2] + b"\xf0" + r[3:])
    right = tdes_encrypt(icc_mk, r[:2] + b"\x0f" + r[3:])
    return odd_parity(left + right)


def derive_common_session_key(icc_mk: bytes, atc: bytes) -> bytes:
    """The common session key with R = ATC || 00…00 (Visa CVN 18)."""
    if len(atc) != 2:
        raise ValueError(f"the ATC is 2 bytes, got {len(atc)}")
    return derive_session_key(icc_mk, atc + bytes(6))
