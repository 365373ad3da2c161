"""The demo network and its fare rules (zones, a flat base, a per-zone step).

Amounts are integer minor units (cents). The validator asks :func:`fare`
for an exit and :data:`MAX_FARE` when a journey has no exit.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Station", "STATIONS", "fare", "MAX_FARE", "BASE_FARE", "ZONE_STEP",
           "ANTI_PASSBACK_SECONDS", "station"]

BASE_FARE = 150
ZONE_STEP = 60
ANTI_PASSBACK_SECONDS = 120


@dataclass(frozen=True)
class Station:
    number: int
    name: str
    zone: int


STATIONS = {s.number: s for s in (
    Station(1, "Central", 1),
    Station(2, "Harbour", 1),
    Station(3, "University", 2),
    Station(4, "Airport", 3),
)}


def station(number: int) -> Station:
    try:
        return STATIONS[number]
    except KeyError:
        raise ValueError(f"unknown station {number} (known: {sorted(STATIONS)})") from None


def fare(entry: int, exit_: int) -> int:
    """Base fare plus one step per zone boundary crossed."""
    return BASE_FARE + ZONE_STEP * abs(station(entry).zone - station(exit_).zone)


_ZONES = [s.zone for s in STATIONS.values()]
MAX_FARE = BASE_FARE + ZONE_STEP * (max(_ZONES) - min(_ZONES))
