"""Loyalty programs held by the card: configuration, personalisation, persistence.

A program is one merchant collector (Smart Tap collector ID) with its
long-term public keys by key version, the member's ID and objects (loyalty
card, offers). Programs live in the plugin's store, so a configured phone
keeps them across restarts; plugin options add programs that are not there
yet. With an empty store and no options, a clearly-labelled TEST program is
personalised (see :mod:`.testkeys`).

Options (``options["loyalty"]``)::

    programs: [ {collector_id: 12345678, name: "Coffee club",
                 merchant_keys: {"1": "<hex SEC1 point or PEM public key>"},
                 member_id: "A-1234", balance: 0, offers: ["10OFF"]} ]
    test_program: true | false     # default: only when nothing else is configured
    wallet_label: "AndroidPay"     # the OSE application label

On the command line ``programs`` is JSON and ``test_program`` text:
``--option 'loyalty.programs=[{"collector_id": 1, ...}]' --option loyalty.test_program=no``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from hcekit.errors import HcekitError
from hcekit.store import PluginStore

from . import assumptions as A
from .crypto import compressed, load_public_key
from .protocol import OfferObject
from .storage import KEY_PROGRAMS
from .testkeys import TEST_COLLECTOR_ID, TEST_KEY_VERSION, TEST_PROGRAM_NAME, load_test_merchant_key

__all__ = ["KEY_PROGRAMS", "Program", "ProgramBook", "ProgramConfigError", "make_test_program",
           "parse_public_key", "program_from_options"]

MAX_COLLECTOR_ID = (1 << 32) - 1


class ProgramConfigError(HcekitError, ValueError):
    """A program option that cannot be used (the message names the field)."""


@dataclass(frozen=True)
class Program:
    collector_id: int
    name: str
    member_id: bytes
    object_id: bytes
    customer_id: bytes
    #: key version → merchant long-term public key (compressed SEC1 point)
    merchant_keys: Mapping[int, bytes]
    offers: tuple[OfferObject, ...] = ()
    test: bool = False

    def merchant_key(self, version: int) -> ec.EllipticCurvePublicKey | None:
        point = self.merchant_keys.get(version)
        return load_public_key(point) if point is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "collector_id": self.collector_id, "name": self.name,
            "member_id": self.member_id.hex(), "object_id": self.object_id.hex(),
            "customer_id": self.customer_id.hex(),
            "merchant_keys": {str(v): k.hex() for v, k in self.merchant_keys.items()},
            "offers": [{"object_id": o.object_id.hex(), "code": o.code.hex()}
                       for o in self.offers],
            "test": self.test,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Program:
        return cls(
            int(data["collector_id"]), str(data["name"]), bytes.fromhex(data["member_id"]),
            bytes.fromhex(data["object_id"]), bytes.fromhex(data["customer_id"]),
            {int(v): bytes.fromhex(k) for v, k in data["merchant_keys"].items()},
            tuple(OfferObject(bytes.fromhex(o["object_id"]), bytes.fromhex(o["code"]))
                  for o in data.get("offers", [])),
            bool(data.get("test", False)),
        )


def parse_public_key(text: str) -> bytes:
    """A merchant public key from hex (SEC1 point) or PEM, as a compressed point."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                raise ProgramConfigError("merchant key must be a P-256 public key")
            return compressed(key)
        return compressed(load_public_key(bytes.fromhex(text)))
    except ProgramConfigError:
        raise
    except ValueError as exc:
        raise ProgramConfigError(f"merchant key is neither a P-256 point nor PEM: {exc}") from None


def _new_member_id() -> bytes:
    return b"TEST-" + str(int.from_bytes(os.urandom(4), "big") % 10**8).zfill(8).encode()


