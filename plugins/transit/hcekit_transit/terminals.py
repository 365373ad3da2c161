"""Transit terminals: gate validator, top-up machine, inspector — and the demo flow.

Each flow is a function over a :class:`~hcekit_transit.reader.DesfireReader`
(usable from tests and benchmarks) plus a :class:`TerminalScript` wrapper for
``hcekit demo`` / ``hcekit tap``. Script options (``--script-option`` or
``ScriptContext.options``): ``keys`` (issuer key file; default the TEST
keys), ``station``, ``direction`` (``in``/``out``/``auto``), ``time`` (unix
seconds; default now), ``hotlist`` (comma-separated card numbers the gate
blocks), ``amount`` (top-up, minor units).

A fare transaction is one DESFire transaction: debit, trip state and log
record land together on CommitTransaction, or not at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, cast

from hcekit.terminal import ScriptContext, ScriptOptionError, TerminalScript

from .fares import ANTI_PASSBACK_SECONDS, BASE_FARE, MAX_FARE, STATIONS, fare, station
from .keys import IssuerKeys
from .layout import (
    FILE_CARD_INFO,
    FILE_CONTRACTS,
    FILE_LOG,
    FILE_PURSE,
    FILE_TRIP,
    TRANSIT_AID,
    TRANSIT_DF_NAME,
)
from .model import CommMode
from .reader import DesfireReader, ReaderError
from .records import (
    LOG_RECORD_SIZE,
    CardInfo,
    CardStatus,
    Contract,
    LogRecord,
    LogType,
    TripState,
    decode_contracts,
)
from .status import DfStatus

__all__ = ["Direction", "GateResult", "gate_tap", "top_up", "inspect", "CardReport", "SCRIPTS", "keys_from"]

Direction = Literal["in", "out", "auto"]


def _date(now: int) -> int:
    t = time.gmtime(now)
    return t.tm_year * 10000 + t.tm_mon * 100 + t.tm_mday


@dataclass(frozen=True)
class GateResult:
    accepted: bool
    reason: str
    direction: str
    charged: int
    balance: int
    counter: int


def _open(reader: DesfireReader) -> tuple[bytes, CardInfo, list[Contract]]:
    reader.select(TRANSIT_DF_NAME)
    uid = reader.uid()
    info = CardInfo.decode(reader.read_data(FILE_CARD_INFO, 0, 0, CommMode.PLAIN))
    contracts = decode_contracts(reader.read_data(FILE_CONTRACTS, 0, 0, CommMode.PLAIN))
    return uid, info, contracts


def gate_tap(reader: DesfireReader, keys: IssuerKeys, station_no: int, now: int,
             direction: Direction = "auto", hotlist: frozenset[int] = frozenset()) -> GateResult:
    """One tap at a gate: checks, fare, and one committed transaction (or none).

    A card whose number is on *hotlist* is blocked on the spot (its card info
    rewritten, MACed with the validator key) and refused.
    """
    here = station(station_no)
    uid, info, contracts = _open(reader)

    def refuse(reason: str, balance: int = 0, counter: int = 0, way: str = "-") -> GateResult:
        return GateResult(False, reason, way, 0, balance, counter)

    if info.status is CardStatus.BLOCKED:
        return refuse("card blocked")
    if info.expiry < _date(now):
        return refuse("card expired")
    reader.authenticate(1, keys.role_key("validator", uid, TRANSIT_AID))
    if info.card_number in hotlist:
        blocked = CardInfo(info.card_number, CardStatus.BLOCKED, info.expiry, info.version)
        reader.write_data(FILE_CARD_INFO, 0, blocked.encode(), CommMode.MACED)
        return refuse("card hotlisted: blocked now")
    trip = TripState.decode(reader.read_data(FILE_TRIP, 0, 0, CommMode.MACED))
    balance = reader.get_value(FILE_PURSE, CommMode.MACED)
    if trip.last_station == station_no and 0 <= now - trip.last_time < ANTI_PASSBACK_SECONDS:
        return refuse("repeated tap (anti-passback)", balance, trip.counter)
    way = ("out" if trip.in_trip else "in") if direction == "auto" else direction
    today = _date(now)
    if way == "in":
        charge = MAX_FARE if trip.in_trip else 0  # the last journey never tapped out
        covered = any(c.covers(here.zone, here.zone, today) for c in contracts)
        if not covered and balance - charge < BASE_FARE:
            return refuse("insufficient funds", balance, trip.counter, way)
        new_trip = TripState(True, station_no, now, station_no, now, trip.counter + 1)
        kind = LogType.PENALTY if charge else LogType.TAP_IN
    else:
        if trip.in_trip:
            entry = station(trip.entry_station)
            covered = any(c.covers(entry.zone, here.zone, today) for c in contracts)
            charge = 0 if covered else fare(trip.entry_station, station_no)
        else:
            charge = MAX_FARE  # no tap-in on record
        new_trip = TripState(False, 0, 0, station_no, now, trip.counter + 1)
        kind = LogType.TAP_OUT
    try:
        if charge:
            reader.debit(FILE_PURSE, charge, CommMode.MACED)
    except ReaderError as exc:
        if exc.status == DfStatus.BOUNDARY_ERROR:
            return refuse("insufficient funds", balance, trip.counter, way)
        raise
    record = LogRecord(kind, station_no, now, -charge, balance - charge, new_trip.counter)
    reader.write_data(FILE_TRIP, 0, new_trip.encode(), CommMode.MACED)
    reader.write_record(FILE_LOG, 0, record.encode(), CommMode.MACED)
    reader.commit()
    return GateResult(True, "ok", way, charge, balance - charge, new_trip.counter)


def top_up(reader: DesfireReader, keys: IssuerKeys, amount: int, now: int) -> int:
    """Credit *amount* and log it in one transaction; the new balance."""
    if amount <= 0:
        raise ValueError("a top-up amount is positive")
    uid, _, _ = _open(reader)
    reader.authenticate(2, keys.role_key("topup", uid, TRANSIT_AID))
    balance = reader.get_value(FILE_PURSE, CommMode.MACED)
    reader.credit(FILE_PURSE, amount, CommMode.MACED)
    record = LogRecord(LogType.TOP_UP, 0, now, amount, balance + amount, 0)
    reader.write_record(FILE_LOG, 0, record.encode(), CommMode.MACED)
    reader.commit()
    return balance + amount


@dataclass(frozen=True)
class CardReport:
    uid: bytes
    info: CardInfo
    contracts: list[Contract]
    balance: int
    trip: TripState
    log: list[LogRecord]


def inspect(reader: DesfireReader, keys: IssuerKeys) -> CardReport:
    """Read-only: everything an inspector sees (authenticated with the inspector key)."""
    uid, info, contracts = _open(reader)
    balance = reader.get_value(FILE_PURSE, CommMode.PLAIN)
    reader.authenticate(3, keys.role_key("inspector", uid, TRANSIT_AID))
    trip = TripState.decode(reader.read_data(FILE_TRIP, 0, 0, CommMode.MACED))
    try:
        raw = reader.read_records(FILE_LOG, LOG_RECORD_SIZE, CommMode.MACED)
    except ReaderError as exc:
        if exc.status != DfStatus.BOUNDARY_ERROR:  # an empty log answers BOUNDARY_ERROR
            raise
        raw = []
    return CardReport(uid, info, contracts, balance, trip, [LogRecord.decode(r) for r in raw])


# -- printing -------------------------------------------------------------------------------


def _money(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def _when(t: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) if t else "-"


def print_report(ctx: ScriptContext, report: CardReport) -> None:
    ctx.echo(f"card {report.info.card_number} (UID {report.uid.hex().upper()}), "
             f"{report.info.status.name.lower()}, valid until {report.info.expiry}")
    ctx.echo(f"balance {_money(report.balance)}; transactions {report.trip.counter}; "
             + (f"in trip since {station(report.trip.entry_station).name} "
                f"{_when(report.trip.entry_time)}" if report.trip.in_trip else "not in a trip"))
    for c in report.contracts:
        ctx.echo(f"contract: zones {c.zone_from}-{c.zone_to}, {c.valid_from}..{c.valid_until}")
    if not report.contracts:
        ctx.echo("contracts: none")
    ctx.echo(f"log ({len(report.log)} records, newest last):")
    for r in report.log:
        where = station(r.station).name if r.station else "top-up machine"
        ctx.echo(f"  #{r.counter:<4} {_when(r.time)}  {r.type.name:<8} {where:<14} "
                 f"{_money(r.amount):>8}  balance {_money(r.balance)}")


def _print_gate(ctx: ScriptContext, station_no: int, result: GateResult) -> None:
    name = station(station_no).name
    if result.accepted:
        ctx.echo(f"gate {name}: OPEN — tap-{result.direction}, charged {_money(result.charged)}, "
                 f"balance {_money(result.balance)}")
    else:
        ctx.echo(f"gate {name}: CLOSED — {result.reason}")


# -- scripts -----------------------------------------------------------------------------------


def keys_from(ctx: ScriptContext) -> IssuerKeys:
    """``keys=PATH`` option, an ``IssuerKeys`` in ``ctx.extras['keys']``, else TEST keys."""
    extra = ctx.extras.get("keys")
    if isinstance(extra, IssuerKeys):
        return extra
    path = ctx.path("keys")
    if path is None:
        return IssuerKeys.test_keys()
    try:
        return IssuerKeys.load(path)
    except (ValueError, OSError) as exc:
        raise ScriptOptionError(f"option keys={path}: {exc}") from None


#: Timestamps are stored as 32-bit unsigned seconds; a DESFire value file holds a signed int32.
MAX_UNIX_TIME = 2**32 - 1
MAX_TOPUP = 2**31 - 1


def _now(ctx: ScriptContext) -> int:
    return ctx.integer("time", int(time.time()), minimum=0, maximum=MAX_UNIX_TIME)


def _station(ctx: ScriptContext) -> int:
    raw = ctx.options.get("station", "1")
    by_name = {s.name.lower(): n for n, s in STATIONS.items()}
    if raw.strip().lower() in by_name:
        return by_name[raw.strip().lower()]
    number = ctx.integer("station", 1)
    if number not in STATIONS:
        known = ", ".join(f"{n} {s.name}" for n, s in sorted(STATIONS.items()))
        raise ScriptOptionError(f"option station={raw}: unknown station (known: {known})")
    return number


def _hotlist(ctx: ScriptContext) -> frozenset[int]:
    try:
        return frozenset(int(n, 0) for n in ctx.listing("hotlist"))
    except ValueError:
        raise ScriptOptionError(
            f"option hotlist={ctx.options['hotlist']!r}: card numbers, comma-separated") from None


def _run_gate(ctx: ScriptContext) -> int:
    station_no = _station(ctx)
    way = cast(Direction, ctx.choice("direction", ("in", "out", "auto"), "auto"))
    hotlist = _hotlist(ctx)
    result = gate_tap(DesfireReader(ctx.terminal), keys_from(ctx), station_no, _now(ctx),
                      way, hotlist)
    _print_gate(ctx, station_no, result)
    return 0 if result.accepted else 1


def _run_topup(ctx: ScriptContext) -> int:
    amount = ctx.integer("amount", 1000, minimum=1, maximum=MAX_TOPUP)
    try:
        balance = top_up(DesfireReader(ctx.terminal), keys_from(ctx), amount, _now(ctx))
    except ReaderError as exc:
        if exc.status == DfStatus.BOUNDARY_ERROR:
            ctx.echo(f"top-up of {_money(amount)} refused: the purse limit would be exceeded")
            return 1
        raise
    ctx.echo(f"topped up {_money(amount)}; balance {_money(balance)}")
    return 0


def _run_inspect(ctx: ScriptContext) -> int:
    print_report(ctx, inspect(DesfireReader(ctx.terminal), keys_from(ctx)))
    return 0


def _run_demo(ctx: ScriptContext) -> int:
    """Inspect, tap in, tap again (refused), tap out, inspect: one commute on the demo card."""
    keys = keys_from(ctx)
    term = ctx.terminal
    start = _now(ctx)
    reader = DesfireReader(term)
    ctx.echo("-- inspector, before --")
    print_report(ctx, inspect(reader, keys))
    steps = [(1, start, "tap in at Central"), (1, start + 10, "tap again at once (anti-passback)"),
             (4, start + 1800, "tap out at Airport, 30 minutes later")]
    outcomes = []
    for station_no, now, label in steps:
        term.disconnect()  # each tap is its own presentation of the card
        term.connect()
        ctx.echo(f"-- {label} --")
        result = gate_tap(reader, keys, station_no, now)
        _print_gate(ctx, station_no, result)
        outcomes.append(result.accepted)
    term.disconnect()
    term.connect()
    ctx.echo("-- inspector, after --")
    print_report(ctx, inspect(reader, keys))
    return 0 if outcomes == [True, False, True] else 1


_KEYS_HELP = "issuer key file (hcekit transit keygen); default: the TEST keys"
_TIME_HELP = "the terminal's clock, Unix seconds (default: now)"

SCRIPTS = (
    TerminalScript("transit-demo", "a commute on the demo card: inspect, tap in, repeated tap "
                   "refused, tap out with fare, inspect (TEST keys)", _run_demo, demo=True,
                   options={"keys": _KEYS_HELP, "time": _TIME_HELP}),
    TerminalScript("transit-gate", "gate validator: tap in/out with fare, anti-passback, blocked "
                   "cards", _run_gate,
                   options={"station": "station number or name (default 1)",
                            "direction": "in, out or auto (default auto)",
                            "hotlist": "blocked card numbers, comma-separated",
                            "time": _TIME_HELP, "keys": _KEYS_HELP}),
    TerminalScript("transit-topup", "top-up machine: credit the purse", _run_topup,
                   options={"amount": "minor units to credit (default 1000)",
                            "time": _TIME_HELP, "keys": _KEYS_HELP}),
    TerminalScript("transit-inspect", "inspector: balance, contracts, trip and log, read-only",
                   _run_inspect, options={"keys": _KEYS_HELP}),
)
