"""Secure messaging of issuer script commands (EMV Book 2 §9), shared by card and issuer.

Integrity (§9.2, format 2): the command's last 8 data bytes are a MAC
(ISO/IEC 9797-1 algorithm 3, padding method 2) over the header as sent
(CLA INS P1 P2 Lc, Lc counting the MAC), the ATC, the application cryptogram
of this transaction's first cryptogram, then the command data. Confidentiality
(§9.3, format 2): enciphered data is two-key 3DES CBC with a zero IV,
padded with method 2 only when not a whole number of blocks. Both session
keys come from the card's SMI / SMC master keys by Book 2 A1.3's common
derivation with R = that application cryptogram; the ICC master keys
derive from the issuer's with option A. These choices are the ones pyemv's
public ``MasterCardCVN16`` makes, which is how the tests check them.
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hcekit.sm import pad, retail_mac, tags_equal
from hcekit.sm.mac import tdes_key

from .keys import BLOCK, derive_session_key

__all__ = ["MAC_LENGTH", "session_key", "command_mac", "verify_mac", "encipher", "decipher",
           "pin_block", "pin_from_block"]

MAC_LENGTH = 8


def session_key(icc_mk: bytes, cryptogram: bytes) -> bytes:
    """The SMI or SMC session key of a transaction (R = its application cryptogram)."""
    return derive_session_key(icc_mk, cryptogram)


def command_mac(sk_smi: bytes, header: bytes, atc: bytes, cryptogram: bytes,
                data: bytes) -> bytes:
    return retail_mac(sk_smi, pad(header + atc + cryptogram + data, BLOCK), padded=True)


def verify_mac(sk_smi: bytes, header: bytes, atc: bytes, cryptogram: bytes, data: bytes,
               mac: bytes) -> bool:
    """Constant-time check of a command MAC."""
    return tags_equal(command_mac(sk_smi, header, atc, cryptogram, data), mac)


def _cipher(sk_smc: bytes) -> Cipher[modes.CBC]:
    return Cipher(TripleDES(tdes_key(sk_smc)), modes.CBC(bytes(BLOCK)))


def encipher(sk_smc: bytes, data: bytes) -> bytes:
    if len(data) % BLOCK:
        data = pad(data, BLOCK)
    enc = _cipher(sk_smc).encryptor()
    return enc.update(data) + enc.finalize()


def decipher(sk_smc: bytes, data: bytes) -> bytes:
    """The enciphered bytes back (padding, if any, is the caller's to remove)."""
    if not data or len(data) % BLOCK:
        raise ValueError(f"enciphered data is {len(data)} bytes, not whole 8-byte blocks")
    dec = _cipher(sk_smc).decryptor()
    return dec.update(data) + dec.finalize()


def pin_block(pin: str) -> bytes:
    """ISO 9564-1 format 2: 2, length, the digits, F padding (8 bytes)."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("a PIN is 4–12 digits")
    return bytes.fromhex(f"2{len(pin):X}{pin}".ljust(16, "F"))


def pin_from_block(block: bytes) -> str:
    """The PIN of a format 2 block; ValueError when the block is not one."""
    text = block.hex().upper()
    length = int(text[1], 16) if text[:1] == "2" and len(block) == BLOCK else 0
    digits, filler = text[2:2 + length], text[2 + length:]
    if not 4 <= length <= 12 or not digits.isdigit() or filler.strip("F"):
        raise ValueError("not an ISO 9564 format 2 PIN block")
    return digits

