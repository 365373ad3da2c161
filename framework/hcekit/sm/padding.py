"""ISO/IEC 9797-1 padding methods 1 and 2.

Method 2 (one 80 byte, then 00 bytes to the block size) pads both the MAC
input and the plaintext before encryption in ISO/IEC 7816-4 secure messaging
(ICAO 9303 Part 11 §9.8), and EMV's cryptogram input. It always adds at least
one byte, so it is unambiguous to remove.

Method 1 (00 bytes only, none when already aligned) is what Visa CVN 10 MACs
and what DESFire EV1 enciphers; it cannot be removed without knowing the
length, so there is no unpad for it.
"""

from __future__ import annotations

from .errors import incorrect

__all__ = ["pad", "unpad", "zero_pad"]

_MARK = 0x80


def pad(data: bytes, block_size: int) -> bytes:
    """Append 80 and as many 00 as needed to reach a multiple of *block_size*."""
    fill = block_size - (len(data) % block_size)
    return data + b"\x80" + bytes(fill - 1)


def zero_pad(data: bytes, block_size: int) -> bytes:
    """Method 1: append 00 bytes up to a multiple of *block_size* (none if already aligned)."""
    return data + bytes(-len(data) % block_size)


def unpad(data: bytes, block_size: int) -> bytes:
    """Remove method-2 padding; raise :class:`~hcekit.sm.SmError` (6988) if malformed."""
    if not data or len(data) % block_size:
        raise incorrect(f"padded data is {len(data)} bytes, not a positive multiple of "
                        f"{block_size}")
    stripped = data.rstrip(b"\x00")
    # The mark must sit in the last block: at most block_size - 1 zero bytes follow it.
    if not stripped or stripped[-1] != _MARK or len(data) - len(stripped) >= block_size:
        raise incorrect("ISO/IEC 9797-1 method 2 padding is malformed")
    return stripped[:-1]
