"""Small real plugins the Android tests put behind the bridge."""

from __future__ import annotations

import threading

from hcekit import (
    SW,
    AppContext,
    Category,
    Claim,
    CommandApdu,
    DeactivationReason,
    IsoError,
    PluginContext,
    hookimpl,
)

PROBE_AID = bytes.fromhex("F06863656B01")
PAY_AID = bytes.fromhex("A0000000999901")

INS_ECHO = 0x01
INS_BLOCK = 0x02
INS_REFUSE = 0x03


class Probe:
    """Echoes, refuses, or blocks until released; records what it saw."""

    name = "probe"

    def __init__(self) -> None:
        self.commands: list[bytes] = []
        self.deactivations: list[DeactivationReason] = []
        self.release = threading.Event()
        self.blocked = threading.Event()

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(PROBE_AID, Category.OTHER, "bridge probe")]

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        self.commands.append(command.to_bytes())
        if command.ins == INS_ECHO:
            return bytes(reversed(command.data))
        if command.ins == INS_BLOCK:
            self.blocked.set()
            self.release.wait(30)
            return b"late"
        if command.ins == INS_REFUSE:
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED)
        raise IsoError(SW.INS_NOT_SUPPORTED)

    @hookimpl
    def hcekit_deactivated(self, app: AppContext, reason: DeactivationReason) -> None:
        self.deactivations.append(reason)


class Payment:
    """Claims a payment AID (for the default-payment-app checks)."""

    name = "testpay"

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(PAY_AID, Category.PAYMENT, "test payment", label="TEST", priority=1)]

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        return b""


class ProbeTwin(Probe):
    """Claims the probe's AID under another name: a conflict."""

    name = "probe-twin"
