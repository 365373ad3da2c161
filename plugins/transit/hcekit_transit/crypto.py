"""DESFire EV1 AES secure messaging: CRC32, the chained session IV, CMAC, CBC.

EV1 after an AES authentication keeps one 16-byte IV per session on both
sides. Every command and every response moves it: a CMAC (NIST SP 800-38B,
computed with the current IV as its CBC start value) leaves the IV at the
full CMAC, an encryption or decryption leaves it at the last ciphertext
block. MACs on the wire are the first 8 bytes of the CMAC.

Everything cryptographic is ``cryptography``'s AES-CBC and :mod:`hcekit.sm`:
the CMAC with the session IV as its start value is
:func:`hcekit.sm.aes_cmac_chained` (the subkeys recovered once per session),
enciphered data is padded with :func:`hcekit.sm.zero_pad`, and MACs and
checksums are compared with :func:`hcekit.sm.tags_equal`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hcekit.sm import tags_equal

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

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
    """DESFire EV1 CRC32: IEEE 802.3 polynomial, preset FFFFFFFF, no final XOR, LSB first.

    ``zlib`` is imported here, at the first enciphered command, not at card start.
    """
    import zlib

    return (_FULL ^ zlib.crc32(data)).to_bytes(4, "little")


def rotate_left(data: bytes) -> bytes:
    """RndA' / RndB': the random number rotated left by one byte."""
    return data[1:] + data[:1]


def _aes_cbc(key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    """AES-CBC; ``cryptography`` is imported at the first authentication, not at card start."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.CBC(iv))


def aes_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    enc = _aes_cbc(key, iv).encryptor()
    return enc.update(data) + enc.finalize()


def aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    dec = _aes_cbc(key, iv).decryptor()
    return dec.update(data) + dec.finalize()


def session_key(rnd_a: bytes, rnd_b: bytes) -> bytes:
    """EV1 AES session key: RndA[0:4] ‖ RndB[0:4] ‖ RndA[12:16] ‖ RndB[12:16]."""
    return rnd_a[0:4] + rnd_b[0:4] + rnd_a[12:16] + rnd_b[12:16]


def diversify_key(master_key: bytes, uid: bytes, aid: bytes, system_identifier: bytes) -> bytes:
    """AN10922 AES-128 diversification with M = UID ‖ AID ‖ system identifier."""
    from hcekit.sm import diversify_aes128

    return diversify_aes128(master_key, uid + aid + system_identifier)


class SessionCipher:
    """One authenticated EV1 AES session: the session key and its chained IV.

    The card and the reader each hold one; they stay in step as long as both
    process the same commands and responses in the same order.
    """

    __slots__ = ("_alg", "_cbc", "_chained", "_cipher", "_key", "_subkeys", "iv")

    def __init__(self, key: bytes) -> None:
        # cryptography is loaded at the first authentication, not when the card starts
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        from hcekit.sm import aes_cmac_chained, cmac_subkeys

        if len(key) != BLOCK:
            raise ValueError(f"an AES-128 session key is 16 bytes, got {len(key)}")
        self._key = key
        self._alg = algorithms.AES(key)
        self._cipher = Cipher
        self._cbc = modes.CBC
        self.iv = ZERO_IV
        self._subkeys = cmac_subkeys(key)
        self._chained = aes_cmac_chained

    def cmac(self, data: bytes) -> bytes:
        """Full 16-byte CMAC of *data* started from the session IV; the IV becomes the CMAC."""
        tag = self._chained(self._key, data, self.iv, subkeys=self._subkeys)
        self.iv = tag
        return tag

    def mac(self, data: bytes) -> bytes:
        """The 8-byte MAC EV1 puts on the wire (first half of :meth:`cmac`)."""
        return self.cmac(data)[:MAC_LENGTH]

    def encrypt(self, data: bytes) -> bytes:
        """AES-CBC from the session IV; the IV becomes the last ciphertext block."""
        enc = self._cipher(self._alg, self._cbc(self.iv)).encryptor()
        out = enc.update(data) + enc.finalize()
        self.iv = out[-BLOCK:]
        return out

    def decrypt(self, data: bytes) -> bytes:
        """AES-CBC decryption from the session IV; the IV becomes the last ciphertext block."""
        if not data or len(data) % BLOCK:
            raise ValueError(f"ciphertext is {len(data)} bytes, not a positive multiple of 16")
        dec = self._cipher(self._alg, self._cbc(self.iv)).decryptor()
        out = dec.update(data) + dec.finalize()
        self.iv = data[-BLOCK:]
        return out
