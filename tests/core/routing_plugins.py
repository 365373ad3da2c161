"""Small plugins that make router behaviour observable (imported by the core tests)."""

from __future__ import annotations

from typing import Any

from hcekit import SW, AppContext, Claim, CommandApdu, DeactivationReason, IsoError, PluginContext

INS_ECHO = 0x01
INS_REPEAT = 0x02  # data = count (2 bytes): answer that many bytes
INS_FAIL_ISO = 0x03
INS_CRASH = 0x04
INS_WHO = 0x05


class Recorder:
    """A plugin that records every lifecycle call and answers a few test commands."""

    def __init__(self, name: str, *claims: Claim, fci: bytes = b"", refuse_select: bool = False) -> None:
        self.name = name
        self._claims = list(claims)
        self.fci = fci
        self.refuse_select = refuse_select
        self.events: list[tuple[Any, ...]] = []

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return self._claims

    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes:
        if self.refuse_select:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "refusing")
        self.events.append(("select", app.aid))
        return self.fci or app.aid

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes | None:
        self.events.append(("process", command.ins, command.data))
        if command.ins == INS_ECHO:
            return command.data
        if command.ins == INS_REPEAT:
            return bytes(i & 0xFF for i in range(int.from_bytes(command.data, "big")))
        if command.ins == INS_FAIL_ISO:
            raise IsoError(SW.FILE_NOT_FOUND, "no such thing")
        if command.ins == INS_CRASH:
            raise RuntimeError("plugin bug")
        if command.ins == INS_WHO:
            return self.name.encode()
        raise IsoError(SW.INS_NOT_SUPPORTED)

    def hcekit_deselect(self, app: AppContext) -> None:
        self.events.append(("deselect", app.aid))

    def hcekit_deactivated(self, app: AppContext, reason: DeactivationReason) -> None:
        self.events.append(("deactivated", app.aid, reason))


AID_A = bytes.fromhex("F0000000A1")
AID_A2 = bytes.fromhex("F0000000A2")
AID_B = bytes.fromhex("F0000000B1")
AID_PAY = bytes.fromhex("A0000000041010")


