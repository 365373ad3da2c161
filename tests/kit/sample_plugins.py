"""Small plugins for the kit's tests: one well-behaved card and deliberately broken ones."""

from __future__ import annotations

from hcekit import SW, AppContext, Claim, CommandApdu, IsoError, PluginContext, ResponseApdu
from hcekit.terminal import ScriptContext, TerminalScript

GOOD_AID = bytes.fromhex("F04B495447303031")
INS_COUNT = 0x10
INS_UNLOCK = 0x20
TEST_KEY = bytes.fromhex("4B4954544553544B45593031323334")  # "KITTESTKEY01234"


class GoodCard:
    """A counter card with a secret-handling command; passes every conformance check."""

    name = "goodcard"

    def hcekit_startup(self, plugin: PluginContext) -> None:
        with plugin.store.transaction():
            if plugin.store.get("key") is None:
                plugin.store.set("key", TEST_KEY)
                plugin.store.set_int("count", 0)

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(GOOD_AID, description="kit test counter")]

    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes:
        return b"\x6f\x03\x84\x01\x01"

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        if command.cla != 0x80:
            raise IsoError(SW.CLA_NOT_SUPPORTED)
        if command.ins == INS_COUNT:
            if command.p1 or command.p2:
                raise IsoError(SW.INCORRECT_P1P2)
            with app.store.transaction():
                count = app.store.get_int("count") + 1
                app.store.set_int("count", count)
            return count.to_bytes(4, "big")
        if command.ins == INS_UNLOCK:
            app.mark_sensitive()
            key = app.store.get("key") or b""
            return key  # a key on the wire, but the exchange is marked sensitive
        raise IsoError(SW.INS_NOT_SUPPORTED)

    def hcekit_terminal_scripts(self) -> list[TerminalScript]:
        return [TerminalScript("goodcard-count", "count twice", _count_twice, demo=True)]


def _count_twice(ctx: ScriptContext) -> int:
    t = ctx.terminal
    t.select(GOOD_AID).check()
    first = t.transmit(CommandApdu(0x80, INS_COUNT, le=256)).check().data
    second = t.transmit(CommandApdu(0x80, INS_COUNT, le=256)).check().data
    t.transmit(CommandApdu(0x80, INS_UNLOCK, le=256)).check()
    ctx.echo(f"count {int.from_bytes(first, 'big')} -> {int.from_bytes(second, 'big')}")
    return 0 if int.from_bytes(second, "big") == int.from_bytes(first, "big") + 1 else 1


class SloppyCard:
    """Breaks the rules: 9000 for any INS, crashes on short data, leaks its key, forgets state."""

    name = "sloppy"

    def __init__(self) -> None:
        self.count = 0  # kept in memory: lost on restart

    def hcekit_startup(self, plugin: PluginContext) -> None:
        plugin.store.set("master_key", TEST_KEY)
        plugin.store.set_int("boots", plugin.store.get_int("boots") + 1)

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(bytes.fromhex("F04B495447303032"), description="sloppy")]

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        if command.ins == 0x30:
            return app.store.get("master_key") or b""  # leaks without mark_sensitive
        if command.data and command.data[0] == 0xFF:
            raise RuntimeError("sloppy parser")
        return b""

    def hcekit_deselect(self, app: AppContext) -> None:
        raise RuntimeError("sloppy deselect")


class BadStatusCard:
    """Answers a status word no reader can parse (SW1 12) to one INS: a fuzzing crash."""

    name = "badstatus"

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(bytes.fromhex("F04B495447303033"), description="bad status")]

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> ResponseApdu:
        if command.ins == 0x42:
            return ResponseApdu(b"", 0x1234)
        raise IsoError(SW.INS_NOT_SUPPORTED)
