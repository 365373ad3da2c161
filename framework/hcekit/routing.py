"""The routing rules as data: state × command kind → effect, first matching row wins.

The router (:class:`hcekit.router.Router`) runs :data:`RAW_ROWS` on the bytes
while a raw application is registered, then :data:`ROWS` on the parsed
command; an effect that hands the command on (a dropped response, a
reassembled chain) looks the command up again in the state it left. The
tables below are rendered from the rows (:func:`render`), and
``docs/architecture.md`` shows the same rendering; tests check both.

Raw route (only while a raw application is registered; on the bytes):

========================  ===================================  ==============================================
state                     command                              effect
========================  ===================================  ==============================================
any                       routing SELECT, a raw claim matches  raw app selected (old deselected), bytes to it
raw application selected  routing SELECT, no claim matches     6A82, selection unchanged
raw application selected  anything but a routing SELECT        bytes to it, its bytes back
any                       any other bytes                      parsed, then the ISO rows
========================  ===================================  ==============================================

ISO/IEC 7816-4 rows (on the parsed command):

====================  =========================  ============================================================
state                 command                    effect
====================  =========================  ============================================================
any                   unparseable bytes          6700 (or the precise SW)
any                   CLA FF                     6E00
any                   logical channel ≠ 0        6881
response pending      GET RESPONSE (INS C0)      next chunk, 61xx or the final SW
response pending      anything else              pending data dropped, routed again
chain in progress     CLA b5 (chaining) set      part buffered, 9000 (new INS/P1/P2: 6883)
chain in progress     proprietary CLA (b8 set)   chain dropped, routed again
chain in progress     SELECT by DF name (P1 04)  its last part: reassembled; else chain dropped, routed again
chain in progress     last part (CLA b5 clear)   reassembled, routed again (new INS/P1/P2: 6883)
any                   CLA b5 (chaining) set      part buffered, 9000 (new INS/P1/P2: 6883)
any                   SELECT by DF name (P1 04)  app selected, old one deselected; or 6A82
nothing selected      any other command          6F00 (as Android answers)
application selected  any other command          the plugin's hcekit_process
====================  =========================  ============================================================

A SELECT by DF name that is not the chain's last part (another INS/P1/P2)
ends an unfinished command chain and is answered: a reader that gave up a
chain starts over with SELECT. ISO/IEC 7816-4 names 6883 ("last command of
the chain expected") for a command that breaks a chain without obliging a
card to refuse a new selection, and a Java Card runtime handles an applet
SELECT itself before any applet's chaining logic sees it (Java Card Runtime
Environment specification 4.5.2). Any other command still gets 6883.

A *routing SELECT* is what AOSP's ``HostEmulationManager.findSelectAid``
routes by (:func:`routing_select_aid`). A DF name matches whole or as a
partial name; first/next occurrence (P2) walks the matches in the one order
:func:`hcekit.aid.select_order` defines (AID order, then owner).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import Enum, IntEnum
from typing import Literal, NamedTuple

from .apdu import (
    CLA_CHAINING,
    CLA_INVALID,
    CLA_PROPRIETARY,
    INS_GET_RESPONSE,
    INS_SELECT,
    P1_SELECT_BY_DF_NAME,
)

__all__ = ["CLA_NOT_BASIC", "RAW_ROWS", "ROWS", "Effect", "Kind", "KindSet", "RawKind", "Row",
           "Selection", "StateSet", "Transfer", "compile_rows", "kind_of", "render",
           "routing_select_aid"]


class Selection(IntEnum):
    """What is selected."""

    NONE = 0
    APP = 1
    RAW = 2


class Transfer(IntEnum):
    """What the command/response assembler holds between two commands."""

    IDLE = 0
    CHAIN = 1  # a command chain in progress
    PENDING = 2  # response data waiting for GET RESPONSE


class Kind(IntEnum):
    """What a parsed command is, for routing (:func:`kind_of`)."""

    UNPARSEABLE = 0
    CLA_FF = 1
    PROPRIETARY = 2
    CHANNEL = 3
    GET_RESPONSE = 4
    SELECT = 5
    OTHER = 6
    GET_RESPONSE_CHAINED = 7
    SELECT_CHAINED = 8
    OTHER_CHAINED = 9


class RawKind(IntEnum):
    """What the bytes are to the raw route."""

    ROUTING_SELECT_RAW = 0  # a routing SELECT a raw claim matches
    ROUTING_SELECT_ISO = 1  # a routing SELECT only an ISO claim matches
    ROUTING_SELECT_UNCLAIMED = 2
    NOT_ROUTING_SELECT = 3


class Effect(Enum):
    """What the router does; the value is what the tables say. The router has a
    method ``_<name lower-cased>`` for each."""

    RAW_SELECT = "raw app selected (old deselected), bytes to it"
    RAW_NOT_FOUND = "6A82, selection unchanged"
    RAW_EXCHANGE = "bytes to it, its bytes back"
    PARSE = "parsed, then the ISO rows"
    ANSWER_ERROR = "6700 (or the precise SW)"
    CLA_NOT_SUPPORTED = "6E00"
    CHANNEL_NOT_SUPPORTED = "6881"
    NEXT_CHUNK = "next chunk, 61xx or the final SW"
    DROP_PENDING = "pending data dropped, routed again"
    BUFFER_PART = "part buffered, 9000 (new INS/P1/P2: 6883)"
    DROP_CHAIN = "chain dropped, routed again"
    REASSEMBLE = "reassembled, routed again (new INS/P1/P2: 6883)"
    SELECT_IN_CHAIN = "its last part: reassembled; else chain dropped, routed again"
    SELECT = "app selected, old one deselected; or 6A82"
    NO_APPLICATION = "6F00 (as Android answers)"
    PROCESS = "the plugin's hcekit_process"


class StateSet(NamedTuple):
    """A row's state column: its words and which (selection, transfer) it covers.

    The table's types are named tuples, not dataclasses: every cold start
    builds them, and a named tuple class costs a fraction of a frozen dataclass.
    """

    text: str
    holds: Callable[[Selection, Transfer], bool]


class KindSet(NamedTuple):
    """A row's command column: its words and the kinds it covers."""

    text: str
    members: frozenset[Kind | RawKind]


