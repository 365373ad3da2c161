"""FASC-N: the Federal Agency Smart Credential Number, as 200-bit BCD.

TIG SCEPACS encodes 40 characters of 5 bits each — four data bits, least
significant first, then an odd-parity bit — into the 25 bytes that CHUID tag
30 carries: start sentinel, agency code, field separators, …, end sentinel
and a longitudinal redundancy check over the data bits. Door readers that
predate UUIDs still key their allow-lists on these fields.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from hcekit.errors import HcekitError

__all__ = ["Fascn", "FascnError", "FASCN_LENGTH"]

FASCN_LENGTH = 25
_CHARS = 40
_START = 0xB  # SS
_SEPARATOR = 0xD  # FS
_END = 0xF  # ES

#: (field name, number of digits, followed by a field separator)
_LAYOUT = (
    ("agency_code", 4, True),
    ("system_code", 4, True),
    ("credential_number", 6, True),
    ("credential_series", 1, True),
    ("individual_credential_issue", 1, True),
    ("person_identifier", 10, False),
    ("organizational_category", 1, False),
    ("organizational_identifier", 4, False),
    ("association_category", 1, False),
)


class FascnError(HcekitError, ValueError):
    """A FASC-N that is malformed (wrong length, parity, sentinel or LRC)."""


def _with_parity(value: int) -> int:
    """The 5-bit character: b1..b4 (LSB first) then odd parity, as bits MSB-first."""
    bits = [(value >> i) & 1 for i in range(4)]
    bits.append(1 - sum(bits) % 2)
    out = 0
    for bit in bits:
        out = (out << 1) | bit
    return out


def _data_of(char: int, position: int) -> int:
    bits = [(char >> (4 - i)) & 1 for i in range(5)]
    if sum(bits) % 2 != 1:
        raise FascnError(f"FASC-N character {position} fails its odd-parity check")
    return sum(bit << i for i, bit in enumerate(bits[:4]))


@dataclass(frozen=True)
class Fascn:
    """The FASC-N fields as digit strings (leading zeros matter)."""

    agency_code: str
    system_code: str
    credential_number: str
    credential_series: str = "0"
    individual_credential_issue: str = "1"
    person_identifier: str = "0000000000"
    organizational_category: str = "1"
    organizational_identifier: str = "0000"
    association_category: str = "1"

    def __post_init__(self) -> None:
        for (name, width, _), field in zip(_LAYOUT, fields(self), strict=True):
            value = getattr(self, field.name)
            if not (isinstance(value, str) and len(value) == width and value.isdigit()
                    and value.isascii()):
                raise FascnError(f"FASC-N {name} must be {width} decimal digit(s), got {value!r}")

    @classmethod
    def parse(cls, text: str) -> Fascn:
        """``AAAA-SSSS-CCCCCC-S-I-PPPPPPPPPP-O-OOOO-A`` (the nine fields, dash-separated)."""
        parts = text.strip().split("-")
        if len(parts) != len(_LAYOUT):
            raise FascnError(
                f"FASC-N {text!r}: expected {len(_LAYOUT)} dash-separated fields "
                "(agency-system-credential-series-issue-person-category-org-association)"
            )
        return cls(*parts)

    def __str__(self) -> str:
        return "-".join(getattr(self, f.name) for f in fields(self))

    def encode(self) -> bytes:
        """The 25-byte wire form."""
        values = [_START]
        for name, _, separated in _LAYOUT:
            values.extend(int(d) for d in getattr(self, name))
            if separated:
                values.append(_SEPARATOR)
        values.append(_END)
        lrc = 0
        for v in values:
            lrc ^= v
        values.append(lrc)
        assert len(values) == _CHARS
        acc = 0
        for v in values:
            acc = (acc << 5) | _with_parity(v)
        return acc.to_bytes(FASCN_LENGTH, "big")

    @classmethod
    def decode(cls, raw: bytes) -> Fascn:
        """Check parity, sentinels, separators and LRC; return the fields."""
        if len(raw) != FASCN_LENGTH:
            raise FascnError(f"a FASC-N is {FASCN_LENGTH} bytes, got {len(raw)}")
        acc = int.from_bytes(raw, "big")
        chars = [(acc >> (5 * (_CHARS - 1 - i))) & 0x1F for i in range(_CHARS)]
        values = [_data_of(c, i) for i, c in enumerate(chars)]
        lrc = 0
        for v in values[:-1]:
            lrc ^= v
        if lrc != values[-1]:
            raise FascnError("FASC-N longitudinal redundancy check does not match")
        if values[0] != _START or values[-2] != _END:
            raise FascnError("FASC-N start or end sentinel missing")
        pos = 1
        parts: list[str] = []
        for name, width, separated in _LAYOUT:
            digits = values[pos:pos + width]
            if any(d > 9 for d in digits):
                raise FascnError(f"FASC-N {name} holds a non-digit character")
            parts.append("".join(str(d) for d in digits))
            pos += width
            if separated:
                if values[pos] != _SEPARATOR:
                    raise FascnError(f"FASC-N field separator missing after {name}")
                pos += 1
        return cls(*parts)
