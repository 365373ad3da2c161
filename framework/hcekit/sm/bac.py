"""ICAO Doc 9303 Basic Access Control as a worked recipe on top of :mod:`~hcekit.sm.auth`.

The document basic access keys come from the MRZ: ``K_seed =
SHA-1(MRZ_information)[:16]`` where MRZ_information is document number,
date of birth and date of expiry, each followed by its check digit
(Part 11 §9.7.2; check digits Part 3 §4.9). ``K_enc`` / ``K_mac`` are the
ICAO KDF of the seed with counters 1 and 2. Mutual authentication and
session keys are :data:`~hcekit.sm.auth.TDES_PROFILE` (3DES, retail MAC).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the key recipes import them when called: check digits need no cryptography
    from .auth import CardAuthenticator, Random, TerminalAuthenticator

__all__ = ["check_digit", "mrz_information", "bac_key_seed", "bac_keys", "bac_card",
           "bac_terminal"]

_WEIGHTS = (7, 3, 1)


def _char_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise ValueError(f"{ch!r} is not an MRZ character (0-9, A-Z, <)")


def check_digit(field: str) -> str:
    """ICAO 9303 Part 3 check digit: weights 7-3-1, sum modulo 10."""
    return str(sum(_char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


def mrz_information(document_number: str, date_of_birth: str, date_of_expiry: str) -> str:
    """MRZ_information: number (padded to 9 with <), birth and expiry YYMMDD, each + check digit."""
    number = document_number.upper().ljust(9, "<")
    for name, date in (("date of birth", date_of_birth), ("date of expiry", date_of_expiry)):
        if len(date) != 6 or not date.isdigit():
            raise ValueError(f"{name} must be YYMMDD, got {date!r}")
    return "".join(f + check_digit(f) for f in (number, date_of_birth, date_of_expiry))


def bac_key_seed(mrz_info: str) -> bytes:
    """K_seed: the first 16 bytes of SHA-1 over MRZ_information."""
    from cryptography.hazmat.primitives import hashes

    digest = hashes.Hash(hashes.SHA1())
    digest.update(mrz_info.encode("ascii"))
    return digest.finalize()[:16]


def bac_keys(mrz_info: str) -> tuple[bytes, bytes]:
    """(K_enc, K_mac), the document basic access keys."""
    from .kdf import ICAO_KDF_ENC, ICAO_KDF_MAC, icao_kdf

    seed = bac_key_seed(mrz_info)
    return icao_kdf(seed, ICAO_KDF_ENC), icao_kdf(seed, ICAO_KDF_MAC)


def bac_card(mrz_info: str, *, random: Random = os.urandom) -> CardAuthenticator:
    """The chip's side of BAC for a document with this MRZ."""
    from .auth import TDES_PROFILE, CardAuthenticator

    k_enc, k_mac = bac_keys(mrz_info)
    return CardAuthenticator(TDES_PROFILE, k_enc, k_mac, random=random)


def bac_terminal(mrz_info: str, *, random: Random = os.urandom) -> TerminalAuthenticator:
    """The inspection system's side of BAC, keys from the MRZ it read optically."""
    from .auth import TDES_PROFILE, TerminalAuthenticator

    k_enc, k_mac = bac_keys(mrz_info)
    return TerminalAuthenticator(TDES_PROFILE, k_enc, k_mac, random=random)
