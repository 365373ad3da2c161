"""ISO/IEC 9798-2 style mutual authentication with symmetric keys.

The three-pass challenge/response ICAO 9303 BAC uses (Part 11 §4.3), with
the cipher as a parameter so AES works the same way:

1. terminal → card: GET CHALLENGE; the card answers RND.ICC.
2. terminal → card: EXTERNAL (MUTUAL) AUTHENTICATE with
   ``E_IFD ‖ M_IFD`` where ``S = RND.IFD ‖ RND.ICC ‖ K.IFD``,
   ``E_IFD = E(K_enc, S)`` (CBC, zero IV) and ``M_IFD = MAC(K_mac, E_IFD)``.
3. the card verifies M_IFD, decrypts, checks its own RND.ICC came back,
   and answers ``E_ICC ‖ M_ICC`` over ``R = RND.ICC ‖ RND.IFD ‖ K.ICC``.

Both sides then derive session keys from ``K.IFD XOR K.ICC`` with the ICAO
KDF and start the SSC from the nonces: ``RND.ICC[-4:] ‖ RND.IFD[-4:]`` for
3DES (8 bytes, as BAC), ``RND.ICC[-8:] ‖ RND.IFD[-8:]`` for AES (16 bytes).
Authentication failures raise :class:`~hcekit.errors.IsoError` 6300 on the
card and :class:`AuthenticationError` on the terminal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, algorithms, modes

from ..apdu import INS_EXTERNAL_AUTHENTICATE, INS_GET_CHALLENGE, CommandApdu
from ..errors import HcekitError, IsoError
from ..sw import SW
from .kdf import IcaoCipher
from .mac import aes_cmac, retail_mac, tags_equal, tdes_key
from .session import CardSession, TerminalSession
from .suites import AesSuite, CipherSuite, TdesSuite

if TYPE_CHECKING:
    from ..terminal.terminal import Terminal

__all__ = [
    "AuthProfile",
    "TDES_PROFILE",
    "AES128_PROFILE",
    "AuthenticationError",
    "CardAuthenticator",
    "TerminalAuthenticator",
    "mutual_authenticate",
    "INS_GET_CHALLENGE",
    "INS_EXTERNAL_AUTHENTICATE",
]

MAC_LENGTH = 8

Random = Callable[[int], bytes]


class AuthenticationError(HcekitError):
    """The card's authentication answer did not verify (terminal side)."""


@dataclass(frozen=True)
class AuthProfile:
    """Cipher, sizes and session-suite factory of one mutual-authentication variant."""

    name: str
    block_size: int
    nonce_length: int
    key_material_length: int
    ssc_half: int
    kdf_cipher: IcaoCipher

    def _algorithm(self, key: bytes) -> BlockCipherAlgorithm:
        if self.kdf_cipher is IcaoCipher.TDES:
            return TripleDES(tdes_key(key))
        return algorithms.AES(key)

    def encrypt(self, key: bytes, data: bytes) -> bytes:
        enc = Cipher(self._algorithm(key), modes.CBC(bytes(self.block_size))).encryptor()
        return enc.update(data) + enc.finalize()

    def decrypt(self, key: bytes, data: bytes) -> bytes:
        dec = Cipher(self._algorithm(key), modes.CBC(bytes(self.block_size))).decryptor()
        return dec.update(data) + dec.finalize()

    def mac(self, key: bytes, data: bytes) -> bytes:
        if self.kdf_cipher is IcaoCipher.TDES:
            return retail_mac(key, data)
        return aes_cmac(key, data, MAC_LENGTH)

    @property
    def token_length(self) -> int:
        """Length of E ‖ M on the wire."""
        return 2 * self.nonce_length + self.key_material_length + MAC_LENGTH

    def session(self, k_icc: bytes, k_ifd: bytes, rnd_icc: bytes,
                rnd_ifd: bytes) -> tuple[CipherSuite, bytes]:
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_icc, strict=True))
        suite: CipherSuite
        if self.kdf_cipher is IcaoCipher.TDES:
            suite = TdesSuite.from_seed(seed)
        else:
            suite = AesSuite.from_seed(seed, self.kdf_cipher)
        ssc = rnd_icc[-self.ssc_half:] + rnd_ifd[-self.ssc_half:]
        return suite, ssc


#: ICAO 9303 BAC: 3DES, 8-byte nonces, 16 bytes of key material each side.
TDES_PROFILE = AuthProfile("3DES", 8, 8, 16, 4, IcaoCipher.TDES)
#: The same protocol with AES-128: 16-byte nonces, 16 bytes of key material.
AES128_PROFILE = AuthProfile("AES-128", 16, 16, 16, 8, IcaoCipher.AES128)


