"""A fuzz target: one card, and a decoder turning arbitrary bytes into a tap of APDUs.

Any fuzzing engine (atheris/libFuzzer, the seeded random engine, hypothesis)
feeds :meth:`FuzzTarget.one_input` byte strings. The bytes are read as a
small program — SELECT one of the card's claims, send a command built from
the next bytes, send raw bytes, drop the field, GET RESPONSE — so random
input reaches deep into a personality instead of dying at the first 6A82.

A *crash* is :meth:`Card.transceive` raising, or returning something that is
not a response APDU (fewer than two bytes, more than 65538, or an SW1 outside
6X/9X). A plugin raising an exception other than ``IsoError`` is not a crash
(the core answers 6F00 and keeps serving) but is a bug; it is counted per
distinct site in :attr:`FuzzTarget.plugin_exceptions`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..aid import AidKind, Category, Claim
from ..apdu import CommandApdu, ResponseApdu
from ..card import Card
from ..context import AppContext, PluginContext
from ..errors import IsoError
from ..events import DeactivationReason
from ..markers import hookimpl
from ..plugins import PluginSpec
from ..store import MemoryStore
from ..sw import SW

__all__ = ["FuzzCrash", "FuzzTarget", "CoreFuzzApp", "core_target", "plugin_target", "seed_inputs"]

MAX_RESPONSE = 65536 + 2
#: Class bytes the decoder picks from: interindustry, proprietary, SM, chaining, channel, invalid.
CLASSES = (0x00, 0x80, 0x84, 0x90, 0x0C, 0x10, 0x01, 0x40, 0xA0, 0xFF)
OP_SELECT, OP_COMMAND, OP_RAW, OP_FIELD, OP_GET_RESPONSE = range(5)
#: Operation by the low three bits of an opcode byte (commands are the most frequent).
_OPS = (OP_SELECT, OP_SELECT, OP_COMMAND, OP_COMMAND, OP_COMMAND, OP_RAW, OP_FIELD,
        OP_GET_RESPONSE)
#: An opcode byte for each operation, for hand-written inputs.
BYTE_SELECT, BYTE_COMMAND, BYTE_RAW, BYTE_FIELD, BYTE_GET_RESPONSE = 0, 2, 5, 6, 7


class FuzzCrash(AssertionError):
    """The card broke its contract on this input (the engine saves the input)."""


class CoreFuzzApp:
    """A personality exercising every core path: chaining, long answers, errors, SM marking."""

    name = "corefuzz"

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [
            Claim(bytes.fromhex("F0434F5245465A01"), description="core fuzz exact"),
            Claim(bytes.fromhex("F0434F5245465A02"), kind=AidKind.PREFIX,
                  description="core fuzz prefix"),
            Claim(bytes.fromhex("A0000000031010"), Category.PAYMENT, "core fuzz payment",
                  label="FUZZ", priority=1),
        ]

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes:
        if command.p2 & 0x0C == 0x0C:
            return b""
        return b"\x6f\x07\x84\x05" + app.aid[:5]

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu:
        ins = command.ins
        if ins == 0x01:  # long answer: response chaining / 6Cxx
            return command.data * (command.p1 + 1)
        if ins == 0x02:
            raise IsoError(SW.FILE_NOT_FOUND)
        if ins == 0x03:  # a warning with data
            return ResponseApdu(command.data, SW.END_OF_FILE_REACHED)
        if ins == 0x04:
            app.mark_sensitive()
            return bytes(16)
        if ins == 0x05:  # store write inside a transaction
            with app.store.transaction():
                app.store.set(f"k{command.p1}", command.data)
            return b""
        if ins == 0x06:
            return app.store.get(f"k{command.p1}") or b""
        if ins == 0x07:
            app.session[f"s{command.p1}"] = command.data
            return bytes([len(app.session)])
        raise IsoError(SW.INS_NOT_SUPPORTED)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise EOFError
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


class _ExceptionCounter(logging.Handler):
    """Counts the card's "plugin failed" reports by site (file:line, exception type)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.sites: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            site = record.getMessage()
        else:
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
            site = f"{type(exc).__name__} at {where}: {str(exc)[:120]}"
        self.sites[site] = self.sites.get(site, 0) + 1


