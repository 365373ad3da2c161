"""The polling router against a model: every sequence of frames, plugin answers, tap ends and
observe-mode switches routes and decides as the rules of hcekit.polling (AOSP's routing) say."""

from __future__ import annotations

import re

from hcekit import Card, hookimpl
from hcekit.polling import Decision, FrameType, PollingFilter, PollingFrame, PollingLoop
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

FRAMES = [
    PollingFrame(FrameType.ON), PollingFrame(FrameType.OFF), PollingFrame(FrameType.A, b"\x52"),
    PollingFrame(FrameType.B, bytes.fromhex("050008")), PollingFrame(FrameType.A, b"\xf0"),
    PollingFrame.custom(bytes.fromhex("6A02C30100FFFFFF")),  # gate (pattern, autoTransact)
    PollingFrame.custom(bytes.fromhex("6A02C30200FFFFFF")),  # access: nobody's
    PollingFrame.custom(b"\xf0"),  # locker (exact, no autoTransact; its hook says TRANSACT)
    PollingFrame.custom(b"\xf1"),
]
GATE = re.compile("6A02..01.*")


class Gate:
    name = "gate"

    @hookimpl
    def hcekit_polling_loop(self, plugin: object) -> PollingLoop:
        return PollingLoop((PollingFilter.pattern("6A02..01.*", auto_transact=True),))

    @hookimpl
    def hcekit_polling_frame(self, plugin: object, frame: PollingFrame) -> None:
        return None


class Locker:
    name = "locker"

    @hookimpl
    def hcekit_polling_loop(self, plugin: object) -> PollingLoop:
        return PollingLoop((PollingFilter.exact("F0"),))

    @hookimpl
    def hcekit_polling_frame(self, plugin: object, frame: PollingFrame) -> Decision | None:
        return Decision.TRANSACT if frame.type is FrameType.UNKNOWN and frame.data == b"\xf0" \
            else None


class Guard:
    """No filter; answers every frame it is offered with whatever the test set."""

    name = "guard"

    def __init__(self) -> None:
        self.answer: Decision | None = None

    @hookimpl
    def hcekit_polling_frame(self, plugin: object, frame: PollingFrame) -> Decision | None:
        return self.answer


class RouterModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.guard = Guard()
        self.card = Card([Gate(), Locker(), self.guard])
        self.card.polling.observe_mode = True
        self.decision = Decision.OBSERVE

    def _apply(self, answer: Decision | None) -> None:
        if answer is Decision.SILENT:
            self.decision = Decision.SILENT
        elif answer is Decision.TRANSACT and self.decision is not Decision.SILENT:
            self.decision = Decision.TRANSACT

    @rule(frame=st.sampled_from(FRAMES))
    def frame(self, frame: PollingFrame) -> None:
        event = self.card.polling_frame(frame)
        custom = frame.type is FrameType.UNKNOWN
        if custom and GATE.fullmatch(frame.hex):
            owner, auto = "gate", True
            self._apply(Decision.TRANSACT)
        elif custom and frame.hex == "F0":
            owner, auto = "locker", False
            self._apply(Decision.TRANSACT)
        else:
            owner, auto = None, False
            self._apply(self.guard.answer)  # gate and locker have no opinion here
        assert event.plugin == owner
        assert event.frame.triggered_auto_transact is auto
        assert event.decision is self.decision

    @rule(answer=st.sampled_from([None, Decision.OBSERVE, Decision.TRANSACT, Decision.SILENT]))
    def guard_answers(self, answer: Decision | None) -> None:
        self.guard.answer = answer

    @rule()
    def reader_leaves(self) -> None:
        self.card.field_off()
        self.decision = Decision.OBSERVE

    @rule(on=st.booleans())
    def observe_mode(self, on: bool) -> None:
        self.card.polling.observe_mode = on

    @invariant()
    def answers_only_when_released(self) -> None:
        polling = self.card.polling
        assert polling.decision is self.decision
        assert polling.answers_reader() == (not polling.observe_mode
                                            or self.decision is Decision.TRANSACT)


TestRouterModel = RouterModel.TestCase