class CardAuthenticator:
    """Card side: issue challenges, verify the terminal, open a :class:`CardSession`."""

    def __init__(self, profile: AuthProfile, k_enc: bytes, k_mac: bytes, *,
                 random: Random = os.urandom) -> None:
        self.profile = profile
        self._k_enc = k_enc
        self._k_mac = k_mac
        self._random = random
        self._challenge: bytes | None = None

    def get_challenge(self, command: CommandApdu | None = None) -> bytes:
        """A fresh RND.ICC (answers GET CHALLENGE); replaces any earlier one."""
        n = self.profile.nonce_length
        if command is not None and command.le not in (None, n, 256):
            raise IsoError(SW.WRONG_LENGTH, f"GET CHALLENGE here returns {n} bytes")
        self._challenge = self._random(n)
        return self._challenge

    def authenticate(self, data: bytes, *,
                     keys: tuple[bytes, bytes] | None = None) -> tuple[bytes, CardSession]:
        """Verify ``E_IFD ‖ M_IFD``; return ``E_ICC ‖ M_ICC`` and the new session.

        *keys* (``(k_enc, k_mac)``) replaces the constructor's keys for this
        attempt: a card with several key sets picks one by the EXTERNAL
        AUTHENTICATE's key reference (P2) after the challenge went out. A
        challenge is used once: any outcome consumes it (no retries against
        the same nonce).
        """
        k_enc, k_mac = keys if keys is not None else (self._k_enc, self._k_mac)
        p = self.profile
        challenge, self._challenge = self._challenge, None
        if challenge is None:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "GET CHALLENGE must come first")
        if len(data) != p.token_length:
            raise IsoError(SW.WRONG_LENGTH,
                           f"authentication data is {p.token_length} bytes, got {len(data)}")
        cryptogram, tag = data[:-MAC_LENGTH], data[-MAC_LENGTH:]
        if not tags_equal(p.mac(k_mac, cryptogram), tag):
            raise IsoError(SW.VERIFICATION_FAILED, "terminal MAC does not verify")
        s = p.decrypt(k_enc, cryptogram)
        n = p.nonce_length
        rnd_ifd, rnd_icc, k_ifd = s[:n], s[n:2 * n], s[2 * n:]
        if not tags_equal(rnd_icc, challenge):
            raise IsoError(SW.VERIFICATION_FAILED, "the terminal answered another challenge")
        k_icc = self._random(p.key_material_length)
        e_icc = p.encrypt(k_enc, challenge + rnd_ifd + k_icc)
        suite, ssc = p.session(k_icc, k_ifd, challenge, rnd_ifd)
        return e_icc + p.mac(k_mac, e_icc), CardSession(suite, ssc)

    def __repr__(self) -> str:
        return f"CardAuthenticator({self.profile.name}, <keys hidden>)"


class TerminalAuthenticator:
    """Terminal side: answer a challenge, verify the card, open a :class:`TerminalSession`."""

    def __init__(self, profile: AuthProfile, k_enc: bytes, k_mac: bytes, *,
                 random: Random = os.urandom) -> None:
        self.profile = profile
        self._k_enc = k_enc
        self._k_mac = k_mac
        self._random = random
        self._pending: tuple[bytes, bytes, bytes] | None = None

    def respond(self, rnd_icc: bytes) -> bytes:
        """``E_IFD ‖ M_IFD`` for the card's challenge (fresh RND.IFD and K.IFD)."""
        p = self.profile
        if len(rnd_icc) != p.nonce_length:
            raise AuthenticationError(f"challenge is {len(rnd_icc)} bytes, expected "
                                      f"{p.nonce_length}")
        rnd_ifd = self._random(p.nonce_length)
        k_ifd = self._random(p.key_material_length)
        self._pending = (rnd_icc, rnd_ifd, k_ifd)
        e_ifd = p.encrypt(self._k_enc, rnd_ifd + rnd_icc + k_ifd)
        return e_ifd + p.mac(self._k_mac, e_ifd)

    def finish(self, data: bytes) -> TerminalSession:
        """Verify the card's ``E_ICC ‖ M_ICC``; return the session."""
        p = self.profile
        if self._pending is None:
            raise AuthenticationError("respond() must come before finish()")
        rnd_icc, rnd_ifd, k_ifd = self._pending
        self._pending = None
        if len(data) != p.token_length:
            raise AuthenticationError(f"card answered {len(data)} bytes, expected "
                                      f"{p.token_length}")
        cryptogram, tag = data[:-MAC_LENGTH], data[-MAC_LENGTH:]
        if not tags_equal(p.mac(self._k_mac, cryptogram), tag):
            raise AuthenticationError("card MAC does not verify")
        r = p.decrypt(self._k_enc, cryptogram)
        n = p.nonce_length
        if not (tags_equal(r[:n], rnd_icc) and tags_equal(r[n:2 * n], rnd_ifd)):
            raise AuthenticationError("card did not return both nonces")
        suite, ssc = p.session(r[2 * n:], k_ifd, rnd_icc, rnd_ifd)
        return TerminalSession(suite, ssc)

    def __repr__(self) -> str:
        return f"TerminalAuthenticator({self.profile.name}, <keys hidden>)"


def mutual_authenticate(terminal: Terminal, authenticator: TerminalAuthenticator, *,
                        cla: int = 0x00, key_ref: int = 0x00) -> TerminalSession:
    """Run GET CHALLENGE + EXTERNAL AUTHENTICATE over *terminal*; return the session.

    *key_ref* goes into the EXTERNAL AUTHENTICATE's P2, the ISO/IEC 7816-4
    reference data qualifier (b8 = 1: a key specific to the selected
    application, b5…b1: its number; 00: the card knows which) — how a card with
    several key sets is told which one the authenticator's keys are.
    """
    if not 0 <= key_ref <= 0xFF:
        raise ValueError(f"key_ref is P2, one byte; got {key_ref}")
    p = authenticator.profile
    challenge = terminal.transmit(CommandApdu(cla, INS_GET_CHALLENGE, 0, 0, b"",
                                              p.nonce_length))
    if not challenge.ok:
        raise AuthenticationError(f"GET CHALLENGE answered {challenge.sw:04X}")
    token = authenticator.respond(challenge.data)
    with terminal.sensitive():  # the token and the card's answer carry key material
        answer = terminal.transmit(CommandApdu(cla, INS_EXTERNAL_AUTHENTICATE, 0, key_ref, token,
                                               p.token_length))
    if not answer.ok:
        raise AuthenticationError(f"EXTERNAL AUTHENTICATE answered {answer.sw:04X}")
    return authenticator.finish(answer.data)
