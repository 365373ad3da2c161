"""DESFire EV1 AES secure messaging: CRC32, the chained session IV, CMAC, CBC.

EV1 after an AES authentication keeps one 16-byte IV per session on both
sides. Every command and every response moves it: a CMAC (NIST SP 800-38B,
computed with the current IV as its CBC start value) leaves the IV at the
full CMAC, an encryption or decryption leaves it at the last ciphertext
block. MACs on the wire are the first 8 bytes of the CMAC.

Everything cryptographic is ``cryptography``'s AES (CBC/ECB) and CMAC. The
one composition here is CMAC with a non-zero start value, which the library
has no parameter for: its subkeys K1/K2 are read back from the library's own
CMAC (one AES decryption each, the same recovery as
:mod:`hcekit.sm.diversify`), and the tag is the last block of AES-CBC (IV =
the session IV) over the message with the subkey XORed into its last block —
which is CMAC's definition.
"""

from __future__ import annotations

import zlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hcekit.sm.diversify import diversify_aes128
from hcekit.sm.mac import aes_cmac, tags_equal
from hcekit.sm.padding import pad

__all__ = [
    "BLOCK",
    "MAC_LENGTH",
    "SessionCipher",
    "aes_cbc_encrypt",
    "aes_cbc_decrypt",
    "crc32",
    "rotate_left",
    "session_key",
    "diversify_key",
    "tags_equal",
    "ZERO_IV",
]

BLOCK = 16
MAC_LENGTH = 8
ZERO_IV = bytes(BLOCK)
_FULL = 0xFFFFFFFF


def crc32(data: bytes) -> bytes:
    """DESFire EV1 CRC32: IEEE 802.3 polynomial, preset FFFFFFFF, no final XOR, LSB first."""
    return (_FULL ^ zlib.crc32(data)).to_bytes(4, "little")


def rotate_left(data: bytes) -> bytes:
    """RndA' / RndB': the random number rotated left by one byte."""
    return data[1:] + data[:1]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def aes_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def _aes_ecb_decrypt(key: bytes, block: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return dec.update(block) + dec.finalize()


def session_key(rnd_a: bytes, rnd_b: bytes) -> bytes:
    """EV1 AES session key: RndA[0:4] ‖ RndB[0:4] ‖ RndA[12:16] ‖ RndB[12:16]."""
    return rnd_a[0:4] + rnd_b[0:4] + rnd_a[12:16] + rnd_b[12:16]


def diversify_key(master_key: bytes, uid: bytes, aid: bytes, system_identifier: bytes) -> bytes:
    """AN10922 AES-128 diversification with M = UID ‖ AID ‖ system identifier."""
    return diversify_aes128(master_key, uid + aid + system_identifier)


class SessionCipher:
    """One authenticated EV1 AES session: the session key and its chained IV.

    The card and the reader each hold one; they stay in step as long as both
    process the same commands and responses in the same order.
    """

    __slots__ = ("_alg", "_k1", "_k2", "_key", "iv")

    def __init__(self, key: bytes) -> None:
        if len(key) != BLOCK:
            raise ValueError(f"an AES-128 session key is 16 bytes, got {len(key)}")
        self._key = key
        self._alg = algorithms.AES(key)
        self.iv = ZERO_IV
        self._k1 = _aes_ecb_decrypt(key, aes_cmac(key, ZERO_IV))
        self._k2 = _xor(_aes_ecb_decrypt(key, aes_cmac(key, b"")), pad(b"", BLOCK))

    def cmac(self, data: bytes) -> bytes:
        """Full 16-byte CMAC of *data* started from the session IV; the IV becomes the CMAC."""
        if data and len(data) % BLOCK == 0:
            message = data[:-BLOCK] + _xor(data[-BLOCK:], self._k1)
        else:
            padded = pad(data, BLOCK)
            message = padded[:-BLOCK] + _xor(padded[-BLOCK:], self._k2)
        enc = Cipher(self._alg, modes.CBC(self.iv)).encryptor()
        tag = (enc.update(message) + enc.finalize())[-BLOCK:]
        self.iv = tag
        return tag

    def mac(self, data: bytes) -> bytes:
        """The 8-byte MAC EV1 puts on the wire (first half of :meth:`cmac`)."""
        return self.cmac(data)[:MAC_LENGTH]

    def encrypt(self, data: bytes) -> bytes:
        """AES-CBC from the session IV; the IV becomes the last ciphertext block."""
        enc = Cipher(self._alg, modes.CBC(self.iv)).encryptor()
        out = enc.update(data) + enc.finalize()
        self.iv = out[-BLOCK:]
        return out

    def decrypt(self, data: bytes) -> bytes:
        """AES-CBC decryption from the session IV; the IV becomes the last ciphertext block."""
        if not data or len(data) % BLOCK:
            raise ValueError(f"ciphertext is {len(data)} bytes, not a positive multiple of 16")
        dec = Cipher(self._alg, modes.CBC(self.iv)).decryptor()
        out = dec.update(data) + dec.finalize()
        self.iv = data[-BLOCK:]
        return out


def zero_pad(data: bytes) -> bytes:
    """Pad with 00 bytes to a multiple of 16 (EV1 pads enciphered data this way)."""
    return data + bytes(-len(data) % BLOCK)
