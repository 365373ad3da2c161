"""A model of the router, driven by the routing table itself, checked against the card by hypothesis.

For every command the model asks :mod:`hcekit.routing` which effect the
current state and the command's kind call for (the rows the router runs),
computes what that effect must answer and leave behind, and compares with
the card: the response bytes, the selected AID and the assembler's state.
"""

from __future__ import annotations

from dataclasses import dataclass

from hcekit import Claim, CommandApdu, DeactivationReason
from hcekit.apdu import INS_GET_RESPONSE, INS_SELECT, ApduFormatError
from hcekit.routing import ROWS, Effect, Kind, Selection, Transfer, compile_rows, kind_of
from hcekit.sw import SW, bytes_remaining, sw_bytes
from hcekit.testing import loopback_rig
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from .routing_plugins import (
    AID_A,
    AID_A2,
    AID_B,
    INS_CRASH,
    INS_ECHO,
    INS_FAIL_ISO,
    INS_REPEAT,
    INS_WHO,
    Recorder,
)

UNKNOWN = bytes.fromhex("F0000000FF")
OWNER = {AID_A: "alpha", AID_A2: "alpha", AID_B: "beta"}
TABLE = compile_rows(ROWS, Kind)
SHORT_NE, EXTENDED_NE = 256, 65536


@dataclass
class Model:
    selected: bytes | None = None
    transfer: Transfer = Transfer.IDLE
    pending: tuple[bytes, int] | None = None
    chain: tuple[int, int, int, bytes] | None = None

    def drop(self) -> None:
        self.transfer, self.pending, self.chain = Transfer.IDLE, None, None

    def answer(self, command: CommandApdu) -> bytes:
        """What the card must answer to *command*, by the table; the model follows the effect."""
        selection = Selection.NONE if self.selected is None else Selection.APP
        effect = TABLE[self.transfer][selection][kind_of(command.cla, command.ins, command.p1)]
        return self.EFFECTS[effect](self, command)

    def _error(self, sw: int) -> bytes:
        return sw_bytes(sw)

    def _deliver(self, command: CommandApdu, data: bytes, sw: int = SW.NO_ERROR) -> bytes:
        limit = command.le or (EXTENDED_NE if command.extended else SHORT_NE)
        if len(data) <= limit:
            return data + sw_bytes(sw)
        self.pending, self.transfer = (data[limit:], sw), Transfer.PENDING
        return data[:limit] + sw_bytes(bytes_remaining(len(data) - limit))

    def next_chunk(self, command: CommandApdu) -> bytes:
        assert self.pending is not None
        if command.p1 or command.p2:
            return self._error(SW.INCORRECT_P1P2)
        rest, sw = self.pending
        ne = command.le or (EXTENDED_NE if command.extended else SHORT_NE)
        if len(rest) > ne:
            self.pending = (rest[ne:], sw)
            return rest[:ne] + sw_bytes(bytes_remaining(len(rest) - ne))
        self.drop()
        return rest + sw_bytes(sw)

    def drop_and_route(self, command: CommandApdu) -> bytes:
        self.drop()
        return self.answer(command)

    def buffer_part(self, command: CommandApdu) -> bytes:
        header = (command.ins, command.p1, command.p2)
        if self.chain is not None and self.chain[:3] != header:
            self.drop()
            return self._error(SW.LAST_COMMAND_OF_CHAIN_EXPECTED)
        before = self.chain[3] if self.chain is not None else b""
        self.chain, self.transfer = (*header, before + command.data), Transfer.CHAIN
        return sw_bytes(SW.NO_ERROR)

    def reassemble(self, command: CommandApdu) -> bytes:
        assert self.chain is not None
        ins, p1, p2, data = self.chain
        self.drop()
        if (ins, p1, p2) != (command.ins, command.p1, command.p2):
            return self._error(SW.LAST_COMMAND_OF_CHAIN_EXPECTED)
        return self.answer(CommandApdu(command.cla, ins, p1, p2, data + command.data, command.le))

    def select_in_chain(self, command: CommandApdu) -> bytes:
        assert self.chain is not None
        if self.chain[:3] == (command.ins, command.p1, command.p2):
            return self.reassemble(command)
        self.drop()  # a reader starting over: the SELECT is answered
        return self.answer(command)

    def select(self, command: CommandApdu) -> bytes:
        # the rules generate whole names and P2 00 only; partial names: tests/core/test_router.py
        if command.data not in OWNER:
            return self._error(SW.FILE_NOT_FOUND)
        self.selected = command.data
        return self._deliver(command, command.data)

    def process(self, command: CommandApdu) -> bytes:
        assert self.selected is not None
        ins, data = command.ins, command.data
        if ins == INS_WHO:
            return self._deliver(command, OWNER[self.selected].encode())
        if ins == INS_ECHO:
            return self._deliver(command, data)
        if ins == INS_REPEAT:
            return self._deliver(command, bytes(i & 0xFF for i in range(int.from_bytes(data, "big"))))
        if ins == INS_CRASH:
            return self._error(SW.UNKNOWN)  # the plugin raised: 6F00, the card serves on
        return self._error(SW.FILE_NOT_FOUND if ins == INS_FAIL_ISO else SW.INS_NOT_SUPPORTED)

    EFFECTS = {
        Effect.CLA_NOT_SUPPORTED: lambda m, c: m._error(SW.CLA_NOT_SUPPORTED),
        Effect.CHANNEL_NOT_SUPPORTED: lambda m, c: m._error(SW.LOGICAL_CHANNEL_NOT_SUPPORTED),
        Effect.NEXT_CHUNK: next_chunk,
        Effect.DROP_PENDING: drop_and_route,
        Effect.DROP_CHAIN: drop_and_route,
        Effect.BUFFER_PART: buffer_part,
        Effect.REASSEMBLE: reassemble,
        Effect.SELECT_IN_CHAIN: select_in_chain,
        Effect.SELECT: select,
        Effect.NO_APPLICATION: lambda m, c: m._error(SW.UNKNOWN),
        Effect.PROCESS: process,
    }


