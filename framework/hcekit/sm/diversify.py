"""AES-128 key diversification as in NXP application note AN10922 §2.2.

The diversified key is ``CMAC(K, 01 ‖ M ‖ padding)`` where M is 1..31 bytes
of diversification input (typically UID ‖ AID ‖ system identifier) and the
message is always padded to 32 bytes. That differs from plain CMAC when M is
shorter than 16 bytes (CMAC would pad to 16), so it is
:func:`~hcekit.sm.mac.aes_cmac_chained` with ``pad_to=32``.

For len(M) ≥ 16 the result equals plain AES-CMAC over ``01 ‖ M``; the
tests check that, and the AN10922 worked example.
"""

from __future__ import annotations

from .mac import aes_cmac_chained

__all__ = ["diversify_aes128", "diversification_input", "AES128_DIV_CONSTANT"]

#: AN10922 diversification constant for an AES-128 key.
AES128_DIV_CONSTANT = 0x01
_MESSAGE = 32


def diversification_input(uid: bytes, aid: bytes = b"", system_identifier: bytes = b"") -> bytes:
    """M = UID ‖ AID ‖ system identifier, as AN10922's example builds it."""
    return uid + aid + system_identifier


def diversify_aes128(master_key: bytes, m: bytes) -> bytes:
    """The AN10922 diversified AES-128 key for diversification input *m* (1..31 bytes)."""
    if len(master_key) != 16:
        raise ValueError(f"AN10922 AES-128 diversification takes a 16-byte key, got "
                         f"{len(master_key)}")
    if not 1 <= len(m) <= 31:
        raise ValueError(f"diversification input must be 1..31 bytes, got {len(m)}")
    return aes_cmac_chained(master_key, bytes((AES128_DIV_CONSTANT,)) + m, pad_to=_MESSAGE)
