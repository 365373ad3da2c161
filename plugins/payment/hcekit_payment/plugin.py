"""The payment plugin: a TEST EMV contactless card (Visa qVSDC-like CVN 10/18, Mastercard CVN 16).

On an empty store it personalises itself from its options, or with the
documented TEST PAN and the TEST issuer master key when there are none, so
``hcekit demo`` works out of the box. Its AID is a ``payment`` claim: the
core lists it in the PPSE, and on Android the app must be the default
payment service (WeChat-style code 13004 otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
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
from hcekit.options import OptionGroup

from .personalization import Personalization, add_options, from_options, load, save

if TYPE_CHECKING:
    from hcekit.personalization import Personalization as PersonalizationCommands
    from hcekit.terminal.script import TerminalScript

    from .application import PaymentApplication

__all__ = ["PaymentPlugin"]


class PaymentPlugin:
    """One TEST payment card per hcekit card."""

    name = "payment"
    #: For hcekit's conformance kit: the Ne check reads the records too.
    conformance = {"reads": [{"aid": "A0000000031010", "read": "00B2010C"},
                             {"aid": "A0000000031010", "read": "00B20214"}]}

    def __init__(self) -> None:
        self.perso: Personalization | None = None
        self.app: PaymentApplication | None = None
        self._context: PluginContext | None = None

    @hookimpl
    def hcekit_addoption(self, options: OptionGroup) -> None:
        add_options(options)

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        perso = load(plugin.store)
        if perso is None:
            perso = from_options(plugin.options)
            save(plugin.store, perso)
            plugin.log.info(
                "personalised %s card %s (CVN %d, key KCV %s%s)",
                "TEST" if perso.test_key else "lab", perso.masked_pan(), int(perso.cvn),
                perso.key_check_value, ", TEST issuer key" if perso.test_key else "",
            )
        elif plugin.options:
            plugin.log.warning("card already personalised; options ignored "
                               "(re-personalise with `hcekit payment personalize`)")
        self.perso = perso
        self._context = plugin
        # The PAN is secret wherever it travels (GPO, records, any answer); track 2 as well,
        # marked when the application is built, before its first answer.
        plugin.mark_secret(_bcd_pan(perso.pan))

    def _app(self) -> PaymentApplication:
        """The EMV application, built at the first SELECT (the cold-start rule)."""
        if self.app is None:
            if self.perso is None or self._context is None:
                raise RuntimeError("payment plugin used before hcekit_startup")
            from .application import PaymentApplication
            from .layout import build_layout

            layout = build_layout(self.perso)
            self._context.mark_secret(layout.track2)
            self.app = PaymentApplication(self.perso, layout)
        return self.app

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        # Unstarted (a listing): the claim an empty store would be personalised with.
        perso = self.perso if self.perso is not None else from_options(plugin.options)
        return [Claim(perso.aid, Category.PAYMENT, "EMV contactless payment (TEST card)",
                      label=perso.label, priority=1)]

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu:
        return self._app().select(app, command)

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        return self._app().process(app, command)

    @hookimpl
    def hcekit_terminal_scripts(self) -> Sequence[TerminalScript]:
        from .pos import POS_SCRIPT

        return [POS_SCRIPT]

    @hookimpl
    def hcekit_personalization(self) -> PersonalizationCommands[Any]:
        from .cli import PERSONALIZATION

        return PERSONALIZATION


def _bcd_pan(pan: str) -> bytes:
    """The PAN as cards carry it (tag 5A: compressed numeric, F-padded)."""
    return bytes.fromhex(pan + "F" * (len(pan) % 2))