CLASSES = [0x00, 0x10, 0x80, 0x90, 0x01, 0x40, 0xFF]
INSTRUCTIONS = [INS_WHO, INS_ECHO, INS_REPEAT, INS_FAIL_ISO, 0x7E, INS_GET_RESPONSE]


class RouterModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.alpha = Recorder("alpha", Claim(AID_A), Claim(AID_A2))
        self.beta = Recorder("beta", Claim(AID_B))
        self.rig = loopback_rig([self.alpha, self.beta])
        self.rig.card.field_on()
        self.model = Model()

    def check(self, command: CommandApdu) -> None:
        expected = self.model.answer(command)
        assert self.rig.card.transceive(command.to_bytes()) == expected, command

    @rule(aid=st.sampled_from([AID_A, AID_A2, AID_B, UNKNOWN]), cla=st.sampled_from([0x00, 0x10]),
          split=st.integers(0, 5))
    def select(self, aid: bytes, cla: int, split: int) -> None:
        """A SELECT, chained (first *split* bytes in a part of its own) when CLA is 10."""
        if cla:
            self.check(CommandApdu(cla, INS_SELECT, 0x04, 0x00, aid[:split]))
        self.check(CommandApdu(0x00, INS_SELECT, 0x04, 0x00, aid[split:] if cla else aid, 256))

    @rule(cla=st.sampled_from(CLASSES), ins=st.sampled_from(INSTRUCTIONS),
          data=st.binary(max_size=3), le=st.sampled_from([None, 1, 16, 256]))
    def command(self, cla: int, ins: int, data: bytes, le: int | None) -> None:
        if ins == INS_REPEAT:
            data = (len(data) * 150).to_bytes(2, "big")  # 0 to 450 bytes: chains out
        self.check(CommandApdu(cla, ins, 0x00, 0x00, data, le))

    @rule(count=st.integers(0, 600), le=st.sampled_from([None, 16, 100]))
    def long_answer(self, count: int, le: int | None) -> None:
        self.check(CommandApdu(0x00, INS_REPEAT, 0x00, 0x00, count.to_bytes(2, "big"), le))

    @precondition(lambda self: self.model.pending is not None)
    @rule(le=st.sampled_from([None, 1, 16, 100, 256]), chained=st.booleans())
    def get_response(self, le: int | None, chained: bool) -> None:
        self.check(CommandApdu(0x10 if chained else 0x00, INS_GET_RESPONSE, 0x00, 0x00, b"", le))

    @rule(reason=st.sampled_from(list(DeactivationReason)))
    def field_off_on(self, reason: DeactivationReason) -> None:
        before = len(self.alpha.events) + len(self.beta.events)
        self.rig.card.field_off(reason)
        if self.model.selected is not None:
            owner = self.alpha if OWNER[self.model.selected] == "alpha" else self.beta
            assert owner.events[-1] == ("deactivated", self.model.selected, reason)
            assert len(self.alpha.events) + len(self.beta.events) == before + 1
        self.rig.card.field_on()
        self.model = Model()

    @rule(junk=st.binary(max_size=12).filter(lambda b: len(b) < 2 or b[1] != INS_SELECT))
    def junk(self, junk: bytes) -> None:
        """Any bytes but a SELECT: the precise error when they do not parse, else the table."""
        try:
            command = CommandApdu.parse(junk)
        except ApduFormatError as exc:
            assert self.rig.card.transceive(junk) == sw_bytes(exc.sw)
            return
        self.check(command)

    @invariant()
    def the_card_is_where_the_model_is(self) -> None:
        card = self.rig.card
        assert (card.selected.aid if card.selected is not None else None) == self.model.selected
        assert card.assembler.transfer is self.model.transfer
        assert card.assembler.pending == (self.model.pending[0] if self.model.pending else None)


TestRouterModel = RouterModel.TestCase
