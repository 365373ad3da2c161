"""One EV1 session: AES authentication and the secure messaging it switches on.

After AuthenticateAES both sides hold a session key and a chained IV
(:class:`~.crypto.SessionCipher`). From then on every command and every
response moves the IV: a plain command is CMACed without a MAC on the wire,
a MACed one carries the first 8 bytes of the CMAC, a fully enciphered one is
AES-CBC with a CRC32 inside. Any error, SelectApplication and a new
AuthenticateAES end the session (the card forgets the key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from hcekit.sm import zero_pad

from .crypto import (
    BLOCK,
    MAC_LENGTH,
    ZERO_IV,
    SessionCipher,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    crc32,
    rotate_left,
    session_key,
    tags_equal,
)
from .model import CommMode
from .status import DesfireError, DfStatus

__all__ = ["Session", "enciphered_length"]

_CRC_LENGTH = 4
_RESPONSE_STATUS_OK = b"\x00"


def enciphered_length(plain_length: int) -> int:
    """Bytes of a fully enciphered field: data + CRC32, zero-padded to the AES block."""
    return len(zero_pad(bytes(plain_length + _CRC_LENGTH), BLOCK))


class _PendingAuth(NamedTuple):
    """Between the two passes of AuthenticateAES: the card's RndB and its challenge."""

    key_no: int
    key: bytes
    rnd_b: bytes
    challenge: bytes


class Session:
    """The volatile half of the card: who is authenticated, with which session cipher."""

    def __init__(self) -> None:
        self.key_no: int | None = None
        self.cipher: SessionCipher | None = None
        self._pending: _PendingAuth | None = None

    def end(self) -> None:
        """Forget the authentication (and a half-done one)."""
        self.key_no = None
        self.cipher = None
        self._pending = None

    @property
    def authenticating(self) -> bool:
        """The first pass of AuthenticateAES was answered; the reader's token is due."""
        return self._pending is not None

    def cancel_authentication(self) -> None:
        self._pending = None

    def require_key(self, key_no: int, what: str) -> None:
        if self.key_no != key_no:
            raise DesfireError(DfStatus.AUTHENTICATION_ERROR,
                               f"{what} needs authentication with key {key_no}")

    # -- AuthenticateAES ------------------------------------------------------------------

    def challenge(self, key_no: int, key: bytes, random: Callable[[int], bytes]) -> bytes:
        """First pass: E(K, RndB). Any previous authentication is over."""
        self.end()
        rnd_b = random(BLOCK)
        challenge = aes_cbc_encrypt(key, ZERO_IV, rnd_b)
        self._pending = _PendingAuth(key_no, key, rnd_b, challenge)
        return challenge

    def answer(self, token: bytes) -> bytes:
        """Second pass: check the reader's RndB', answer E(K, RndA'), start the session."""
        pending = self._pending
        if pending is None:
            raise DesfireError(DfStatus.ILLEGAL_COMMAND, "no authentication in progress")
        self._pending = None
        if len(token) != 2 * BLOCK:
            raise DesfireError(DfStatus.LENGTH_ERROR, f"{len(token)} token bytes; expected 32")
        plain = aes_cbc_decrypt(pending.key, pending.challenge, token)
        rnd_a, rnd_b_rotated = plain[:BLOCK], plain[BLOCK:]
        if not tags_equal(rnd_b_rotated, rotate_left(pending.rnd_b)):
            raise DesfireError(DfStatus.AUTHENTICATION_ERROR, "reader's RndB' is wrong (wrong key?)")
        answer = aes_cbc_encrypt(pending.key, token[-BLOCK:], rotate_left(rnd_a))
        self.key_no = pending.key_no
        self.cipher = SessionCipher(session_key(rnd_a, pending.rnd_b))
        return answer

    # -- secure messaging -------------------------------------------------------------------

    def in_plain(self, ins: int, data: bytes) -> None:
        """A command sent in plain: while authenticated it still moves the IV (CMAC)."""
        if self.cipher is not None:
            self.cipher.cmac(bytes((ins,)) + data)

    def in_protected(self, ins: int, header: bytes, body: bytes, mode: CommMode,
                     plain_length: int) -> bytes:
        """Command data after *header* as *mode* sends it → the plain data."""
        cipher = self.cipher
        if mode is CommMode.PLAIN or cipher is None:
            self.in_plain(ins, header + body)
            if len(body) != plain_length:
                raise DesfireError(DfStatus.LENGTH_ERROR,
                                   f"{len(body)} data bytes, expected {plain_length}")
            return body
        if mode is CommMode.MACED:
            if len(body) != plain_length + MAC_LENGTH:
                raise DesfireError(DfStatus.LENGTH_ERROR,
                                   f"{len(body)} bytes; expected {plain_length} data + 8 MAC")
            plain, mac = body[:-MAC_LENGTH], body[-MAC_LENGTH:]
            if not tags_equal(cipher.mac(bytes((ins,)) + header + plain), mac):
                raise DesfireError(DfStatus.INTEGRITY_ERROR, "command MAC does not verify")
            return plain
        return self._deciphered(cipher, ins, header, body, plain_length)

    @staticmethod
    def _deciphered(cipher: SessionCipher, ins: int, header: bytes, body: bytes,
                    plain_length: int) -> bytes:
        expected = enciphered_length(plain_length)
        if len(body) != expected:
            raise DesfireError(DfStatus.LENGTH_ERROR,
                               f"{len(body)} enciphered bytes, expected {expected}")
        decrypted = cipher.decrypt(body)
        plain = decrypted[:plain_length]
        check = decrypted[plain_length:plain_length + _CRC_LENGTH]
        padding = decrypted[plain_length + _CRC_LENGTH:]
        if not tags_equal(check, crc32(bytes((ins,)) + header + plain)) or any(padding):
            raise DesfireError(DfStatus.INTEGRITY_ERROR,
                               "enciphered command: CRC32 or padding wrong")
        return plain

    def decrypt(self, body: bytes) -> bytes:
        """Decipher a command field (ChangeKey's cryptogram) with the session cipher."""
        if self.cipher is None:
            raise DesfireError(DfStatus.AUTHENTICATION_ERROR, "no session to decipher with")
        return self.cipher.decrypt(body)

    def reply(self, data: bytes, mode: CommMode = CommMode.PLAIN) -> bytes:
        """Response data as the session requires: plain, + MAC, or enciphered with CRC32."""
        cipher = self.cipher
        if cipher is None:
            return data
        if mode is CommMode.FULL:
            return cipher.encrypt(zero_pad(data + crc32(data + _RESPONSE_STATUS_OK), BLOCK))
        return data + cipher.mac(data + _RESPONSE_STATUS_OK)
