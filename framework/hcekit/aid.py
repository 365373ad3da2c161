"""AIDs and AID claims, validated with Android's rules.

Android (``CardEmulation.isValidAid``) accepts 10–32 hex digits (5–16 bytes),
an even number of them, optionally followed by ``*`` (a *prefix* AID: every
AID starting with these bytes) or ``#`` (a *subset* AID: these bytes and every
truncation of them down to 5 bytes). Android drops an invalid AID from its
XML silently; hcekit refuses it loudly with :class:`~hcekit.errors.ClaimError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .errors import ClaimConflictError, ClaimError

__all__ = [
    "Category",
    "AidKind",
    "Claim",
    "parse_aid_filter",
    "select_order",
    "find_conflicts",
    "check_conflicts",
    "MIN_AID_LEN",
    "MAX_AID_LEN",
]

#: The shortest and longest AID Android accepts, in bytes.
MIN_AID_LEN = 5
MAX_AID_LEN = 16
#: Compiled on first use (``re`` caches it), not at import: a cold start pays for every import.
_AID_FILTER = r"^(?:[0-9A-Fa-f]{2}){5,16}[*#]?$"


class Category(StrEnum):
    """Android's two AID categories. ``payment`` claims are listed in the PPSE."""

    PAYMENT = "payment"
    OTHER = "other"


class AidKind(StrEnum):
    """An exact AID, a ``*`` prefix (every AID starting so) or a ``#`` subset (its truncations)."""

    EXACT = ""
    PREFIX = "*"
    SUBSET = "#"


@dataclass(frozen=True)
class Claim:
    """One AID a plugin answers for.

    ``aid`` is the AID bytes (without the ``*``/``#`` marker, which ``kind``
    carries). ``label`` and ``priority`` are used by the core's PPSE for
    ``payment`` claims (EMV tags 50 and 87).
    """

    aid: bytes
    category: Category = Category.OTHER
    description: str = ""
    kind: AidKind = AidKind.EXACT
    label: str = ""
    priority: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.aid, bytes | bytearray):
            raise ClaimError(f"claim AID must be bytes, got {type(self.aid).__name__}")
        if not MIN_AID_LEN <= len(self.aid) <= MAX_AID_LEN:
            raise ClaimError(
                f"AID {self.aid.hex().upper()}{self.kind.value} is {len(self.aid)} bytes; "
                f"Android accepts {MIN_AID_LEN}–{MAX_AID_LEN}"
            )
        object.__setattr__(self, "aid", bytes(self.aid))
        object.__setattr__(self, "category", Category(self.category))
        object.__setattr__(self, "kind", AidKind(self.kind))
        if self.priority is not None and not 1 <= self.priority <= 15:
            raise ClaimError(f"PPSE priority must be 1..15 (EMV tag 87 low nibble), got {self.priority}")

    @classmethod
    def parse(
        cls,
        text: str,
        category: Category | str = Category.OTHER,
        description: str = "",
        *,
        label: str = "",
        priority: int | None = None,
    ) -> Claim:
        """Build a claim from Android's filter notation: ``A0000000041010``, ``F0010203*``, ``…#``."""
        aid, kind = parse_aid_filter(text)
        return cls(aid, Category(category), description, kind, label, priority)

    @property
    def filter(self) -> str:
        """Android's notation: upper-case hex plus ``*``/``#``."""
        return self.aid.hex().upper() + self.kind.value

    def matches(self, aid: bytes) -> bool:
        """Does a SELECT of the full AID *aid* route to this claim (Android's resolution)?"""
        if self.kind is AidKind.EXACT:
            return aid == self.aid
        if self.kind is AidKind.PREFIX:
            return aid.startswith(self.aid)
        return len(aid) >= MIN_AID_LEN and self.aid.startswith(aid)

    def select_aid(self, name: bytes) -> bytes | None:
        """The AID a SELECT by DF name *name* selects under this claim, or None.

        ISO/IEC 7816-4 SELECT takes a whole DF name or a right-truncated one
        (a *partial name*). The answer is *name* when it is an AID this claim
        routes (Android's resolution, :meth:`matches`); else, when *name* is a
        truncation of this claim's AID, that AID — the exact AID, the longest
        of a ``#`` claim, the shortest of a ``*`` claim. The card lists every
        claim's answer in AID order (:func:`select_order`).
        """
        if len(name) >= MIN_AID_LEN and self.matches(name):
            return self.aid if self.kind is AidKind.EXACT else bytes(name)
        if name and self.aid.startswith(name):
            return self.aid
        return None

    def overlaps(self, other: Claim) -> bool:
        """Could one selected AID route to both claims?"""
        a, b = self, other
        if a.kind is AidKind.EXACT:
            return b.matches(a.aid)
        if b.kind is AidKind.EXACT:
            return a.matches(b.aid)
        if a.kind is AidKind.PREFIX and b.kind is AidKind.PREFIX:
            return a.aid.startswith(b.aid) or b.aid.startswith(a.aid)
        if a.kind is AidKind.SUBSET and b.kind is AidKind.SUBSET:
            common = 0
            for x, y in zip(a.aid, b.aid, strict=False):
                if x != y:
                    break
                common += 1
            return common >= MIN_AID_LEN
        prefix, subset = (a, b) if a.kind is AidKind.PREFIX else (b, a)
        return subset.aid.startswith(prefix.aid)


