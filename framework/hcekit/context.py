"""What a plugin sees of the card: its own context, the selected application, the card.

:class:`PluginContext` lives as long as the card (name, options, store,
logger). :class:`AppContext` lives for one selection: created on a successful
SELECT, dropped on deselect or field loss, like an applet instance's
transient state. :class:`CardView` is the part of :class:`hcekit.Card` a
plugin may use; the contract names it, so the contract never imports the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .aid import Claim
from .channel import SecureChannel
from .logs import get_logger
from .store import PluginStore

if TYPE_CHECKING:
    import logging

    from .sensitivity import SecretValues

__all__ = ["AppContext", "CardView", "PluginContext"]


class CardView(Protocol):
    """What a plugin sees of the card it runs on (:class:`hcekit.Card` is one)."""

    #: Values the plugins marked secret: redacted in every trace.
    secrets: SecretValues

    def claims(self) -> list[tuple[str, Claim]]:
        """``(plugin name, claim)`` for every route, in routing order."""
        ...

    def payment_claims(self) -> list[tuple[str, Claim]]:
        """The payment applications (what the PPSE lists)."""
        ...

    @property
    def selected(self) -> AppContext | None:
        """The selected application, or None."""
        ...

    @property
    def field_active(self) -> bool:
        """A reader's field is on."""
        ...


class PluginContext:
    """One loaded plugin on one card."""

    def __init__(
        self,
        card: CardView,
        name: str,
        plugin: object,
        store: PluginStore,
        options: Mapping[str, Any],
    ) -> None:
        self.card = card
        self.name = name
        #: The registered plugin object (module or instance).
        self.plugin = plugin
        self.store = store
        self.options: Mapping[str, Any] = options
        self.log = get_logger(f"hcekit.plugin.{name}")

    def mark_secret(self, *values: bytes) -> None:
        """Never print these bytes: an exchange containing one is redacted everywhere.

        For values that travel in APDUs but are secret wherever they appear (a
        PAN, track 2 data, a PIN block, a key): every trace printout, log and
        recording of this card redacts such an exchange unless
        ``--reveal-secrets``. Values of at least 4 bytes
        (:class:`~hcekit.trace.SecretValues`).
        """
        for value in values:
            self.card.secrets.add(value)

    def __repr__(self) -> str:
        return f"PluginContext({self.name!r})"


class AppContext:
    """The currently selected application: one plugin claim, one selection."""

    __slots__ = ("_sensitive", "aid", "claim", "plugin", "secure_channel", "session")

    def __init__(self, plugin: PluginContext, claim: Claim, aid: bytes) -> None:
        self.plugin = plugin
        self.claim = claim
        #: The DF name the reader selected (may be longer than a prefix claim).
        self.aid = aid
        #: Transient memory for this selection (cleared on deselect / field loss).
        self.session: dict[str, Any] = {}
        #: Install a :class:`~hcekit.channel.SecureChannel` to have the core
        #: unwrap commands and wrap responses for this application.
        self.secure_channel: SecureChannel | None = None
        self._sensitive = False

    @property
    def store(self) -> PluginStore:
        return self.plugin.store

    @property
    def log(self) -> logging.Logger:
        return self.plugin.log

    @property
    def card(self) -> CardView:
        return self.plugin.card

    def mark_sensitive(self) -> None:
        """Redact the current exchange in traces (keys, PINs, cryptograms)."""
        self._sensitive = True

    def mark_secret(self, *values: bytes) -> None:
        """Never print these bytes, in this exchange or any other (see :meth:`PluginContext.mark_secret`)."""
        self.plugin.mark_secret(*values)

    def __repr__(self) -> str:
        return f"AppContext({self.plugin.name!r}, aid={self.aid.hex().upper()})"
