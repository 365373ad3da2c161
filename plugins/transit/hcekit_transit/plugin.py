"""The transit personality: a DESFire EV1 card, ISO/IEC 7816-4 wrapped, on hcekit's hooks.

Readers select the PICC level (``D2760000850100``) or the transit
application by its DF name, then send native DESFire commands wrapped as
``90 INS 00 00 [Lc data] 00``; answers come back as ``data 91 status``.

Options (``--option transit.KEY=VALUE``, declared in ``hcekit_addoption``),
used only when the store holds no card yet: ``keys`` (issuer key file;
default the TEST keys), ``uid`` (14 hex digits), ``balance`` and
``max_balance`` (minor units); and ``gates_only`` (Android 15 observe mode:
answer only readers whose polling loop announces a transit gate, see
:mod:`hcekit_transit.gates`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hcekit import (
    SW,
    AppContext,
    Category,
    Claim,
    CommandApdu,
    IsoError,
    PluginContext,
    ResponseApdu,
    hookimpl,
)
from hcekit.events import DeactivationReason
from hcekit.options import OptionGroup

from .constants import DEFAULT_BALANCE, DEFAULT_MAX_BALANCE, PICC_DF_NAME, TRANSIT_DF_NAME
from .instructions import SENSITIVE_INS
from .model import PICC_AID
from .persist import CardStore
from .picc import DesfireCard
from .status import wrapped_sw

if TYPE_CHECKING:
    from hcekit.personalization import Personalization
    from hcekit.polling import PollingLoop
    from hcekit.terminal import TerminalScript

    from .layout import CardProfile

__all__ = ["TransitPlugin", "CLA_DESFIRE"]

#: CLA of ISO-wrapped native DESFire commands.
CLA_DESFIRE = 0x90


def add_options(options: OptionGroup) -> None:
    """The personalisation options (used when the store holds no card yet)."""
    options.add("keys", help="issuer key file (JSON) to personalise with (default: the TEST keys)")
    options.add("uid", type=bytes, help="7-byte card UID, hex (default: random)")
    options.add("balance", type=int, default=DEFAULT_BALANCE,
                help="initial purse balance, minor units")
    options.add("max_balance", type=int, default=DEFAULT_MAX_BALANCE,
                help="purse upper limit, minor units")


def profile_from_options(options: Mapping[str, Any]) -> CardProfile:
    """The card profile the declared (already converted) options describe."""
    from .layout import CardProfile

    kwargs = {key: options[key] for key in ("uid", "balance", "max_balance") if key in options}
    return CardProfile(**kwargs)


class TransitPlugin:
    """One emulated transit card (the class is instantiated per card)."""

    name = "transit"
    #: For hcekit's conformance kit: the Ne check runs ReadData (whole file, free read
    #: access) on the card-info and contracts files, ISO-wrapped with the Le it chooses.
    conformance = {"reads": [
        {"aid": TRANSIT_DF_NAME.hex(), "read": "90BD00000700000000000000"},
        {"aid": TRANSIT_DF_NAME.hex(), "read": "90BD00000704000000000000"},
    ]}

    def __init__(self) -> None:
        self.card: DesfireCard | None = None
        #: The selection the card's session belongs to (a re-SELECT creates a new one and the
        #: core deselects the old one afterwards: that must not end the new session).
        self._owner: AppContext | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @hookimpl
    def hcekit_addoption(self, options: OptionGroup) -> None:
        add_options(options)
        options.add("gates_only", type=bool, default=False,
                    help="observe mode: answer only readers whose polling loop announces a "
                         "transit gate (ECP), stay silent for payment terminals and door readers")

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        store = CardStore(plugin.store)
        if store.is_empty():
            from .keys import IssuerKeys  # personalisation only: hashlib, the TEST key table
            from .layout import personalize

            keys_path = plugin.options.get("keys")
            keys = IssuerKeys.load(keys_path) if keys_path else IssuerKeys.test_keys()
            personalize(store, keys, profile_from_options(plugin.options))
            if keys.test:
                plugin.log.warning("transit: empty store, personalised a card with the TEST "
                                   "keys (publicly known; for demos and tests only)")
            else:
                plugin.log.info("transit: empty store, personalised a card with issuer keys")
        self.card = DesfireCard(store)

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> Sequence[Claim]:
        return [
            Claim.parse(PICC_DF_NAME.hex().upper(), Category.OTHER,
                        "DESFire EV1 PICC level (ISO/IEC 7816-4 wrapped native commands)"),
            Claim.parse(TRANSIT_DF_NAME.hex().upper(), Category.OTHER,
                        "hcekit transit application (DESFire EV1 profile)"),
        ]

    @hookimpl
    def hcekit_polling_loop(self, plugin: PluginContext) -> PollingLoop | None:
        if not plugin.options.get("gates_only", False):
            return None  # declares nothing, and hcekit.polling stays unimported
        from .gates import polling_loop

        return polling_loop(True)

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> None:
        card = self._card()
        if app.aid == PICC_DF_NAME:
            card.select(PICC_AID)
        else:
            aid = card.find_df_name(app.aid)
            if aid is None:
                raise IsoError(SW.FILE_NOT_FOUND, "the transit application was deleted")
            card.select(aid)
        self._owner = app

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> ResponseApdu:
        card = self._card()
        if command.cla != CLA_DESFIRE:
            if command.cla & 0x80:
                raise IsoError(SW.CLA_NOT_SUPPORTED, f"CLA {command.cla:02X}: DESFire uses 90")
            raise IsoError(SW.INS_NOT_SUPPORTED,
                           f"ISO command {command.ins:02X}: only wrapped native commands")
        if command.p1 or command.p2:
            raise IsoError(SW.INCORRECT_P1P2, "wrapped DESFire commands have P1 = P2 = 00")
        if command.ins in SENSITIVE_INS or card.authenticated_key is not None:
            app.mark_sensitive()
        status, data = card.process(command.ins, command.data)
        return ResponseApdu(data, wrapped_sw(status))

    @hookimpl
    def hcekit_deselect(self, app: AppContext) -> None:
        self._end(app)

    @hookimpl
    def hcekit_deactivated(self, app: AppContext, reason: DeactivationReason) -> None:
        self._end(app)

    def _end(self, app: AppContext) -> None:
        """The selection *app* is over: drop its session and pending transaction."""
        if app is self._owner and self.card is not None:
            self.card.reset()
            self._owner = None

    def _card(self) -> DesfireCard:
        if self.card is None:
            raise IsoError(SW.UNKNOWN, "transit card not started")
        return self.card

    # -- observers ---------------------------------------------------------------------------

    @hookimpl
    def hcekit_terminal_scripts(self) -> Sequence[TerminalScript]:
        from .terminals import SCRIPTS

        return SCRIPTS

    @hookimpl
    def hcekit_personalization(self) -> Personalization[Any]:
        from .cli import PERSONALIZATION

        return PERSONALIZATION
