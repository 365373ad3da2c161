"""Issuer master keys and the per-card keys diversified from them (AN10922).

The issuer holds five AES-128 master keys, one per role. A card never holds
them: personalisation stores only keys diversified with the card's UID, the
application ID and the system identifier, and a terminal re-derives the one
key its role needs after reading the UID. Keys never reach logs: ``repr``
and ``str`` redact them.

With no keys configured, hcekit uses the **TEST** key set: derived from a
published label, so anyone can compute them. They exist so ``hcekit demo``
works out of the box and must never protect real value.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

from .crypto import diversify_key

__all__ = ["IssuerKeys", "ROLE_KEY_NUMBERS", "SYSTEM_IDENTIFIER", "TEST_KEY_LABEL"]

#: AN10922 system identifier appended to the diversification input.
SYSTEM_IDENTIFIER = b"HCEKIT"
TEST_KEY_LABEL = b"hcekit transit TEST key - publicly known, never use in production: "
#: Application key number of each application role.
ROLE_KEY_NUMBERS = {"app_master": 0, "validator": 1, "topup": 2, "inspector": 3}


@dataclass(frozen=True, repr=False)
class IssuerKeys:
    """The issuer's five AES-128 keys for one card: the PICC master and the application's four roles."""

    picc: bytes
    app_master: bytes
    validator: bytes
    topup: bytes
    inspector: bytes
    #: True for the publicly known TEST keys.
    test: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "test" and (not isinstance(value, bytes) or len(value) != 16):
                raise ValueError(f"issuer key {f.name!r} must be 16 bytes (AES-128)")

    def __repr__(self) -> str:
        return f"IssuerKeys({'TEST' if self.test else 'issuer'} keys, redacted)"

    __str__ = __repr__

    @classmethod
    def test_keys(cls) -> IssuerKeys:
        """The clearly labelled, publicly derivable TEST key set."""
        def derive(role: str) -> bytes:
            return hashlib.sha256(TEST_KEY_LABEL + role.encode()).digest()[:16]
        return cls(derive("picc"), derive("app_master"), derive("validator"), derive("topup"),
                   derive("inspector"), test=True)

    @classmethod
    def generate(cls) -> IssuerKeys:
        """A fresh random issuer key set."""
        return cls(os.urandom(16), os.urandom(16), os.urandom(16), os.urandom(16),
                   os.urandom(16))

    @classmethod
    def load(cls, path: str | Path) -> IssuerKeys:
        """Read a key file (JSON object role → 32 hex digits)."""
        raw = json.loads(Path(path).read_text())
        try:
            k = [bytes.fromhex(raw[name]) for name in
                 ("picc", "app_master", "validator", "topup", "inspector")]
            return cls(k[0], k[1], k[2], k[3], k[4], test=bool(raw.get("test", False)))
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: not an hcekit transit key file ({type(exc).__name__})") \
                from None

    def save(self, path: str | Path) -> None:
        """Write a key file readable by the owner only."""
        body: dict[str, str | bool] = {
            f.name: getattr(self, f.name).hex() for f in fields(self) if f.name != "test"}
        body["test"] = self.test
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(body, fh, indent=2)

    # -- per-card keys ----------------------------------------------------------------

    def picc_key(self, uid: bytes) -> bytes:
        return diversify_key(self.picc, uid, b"\x00\x00\x00", SYSTEM_IDENTIFIER)

    def role_key(self, role: str, uid: bytes, aid: bytes) -> bytes:
        """The card key of *role* ("app_master", "validator", "topup", "inspector")."""
        if role not in ROLE_KEY_NUMBERS:
            raise ValueError(f"unknown key role {role!r}")
        master: bytes = getattr(self, role)
        return diversify_key(master, uid, aid, SYSTEM_IDENTIFIER)

    def application_keys(self, uid: bytes, aid: bytes) -> tuple[bytes, ...]:
        """Keys 0..3 of the transit application on the card with *uid*."""
        ordered = sorted(ROLE_KEY_NUMBERS, key=ROLE_KEY_NUMBERS.__getitem__)
        return tuple(self.role_key(role, uid, aid) for role in ordered)
