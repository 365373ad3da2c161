"""The two MACs secure messaging uses, both built on ``cryptography``.

* AES-CMAC (NIST SP 800-38B) — straight from ``cryptography.hazmat.primitives.cmac``.
  Two protocols need a CMAC the library has no parameter for: DESFire EV1
  chains a session IV into every CMAC, and NXP AN10922 pads a short message
  to two blocks. For them :func:`cmac_subkeys` reads K1/K2 back from the
  library's own CMAC (the tag of one zero block is ``E_K(K1)``, the tag of
  the empty message ``E_K(80 00.. XOR K2)``, so one AES decryption recovers
  each) and :func:`aes_cmac_chained` runs CMAC's last step (subkey XORed into
  the last block, then AES-CBC) from any start value.
* ISO/IEC 9797-1 MAC algorithm 3 with DES ("retail MAC", ICAO BAC):
  CBC-MAC with single DES under K1 over all blocks, then the last block is
  decrypted with K2 and encrypted with K1. Single DES is ``cryptography``'s
  TripleDES with the key K|K|K (DES-EDE with three equal keys is DES); the
  final transform is TripleDES with K1|K2|K1 applied to the chaining value
  of the last block. Nothing here implements a block cipher.

Comparing tags: always :func:`tags_equal` (constant time).
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .compare import tags_equal
from .padding import pad

__all__ = ["aes_cmac", "aes_cmac_chained", "cmac_subkeys", "retail_mac", "tags_equal", "des_key",
           "tdes_key", "DES_BLOCK", "AES_BLOCK"]

DES_BLOCK = 8
AES_BLOCK = 16
_ZERO_IV8 = bytes(DES_BLOCK)
_ZERO_IV16 = bytes(AES_BLOCK)


def aes_cmac(key: bytes, data: bytes, length: int = 16) -> bytes:
    """AES-CMAC of *data* under an AES key of 16, 24 or 32 bytes, truncated to *length*."""
    if not 1 <= length <= 16:
        raise ValueError(f"CMAC length must be 1..16 bytes, got {length}")
    mac = cmac.CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()[:length]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _aes_decrypt_block(key: bytes, block: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return dec.update(block) + dec.finalize()


def cmac_subkeys(key: bytes) -> tuple[bytes, bytes]:
    """The CMAC subkeys (K1, K2) of an AES key, recovered from ``cryptography``'s CMAC."""
    k1 = _aes_decrypt_block(key, aes_cmac(key, _ZERO_IV16))
    k2 = _xor(_aes_decrypt_block(key, aes_cmac(key, b"")), pad(b"", AES_BLOCK))
    return k1, k2


def aes_cmac_chained(key: bytes, data: bytes, iv: bytes = _ZERO_IV16, *,
                     subkeys: tuple[bytes, bytes] | None = None, pad_to: int = AES_BLOCK) -> bytes:
    """The full 16-byte AES-CMAC of *data* with the CBC started from *iv* instead of zero.

    With ``iv`` zero this is plain CMAC. A message that is not a positive
    multiple of *pad_to* bytes is padded (ISO/IEC 9797-1 method 2) to one and
    its last block takes K2, otherwise K1; AN10922 uses ``pad_to=32``. Pass
    *subkeys* (from :func:`cmac_subkeys`) to skip recovering them per call.
    """
    if len(iv) != AES_BLOCK:
        raise ValueError(f"the CMAC start value is 16 bytes, got {len(iv)}")
    if pad_to <= 0 or pad_to % AES_BLOCK:
        raise ValueError(f"CMAC pads to a positive multiple of 16 bytes, not {pad_to}")
    k1, k2 = subkeys if subkeys is not None else cmac_subkeys(key)
    if data and len(data) % pad_to == 0:
        message = data[:-AES_BLOCK] + _xor(data[-AES_BLOCK:], k1)
    else:
        padded = pad(data, pad_to)
        message = padded[:-AES_BLOCK] + _xor(padded[-AES_BLOCK:], k2)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return (enc.update(message) + enc.finalize())[-AES_BLOCK:]


def des_key(key: bytes) -> bytes:
    """The 24-byte TripleDES key that computes single DES under an 8-byte *key*."""
    if len(key) != DES_BLOCK:
        raise ValueError(f"a DES key is 8 bytes, got {len(key)}")
    return key * 3


def tdes_key(key: bytes) -> bytes:
    """The 24-byte TripleDES key for a two-key (16-byte) or three-key (24-byte) 3DES key."""
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    raise ValueError(f"a 3DES key is 16 or 24 bytes, got {len(key)}")


def retail_mac(key: bytes, data: bytes, *, padded: bool = False) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (DES, two keys K1|K2) over *data*: an 8-byte tag.

    *data* is padded with method 2 unless *padded* says the caller already did.
    """
    if len(key) != 16:
        raise ValueError(f"retail MAC takes a 16-byte key K1|K2, got {len(key)}")
    message = data if padded else pad(data, DES_BLOCK)
    if not message or len(message) % DES_BLOCK:
        raise ValueError("retail MAC input must be a positive multiple of 8 bytes")
    k1 = key[:8]
    head, last = message[:-DES_BLOCK], message[-DES_BLOCK:]
    chain = _ZERO_IV8
    if head:
        enc = Cipher(TripleDES(des_key(k1)), modes.CBC(_ZERO_IV8)).encryptor()
        chain = (enc.update(head) + enc.finalize())[-DES_BLOCK:]
    # Last block: E_K1(D_K2(E_K1(chain XOR last))) is 3DES-EDE(K1, K2, K1) in CBC
    # with the chaining value as IV.
    final = Cipher(TripleDES(tdes_key(key)), modes.CBC(chain)).encryptor()
    return final.update(last) + final.finalize()