def program_from_options(entry: Mapping[str, Any]) -> tuple[Program, int]:
    try:
        collector = int(entry["collector_id"])
    except (KeyError, TypeError, ValueError):
        raise ProgramConfigError("each program needs an integer collector_id") from None
    if not 0 < collector <= MAX_COLLECTOR_ID:
        raise ProgramConfigError(f"collector_id {collector} does not fit 4 bytes")
    raw_keys = entry.get("merchant_keys")
    if not isinstance(raw_keys, Mapping) or not raw_keys:
        raise ProgramConfigError(f"program {collector}: merchant_keys {{version: key}} missing")
    keys = {}
    for version, text in raw_keys.items():
        try:
            keys[int(version)] = parse_public_key(str(text))
        except (ValueError, ProgramConfigError) as exc:
            raise ProgramConfigError(f"program {collector}, key version {version}: {exc}") from None
    balance = int(entry.get("balance", 0))
    if not 0 <= balance <= A.MAX_POINTS:
        raise ProgramConfigError(f"program {collector}: balance {balance} out of range")
    member = str(entry.get("member_id") or "").encode() or _new_member_id()
    offers = tuple(OfferObject(os.urandom(A.OBJECT_ID_LENGTH), str(code).encode())
                   for code in entry.get("offers", ()))
    program = Program(collector, str(entry.get("name", f"program {collector}")), member,
                      os.urandom(A.OBJECT_ID_LENGTH), os.urandom(A.CUSTOMER_ID_LENGTH),
                      keys, offers, bool(entry.get("test", False)))
    return program, balance


def _flag(value: Any, *, default: bool) -> bool:
    """A boolean option, also as command-line text (true/false, yes/no, 1/0)."""
    if value is None:
        return default
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ProgramConfigError(f"option 'test_program' must be true or false, not {value!r}")
    return bool(value)


def make_test_program() -> Program:
    """The TEST program: public sample collector and key, a random TEST member ID."""
    return Program(
        TEST_COLLECTOR_ID, TEST_PROGRAM_NAME, _new_member_id(),
        os.urandom(A.OBJECT_ID_LENGTH), os.urandom(A.CUSTOMER_ID_LENGTH),
        {TEST_KEY_VERSION: compressed(load_test_merchant_key().public_key())},
        (OfferObject(os.urandom(A.OBJECT_ID_LENGTH), b"TEST-OFFER-10PCT"),), test=True,
    )


class ProgramBook:
    """The programs in one plugin store, plus each program's balance and ledger counter."""

    def __init__(self, store: PluginStore) -> None:
        self.store = store
        self._cache: dict[int, Program] = {}

    def collector_ids(self) -> list[int]:
        return [int(c) for c in self.store.get_json(KEY_PROGRAMS, [])]

    def get(self, collector_id: int) -> Program | None:
        program = self._cache.get(collector_id)
        if program is None:
            data = self.store.get_json(f"program/{collector_id}")
            if data is None:
                return None
            program = self._cache[collector_id] = Program.from_json(data)
        return program

    def all(self) -> list[Program]:
        return [p for c in self.collector_ids() if (p := self.get(c)) is not None]

    def add(self, program: Program, balance: int = 0) -> None:
        """Store a new program with its opening balance (one transaction)."""
        ids = self.collector_ids()
        if program.collector_id in ids:
            raise ProgramConfigError(f"collector {program.collector_id} is already held")
        with self.store.transaction():
            self.store.set_json(f"program/{program.collector_id}", program.to_json())
            self.store.set_int(f"balance/{program.collector_id}", balance)
            self.store.set_int(f"counter/{program.collector_id}", 0)
            self.store.set_json(KEY_PROGRAMS, sorted([*ids, program.collector_id]))
        self._cache[program.collector_id] = program

    def balance(self, collector_id: int) -> int:
        return self.store.get_int(f"balance/{collector_id}")

    def counter(self, collector_id: int) -> int:
        return self.store.get_int(f"counter/{collector_id}")

    def personalise(self, options: Mapping[str, Any]) -> list[Program]:
        """Add the programs named in *options* that the store lacks; the TEST program if
        nothing is configured. Returns the programs added."""
        entries = options.get("programs", ())
        if isinstance(entries, str):  # from the command line: --option loyalty.programs=JSON
            try:
                entries = json.loads(entries)
            except json.JSONDecodeError as exc:
                raise ProgramConfigError(f"option 'programs' is not valid JSON: {exc}") from None
        if not isinstance(entries, Sequence) or isinstance(entries, str | bytes):
            raise ProgramConfigError("option 'programs' must be a list of program tables")
        added: list[Program] = []
        held = set(self.collector_ids())
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise ProgramConfigError("each entry of 'programs' must be a table")
            program, balance = program_from_options(entry)
            if program.collector_id in held:
                continue  # keep the stored program and its ledger untouched
            self.add(program, balance)
            held.add(program.collector_id)
            added.append(program)
        wants_test = _flag(options.get("test_program"), default=not held)
        if wants_test and TEST_COLLECTOR_ID not in held:
            program = make_test_program()
            self.add(program)
            added.append(program)
        return added
