"""A model of the selection state machine, checked against the card by hypothesis."""

from __future__ import annotations

from hcekit import SW, Claim, CommandApdu, DeactivationReason, ResponseApdu
from hcekit.testing import loopback_rig
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from .routing_plugins import AID_A, AID_A2, AID_B, INS_WHO, Recorder

UNKNOWN = bytes.fromhex("F0000000FF")
OWNER = {AID_A: "alpha", AID_A2: "alpha", AID_B: "beta"}


class RouterModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.alpha = Recorder("alpha", Claim(AID_A), Claim(AID_A2))
        self.beta = Recorder("beta", Claim(AID_B))
        self.rig = loopback_rig([self.alpha, self.beta])
        self.rig.card.field_on()
        self.selected: bytes | None = None  # the model: which AID is selected

    def send(self, raw: bytes) -> ResponseApdu:
        return ResponseApdu.parse(self.rig.card.transceive(raw))

    @rule(aid=st.sampled_from([AID_A, AID_A2, AID_B, UNKNOWN]))
    def select(self, aid: bytes) -> None:
        response = self.send(CommandApdu(0, 0xA4, 0x04, 0x00, aid, 256).to_bytes())
        # an open chain never swallows a SELECT: it is dropped and the SELECT answered
        assert self.rig.card._chain_in is None
        if aid in OWNER:
            assert response.ok and response.data == aid
            self.selected = aid
        else:
            assert response.sw == SW.FILE_NOT_FOUND  # selection unchanged

    @rule(reason=st.sampled_from(list(DeactivationReason)))
    def field_off_on(self, reason: DeactivationReason) -> None:
        before = len(self.alpha.events) + len(self.beta.events)
        self.rig.card.field_off(reason)
        if self.selected is not None:
            owner = self.alpha if OWNER[self.selected] == "alpha" else self.beta
            assert owner.events[-1] == ("deactivated", self.selected, reason)
            assert len(self.alpha.events) + len(self.beta.events) == before + 1
        self.rig.card.field_on()
        self.selected = None

    @rule(junk=st.binary(max_size=12).filter(lambda b: len(b) < 2 or b[1] != 0xA4))
    def junk(self, junk: bytes) -> None:
        """Anything but a SELECT: never changes the selection, never crashes."""
        response = self.rig.card.transceive(junk)
        assert len(response) >= 2

    @invariant()
    def the_selected_plugin_answers(self) -> None:
        if self.rig.card._chain_in is not None or self.rig.card._chain_out is not None:
            return  # junk may have opened a chain; the next rule's command settles it
        response = self.send(bytes((0x00, INS_WHO, 0, 0, 0)))
        if self.selected is None:
            assert response.sw == SW.UNKNOWN
        else:
            assert response.data == OWNER[self.selected].encode()


TestRouterModel = RouterModel.TestCase
