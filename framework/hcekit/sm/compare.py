"""Comparing secrets in constant time, apart from the MACs so that a check needs no cipher.

A card that only compares (a checksum, a rotated random number) before its
first authentication must not load ``cryptography`` for it: this module
imports nothing heavy, :mod:`hcekit.sm.mac` re-exports it.
"""

from __future__ import annotations

__all__ = ["tags_equal"]


def tags_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two MAC tags (or any secrets)."""
    import hmac  # here, not at import: it loads OpenSSL's hashlib, which a cold start can skip

    return hmac.compare_digest(a, b)
