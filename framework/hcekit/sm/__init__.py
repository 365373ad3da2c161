"""Secure messaging and the crypto building blocks card personalities share.

Everything here is built on ``cryptography``; no primitive is hand-rolled.

Secure messaging (ISO/IEC 7816-4 §10 as ICAO 9303 Part 11 profiles it):

* Suites: :class:`TdesSuite` (3DES + retail MAC, BAC), :class:`AesSuite`
  (AES-CBC with IV = E(K, SSC) + CMAC, PACE-AES); bring your own by
  implementing :class:`CipherSuite`.
* Sessions: :class:`CardSession` (the core's SecureChannel — a plugin opts
  in with ``app.secure_channel = CardSession(suite, ssc)``) and
  :class:`TerminalSession` (``session.transmit(terminal, command)``).
* Stateless wire functions: :func:`wrap_command`, :func:`unwrap_command`,
  :func:`wrap_response`, :func:`unwrap_response`, :func:`is_protected`.
* Mutual authentication (ISO/IEC 9798-2 style): :class:`CardAuthenticator`,
  :class:`TerminalAuthenticator`, :func:`mutual_authenticate`, profiles
  :data:`TDES_PROFILE` / :data:`AES128_PROFILE`; ICAO BAC keys from the MRZ
  in :mod:`hcekit.sm.bac`.
* Errors: :class:`SmError` (an IsoError with 6987 / 6988).

Building blocks (usable on their own):

* MACs: :func:`aes_cmac` (SP 800-38B), :func:`aes_cmac_chained` (CMAC from a
  start value, as DESFire EV1 and AN10922 need) with :func:`cmac_subkeys`,
  :func:`retail_mac` (ISO/IEC 9797-1 MAC algorithm 3 with DES),
  :func:`tags_equal` (constant time).
* Padding: :func:`pad` / :func:`unpad` (ISO/IEC 9797-1 method 2),
  :func:`zero_pad` (method 1).
* KDFs: :func:`kbkdf_cmac` (SP 800-108 counter mode, CMAC), :func:`scp03_derive`
  (GlobalPlatform SCP03 layout), :func:`x963_kdf`, :func:`hkdf`,
  :func:`icao_kdf` (ICAO 9303).
* Diversification: :func:`diversify_aes128` (NXP AN10922).
* P-256: :func:`generate_p256`, :func:`shared_secret`, :func:`ephemeral_static`,
  :func:`ephemeral_ephemeral`; ECDSA :func:`ecdsa_sign` / :func:`ecdsa_verify`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .auth import (
        AES128_PROFILE,
        TDES_PROFILE,
        AuthenticationError,
        AuthProfile,
        CardAuthenticator,
        TerminalAuthenticator,
        mutual_authenticate,
    )
    from .compare import tags_equal
    from .diversify import diversification_input, diversify_aes128
    from .ecdh import (
        EcKeyPair,
        decode_point,
        encode_point,
        ephemeral_ephemeral,
        ephemeral_static,
        generate_p256,
        load_p256_private,
        shared_secret,
    )
    from .ecdsa import sign as ecdsa_sign
    from .ecdsa import verify as ecdsa_verify
    from .errors import SmError
    from .iso7816 import is_protected, unwrap_command, unwrap_response, wrap_command, wrap_response
    from .kdf import (
        ICAO_KDF_ENC,
        ICAO_KDF_MAC,
        ICAO_KDF_PI,
        CounterLocation,
        IcaoCipher,
        hkdf,
        icao_kdf,
        kbkdf_cmac,
        scp03_derive,
        x963_kdf,
    )
    from .mac import aes_cmac, aes_cmac_chained, cmac_subkeys, retail_mac
    from .padding import pad, unpad, zero_pad
    from .session import CardSession, SendSequenceCounter, TerminalSession
    from .suites import AesSuite, CipherSuite, TdesSuite

__all__ = [
    # secure messaging
    "SmError",
    "CipherSuite",
    "TdesSuite",
    "AesSuite",
    "CardSession",
    "TerminalSession",
    "SendSequenceCounter",
    "wrap_command",
    "unwrap_command",
    "wrap_response",
    "unwrap_response",
    "is_protected",
    # mutual authentication
    "AuthProfile",
    "TDES_PROFILE",
    "AES128_PROFILE",
    "CardAuthenticator",
    "TerminalAuthenticator",
    "AuthenticationError",
    "mutual_authenticate",
    # MACs and padding
    "aes_cmac",
    "aes_cmac_chained",
    "cmac_subkeys",
    "retail_mac",
    "tags_equal",
    "pad",
    "unpad",
    "zero_pad",
    # key derivation and diversification
    "kbkdf_cmac",
    "CounterLocation",
    "scp03_derive",
    "x963_kdf",
    "hkdf",
    "icao_kdf",
    "IcaoCipher",
    "ICAO_KDF_ENC",
    "ICAO_KDF_MAC",
    "ICAO_KDF_PI",
    "diversify_aes128",
    "diversification_input",
    # P-256 ECDH and ECDSA
    "EcKeyPair",
    "generate_p256",
    "load_p256_private",
    "encode_point",
    "decode_point",
    "shared_secret",
    "ephemeral_static",
    "ephemeral_ephemeral",
    "ecdsa_sign",
    "ecdsa_verify",
]

__getattr__ = lazy_exports(__name__, {
    "AES128_PROFILE": ".auth",
    "TDES_PROFILE": ".auth",
    "AuthenticationError": ".auth",
    "AuthProfile": ".auth",
    "CardAuthenticator": ".auth",
    "TerminalAuthenticator": ".auth",
    "mutual_authenticate": ".auth",
    "diversification_input": ".diversify",
    "diversify_aes128": ".diversify",
    "EcKeyPair": ".ecdh",
    "decode_point": ".ecdh",
    "encode_point": ".ecdh",
    "ephemeral_ephemeral": ".ecdh",
    "ephemeral_static": ".ecdh",
    "generate_p256": ".ecdh",
    "load_p256_private": ".ecdh",
    "shared_secret": ".ecdh",
    "ecdsa_sign": ".ecdsa:sign",
    "ecdsa_verify": ".ecdsa:verify",
    "SmError": ".errors",
    "is_protected": ".iso7816",
    "unwrap_command": ".iso7816",
    "unwrap_response": ".iso7816",
    "wrap_command": ".iso7816",
    "wrap_response": ".iso7816",
    "ICAO_KDF_ENC": ".kdf",
    "ICAO_KDF_MAC": ".kdf",
    "ICAO_KDF_PI": ".kdf",
    "CounterLocation": ".kdf",
    "IcaoCipher": ".kdf",
    "hkdf": ".kdf",
    "icao_kdf": ".kdf",
    "kbkdf_cmac": ".kdf",
    "scp03_derive": ".kdf",
    "x963_kdf": ".kdf",
    "aes_cmac": ".mac",
    "aes_cmac_chained": ".mac",
    "cmac_subkeys": ".mac",
    "retail_mac": ".mac",
    "tags_equal": ".compare",
    "pad": ".padding",
    "unpad": ".padding",
    "zero_pad": ".padding",
    "CardSession": ".session",
    "SendSequenceCounter": ".session",
    "TerminalSession": ".session",
    "AesSuite": ".suites",
    "CipherSuite": ".suites",
    "TdesSuite": ".suites",
})