class Row(NamedTuple):
    """One rule: in *state*, a command of *command*'s kinds gets *effect*."""

    state: StateSet
    command: KindSet
    effect: Effect


def _kinds(text: str, *members: Kind | RawKind) -> KindSet:
    return KindSet(text, frozenset(members))


ANY = StateSet("any", lambda s, t: True)
PENDING = StateSet("response pending", lambda s, t: t is Transfer.PENDING)
CHAINING = StateSet("chain in progress", lambda s, t: t is Transfer.CHAIN)
NOTHING_SELECTED = StateSet("nothing selected", lambda s, t: s is Selection.NONE)
APP_SELECTED = StateSet("application selected", lambda s, t: s is not Selection.NONE)
RAW_SELECTED = StateSet("raw application selected", lambda s, t: s is Selection.RAW)

_CHAINED = (Kind.GET_RESPONSE_CHAINED, Kind.SELECT_CHAINED, Kind.OTHER_CHAINED)
_PARSED = tuple(k for k in Kind if k is not Kind.UNPARSEABLE)

#: The raw route: run on the bytes while a raw application is registered.
RAW_ROWS: tuple[Row, ...] = (
    Row(ANY, _kinds("routing SELECT, a raw claim matches", RawKind.ROUTING_SELECT_RAW),
        Effect.RAW_SELECT),
    Row(RAW_SELECTED, _kinds("routing SELECT, no claim matches", RawKind.ROUTING_SELECT_UNCLAIMED),
        Effect.RAW_NOT_FOUND),
    Row(RAW_SELECTED, _kinds("anything but a routing SELECT", RawKind.NOT_ROUTING_SELECT),
        Effect.RAW_EXCHANGE),
    Row(ANY, _kinds("any other bytes", *RawKind), Effect.PARSE),
)

#: The ISO/IEC 7816-4 rows: run on every parsed command.
ROWS: tuple[Row, ...] = (
    Row(ANY, _kinds("unparseable bytes", Kind.UNPARSEABLE), Effect.ANSWER_ERROR),
    Row(ANY, _kinds("CLA FF", Kind.CLA_FF), Effect.CLA_NOT_SUPPORTED),
    Row(ANY, _kinds("logical channel ≠ 0", Kind.CHANNEL), Effect.CHANNEL_NOT_SUPPORTED),
    Row(PENDING, _kinds("GET RESPONSE (INS C0)", Kind.GET_RESPONSE, Kind.GET_RESPONSE_CHAINED),
        Effect.NEXT_CHUNK),
    Row(PENDING, _kinds("anything else", *_PARSED), Effect.DROP_PENDING),
    Row(CHAINING, _kinds("CLA b5 (chaining) set", *_CHAINED), Effect.BUFFER_PART),
    Row(CHAINING, _kinds("proprietary CLA (b8 set)", Kind.PROPRIETARY), Effect.DROP_CHAIN),
    Row(CHAINING, _kinds("SELECT by DF name (P1 04)", Kind.SELECT), Effect.SELECT_IN_CHAIN),
    Row(CHAINING, _kinds("last part (CLA b5 clear)", Kind.GET_RESPONSE, Kind.OTHER),
        Effect.REASSEMBLE),
    Row(ANY, _kinds("CLA b5 (chaining) set", *_CHAINED), Effect.BUFFER_PART),
    Row(ANY, _kinds("SELECT by DF name (P1 04)", Kind.SELECT), Effect.SELECT),
    Row(NOTHING_SELECTED, _kinds("any other command", Kind.PROPRIETARY, Kind.GET_RESPONSE, Kind.OTHER),
        Effect.NO_APPLICATION),
    Row(APP_SELECTED, _kinds("any other command", Kind.PROPRIETARY, Kind.GET_RESPONSE, Kind.OTHER),
        Effect.PROCESS),
)

