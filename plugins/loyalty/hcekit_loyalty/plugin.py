"""The loyalty card personality: claims, options and the store; the protocol waits for a till.

This module is what the ``loyalty`` entry point imports, so it stays light
(the cold-start rule in ``docs/plugin-authoring.md``): a card that answers
another AID first never imports the Smart Tap protocol, its cryptography or
the program code. :mod:`.applet` serves a till from the first SELECT on;
:mod:`.programs` personalises a store that lacks programs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hcekit import (
    AppContext,
    Category,
    Claim,
    CommandApdu,
    PluginContext,
    ResponseApdu,
    hookimpl,
)
from hcekit.events import DeactivationReason
from hcekit.options import OptionGroup, json_value

from .aids import AID_OSE, AID_SMART_TAP_2, WALLET_LABEL
from .storage import holds_programs

if TYPE_CHECKING:
    from hcekit.personalization import Personalization
    from hcekit.store import PluginStore
    from hcekit.terminal import TerminalScript

    from .applet import LoyaltyApplet
    from .programs import ProgramBook

__all__ = ["LoyaltyPlugin"]


class LoyaltyPlugin:
    """Smart-Tap-style loyalty pass (OSE.VAS.01 and Smart Tap 2 AIDs)."""

    name = "loyalty"

    def __init__(self) -> None:
        self._store: PluginStore | None = None
        self._applet: LoyaltyApplet | None = None
        self._label = WALLET_LABEL

    # -- lifecycle ------------------------------------------------------------------

    @hookimpl
    def hcekit_addoption(self, options: OptionGroup) -> None:
        options.add("programs", type=json_value,
                    help='programs to add when the store lacks them, a JSON list of '
                         '{"collector_id", "name", "merchant_keys", "member_id", "balance", '
                         '"offers"} tables (see docs/loyalty.md)')
        options.add("test_program", type=bool,
                    help="add the TEST program (default: only when nothing else is configured)")
        options.add("wallet_label", help=f"the OSE application label (default {WALLET_LABEL.decode()!r})")

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        self._store = plugin.store
        label = plugin.options.get("wallet_label")
        if label is not None:
            self._label = str(label).encode()
        if _asks_for_programs(plugin.options) or not holds_programs(plugin.store):
            assert self.book is not None
            for program in self.book.personalise(plugin.options):
                plugin.log.info("personalised %sprogram %d (%s)", "TEST " if program.test else "",
                                program.collector_id, program.name)

    @property
    def book(self) -> ProgramBook | None:
        """The programs on this card (None before ``hcekit_startup``)."""
        if self._store is None:
            return None
        return self.applet.book

    @property
    def applet(self) -> LoyaltyApplet:
        """What serves the till, created on first use: the protocol's imports start here."""
        if self._applet is None:
            assert self._store is not None, "hcekit_startup has not run"
            from .applet import LoyaltyApplet
            from .programs import ProgramBook

            self._applet = LoyaltyApplet(ProgramBook(self._store), self._label)
        return self._applet

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [
            Claim(AID_OSE, Category.OTHER, "Smart Tap loyalty (OSE.VAS.01)"),
            Claim(AID_SMART_TAP_2, Category.OTHER, "Smart Tap 2 loyalty pass"),
        ]

    @hookimpl
    def hcekit_personalization(self) -> Personalization[Any]:
        from .cli import PERSONALIZATION

        return PERSONALIZATION

    @hookimpl
    def hcekit_terminal_scripts(self) -> list[TerminalScript]:
        from .till import TILL_SCRIPT

        return [TILL_SCRIPT]

    # -- APDUs ------------------------------------------------------------------------

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes:
        return self.applet.select(app, command)

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> ResponseApdu:
        return self.applet.process(app, command)

    @hookimpl
    def hcekit_field(self, card: object, active: bool, reason: DeactivationReason | None) -> None:
        if self._applet is not None:
            self._applet.end_tap()

    @hookimpl
    def hcekit_deactivated(self, app: AppContext, reason: DeactivationReason) -> None:
        if self._applet is not None:
            self._applet.end_tap()

    def __repr__(self) -> str:
        return "LoyaltyPlugin()"


def _asks_for_programs(options: Mapping[str, Any]) -> bool:
    """Options that may add programs to a store that has some: only then is the book opened."""
    return bool(options.get("programs")) or options.get("test_program") is not None
