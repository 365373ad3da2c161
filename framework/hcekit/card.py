"""The card core: bytes in, bytes out, explicit field events. No I/O.

:class:`Card` is the face hosts drive — :meth:`~Card.transceive`,
:meth:`~Card.field_on`, :meth:`~Card.field_off`, :meth:`~Card.register` —
over three parts cut by concern: the plugin registry
(:mod:`hcekit.registry`: plugins, claims, options, ATR), the router
(:mod:`hcekit.router`: selection, SELECT resolution, raw routes; it runs the
routing table of :mod:`hcekit.routing`) and the response assembler
(:mod:`hcekit.assembler`: command chaining, GET RESPONSE, Le). The selected
plugin's owner-only hook functions are called directly (no pluggy broadcast
per APDU; :mod:`hcekit.hookspecs` states the rule and the plugin manager
refuses hookimpl options it would not honour). Hosts feed it; it never opens
a socket, a thread or a JVM.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pluggy

from .aid import Claim
from .apdu import EXTENDED_MAX_NE, CommandApdu, ResponseApdu
from .assembler import ResponseAssembler
from .context import AppContext, PluginContext
from .errors import PluginLoadError
from .events import DeactivationReason
from .logs import get_logger
from .options import OptionGroup
from .plugins import PluginSpec, installed_plugins
from .registry import PluginRegistry, RawExchange
from .router import Router
from .routing import routing_select_aid
from .sensitivity import SecretValues, is_sensitive
from .store import MemoryStore, Store

if TYPE_CHECKING:
    from .polling import PollingEvent, PollingFrame, PollingRouter

__all__ = ["Card", "CardConfig", "routing_select_aid"]

log = get_logger("hcekit.card")


@dataclass(frozen=True)
class CardConfig:
    """Transport-level behaviour a host may tune."""

    #: The most response data one response APDU may carry on this transport.
    max_response_data: int = EXTENDED_MAX_NE
    #: Accept extended-length APDUs (else they get 6700).
    extended_length: bool = True
    #: Response data longer than Ne: ``"chain"`` answers the first Ne bytes
    #: and 61xx (the command runs once; safe for commands with side effects);
    #: ``"6c"`` answers 6Cxx for short answers so the reader re-sends (T=0 style).
    wrong_le: Literal["chain", "6c"] = "chain"
    #: Answer SELECT 2PAY.SYS.DDF01 from the payment-category claims.
    ppse: bool = True
    #: Upper bound on a command reassembled from a chain.
    max_chained_data: int = 65535


class Card:
    """One emulated card: plugins, their store, and the routing state.

    Not thread-safe: one host drives one card (hosts serialise calls).
    """

    def __init__(
        self,
        plugins: Iterable[PluginSpec] = (),
        *,
        store: Store | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        config: CardConfig | None = None,
    ) -> None:
        config = config or CardConfig()
        self.store = store if store is not None else MemoryStore()
        #: Values the plugins marked secret (``plugin.mark_secret``): redacted in every trace.
        self.secrets = SecretValues()
        self._field = False
        self._closed = False
        self._registry = PluginRegistry(self, self.store, options or {}, ppse=config.ppse)
        self._assembler = ResponseAssembler(max_response_data=config.max_response_data,
                                            max_chained_data=config.max_chained_data,
                                            wrong_le=config.wrong_le)
        self._router = Router(self._registry, self._assembler,
                              extended_length=config.extended_length)
        self.config = config
        self._exchange = self._router.exchange
        self._tracing = False
        self._registry.load(plugins)
        self._refresh()

    def _refresh(self) -> None:
        """After the plugins changed: trace only if observed, the raw route only if needed."""
        router = self._router
        self._tracing = self._registry.tracing
        self._exchange = router.exchange_raw_first if self._registry.has_raw else router.exchange

    @property
    def polling(self) -> PollingRouter:
        """Every plugin's polling-loop filters and the tap's observe-mode state (hcekit.polling).

        Built when a plugin declares a polling loop or a frame hook, or here on first use: a
        card without either starts without importing :mod:`hcekit.polling`.
        """
        return self._registry.polling_router()

    @property
    def config(self) -> CardConfig:
        """Transport-level behaviour; a host may replace it (vpcd caps the response size)."""
        return self._config

    @config.setter
    def config(self, config: CardConfig) -> None:
        self._config = config
        self._registry.ppse = config.ppse
        self._router.extended_length = config.extended_length
        assembler = self._assembler
        assembler.max_response_data = config.max_response_data
        assembler.max_chained_data = config.max_chained_data
        assembler.wrong_le = config.wrong_le

    @classmethod
    def with_installed_plugins(
        cls,
        extra: Iterable[PluginSpec] = (),
        *,
        only: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> Card:
        """A card with every plugin of the ``hcekit`` entry-point group (or *only* some)."""
        specs: list[PluginSpec] = list(installed_plugins(only))
        specs.extend(extra)
        return cls(specs, **kwargs)

    # -- plugins ------------------------------------------------------------------------

    def register(self, plugin: PluginSpec, *, name: str | None = None,
                 options: Mapping[str, Any] | None = None,
                 raw: RawExchange | None = None) -> PluginContext:
        """Add a plugin to a running card (e.g. ``startHCE``). Conflicts raise; nothing changes.

        With *raw*, the plugin is a raw application: its claims route to *raw*,
        which gets every command as bytes and answers bytes (see
        :mod:`hcekit.routing`); its ``hcekit_select``/``hcekit_process`` are not
        used, its ``hcekit_deselect``/``hcekit_deactivated`` are. Raw claims are
        not listed in the core's PPSE: a raw application answers its own.
        """
        try:
            entry = self._registry.add(plugin, name=name, options=options, raw=raw)
        finally:
            self._refresh()
        return entry.ctx

    def unregister(self, name: str) -> None:
        """Remove a plugin; if its application is selected, it is deactivated (DESELECTED)."""
        entry = self._registry.entries.get(name)
        if entry is None:
            raise PluginLoadError(f"no plugin named {name!r} on this card")
        self._router.forget(entry)
        self._registry.shutdown(entry)
        self._registry.remove(name)
        self._registry.rebuild()
        self._refresh()

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        return self._registry.pm

    @property
    def plugins(self) -> dict[str, PluginContext]:
        return {name: e.ctx for name, e in self._registry.entries.items()}

    def declared_options(self) -> dict[str, OptionGroup]:
        """Each plugin's declared options (``hcekit_addoption``), by plugin name."""
        return self._registry.declared_options()

    def atr(self) -> bytes | None:
        """The ATR the plugins ask for (``hcekit_atr``; :func:`hcekit.atr.plugin_atr` says
        which wins), checked; or None. A host's explicit ATR (``hcekit serve --atr``) wins."""
        return self._registry.atr()

    def claims(self) -> list[tuple[str, Claim]]:
        """``(plugin name, claim)`` for every route, in routing order."""
        return self._registry.claims()

    def payment_claims(self) -> list[tuple[str, Claim]]:
        """Payment applications (what the PPSE lists; the core's own PPSE excluded)."""
        return self._registry.payment_claims()

    @property
    def selected(self) -> AppContext | None:
        """The selected application, or None."""
        sel = self._router.selected
        return sel.app if sel is not None else None

    @property
    def router(self) -> Router:
        """The routing state (for tests and tools that show it)."""
        return self._router

    @property
    def assembler(self) -> ResponseAssembler:
        """Chaining state: a chain in progress, a response pending."""
        return self._assembler

    @property
    def field_active(self) -> bool:
        return self._field

    # -- field events -------------------------------------------------------------------

    def field_on(self) -> None:
        """A reader activated the card (tap start, vpcd power on / reset)."""
        if self._router.selected is not None:
            self.field_off(DeactivationReason.LINK_LOSS)
        self._field = True
        self._assembler.reset()
        self._registry.pm.hook.hcekit_field(card=self, active=True, reason=None)

    def field_off(self, reason: DeactivationReason = DeactivationReason.LINK_LOSS) -> None:
        """The reader went away; the selected application gets ``hcekit_deactivated``."""
        reason = DeactivationReason(reason)
        was_active = self._field
        self._field = False
        if self._registry.polling is not None:
            self._registry.polling.end_tap()
        sel = self._router.deactivate(reason)
        if was_active or sel is not None:
            self._registry.pm.hook.hcekit_field(card=self, active=False, reason=reason)

    def polling_frame(self, frame: PollingFrame) -> PollingEvent:
        """One frame of the reader's polling loop, before activation (see :mod:`hcekit.polling`).

        Routes it to the plugin whose filter matches (or to every plugin
        implementing ``hcekit_polling_frame``), applies autoTransact, and tells
        observers (``hcekit_polling``). Whether the card now answers the reader
        is ``card.polling.answers_reader()``.
        """
        event = self.polling.frame(frame)
        try:
            self._registry.pm.hook.hcekit_polling(card=self, event=event)
        except KeyboardInterrupt:
            raise
        except BaseException:
            log.exception("a polling observer failed; the card keeps serving")
        return event

    def close(self) -> None:
        """Deactivate and call every plugin's ``hcekit_shutdown``. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.field_off(DeactivationReason.LINK_LOSS)
        for entry in list(self._registry.entries.values()):
            self._registry.shutdown(entry)

    def __enter__(self) -> Card:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the exchange -------------------------------------------------------------------

    def transceive(self, raw: bytes) -> bytes:
        """Answer one command APDU. Every failure is a status word.

        A plugin raising anything (``SystemExit`` and other ``BaseException``
        subclasses included) is answered 6F00. ``KeyboardInterrupt`` alone goes
        through: in-process it is the user's Ctrl-C, delivered wherever the main
        thread is, and must stop the program; a host serving from its own
        threads (where no signal arrives) answers it 6F00 itself.
        """
        if not self._tracing:
            return self._exchange(raw)
        from .trace import TraceRecord  # only a traced card pays for the trace module

        assembler = self._assembler
        # GET RESPONSE parts of a sensitive answer are as sensitive as its first part
        chained_sensitive = assembler.pending is not None and assembler.pending_sensitive
        start = time.perf_counter_ns()
        response = self._exchange(raw)
        elapsed = time.perf_counter_ns() - start
        sel = self._router.selected
        command = bytes(raw)
        sensitive = chained_sensitive or (
            sel is not None and (sel.app._sensitive or sel.app.secure_channel is not None)
        ) or is_sensitive(command, assembler.whole_answer(response), self.secrets)
        assembler.pending_sensitive = sensitive
        if sel is not None:
            sel.app._sensitive = False
        record = TraceRecord(
            command, response,
            sel.app.aid if sel is not None else None,
            sel.plugin.name if sel is not None else None,
            elapsed, sensitive,
        )
        try:
            self._registry.pm.hook.hcekit_trace(record=record)
        except KeyboardInterrupt:
            raise
        except BaseException:
            log.exception("a trace observer failed; the card keeps serving")
        return response

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        """Object form of :meth:`transceive`, for tests and in-process terminals."""
        return ResponseApdu.parse(self.transceive(command.to_bytes()))

    def __repr__(self) -> str:
        return f"Card(plugins={list(self._registry.entries)})"