#: compiled[transfer][selection][kind] → the effect of the first row that matches.
Compiled = tuple[tuple[tuple[Effect, ...], ...], ...]


def compile_rows(rows: Sequence[Row], kinds: Iterable[Kind] | Iterable[RawKind]) -> Compiled:
    """Index the rows by state and kind; a state and kind no row covers is an error."""
    ordered: list[Kind | RawKind] = list(kinds)

    def first(selection: Selection, transfer: Transfer, kind: Kind | RawKind) -> Effect:
        for row in rows:
            if kind in row.command.members and row.state.holds(selection, transfer):
                return row.effect
        raise ValueError(f"no routing row for {selection.name}/{transfer.name}/{kind.name}")

    return tuple(tuple(tuple(first(s, t, k) for k in ordered) for s in Selection) for t in Transfer)


#: CLA bits (ISO/IEC 7816-4 §5.4.1) of an interindustry class off the basic channel: b7 set
#: (further interindustry class, logical channel 4 to 19) or b2b1 ≠ 00 (channel 1 to 3).
CLA_NOT_BASIC = 0x43


def kind_of(cla: int, ins: int, p1: int) -> Kind:
    """The kind of a parsed command (the router inlines the same tests)."""
    if cla & CLA_PROPRIETARY:
        return Kind.CLA_FF if cla == CLA_INVALID else Kind.PROPRIETARY
    if cla & CLA_NOT_BASIC:
        return Kind.CHANNEL
    if ins == INS_GET_RESPONSE:
        kind = Kind.GET_RESPONSE
    elif ins == INS_SELECT and p1 == P1_SELECT_BY_DF_NAME:
        kind = Kind.SELECT
    else:
        kind = Kind.OTHER
    return Kind(kind + Kind.OTHER_CHAINED - Kind.OTHER) if cla & CLA_CHAINING else kind


#: AOSP ``HostEmulationManager``: a routing SELECT has CLA 00 (basic channel, no SM, no
#: chaining), a 5-byte header and an AID of at least 5 bytes.
_CLA_BASIC = 0x00
_SELECT_HEADER_LEN = 5
_MIN_ROUTING_AID_LEN = 5


def routing_select_aid(raw: bytes) -> bytes | None:
    """The AID Android's NFC stack routes *raw* by, or None (AOSP ``findSelectAid``).

    CLA 00, INS A4, P1 04 (any P2), at least 10 bytes, and Lc AID bytes present;
    trailing bytes (Le) are allowed. Anything else goes to the selected service.
    """
    if len(raw) < _SELECT_HEADER_LEN + _MIN_ROUTING_AID_LEN or raw[0] != _CLA_BASIC \
            or raw[1] != INS_SELECT or raw[2] != P1_SELECT_BY_DF_NAME:
        return None
    length = raw[4]
    if len(raw) < _SELECT_HEADER_LEN + length:
        return None
    return bytes(raw[_SELECT_HEADER_LEN:_SELECT_HEADER_LEN + length])


_HEADERS = ("state", "command", "effect")


def render(rows: Sequence[Row], style: Literal["rst", "markdown"]) -> str:
    """The rows as a table: reStructuredText (this module's docstring) or Markdown (the docs)."""
    cells = [(r.state.text, r.command.text, r.effect.value) for r in rows]
    if style == "markdown":
        lines = ["| " + " | ".join(_HEADERS) + " |", "|---|---|---|"]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in (_HEADERS, *cells)) for i in range(3)]
    rule = "  ".join("=" * w for w in widths)

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([rule, line(_HEADERS), rule, *map(line, cells), rule])
