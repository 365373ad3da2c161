"""The TEST certification authority and the CA public keys (CAPK) terminals load.

Its private key ships in ``test_ca.json`` on purpose: every hcekit card's
issuer certificate chains to the same CAPK, so a terminal tester loads it
once (``hcekit payment capk``) and tests any card. Anyone can sign with it;
a terminal that accepts live cards must never hold it. The same key is
offered under each brand's RID, the way a terminal files CAPKs (RID + index).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from . import assumptions
from .rsa_recovery import modulus_length

__all__ = ["Capk", "ca_key", "capks", "capks_json", "capks_table"]


@cache
def _ca_file() -> dict[str, Any]:
    from importlib import resources  # imports tempfile, shutil, lzma…: only when read

    text = resources.files(__package__).joinpath("test_ca.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def ca_key() -> rsa.RSAPrivateKey:
    """The TEST CA private key (public knowledge: see this module's docstring)."""
    key = load_pem_private_key(_ca_file()["private_key_pem"].encode("ascii"), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@dataclass(frozen=True)
class Capk:
    """One CA public key as a terminal stores it (EMV Book 2 §11.2.2, Table 23)."""

    rid: bytes
    index: int
    modulus: bytes
    exponent: bytes
    expiry: str  # YYYYMMDD

    @property
    def check_value(self) -> bytes:
        """SHA-1 over RID || index || modulus || exponent."""
        digest = hashes.Hash(hashes.SHA1())
        digest.update(self.rid + bytes((self.index,)) + self.modulus + self.exponent)
        return digest.finalize()

    def as_json(self) -> dict[str, Any]:
        return {"rid": self.rid.hex().upper(), "index": f"{self.index:02X}",
                "hash_algorithm": "01", "pk_algorithm": "01",
                "modulus_length": len(self.modulus), "modulus": self.modulus.hex().upper(),
                "exponent": self.exponent.hex().upper(),
                "check_value": self.check_value.hex().upper(), "expiry": self.expiry,
                "test_only": True}


def capks() -> list[Capk]:
    """The TEST CAPK under every RID this card issues for."""
    numbers = ca_key().public_key().public_numbers()
    modulus = numbers.n.to_bytes(modulus_length(ca_key()), "big")
    exponent = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    return [Capk(rid, assumptions.CA_INDEX, modulus, exponent, _ca_file()["expiry"])
            for rid in assumptions.BRAND_RIDS]


def capks_json() -> str:
    """The export as JSON: a list of CAPK objects, hex strings, ``test_only`` true."""
    return json.dumps({"warning": _ca_file()["warning"],
                       "capks": [c.as_json() for c in capks()]}, indent=2)


def capks_table() -> list[str]:
    """The export as the usual text table, one key per block."""
    lines = [f"# {_ca_file()['warning']}"]
    for capk in capks():
        lines += [
            f"RID          {capk.rid.hex().upper()}",
            f"Index        {capk.index:02X}",
            "Hash/PK alg  01/01 (SHA-1, RSA)",
            f"Exponent     {capk.exponent.hex().upper()}",
            f"Modulus      {len(capk.modulus)} bytes",
            *(f"  {capk.modulus[i:i + 32].hex().upper()}" for i in range(0, len(capk.modulus), 32)),
            f"Check value  {capk.check_value.hex().upper()}",
            f"Expiry       {capk.expiry}",
            "",
        ]
    return lines
