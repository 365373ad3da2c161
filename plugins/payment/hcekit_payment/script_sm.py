"""Secure messaging of issuer script commands (EMV Book 2 §9), shared by card and issuer.

Integrity (§9.2, format 2): the command's last 8 data bytes are a MAC
(ISO/IEC 9797-1 algorithm 3, padding method 2) over the header as sent
(CLA INS P1 P2 Lc, Lc counting the MAC), the ATC, the application cryptogram
of this transaction's first cryptogram, then the command data. Confidentiality
(§9.3, format 2): enciphered data is two-key 3DES CBC with a zero IV,
padded with method 2 only when not a whole number of blocks; the PIN data
of a PIN CHANGE with the current PIN instead carries its length first, is
always padded and is enciphered in ECB mode (:func:`encipher_counted`). Both session
keys come from the card's SMI / SMC master keys by Book 2 A1.3's common
derivation with R = that application cryptogram; the ICC master keys
derive from the issuer's with option A. These choices are the ones pyemv's
public ``MasterCardCVN16`` makes (and ``VisaCVN22`` for the PIN data with the
current PIN, :func:`pin_block_with_current`), which is how the tests check them.
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hcekit.sm import SmError, pad, retail_mac, tags_equal, unpad
from hcekit.sm.mac import tdes_key

from .keys import BLOCK, derive_session_key

__all__ = ["MAC_LENGTH", "session_key", "command_mac", "verify_mac", "encipher", "decipher",
           "encipher_counted", "decipher_counted", "check_pin", "pin_block", "pin_from_block",
           "pin_block_with_current", "new_pin_from_block"]

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


def _ecb(sk_smc: bytes) -> Cipher[modes.ECB]:
    return Cipher(TripleDES(tdes_key(sk_smc)), modes.ECB())


def encipher(sk_smc: bytes, data: bytes) -> bytes:
    if len(data) % BLOCK:
        data = pad(data, BLOCK)
    enc = _cipher(sk_smc).encryptor()
    return enc.update(data) + enc.finalize()


def _whole_blocks(data: bytes) -> None:
    if not data or len(data) % BLOCK:
        raise ValueError(f"enciphered data is {len(data)} bytes, not whole 8-byte blocks")


def decipher(sk_smc: bytes, data: bytes) -> bytes:
    """The enciphered bytes back (padding, if any, is the caller's to remove)."""
    _whole_blocks(data)
    dec = _cipher(sk_smc).decryptor()
    return dec.update(data) + dec.finalize()


def encipher_counted(sk_smc: bytes, data: bytes) -> bytes:
    """Length byte, the data, padding method 2 always, 3DES ECB block by block."""
    enc = _ecb(sk_smc).encryptor()
    return enc.update(pad(bytes((len(data),)) + data, BLOCK)) + enc.finalize()


def decipher_counted(sk_smc: bytes, data: bytes) -> bytes:
    """The data :func:`encipher_counted` enciphered; ValueError when its framing is wrong."""
    _whole_blocks(data)
    dec = _ecb(sk_smc).decryptor()
    try:
        plain = unpad(dec.update(data) + dec.finalize(), BLOCK)
    except SmError:
        raise ValueError("enciphered data without padding method 2") from None
    if not plain or plain[0] != len(plain) - 1:
        raise ValueError("the length byte does not match the enciphered data")
    return plain[1:]


def check_pin(pin: str) -> None:
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("a PIN is 4–12 digits")


def _digits_of(block: bytes, control: str) -> str:
    text = block.hex().upper()
    length = int(text[1], 16) if text[:1] == control and len(block) == BLOCK else 0
    digits, filler = text[2:2 + length], text[2 + length:]
    if not 4 <= length <= 12 or not digits.isdigit() or filler.strip("F"):
        raise ValueError("not a PIN block of the expected format")
    return digits


def _current_pin_mask(icc_mk_ac: bytes, current_pin: str) -> bytes:
    """Key A bytes 5–8 of the ICC AC master key, XOR the current PIN's digits zero-filled."""
    check_pin(current_pin)
    key_part = bytes(4) + icc_mk_ac[4:8]
    return bytes(a ^ b for a, b in zip(key_part, bytes.fromhex(current_pin.ljust(16, "0")),
                                       strict=True))


def pin_block_with_current(icc_mk_ac: bytes, pin: str, current_pin: str) -> bytes:
    """The PIN data of PIN CHANGE with the current PIN (P2 01), before encipherment.

    Length and digits of the new PIN, F-filled (control nibble 0), XOR the
    current PIN mask: the card can only undo the mask with the PIN it holds.
    """
    check_pin(pin)
    block = bytes.fromhex(f"0{len(pin):X}{pin}".ljust(16, "F"))
    return bytes(a ^ b for a, b in zip(block, _current_pin_mask(icc_mk_ac, current_pin),
                                       strict=True))


def new_pin_from_block(icc_mk_ac: bytes, block: bytes, current_pin: str) -> str:
    """The new PIN of :func:`pin_block_with_current`; ValueError when *current_pin* does not fit."""
    if len(block) != BLOCK:
        raise ValueError(f"PIN data is {len(block)} bytes, not {BLOCK}")
    unmasked = bytes(a ^ b for a, b in zip(block, _current_pin_mask(icc_mk_ac, current_pin),
                                           strict=True))
    return _digits_of(unmasked, "0")


def pin_block(pin: str) -> bytes:
    """ISO 9564-1 format 2: 2, length, the digits, F padding (8 bytes)."""
    check_pin(pin)
    return bytes.fromhex(f"2{len(pin):X}{pin}".ljust(16, "F"))


def pin_from_block(block: bytes) -> str:
    """The PIN of a format 2 block; ValueError when the block is not one."""
    return _digits_of(block, "2")