@dataclass
class FuzzTarget:
    """One card under fuzzing. ``one_input`` is what an engine calls."""

    name: str
    card: Card
    #: DF names the decoder selects (from the card's claims, PPSE included).
    names: Sequence[bytes]
    inputs: int = 0
    exchanges: int = 0
    plugin_exceptions: dict[str, int] = field(default_factory=dict)
    _counter: Any = None

    def __post_init__(self) -> None:
        self._counter = _ExceptionCounter()
        logger = logging.getLogger("hcekit.card")
        logger.addHandler(self._counter)
        logger.propagate = False  # the engine's output stays readable; we count instead
        self.plugin_exceptions = self._counter.sites

    def close(self) -> None:
        logger = logging.getLogger("hcekit.card")
        logger.removeHandler(self._counter)
        logger.propagate = True
        self.card.close()

    def _send(self, raw: bytes) -> bytes:
        try:
            response = self.card.transceive(raw)
        except Exception as exc:
            raise FuzzCrash(f"transceive({raw.hex()}) raised {type(exc).__name__}: {exc}") from exc
        self.exchanges += 1
        if type(response) is not bytes or not 2 <= len(response) <= MAX_RESPONSE:
            raise FuzzCrash(f"transceive({raw.hex()}) returned a malformed response {response!r:.80}")
        sw1 = response[-2]
        if sw1 & 0xF0 not in (0x60, 0x90) or sw1 == 0x60:
            raise FuzzCrash(f"transceive({raw.hex()}) answered SW1 {sw1:02X} "
                            f"(ISO 7816 allows 61-6F and 90-9F): {response.hex()}")
        return response

    def one_input(self, data: bytes) -> None:
        """Run one input as a tap: field on, the decoded operations, field off."""
        self.inputs += 1
        card = self.card
        card.field_on()
        reader = _Reader(data)
        try:
            while True:
                op = _OPS[reader.byte() & 7]
                if op == OP_SELECT:
                    pick = reader.byte()
                    name = self.names[pick % len(self.names)] if self.names else b""
                    if pick & 0x80:
                        name = name[: max(5, len(name) - 1)]  # partial DF name
                    p2 = (0x00, 0x02, 0x0C, 0x04)[(pick >> 5) & 3]
                    self._send(CommandApdu(0x00, 0xA4, 0x04, p2, name, 256).to_bytes())
                elif op == OP_COMMAND:
                    cla = CLASSES[reader.byte() % len(CLASSES)]
                    ins, p1, p2, shape = reader.byte(), reader.byte(), reader.byte(), reader.byte()
                    data_ = reader.take(shape & 0x3F if shape & 0x40 else 0)
                    le = None if shape & 0x80 == 0 else (reader.byte() or 256)
                    extended = bool(shape & 0x80 and shape & 0x20)
                    command = CommandApdu(cla, ins, p1, p2, data_, le, extended or None)
                    self._send(command.to_bytes())
                elif op == OP_RAW:
                    self._send(reader.take(reader.byte() % 64))
                elif op == OP_FIELD:
                    reason = DeactivationReason(reader.byte() & 1)
                    card.field_off(reason)
                    card.field_on()
                else:
                    self._send(bytes((0x00, 0xC0, 0x00, 0x00, reader.byte())))
        except EOFError:
            pass
        finally:
            card.field_off(DeactivationReason.LINK_LOSS)


def _names(card: Card) -> list[bytes]:
    names: list[bytes] = []
    for _, claim in card.claims():
        names.append(claim.aid + (b"\x01" if claim.kind is AidKind.PREFIX and len(claim.aid) < 16
                                  else b""))
    return names


def core_target() -> FuzzTarget:
    """The card core with :class:`CoreFuzzApp` (and the core's PPSE)."""
    card = Card([CoreFuzzApp()], store=MemoryStore())
    return FuzzTarget("core", card, _names(card))


def plugin_target(spec: PluginSpec, name: str | None = None) -> FuzzTarget:
    """One plugin alone on a card with an in-memory store (demo personalisation)."""
    from ..conformance.harness import resolve_plugin_under_test

    put = resolve_plugin_under_test(spec)
    card = Card([(put.name, put.new())], store=MemoryStore())
    return FuzzTarget(name or put.name, card, _names(card))


def seed_inputs(target: FuzzTarget) -> list[bytes]:
    """Starting corpus: select each claim, then a few typical commands, and one whose data
    holds the boundary bytes FF 00 7F 80 (AFL's and libFuzzer's "interesting values")."""
    seeds: list[bytes] = []
    for i in range(len(target.names)):
        select = bytes((BYTE_SELECT, i))
        seeds.append(select)
        for cla_index, ins in ((0, 0xB0), (1, 0xCA), (0, 0xD6), (3, 0x60), (1, 0x01)):
            seeds.append(select + bytes((BYTE_COMMAND, cla_index, ins, 0, 0, 0xC4, 1, 2, 3, 4, 0)))
        seeds.append(select + bytes((BYTE_COMMAND, 5, 0xDA, 0, 0, 0x48)) + bytes(8) +
                     bytes((BYTE_COMMAND, 0, 0xDA, 0, 0, 0xC2, 1, 2, 0)))
        seeds.append(select + bytes((BYTE_FIELD, 1, BYTE_RAW, 3, 0, 0xA4, 4)))
        seeds.append(select + bytes((BYTE_COMMAND, 1, 0x01, 0, 0, 0xC4, 0xFF, 0x00, 0x7F, 0x80, 0)))
    return seeds
