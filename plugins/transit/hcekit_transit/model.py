"""The DESFire object model: PICC, applications, keys, files — immutable values.

Every change builds new objects (``_replace``); the engine writes
the new application to the store inside one transaction and only then swaps
it in, so memory and store never disagree and a torn write leaves the old
state. Multi-byte numbers follow DESFire: little-endian on the wire.

The values are ``NamedTuple`` classes rather than frozen dataclasses: the card
builds this module on every cold start, and a named tuple class is created
several times faster (one generated function instead of six; issue 29).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NamedTuple

__all__ = [
    "CommMode", "FileType", "AccessRights", "DataFile", "ValueFile", "RecordFile", "DesfireFile",
    "Application", "Picc", "FREE", "NEVER", "PICC_AID", "KEY_TYPE_AES",
    "app_to_json", "app_from_json", "picc_to_json", "picc_from_json",
]

#: Access-right nibble: no authentication needed.
FREE = 0xE
#: Access-right nibble: never allowed.
NEVER = 0xF
#: The PICC level is application 000000.
PICC_AID = b"\x00\x00\x00"
#: Key type bits (byte 2 of CreateApplication / GetKeySettings): AES-128.
KEY_TYPE_AES = 0x80
KEY_TYPE_MASK = 0xC0


class CommMode(IntEnum):
    """File communication settings (bit 0: MACed, bits 0+1: fully enciphered)."""

    PLAIN = 0x00
    MACED = 0x01
    FULL = 0x03

    @classmethod
    def decode(cls, value: int) -> CommMode:
        if value & ~0x03:
            raise ValueError(f"communication settings {value:#04x} has reserved bits set")
        return cls.FULL if value == 0x03 else cls.MACED if value == 0x01 else cls.PLAIN


class FileType(IntEnum):
    STANDARD = 0x00
    BACKUP = 0x01
    VALUE = 0x02
    LINEAR_RECORD = 0x03
    CYCLIC_RECORD = 0x04


class AccessRights(NamedTuple):
    """Four key numbers (0..D), FREE (E) or NEVER (F); wire form 2 bytes little-endian."""

    read: int
    write: int
    read_write: int
    change: int

    @classmethod
    def decode(cls, raw: bytes) -> AccessRights:
        v = int.from_bytes(raw, "little")
        return cls((v >> 12) & 0xF, (v >> 8) & 0xF, (v >> 4) & 0xF, v & 0xF)

    def encode(self) -> bytes:
        v = (self.read << 12) | (self.write << 8) | (self.read_write << 4) | self.change
        return v.to_bytes(2, "little")


class DataFile(NamedTuple):
    """Standard (written at once) or backup (written on commit) data file."""

    type: FileType
    comm: CommMode
    access: AccessRights
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


class ValueFile(NamedTuple):
    """Value file: a bounded counter with credit, debit and limited credit."""

    comm: CommMode
    access: AccessRights
    lower: int
    upper: int
    value: int
    limited_credit_enabled: bool = False
    free_get_value: bool = False
    #: How much LimitedCredit may give back (the debits of the last committed transaction).
    limited_credit_value: int = 0
    type: FileType = FileType.VALUE


class RecordFile(NamedTuple):
    """Linear or cyclic record file; ``records`` oldest first."""

    type: FileType
    comm: CommMode
    access: AccessRights
    record_size: int
    max_records: int
    records: tuple[bytes, ...] = ()

    @property
    def capacity(self) -> int:
        """Records a reader can see: a cyclic file keeps one of ``max_records`` spare (EV1)."""
        return self.max_records - 1 if self.type is FileType.CYCLIC_RECORD else self.max_records


DesfireFile = DataFile | ValueFile | RecordFile


class Application(NamedTuple):
    """One DESFire application: its keys, settings, files and ISO DF name."""

    aid: bytes
    key_settings: int
    keys: tuple[bytes, ...]
    key_versions: tuple[int, ...]
    files: dict[int, DesfireFile]
    df_name: bytes = b""

    @property
    def key_count(self) -> int:
        return len(self.keys)


class Picc(NamedTuple):
    """PICC level: the card master key and the card identity."""

    uid: bytes
    master_key: bytes
    master_key_version: int
    key_settings: int


# -- JSON forms (hex inside JSON: the store is an edge) ----------------------------------


def _access_json(a: AccessRights) -> str:
    return a.encode().hex()


def _file_to_json(f: DesfireFile) -> dict[str, Any]:
    base: dict[str, Any] = {"type": int(f.type), "comm": int(f.comm), "access": _access_json(f.access)}
    if isinstance(f, DataFile):
        base["data"] = f.data.hex()
    elif isinstance(f, ValueFile):
        base.update(lower=f.lower, upper=f.upper, value=f.value,
                    lc=f.limited_credit_enabled, free_get=f.free_get_value,
                    lc_value=f.limited_credit_value)
    else:
        base.update(record_size=f.record_size, max_records=f.max_records,
                    records=[r.hex() for r in f.records])
    return base


def _file_from_json(d: dict[str, Any]) -> DesfireFile:
    ftype = FileType(d["type"])
    comm = CommMode(d["comm"])
    access = AccessRights.decode(bytes.fromhex(d["access"]))
    if ftype in (FileType.STANDARD, FileType.BACKUP):
        return DataFile(ftype, comm, access, bytes.fromhex(d["data"]))
    if ftype is FileType.VALUE:
        return ValueFile(comm, access, d["lower"], d["upper"], d["value"], d["lc"],
                         d["free_get"], d["lc_value"])
    return RecordFile(ftype, comm, access, d["record_size"], d["max_records"],
                      tuple(bytes.fromhex(r) for r in d["records"]))


def app_to_json(app: Application) -> dict[str, Any]:
    return {
        "aid": app.aid.hex(),
        "key_settings": app.key_settings,
        "keys": [k.hex() for k in app.keys],
        "key_versions": list(app.key_versions),
        "files": {str(fid): _file_to_json(f) for fid, f in sorted(app.files.items())},
        "df_name": app.df_name.hex(),
    }


def app_from_json(d: dict[str, Any]) -> Application:
    return Application(
        aid=bytes.fromhex(d["aid"]),
        key_settings=d["key_settings"],
        keys=tuple(bytes.fromhex(k) for k in d["keys"]),
        key_versions=tuple(d["key_versions"]),
        files={int(fid): _file_from_json(f) for fid, f in d["files"].items()},
        df_name=bytes.fromhex(d.get("df_name", "")),
    )


def picc_to_json(p: Picc) -> dict[str, Any]:
    return {"uid": p.uid.hex(), "master_key": p.master_key.hex(),
            "master_key_version": p.master_key_version, "key_settings": p.key_settings}


def picc_from_json(d: dict[str, Any]) -> Picc:
    return Picc(bytes.fromhex(d["uid"]), bytes.fromhex(d["master_key"]),
                d["master_key_version"], d["key_settings"])
