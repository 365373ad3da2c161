"""A plugin raising anything is answered 6F00 by the card core; only Ctrl-C goes through."""

from __future__ import annotations

import logging

import pytest
from hcekit import SW, AppContext, Card, Claim, CommandApdu, DeactivationReason, PluginContext

AID = bytes.fromhex("F0A1B2C3D4E5")


class Bomb(BaseException):
    """A plugin's own BaseException subclass (as asyncio.CancelledError is one)."""


class Raising:
    """Raises ``self.next`` from the hook named in ``self.where``, then behaves."""

    name = "raising"

    def __init__(self) -> None:
        self.next: BaseException | None = None
        self.where = ""

    def _maybe_raise(self, hook: str) -> None:
        if self.where == hook and self.next is not None:
            raised, self.next = self.next, None
            raise raised

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim.parse(AID.hex())]

    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes:
        self._maybe_raise("select")
        return b""

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        self._maybe_raise("process")
        return b"ok"

    def hcekit_deactivated(self, app: AppContext, reason: DeactivationReason) -> None:
        self._maybe_raise("deactivated")

    def hcekit_trace(self, record: object) -> None:
        self._maybe_raise("trace")


SELECT = CommandApdu(0x00, 0xA4, 0x04, 0x00, AID, 256)
PROCESS = CommandApdu(0x80, 0x01, 0x00, 0x00, b"", 256)


@pytest.mark.parametrize("raised", [SystemExit(3), GeneratorExit(), Bomb("boom"),
                                    BaseExceptionGroup("many", [Bomb("a")])])
@pytest.mark.parametrize("where", ["select", "process", "trace"])
def test_any_base_exception_but_ctrl_c_is_6f00(
    raised: BaseException, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    plugin = Raising()
    card = Card([plugin])
    card.field_on()
    if where != "select":
        assert card.transmit(SELECT).sw == SW.NO_ERROR
    plugin.where, plugin.next = where, raised
    with caplog.at_level(logging.ERROR, logger="hcekit.card"):
        response = card.transmit(SELECT if where == "select" else PROCESS)
    if where == "trace":  # an observer failing changes no answer
        assert response.sw == SW.NO_ERROR
    else:
        assert response.sw == SW.UNKNOWN
    assert any(type(raised).__name__ in (r.exc_text or "") for r in caplog.records)
    # the card keeps serving
    assert card.transmit(SELECT).sw == SW.NO_ERROR
    assert card.transmit(PROCESS).data == b"ok"


def test_a_lifecycle_hook_raising_system_exit_is_ignored() -> None:
    plugin = Raising()
    card = Card([plugin])
    card.field_on()
    card.transmit(SELECT)
    plugin.where, plugin.next = "deactivated", SystemExit(1)
    card.field_off(DeactivationReason.LINK_LOSS)
    assert not card.field_active
    card.field_on()
    assert card.transmit(SELECT).sw == SW.NO_ERROR


def test_keyboard_interrupt_goes_through_in_process() -> None:
    """In-process, KeyboardInterrupt is the user's Ctrl-C: the program must stop."""
    plugin = Raising()
    card = Card([plugin])
    card.field_on()
    card.transmit(SELECT)
    plugin.where, plugin.next = "process", KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        card.transmit(PROCESS)
    assert card.transmit(PROCESS).data == b"ok"
