"""Cipher suites: how one secure-messaging session encrypts and MACs.

A suite holds a session's two keys and knows its block size; the ISO/IEC
7816-4 layer (:mod:`hcekit.sm.iso7816`) does the data objects, padding and
send sequence counter (SSC). Two suites ship:

* :class:`TdesSuite` — ICAO 9303 BAC: 3DES (two-key) CBC with a zero IV, and
  ISO/IEC 9797-1 MAC algorithm 3 (retail MAC); the SSC is 8 bytes.
* :class:`AesSuite` — ICAO 9303 PACE/CA with AES: AES-CBC with
  ``IV = E(KSenc, SSC)``, AES-CMAC truncated to 8 bytes; the SSC is 16 bytes.

A plugin brings its own suite by implementing :class:`CipherSuite`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .kdf import ICAO_KDF_ENC, ICAO_KDF_MAC, IcaoCipher, icao_kdf
from .mac import aes_cmac, retail_mac, tdes_key

__all__ = ["CipherSuite", "TdesSuite", "AesSuite"]

MAC_LENGTH = 8


@runtime_checkable
class CipherSuite(Protocol):
    """What the SM layer needs from a cipher suite (a session's keys included)."""

    #: Short label for logs ("3DES", "AES-128"); never key material.
    name: str
    #: Cipher block size in bytes; also the padding block and the SSC length.
    block_size: int
    #: Length of the DO 8E checksum in bytes.
    mac_length: int

    def encrypt(self, ssc: bytes, padded: bytes) -> bytes:
        """Encrypt method-2-padded plaintext for the message whose counter is *ssc*."""
        ...

    def decrypt(self, ssc: bytes, cryptogram: bytes) -> bytes:
        """Decrypt a cryptogram; return the still-padded plaintext."""
        ...

    def mac(self, padded: bytes) -> bytes:
        """Checksum of ``SSC ‖ …`` already padded to the block size: *mac_length* bytes."""
        ...


class TdesSuite:
    """3DES-CBC (IV 0) + retail MAC, as ICAO 9303 BAC secure messaging uses."""

    name = "3DES"
    block_size = 8
    mac_length = MAC_LENGTH

    __slots__ = ("_enc", "_mac_key")

    def __init__(self, k_enc: bytes, k_mac: bytes) -> None:
        if len(k_enc) != 16 or len(k_mac) != 16:
            raise ValueError("TdesSuite takes 16-byte (two-key 3DES) KSenc and KSmac")
        self._enc = TripleDES(tdes_key(k_enc))
        self._mac_key = k_mac

    @classmethod
    def from_seed(cls, seed: bytes) -> TdesSuite:
        """Session keys from a key seed with the ICAO KDF (counters 1 and 2)."""
        return cls(icao_kdf(seed, ICAO_KDF_ENC), icao_kdf(seed, ICAO_KDF_MAC))

    def encrypt(self, ssc: bytes, padded: bytes) -> bytes:
        enc = Cipher(self._enc, modes.CBC(bytes(8))).encryptor()
        return enc.update(padded) + enc.finalize()

    def decrypt(self, ssc: bytes, cryptogram: bytes) -> bytes:
        dec = Cipher(self._enc, modes.CBC(bytes(8))).decryptor()
        return dec.update(cryptogram) + dec.finalize()

    def mac(self, padded: bytes) -> bytes:
        return retail_mac(self._mac_key, padded, padded=True)

    def __repr__(self) -> str:
        return "TdesSuite(<keys hidden>)"


class AesSuite:
    """AES-CBC (IV = E(KSenc, SSC)) + AES-CMAC/8, as ICAO 9303 PACE-AES uses."""

    block_size = 16
    mac_length = MAC_LENGTH

    __slots__ = ("_aes", "_enc_key", "_mac_key", "name")

    def __init__(self, k_enc: bytes, k_mac: bytes) -> None:
        if len(k_enc) not in (16, 24, 32) or len(k_mac) != len(k_enc):
            raise ValueError("AesSuite takes KSenc and KSmac of the same AES key size")
        self.name = f"AES-{len(k_enc) * 8}"
        self._enc_key = k_enc
        self._mac_key = k_mac
        self._aes = algorithms.AES(k_enc)

    @classmethod
    def from_seed(cls, seed: bytes, cipher: IcaoCipher = IcaoCipher.AES128) -> AesSuite:
        """Session keys from a shared secret with the ICAO KDF (counters 1 and 2)."""
        if cipher is IcaoCipher.TDES:
            raise ValueError("AesSuite needs an AES IcaoCipher")
        return cls(icao_kdf(seed, ICAO_KDF_ENC, cipher), icao_kdf(seed, ICAO_KDF_MAC, cipher))

    def _iv(self, ssc: bytes) -> bytes:
        enc = Cipher(self._aes, modes.ECB()).encryptor()
        return enc.update(ssc) + enc.finalize()

    def encrypt(self, ssc: bytes, padded: bytes) -> bytes:
        enc = Cipher(self._aes, modes.CBC(self._iv(ssc))).encryptor()
        return enc.update(padded) + enc.finalize()

    def decrypt(self, ssc: bytes, cryptogram: bytes) -> bytes:
        dec = Cipher(self._aes, modes.CBC(self._iv(ssc))).decryptor()
        return dec.update(cryptogram) + dec.finalize()

    def mac(self, padded: bytes) -> bytes:
        return aes_cmac(self._mac_key, padded, self.mac_length)

    def __repr__(self) -> str:
        return f"AesSuite({self.name}, <keys hidden>)"
