"""The transit application's file contents: fixed binary layouts, big-endian inside.

(DESFire's own numbers — offsets, lengths, values — are little-endian on the
wire; these layouts are the transit scheme's, chosen here and documented in
docs/transit.md.)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

__all__ = ["CardStatus", "CardInfo", "TripState", "LogType", "LogRecord", "Contract",
           "CARD_INFO_SIZE", "TRIP_SIZE", "LOG_RECORD_SIZE", "CONTRACT_SIZE", "CONTRACT_SLOTS",
           "decode_contracts", "encode_contracts"]

CARD_INFO_SIZE = 16
TRIP_SIZE = 32
LOG_RECORD_SIZE = 20
CONTRACT_SIZE = 16
CONTRACT_SLOTS = 2


class CardStatus(IntEnum):
    ACTIVE = 0
    BLOCKED = 1


@dataclass(frozen=True)
class CardInfo:
    """File 00: who the card is. Read freely; written with the application master key."""

    card_number: int
    status: CardStatus = CardStatus.ACTIVE
    expiry: int = 20991231  # YYYYMMDD
    version: int = 1

    _FMT = ">BBIQ"

    def encode(self) -> bytes:
        raw = struct.pack(self._FMT, self.version, self.status, self.expiry, self.card_number)
        return raw.ljust(CARD_INFO_SIZE, b"\x00")

    @classmethod
    def decode(cls, raw: bytes) -> CardInfo:
        version, status, expiry, number = struct.unpack_from(cls._FMT, raw)
        return cls(number, CardStatus(status), expiry, version)


@dataclass(frozen=True)
class TripState:
    """File 01 (backup file): the journey in progress, anti-passback data, the counter."""

    in_trip: bool = False
    entry_station: int = 0
    entry_time: int = 0
    last_station: int = 0
    last_time: int = 0
    #: Committed fare transactions of this card (the transaction counter).
    counter: int = 0

    _FMT = ">BHIHII"

    def encode(self) -> bytes:
        raw = struct.pack(self._FMT, self.in_trip, self.entry_station, self.entry_time,
                          self.last_station, self.last_time, self.counter)
        return raw.ljust(TRIP_SIZE, b"\x00")

    @classmethod
    def decode(cls, raw: bytes) -> TripState:
        in_trip, entry, entry_t, last, last_t, counter = struct.unpack_from(cls._FMT, raw)
        return cls(bool(in_trip), entry, entry_t, last, last_t, counter)


class LogType(IntEnum):
    TAP_IN = 1
    TAP_OUT = 2
    TOP_UP = 3
    PENALTY = 4


@dataclass(frozen=True)
class LogRecord:
    """File 03 (cyclic record file): one committed transaction."""

    type: LogType
    station: int
    time: int
    amount: int
    balance: int
    counter: int

    _FMT = ">BHIiiI"

    def encode(self) -> bytes:
        raw = struct.pack(self._FMT, self.type, self.station, self.time, self.amount,
                          self.balance, self.counter)
        return raw.ljust(LOG_RECORD_SIZE, b"\x00")

    @classmethod
    def decode(cls, raw: bytes) -> LogRecord:
        t, station, time, amount, balance, counter = struct.unpack_from(cls._FMT, raw)
        return cls(LogType(t), station, time, amount, balance, counter)


@dataclass(frozen=True)
class Contract:
    """A zone pass: free travel between zones ``zone_from``..``zone_to`` in its validity."""

    zone_from: int
    zone_to: int
    valid_from: int  # YYYYMMDD
    valid_until: int  # YYYYMMDD
    kind: int = 1

    _FMT = ">BBBII"

    def encode(self) -> bytes:
        raw = struct.pack(self._FMT, self.kind, self.zone_from, self.zone_to, self.valid_from,
                          self.valid_until)
        return raw.ljust(CONTRACT_SIZE, b"\x00")

    @classmethod
    def decode(cls, raw: bytes) -> Contract | None:
        kind, zf, zt, vf, vu = struct.unpack_from(cls._FMT, raw)
        return None if kind == 0 else cls(zf, zt, vf, vu, kind)

    def covers(self, zone_a: int, zone_b: int, date: int) -> bool:
        return self.valid_from <= date <= self.valid_until and \
            self.zone_from <= min(zone_a, zone_b) and max(zone_a, zone_b) <= self.zone_to


def encode_contracts(contracts: list[Contract]) -> bytes:
    if len(contracts) > CONTRACT_SLOTS:
        raise ValueError(f"at most {CONTRACT_SLOTS} contracts fit on the card")
    body = b"".join(c.encode() for c in contracts)
    return body.ljust(CONTRACT_SIZE * CONTRACT_SLOTS, b"\x00")


def decode_contracts(raw: bytes) -> list[Contract]:
    found = (Contract.decode(raw[i:i + CONTRACT_SIZE]) for i in range(0, len(raw), CONTRACT_SIZE))
    return [c for c in found if c is not None]
