"""Which exchanges are sensitive: secrets marked by plugins, and reference data.

The card needs these rules from its first exchange (a plugin marks its PAN at
start-up), the trace renderers need them for every printout; they live here
so that a card that nobody traces does not import :mod:`hcekit.trace`.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["REFERENCE_DATA_INS", "SecretValues", "carries_reference_data", "is_sensitive"]

#: ISO/IEC 7816-4 instructions whose command data is reference data (PINs,
#: passwords, PUKs): VERIFY (20, 21), CHANGE REFERENCE DATA (24, 25), RESET
#: RETRY COUNTER (2C, 2D). Only in the interindustry class (CLA b8 = 0).
REFERENCE_DATA_INS = frozenset({0x20, 0x21, 0x24, 0x25, 0x2C, 0x2D})
_CLA_PROPRIETARY = 0x80


def carries_reference_data(command: bytes) -> bool:
    """True for a VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER with data."""
    return (len(command) > 5 and not command[0] & _CLA_PROPRIETARY
            and command[1] in REFERENCE_DATA_INS)


class SecretValues:
    """Byte strings that must not appear in any printout: an exchange holding one is sensitive.

    A plugin adds its secrets once it knows them (``plugin.mark_secret(pan)``
    in ``hcekit_startup`` or after personalisation). Values shorter than
    :attr:`MIN_LENGTH` are refused: they would match ordinary data
    everywhere (mark the whole PIN block, not two BCD digits). Safe to read
    from any thread while a plugin adds values (the set is replaced, never
    changed in place).
    """

    MIN_LENGTH = 4

    def __init__(self, values: Iterable[bytes] = ()) -> None:
        self._values: frozenset[bytes] = frozenset()
        for value in values:
            self.add(value)

    def add(self, value: bytes | bytearray | memoryview) -> None:
        secret = bytes(value)
        if len(secret) < self.MIN_LENGTH:
            raise ValueError(f"a {len(secret)}-byte secret would redact ordinary data; mark "
                             f"values of at least {self.MIN_LENGTH} bytes (e.g. the whole "
                             "PIN block or PAN)")
        self._values = self._values | {secret}

    def discard(self, value: bytes) -> None:
        self._values = self._values - {bytes(value)}

    def found_in(self, *data: bytes) -> bool:
        """True when any secret occurs in any of *data*."""
        values = self._values
        return bool(values) and any(secret in chunk for secret in values for chunk in data)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:  # never the values themselves
        return f"SecretValues({len(self._values)} value(s))"


def is_sensitive(command: bytes, response: bytes, secrets: SecretValues | None = None) -> bool:
    """What a renderer that has only the bytes can decide (the card adds its own marks)."""
    return carries_reference_data(command) or (
        secrets is not None and secrets.found_in(command, response))