def parse_aid_filter(text: str) -> tuple[bytes, AidKind]:
    """Validate Android filter notation; return the AID bytes and its kind."""
    if not isinstance(text, str):
        raise ClaimError(f"an AID must be a hex string, got {type(text).__name__}")
    cleaned = text.strip().replace(" ", "").replace(":", "")
    if not re.match(_AID_FILTER, cleaned):
        body = cleaned.rstrip("*#")
        if body and not re.fullmatch(r"[0-9A-Fa-f]*", body):
            raise ClaimError(f"AID {text!r} has non-hex characters")
        if len(body) % 2:
            raise ClaimError(f"AID {text!r} has an odd number of hex digits")
        raise ClaimError(
            f"AID {text!r} is {len(body) // 2} bytes; Android accepts "
            f"{MIN_AID_LEN}–{MAX_AID_LEN} bytes, optionally followed by '*' or '#'"
        )
    kind = AidKind(cleaned[-1]) if cleaned[-1] in "*#" else AidKind.EXACT
    return bytes.fromhex(cleaned.rstrip("*#")), kind


def select_order(name: bytes, routes: Iterable[tuple[str, Claim]]) -> list[tuple[bytes, str, Claim]]:
    """``(selected AID, owner, claim)`` for every claim a SELECT of *name* reaches, in the
    order first/next occurrence walks them: by selected AID (so the whole name, when claimed,
    comes first), then by owner name — the same for every plugin, whatever the load order."""
    found = [(aid, owner, claim) for owner, claim in routes
             if (aid := claim.select_aid(name)) is not None]
    return sorted(found, key=lambda f: (f[0], f[1]))


def find_conflicts(
    owned: Iterable[tuple[str, Claim]],
) -> list[tuple[str, Claim, str, Claim]]:
    """Every pair of claims by *different* owners that overlap (owner = plugin name)."""
    items: Sequence[tuple[str, Claim]] = list(owned)
    found = []
    for i, (owner_a, claim_a) in enumerate(items):
        for owner_b, claim_b in items[i + 1 :]:
            if owner_a != owner_b and claim_a.overlaps(claim_b):
                found.append((owner_a, claim_a, owner_b, claim_b))
    return found


def check_conflicts(owned: Iterable[tuple[str, Claim]]) -> None:
    """Raise :class:`ClaimConflictError` naming both plugins of every conflict."""
    conflicts = find_conflicts(owned)
    if conflicts:
        lines = [
            f"plugin {a!r} claims {ca.filter} and plugin {b!r} claims {cb.filter}"
            for a, ca, b, cb in conflicts
        ]
        raise ClaimConflictError("conflicting AID claims: " + "; ".join(lines))
