"""AES-128 key diversification as in NXP application note AN10922 §2.2.

The diversified key is ``CMAC(K, 01 ‖ M ‖ padding)`` where M is 1..31 bytes
of diversification input (typically UID ‖ AID ‖ system identifier) and the
message is always padded to 32 bytes. That differs from plain CMAC when M is
shorter than 16 bytes (CMAC would pad to 16), so the construction is spelled
out here on top of ``cryptography``'s AES and CMAC:

* the CMAC subkeys are read back from the library's own CMAC: the tag of the
  empty message is ``E_K(80 00.. XOR K2)`` and the tag of one zero block is
  ``E_K(K1)``, so one AES decryption recovers each;
* the final value is the last block of AES-CBC (IV 0) over the two padded
  blocks with the subkey XORed into the second, which is what CMAC computes.

For len(M) ≥ 16 the result equals plain AES-CMAC over ``01 ‖ M``; the
tests check that, and the AN10922 worked example.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .mac import aes_cmac
from .padding import pad

__all__ = ["diversify_aes128", "diversification_input", "AES128_DIV_CONSTANT"]

#: AN10922 diversification constant for an AES-128 key.
AES128_DIV_CONSTANT = 0x01
_BLOCK = 16
_MESSAGE = 32


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _aes_decrypt_block(key: bytes, block: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return dec.update(block) + dec.finalize()


def _cmac_subkeys(key: bytes) -> tuple[bytes, bytes]:
    k1 = _aes_decrypt_block(key, aes_cmac(key, bytes(_BLOCK)))
    k2 = _xor(_aes_decrypt_block(key, aes_cmac(key, b"")), pad(b"", _BLOCK))
    return k1, k2


def diversification_input(uid: bytes, aid: bytes = b"", system_identifier: bytes = b"") -> bytes:
    """M = UID ‖ AID ‖ system identifier, as AN10922's example builds it."""
    return uid + aid + system_identifier


def diversify_aes128(master_key: bytes, m: bytes) -> bytes:
    """The AN10922 diversified AES-128 key for diversification input *m* (1..31 bytes)."""
    if len(master_key) != 16:
        raise ValueError(f"AN10922 AES-128 diversification takes a 16-byte key, got "
                         f"{len(master_key)}")
    if not 1 <= len(m) <= 31:
        raise ValueError(f"diversification input must be 1..31 bytes, got {len(m)}")
    data = bytes((AES128_DIV_CONSTANT,)) + m
    padded = len(data) < _MESSAGE
    if padded:
        data = pad(data, _MESSAGE)
    k1, k2 = _cmac_subkeys(master_key)
    last = _xor(data[_BLOCK:], k2 if padded else k1)
    enc = Cipher(algorithms.AES(master_key), modes.CBC(bytes(_BLOCK))).encryptor()
    out = enc.update(data[:_BLOCK] + last) + enc.finalize()
    return out[-_BLOCK:]
