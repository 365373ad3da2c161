"""A scripted mini-program and reader for the raw WeChat facade, to run on any host.

The same steps run on loopback, through pcscd (vpcd host) and on the Android
host, so "raw on every host" is one checked statement. :class:`MiniProgram`
answers like a mini-program ported from WeChat would; :data:`RAW_STEPS` is a
reader's script with, per command, the bytes the reader must get back and
the messages the mini-program must have received. The expected bytes follow
what Android's NFC stack does (AOSP ``HostEmulationManager``): a routing
SELECT picks the service by AID whatever it answers; every other command goes
to the selected service unchanged, and its answer comes back unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..aid import Claim
from ..apdu import CommandApdu
from ..context import AppContext, PluginContext
from ..events import DeactivationReason
from ..markers import hookimpl
from ..sw import SW, sw_bytes

__all__ = ["FACADE_AID", "PLUGIN_AID", "MiniProgram", "EchoPlugin", "Step", "RAW_STEPS",
           "LONG_ANSWER", "select", "apdu_message", "deactivated_message", "run_steps"]

FACADE_AID = bytes.fromhex("F222222222")
PLUGIN_AID = bytes.fromhex("F0686365656B0001")
UNKNOWN_AID = bytes.fromhex("A000000000000001")

#: The mini-program answers its own SELECT with this (a refusal), and other commands
#: with their header + 91 00, a status word the card core never produces itself.
REFUSED = bytes.fromhex("6A81")
OWN_SW = bytes.fromhex("9100")
INS_READ_BINARY = 0xB0
#: Longer than any short Le allows: the card core would have split it with 61xx.
LONG_ANSWER = bytes(i & 0xFF for i in range(300)) + sw_bytes(SW.NO_ERROR)


def select(aid: bytes, le: bool = True) -> bytes:
    """SELECT by DF name, first occurrence, as a reader sends it."""
    return bytes([0x00, 0xA4, 0x04, 0x00, len(aid)]) + aid + (b"\x00" if le else b"")


def apdu_message(data: bytes) -> dict[str, Any]:
    return {"messageType": 1, "data": data}


def deactivated_message(reason: DeactivationReason) -> dict[str, Any]:
    return {"messageType": 2, "reason": int(reason)}


class MiniProgram:
    """Registers ``onHCEMessage`` on a facade and answers as a ported mini-program would."""

    def __init__(self, wx: Any) -> None:
        self.wx = wx
        self.messages: list[dict[str, Any]] = []
        self.send_results: list[int] = []
        wx.onHCEMessage(self.on_message)

    @staticmethod
    def answer(command: bytes) -> bytes:
        if command[:2] == b"\x00\xa4":
            return REFUSED
        if len(command) >= 2 and command[1] == INS_READ_BINARY and command[0] == 0x00:
            return LONG_ANSWER
        return command[:4] + OWN_SW

    def on_message(self, res: dict[str, Any]) -> None:
        self.messages.append(dict(res))
        if res["messageType"] == 1:
            result = self.wx.sendHCEMessage({"data": self.answer(res["data"])})
            self.send_results.append(result["errCode"])

    def take(self) -> list[dict[str, Any]]:
        """The messages received since the last call."""
        taken, self.messages = self.messages, []
        return taken


class EchoPlugin:
    """A plugin on the same card (the Pythonic path): answers the reassembled data."""

    name = "echo"

    def __init__(self) -> None:
        self.events: list[str] = []

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(PLUGIN_AID, description="plugin next to the WeChat facade")]

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes:
        self.events.append("select")
        return b""

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        return command.data

    @hookimpl
    def hcekit_deselect(self, app: AppContext) -> None:
        self.events.append("deselect")


@dataclass(frozen=True)
class Step:
    """One reader command, the response it must get, the messages the mini-program must see."""

    what: str
    command: bytes
    response: bytes
    delivered: list[dict[str, Any]] = field(default_factory=list)


def _to_mini(what: str, command: bytes) -> Step:
    return Step(what, command, MiniProgram.answer(command), [apdu_message(command)])


#: Run in order within one field (after ``startHCE({aid_list: [FACADE_AID]})`` on a card
#: holding :class:`EchoPlugin`).
RAW_STEPS: list[Step] = [
    _to_mini("a SELECT the mini-program refuses reaches it and its answer goes out",
             select(FACADE_AID)),
    _to_mini("after a refused SELECT the AID stays selected (routing is by AID)",
             bytes.fromhex("80CA9F7F00")),
    _to_mini("a chained first part reaches it; the core does not answer 9000",
             bytes.fromhex("10DA000003010203")),
    _to_mini("the chain's last part arrives alone, not reassembled",
             bytes.fromhex("00DA0000020405")),
    _to_mini("CLA 01 (logical channel 1) is passed through", bytes.fromhex("01CA000000")),
    _to_mini("CLA FF is passed through", bytes.fromhex("FF42000000")),
    _to_mini("an answer longer than Le goes out whole, no 61xx", bytes.fromhex("00B0000010")),
    Step("a SELECT of an AID nobody registered: 6A82, as Android answers",
         select(UNKNOWN_AID), sw_bytes(SW.FILE_NOT_FOUND)),
    _to_mini("... and the facade AID stays selected", bytes.fromhex("00B2010C00")),
    Step("a plugin's AID: the plugin answers, the mini-program gets deselected",
         select(PLUGIN_AID), sw_bytes(SW.NO_ERROR),
         [deactivated_message(DeactivationReason.DESELECTED)]),
    Step("the plugin path still chains: first part 9000 from the core",
         bytes.fromhex("1001000002AABB"), sw_bytes(SW.NO_ERROR)),
    Step("... last part: the plugin sees the reassembled data",
         bytes.fromhex("0001000001CC00"), bytes.fromhex("AABBCC") + sw_bytes(SW.NO_ERROR)),
    _to_mini("back to the facade AID: the SELECT reaches the mini-program", select(FACADE_AID)),
]


def run_steps(transmit: Callable[[bytes], bytes], mini: MiniProgram,
              steps: list[Step] = RAW_STEPS) -> list[str]:
    """Send *steps*; return one line per difference (empty: the host is raw)."""
    problems = []
    for step in steps:
        response = transmit(step.command)
        delivered = mini.take()
        if response != step.response:
            problems.append(f"{step.what}: {step.command.hex().upper()} answered "
                            f"{response.hex().upper()}, expected {step.response.hex().upper()}")
        if delivered != step.delivered:
            problems.append(f"{step.what}: the mini-program got {delivered}, "
                            f"expected {step.delivered}")
    return problems
