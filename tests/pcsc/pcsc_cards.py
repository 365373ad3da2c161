"""Small card personalities the PC/SC tests serve through pcscd."""

from __future__ import annotations

import threading

from hcekit import SW, AppContext, Claim, CommandApdu, DeactivationReason, IsoError, PluginContext

ECHO_AID = bytes.fromhex("F0686365656B6974")  # F0 "hceekit" (proprietary RID range)
INS_ECHO = 0x01
INS_REPEAT = 0x02  # answer P1P2 bytes of the data pattern 00 01 02 …
INS_COUNT = 0x03  # increment and return a counter kept in plugin state
INS_HANG = 0x04  # block until the test releases the plugin
INS_FAIL = 0x05  # IsoError(FILE_NOT_FOUND)
INS_RAISE = 0x06  # raise the BaseException numbered P1 in RAISED


class PluginBug(BaseException):
    """A BaseException subclass of a plugin's own (as asyncio's CancelledError is one)."""


#: What INS_RAISE raises, by P1: everything that is not an Exception.
RAISED: tuple[type[BaseException], ...] = (SystemExit, KeyboardInterrupt, GeneratorExit, PluginBug)


class EchoCard:
    """Echoes data, makes long answers, counts, hangs on request; records field events."""

    name = "echo"

    def __init__(self) -> None:
        self.counter = 0
        self.events: list[tuple[str, object]] = []
        self.release = threading.Event()
        self.hanging = threading.Event()

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim.parse(ECHO_AID.hex(), description="PC/SC test echo")]

    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes:
        self.events.append(("select", app.aid))
        return b"\x6f\x02\x84\x00"

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        if command.ins == INS_ECHO:
            return command.data
        if command.ins == INS_REPEAT:
            size = command.p1 << 8 | command.p2
            return bytes(i & 0xFF for i in range(size))
        if command.ins == INS_COUNT:
            self.counter += 1
            return self.counter.to_bytes(4, "big")
        if command.ins == INS_HANG:
            self.hanging.set()
            self.release.wait(30)
            return b"late"
        if command.ins == INS_FAIL:
            raise IsoError(SW.FILE_NOT_FOUND, "asked to fail")
        if command.ins == INS_RAISE:
            raise RAISED[command.p1]("raised by the test plugin")
        raise IsoError(SW.INS_NOT_SUPPORTED)

    def hcekit_deactivated(self, app: AppContext, reason: DeactivationReason) -> None:
        self.events.append(("deactivated", DeactivationReason(reason)))

    def hcekit_field(self, card: object, active: bool, reason: DeactivationReason | None) -> None:
        self.events.append(("field", active))
