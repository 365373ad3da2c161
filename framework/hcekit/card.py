"""The card core: bytes in, bytes out, explicit field events. No I/O.

:class:`Card` owns the ISO/IEC 7816-4 behaviour every personality shares —
APDU parsing, SELECT by DF name, the selected-application state, command and
response chaining, Le handling, the PPSE, secure-messaging unwrap/wrap — and
calls the selected plugin's owner-only hook functions directly (no pluggy
broadcast per APDU; :mod:`hcekit.hookspecs` states the rule and the plugin
manager refuses hookimpl options it would not honour). Hosts feed it; it
never opens a socket, a thread or a JVM.

The routing state, as a table (``docs/architecture.md`` has the same):

=====================  ======================================  =========================
state                  command                                 effect
=====================  ======================================  =========================
any                    routing SELECT, a raw claim matches     raw app selected, bytes to it
raw app selected       routing SELECT, no claim matches        6A82, selection unchanged
raw app selected       anything but a routing SELECT           bytes to it, its bytes back
any                    unparseable bytes                       6700 (or the precise SW)
any                    CLA FF                                  6E00
any                    logical channel ≠ 0                     6881
response pending       GET RESPONSE (00 C0 00 00 Le)           next chunk, 61xx / final SW
response pending       anything else                           pending data dropped
any                    CLA b5 (chaining) set                   part buffered, 9000
chain in progress      last part, same INS/P1/P2               reassembled command
chain in progress      SELECT by DF name, not its last part    chain dropped, SELECT handled
chain in progress      other INS/P1/P2                         6883, chain dropped
any                    SELECT by DF name, match                app selected, old deselected
any                    SELECT by DF name, no match             6A82, selection unchanged
nothing selected       other command                           6F00 (as Android answers)
application selected   other command                           plugin's hcekit_process
=====================  ======================================  =========================

A DF name matches whole or as a partial name; first/next occurrence walks
the matches in the one order :func:`hcekit.aid.select_order` defines.

A *raw* application (``register(..., raw=exchange)``, what the WeChat facade
registers) sees the card as an Android ``HostApduService`` sees the phone: a
*routing SELECT* is what AOSP's ``HostEmulationManager.findSelectAid``
accepts (CLA 00, INS A4, P1 04, Lc ≥ 5 bytes present, any P2), the selection
follows the AID whatever the application answers, and every other command
goes to it as bytes, unparsed — no 61xx, no chaining, no CLA checks. A raw
claim matches as Android matches (exact, ``*`` prefix, ``#`` subset), never
by an ISO partial name. The raw rows apply only while a raw application is
registered.

A SELECT by DF name ends an unfinished command chain instead of being
refused with 6883: a reader that gave up a chain starts over with SELECT,
and must get its answer. ISO/IEC 7816-4 names 6883 ("last command of the
chain expected") for a command that breaks a chain, without obliging a card
to refuse a new selection; a Java Card runtime handles an applet SELECT
(CLA without the chaining bit, INS A4, P1 04) itself before any applet's
chaining logic sees it (Java Card Runtime Environment specification 4.5.2),
so an applet's chain never swallows one. Any other command still gets 6883
and drops the chain.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pluggy

from .aid import AidKind, Category, Claim, check_conflicts, select_order
from .apdu import (
    CLA_CHAINING,
    CLA_FURTHER_INTERINDUSTRY,
    CLA_INVALID,
    CLA_PROPRIETARY,
    EXTENDED_MAX_NE,
    INS_GET_RESPONSE,
    INS_SELECT,
    P1_SELECT_BY_DF_NAME,
    SHORT_MAX_NE,
    CommandApdu,
    ResponseApdu,
)
from .context import AppContext, PluginContext
from .errors import ClaimError, HcekitError, IsoError, PluginLoadError
from .events import DeactivationReason
from .logs import get_logger
from .options import OptionError, OptionGroup, closest
from .plugins import (
    HcekitPluginManager,
    PluginSpec,
    declared_options,
    installed_plugins,
    own_hook,
    resolve_plugins,
)
from .polling import PollingEvent, PollingFrame, PollingRouter
from .store import MemoryStore, Store
from .sw import SW, bytes_remaining, sw_bytes, wrong_le
from .trace import SecretValues, TraceRecord, is_sensitive

__all__ = ["Card", "CardConfig", "RawExchange", "routing_select_aid"]

log = get_logger("hcekit.card")

P2_OCCURRENCE_MASK = 0x03
P2_FIRST_OCCURRENCE = 0x00
P2_NEXT_OCCURRENCE = 0x02

_SW_BYTES_OK = sw_bytes(SW.NO_ERROR)
_SW_UNKNOWN = sw_bytes(SW.UNKNOWN)


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


def _is_success(sw: int) -> bool:
    """9000 and warnings (61xx, 62xx, 63xx): the command was executed."""
    return (sw >> 8) in (0x90, 0x61, 0x62, 0x63)


HookFn = Callable[..., Any]
#: A raw application's APDU handler: the command as the reader sent it → the response.
RawExchange = Callable[[bytes], bytes]


class _Plugin:
    """A registered plugin with its context, declared options and owner-only hooks."""

    __slots__ = (
        "claims",
        "ctx",
        "deactivated",
        "deselect",
        "name",
        "obj",
        "option_group",
        "process",
        "raw",
        "select",
        "shutdown",
        "startup",
    )

    def __init__(self, name: str, obj: object, ctx: PluginContext, group: OptionGroup) -> None:
        self.name = name
        self.obj = obj
        self.ctx = ctx
        self.option_group = group
        self.claims: tuple[Claim, ...] = ()
        self.startup: HookFn | None = None
        self.select: HookFn | None = None
        self.process: HookFn | None = None
        self.deselect: HookFn | None = None
        self.deactivated: HookFn | None = None
        self.shutdown: HookFn | None = None
        #: A raw application's exchange (bytes in, bytes out); None for plugins.
        self.raw: RawExchange | None = None


class _Selected:
    __slots__ = ("app", "plugin", "process")

    def __init__(self, plugin: _Plugin, app: AppContext) -> None:
        self.plugin = plugin
        self.app = app
        self.process: HookFn | None = plugin.process


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
        self.config = config or CardConfig()
        self.store = store if store is not None else MemoryStore()
        self._options = dict(options or {})
        self._pm = HcekitPluginManager()
        self._plugins: dict[str, _Plugin] = {}
        self._routes: list[tuple[_Plugin, Claim]] = []
        self._selected: _Selected | None = None
        self._has_raw = False
        self._chain_in: tuple[int, int, int, bytearray] | None = None
        self._chain_out: tuple[bytes, int] | None = None
        self._chain_out_sensitive = False
        self._field = False
        self._tracing = False
        #: Every plugin's polling-loop filters and the tap's observe-mode state (hcekit.polling).
        self.polling = PollingRouter()
        #: Values the plugins marked secret (``plugin.mark_secret``): redacted in every trace.
        self.secrets = SecretValues()
        self._closed = False
        resolved = resolve_plugins(plugins)
        _check_option_targets(self._options, [name for name, _ in resolved])
        # Every plugin is registered and its options checked before any starts, so a
        # typo in one plugin's options stops the card before another personalised itself.
        pending: list[_Plugin] = []
        try:
            for name, obj in resolved:  # names are unique (resolve_plugins checks)
                pending.append(self._register(name, obj))
        except HcekitError:
            for entry in pending:
                self._pm.unregister(entry.obj)
            raise
        for index, entry in enumerate(pending):
            try:
                self._start(entry)
            except HcekitError:
                for later in pending[index + 1:]:
                    self._pm.unregister(later.obj)
                raise
        self._rebuild_routes()

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

    # -- plugin registration -----------------------------------------------------

    def _add(self, name: str, obj: object) -> _Plugin:
        entry = self._register(name, obj)
        self._start(entry)
        return entry

    def _register(self, name: str, obj: object) -> _Plugin:
        """Register with pluggy (the contract is checked) and check the given options."""
        if name in self._plugins:
            raise PluginLoadError(f"a plugin named {name!r} is already registered on this card")
        pm = self._pm
        try:
            pm.register(obj, name=name)
            pm.check_pending()
        except Exception as exc:
            if pm.is_registered(obj):
                pm.unregister(obj)
            if isinstance(exc, PluginLoadError):
                raise
            raise PluginLoadError(f"plugin {name!r} is invalid: {exc}") from exc
        try:
            group = declared_options(pm, obj, name)
            values = group.resolve(self._options.get(name, {}))
        except HcekitError:
            pm.unregister(obj)
            raise
        ctx = PluginContext(self, name, obj, self.store.namespace(name), values)
        entry = _Plugin(name, obj, ctx, group)
        entry.startup = own_hook(pm, obj, "hcekit_startup")
        entry.select = own_hook(pm, obj, "hcekit_select")
        entry.process = own_hook(pm, obj, "hcekit_process")
        entry.deselect = own_hook(pm, obj, "hcekit_deselect")
        entry.deactivated = own_hook(pm, obj, "hcekit_deactivated")
        entry.shutdown = own_hook(pm, obj, "hcekit_shutdown")
        return entry

    def _start(self, entry: _Plugin) -> None:
        """``hcekit_startup`` then ``hcekit_claims``; the plugin is unregistered on failure."""
        name, obj, ctx = entry.name, entry.obj, entry.ctx
        claims_fn = own_hook(self._pm, obj, "hcekit_claims")
        try:
            if entry.startup is not None:
                entry.startup(ctx)
            entry.claims = tuple(claims_fn(ctx) or ()) if claims_fn is not None else ()
        except OptionError as exc:  # a value the plugin refuses: the caller's input, not a bug
            self._pm.unregister(obj)
            raise OptionError(f"plugin {name!r} refused its options: {exc}") from exc
        except Exception as exc:
            self._pm.unregister(obj)
            raise PluginLoadError(f"plugin {name!r} failed to start: {exc}") from exc
        for claim in entry.claims:
            if not isinstance(claim, Claim):
                self._pm.unregister(obj)
                raise ClaimError(
                    f"plugin {name!r} returned {claim!r} from hcekit_claims; expected hcekit.Claim"
                )
        self._plugins[name] = entry

    def register(self, plugin: PluginSpec, *, name: str | None = None,
                 options: Mapping[str, Any] | None = None,
                 raw: RawExchange | None = None) -> PluginContext:
        """Add a plugin to a running card (e.g. ``startHCE``). Conflicts raise; nothing changes.

        With *raw*, the plugin is a raw application: its claims route to *raw*,
        which gets every command as bytes and answers bytes (see the module
        docstring); its ``hcekit_select``/``hcekit_process`` are not used, its
        ``hcekit_deselect``/``hcekit_deactivated`` are. Raw claims are not listed
        in the core's PPSE: a raw application answers its own.
        """
        ((default_name, obj),) = resolve_plugins([plugin])
        name = name or default_name
        if options is not None:
            self._options[name] = dict(options)
        entry = self._add(name, obj)
        entry.raw = raw
        try:
            self._rebuild_routes()
        except HcekitError:
            self._remove(name)
            self._rebuild_routes()
            raise
        return entry.ctx

    def unregister(self, name: str) -> None:
        """Remove a plugin; if its application is selected, it is deactivated (DESELECTED)."""
        entry = self._plugins.get(name)
        if entry is None:
            raise PluginLoadError(f"no plugin named {name!r} on this card")
        sel = self._selected
        if sel is not None and sel.plugin is entry:
            self._selected = None
            self._chain_in = self._chain_out = None
            self._call_quietly(entry.deactivated, entry, sel.app, DeactivationReason.DESELECTED)
        self._call_quietly(entry.shutdown, entry, entry.ctx)
        self._remove(name)
        self._rebuild_routes()

    def _remove(self, name: str) -> None:
        entry = self._plugins.pop(name)
        self._pm.unregister(entry.obj)

    def _rebuild_routes(self) -> None:
        owned = [(e.name, c) for e in self._plugins.values()
                 if e.name != _PPSE_NAME and e.raw is None for c in e.claims]
        payment = [c for _, c in owned if c.category is Category.PAYMENT]
        wants_ppse = self.config.ppse and bool(payment)
        if wants_ppse and _PPSE_NAME not in self._plugins:
            from .ppse import PpsePlugin

            self._add(_PPSE_NAME, PpsePlugin())
        elif not wants_ppse and _PPSE_NAME in self._plugins:
            self._remove(_PPSE_NAME)
        check_conflicts((e.name, c) for e in self._plugins.values() for c in e.claims)
        self._sync_polling()
        self._routes = [(e, c) for e in self._plugins.values() for c in e.claims]
        self._has_raw = any(e.raw is not None for e in self._plugins.values())
        self._tracing = bool(self._pm.hook.hcekit_trace.get_hookimpls())

    def _sync_polling(self) -> None:
        for e in self._plugins.values():
            self.polling.declare(e.name, e.ctx, own_hook(self._pm, e.obj, "hcekit_polling_loop"),
                                 own_hook(self._pm, e.obj, "hcekit_polling_frame"))
        self.polling.rebuild(list(self._plugins))

    # -- introspection ------------------------------------------------------------

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        return self._pm

    @property
    def plugins(self) -> dict[str, PluginContext]:
        return {name: e.ctx for name, e in self._plugins.items()}

    def declared_options(self) -> dict[str, OptionGroup]:
        """Each plugin's declared options (``hcekit_addoption``), by plugin name."""
        return {name: e.option_group for name, e in self._plugins.items()}

    def atr(self) -> bytes | None:
        """The ATR the plugins ask for (``hcekit_atr``; :func:`hcekit.atr.plugin_atr` says
        which wins), checked; or None. A host's explicit ATR (``hcekit serve --atr``) wins."""
        from .atr import plugin_atr

        return plugin_atr(self._pm, card=self)

    def claims(self) -> list[tuple[str, Claim]]:
        """``(plugin name, claim)`` for every route, in routing order."""
        return [(e.name, c) for e, c in self._routes]

    def payment_claims(self) -> list[tuple[str, Claim]]:
        """Payment applications (what the PPSE lists; the core's own PPSE excluded)."""
        return [(e.name, c) for e, c in self._routes
                if c.category is Category.PAYMENT and e.name != _PPSE_NAME and e.raw is None]

    @property
    def selected(self) -> AppContext | None:
        """The selected application, or None."""
        return self._selected.app if self._selected is not None else None

    @property
    def field_active(self) -> bool:
        return self._field

    # -- field events ---------------------------------------------------------------

    def field_on(self) -> None:
        """A reader activated the card (tap start, vpcd power on / reset)."""
        if self._selected is not None:
            self.field_off(DeactivationReason.LINK_LOSS)
        self._field = True
        self._chain_in = self._chain_out = None
        self._pm.hook.hcekit_field(card=self, active=True, reason=None)

    def field_off(self, reason: DeactivationReason = DeactivationReason.LINK_LOSS) -> None:
        """The reader went away; the selected application gets ``hcekit_deactivated``."""
        reason = DeactivationReason(reason)
        sel = self._selected
        self._selected = None
        self._chain_in = self._chain_out = None
        was_active = self._field
        self._field = False
        self.polling.end_tap()
        if sel is not None:
            self._call_quietly(sel.plugin.deactivated, sel.plugin, sel.app, reason)
        if was_active or sel is not None:
            self._pm.hook.hcekit_field(card=self, active=False, reason=reason)

    def polling_frame(self, frame: PollingFrame) -> PollingEvent:
        """One frame of the reader's polling loop, before activation (see :mod:`hcekit.polling`).

        Routes it to the plugin whose filter matches (or to every plugin
        implementing ``hcekit_polling_frame``), applies autoTransact, and tells
        observers (``hcekit_polling``). Whether the card now answers the reader
        is ``card.polling.answers_reader()``.
        """
        event = self.polling.frame(frame)
        try:
            self._pm.hook.hcekit_polling(card=self, event=event)
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
        for entry in list(self._plugins.values()):
            self._call_quietly(entry.shutdown, entry, entry.ctx)

    def __enter__(self) -> Card:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the exchange ------------------------------------------------------------------

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
        # GET RESPONSE parts of a sensitive answer are as sensitive as its first part
        chained_sensitive = self._chain_out is not None and self._chain_out_sensitive
        start = time.perf_counter_ns()
        response = self._exchange(raw)
        elapsed = time.perf_counter_ns() - start
        sel = self._selected
        command = bytes(raw)
        sensitive = chained_sensitive or (
            sel is not None and (sel.app._sensitive or sel.app.secure_channel is not None)
        ) or is_sensitive(command, self._whole_answer(response), self.secrets)
        self._chain_out_sensitive = sensitive
        if sel is not None:
            sel.app._sensitive = False
        record = TraceRecord(
            command, response,
            sel.app.aid if sel is not None else None,
            sel.plugin.name if sel is not None else None,
            elapsed, sensitive,
        )
        try:
            self._pm.hook.hcekit_trace(record=record)
        except KeyboardInterrupt:
            raise
        except BaseException:
            log.exception("a trace observer failed; the card keeps serving")
        return response

    def _whole_answer(self, response: bytes) -> bytes:
        """*response* with the data still held for GET RESPONSE (a secret may straddle parts)."""
        if self._chain_out is None:
            return response
        return response[:-2] + self._chain_out[0]

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        """Object form of :meth:`transceive`, for tests and in-process terminals."""
        return ResponseApdu.parse(self.transceive(command.to_bytes()))

    def _exchange(self, raw: bytes) -> bytes:
        if self._has_raw:
            answer = self._raw_route(raw)
            if answer is not None:
                return answer
        try:
            command = CommandApdu.parse(raw)
            if command.extended and not self.config.extended_length:
                raise IsoError(SW.WRONG_LENGTH, "extended-length APDUs are not supported here")
            return self._route(command)
        except IsoError as exc:
            log.debug("answering %04X: %s", exc.sw, exc.message)
            return sw_bytes(exc.sw)
        except KeyboardInterrupt:
            raise
        except BaseException:  # SystemExit, GeneratorExit, a plugin's own BaseException …
            log.exception("internal error while handling %s", bytes(raw[:4]).hex().upper())
            return _SW_UNKNOWN

    def _route(self, command: CommandApdu) -> bytes:
        cla = command.cla
        if cla == CLA_INVALID:
            raise IsoError(SW.CLA_NOT_SUPPORTED, "CLA FF is reserved (PPS / reader pseudo-APDUs)")
        if cla & CLA_PROPRIETARY:  # passed through untouched
            self._chain_out = None
            self._chain_in = None
        else:
            channel = (cla & 0x0F) + 4 if cla & CLA_FURTHER_INTERINDUSTRY else cla & 0x03
            if channel:
                raise IsoError(SW.LOGICAL_CHANNEL_NOT_SUPPORTED,
                               f"logical channel {channel}: only the basic channel is supported")
            if self._chain_out is not None:
                if command.ins == INS_GET_RESPONSE:
                    return self._get_response(command)
                self._chain_out = None
            if cla & CLA_CHAINING:
                return self._chain_part(command)
            is_select = command.ins == INS_SELECT and command.p1 == P1_SELECT_BY_DF_NAME
            if self._chain_in is not None:
                if is_select and self._chain_in[:3] != (command.ins, command.p1, command.p2):
                    self._chain_in = None  # a reader starting over: SELECT wins (module doc)
                else:
                    command = self._chain_last(command)
            if is_select:
                return self._select(command)
        sel = self._selected
        if sel is None:
            raise IsoError(SW.UNKNOWN, "no application selected (Android answers 6F00 here)")
        return self._process(sel, command)

    # -- the raw route ----------------------------------------------------------------------

    def _raw_route(self, raw: bytes) -> bytes | None:
        """The answer when a raw application owns *raw*; None: the ISO path handles it."""
        sel = self._selected
        raw_selected = sel is not None and sel.plugin.raw is not None
        aid = routing_select_aid(raw)
        if aid is None:
            return self._raw_call(sel, raw) if raw_selected and sel is not None else None
        for plugin, claim in self._routes:
            if plugin.raw is not None and claim.matches(aid):
                return self._raw_select(plugin, claim, aid, raw)
        if raw_selected and not self._candidates(aid):
            return sw_bytes(SW.FILE_NOT_FOUND)  # AOSP's AID_NOT_FOUND; selection unchanged
        return None

    def _raw_select(self, plugin: _Plugin, claim: Claim, aid: bytes, raw: bytes) -> bytes:
        """Routing follows the AID, as on Android: selected whatever the application answers."""
        current = self._selected
        self._chain_in = self._chain_out = None
        if current is not None and current.plugin is not plugin:
            self._selected = None
            self._call_quietly(current.plugin.deselect, current.plugin, current.app)
        selected = _Selected(plugin, AppContext(plugin.ctx, claim,
                                                claim.aid if claim.kind is AidKind.EXACT else aid))
        self._selected = selected
        return self._raw_call(selected, raw)

    def _raw_call(self, sel: _Selected, raw: bytes) -> bytes:
        assert sel.plugin.raw is not None
        try:
            answer = sel.plugin.raw(bytes(raw))
        except Exception:
            log.exception("raw application %r failed on %s; answering 6F00",
                          sel.plugin.name, bytes(raw[:4]).hex().upper())
            return _SW_UNKNOWN
        if type(answer) is not bytes or len(answer) < 2:
            log.error("raw application %r answered %r; a response APDU is bytes ending in SW1 SW2",
                      sel.plugin.name, answer)
            return _SW_UNKNOWN
        return answer

    # -- chaining -----------------------------------------------------------------------

    def _chain_part(self, command: CommandApdu) -> bytes:
        chain = self._chain_in
        if chain is not None and (chain[0], chain[1], chain[2]) != (
            command.ins, command.p1, command.p2
        ):
            self._chain_in = None
            raise IsoError(SW.LAST_COMMAND_OF_CHAIN_EXPECTED,
                           "a chained command changed INS/P1/P2 in mid-chain")
        if chain is None:
            chain = self._chain_in = (command.ins, command.p1, command.p2, bytearray())
        chain[3].extend(command.data)
        if len(chain[3]) > self.config.max_chained_data:
            self._chain_in = None
            raise IsoError(SW.WRONG_LENGTH,
                           f"chained data exceeds {self.config.max_chained_data} bytes")
        return _SW_BYTES_OK

    def _chain_last(self, command: CommandApdu) -> CommandApdu:
        assert self._chain_in is not None
        ins, p1, p2, buffered = self._chain_in
        self._chain_in = None
        if (ins, p1, p2) != (command.ins, command.p1, command.p2):
            raise IsoError(SW.LAST_COMMAND_OF_CHAIN_EXPECTED,
                           "the chain's last command has another INS/P1/P2; chain dropped")
        data = bytes(buffered) + command.data
        if len(data) > self.config.max_chained_data:
            raise IsoError(SW.WRONG_LENGTH,
                           f"chained data exceeds {self.config.max_chained_data} bytes")
        return CommandApdu(command.cla, ins, p1, p2, data, command.le)

    def _get_response(self, command: CommandApdu) -> bytes:
        assert self._chain_out is not None
        if command.p1 or command.p2:
            raise IsoError(SW.INCORRECT_P1P2, "GET RESPONSE takes P1-P2 = 0000")
        remaining, final_sw = self._chain_out
        ne = command.le or (EXTENDED_MAX_NE if command.extended else SHORT_MAX_NE)
        ne = min(ne, self.config.max_response_data)
        chunk, rest = remaining[:ne], remaining[ne:]
        if rest:
            self._chain_out = (rest, final_sw)
            return chunk + sw_bytes(bytes_remaining(len(rest)))
        self._chain_out = None
        return chunk + sw_bytes(final_sw)

    def _deliver(self, command: CommandApdu, data: bytes, sw: int) -> bytes:
        """Apply Ne: send what fits, keep the rest for GET RESPONSE (or 6Cxx)."""
        n = len(data)
        if not n:
            return sw_bytes(sw)
        le = command.le
        limit = le if le is not None else (EXTENDED_MAX_NE if command.extended else SHORT_MAX_NE)
        if limit > self.config.max_response_data:
            limit = self.config.max_response_data
        if n <= limit:
            return data + (_SW_BYTES_OK if sw == SW.NO_ERROR else sw_bytes(sw))
        if self.config.wrong_le == "6c" and le is not None and not command.extended \
                and n <= SHORT_MAX_NE:
            return sw_bytes(wrong_le(n))
        self._chain_out = (data[limit:], sw)
        return data[:limit] + sw_bytes(bytes_remaining(n - limit))

    # -- selection -------------------------------------------------------------------------

    def _candidates(self, name: bytes) -> list[tuple[_Plugin, Claim, bytes]]:
        """``(plugin, claim, AID)`` a SELECT of *name* reaches, in first/next-occurrence order
        (:func:`hcekit.aid.select_order`: partial names too); raw ones route only by AID."""
        plugins = {p.name: p for p, _ in self._routes if p.raw is None}
        routes = [(p.name, c) for p, c in self._routes if p.raw is None]
        return [(plugins[owner], claim, aid) for aid, owner, claim in select_order(name, routes)]

    def _select(self, command: CommandApdu) -> bytes:
        name = command.data
        occurrence = command.p2 & P2_OCCURRENCE_MASK
        if occurrence not in (P2_FIRST_OCCURRENCE, P2_NEXT_OCCURRENCE):
            raise IsoError(SW.INCORRECT_P1P2,
                           "SELECT last/previous occurrence is not supported (P2 b2b1 = 01/11)")
        if not name:
            raise IsoError(SW.FILE_NOT_FOUND, "SELECT by DF name with an empty name")
        candidates = self._candidates(name)
        current = self._selected
        if occurrence == P2_NEXT_OCCURRENCE and current is not None:
            keys = [(p.name, c, a) for p, c, a in candidates]
            try:
                position = keys.index((current.plugin.name, current.app.claim, current.app.aid))
            except ValueError:
                position = -1
            candidates = candidates[position + 1:]
        if not candidates:
            raise IsoError(SW.FILE_NOT_FOUND, f"no application matches {name.hex().upper()}")
        plugin, claim, aid = candidates[0]
        app = AppContext(plugin.ctx, claim, aid)
        data, sw = self._call_app(plugin.select, app, command, plugin)
        if not _is_success(sw):
            return self._deliver(command, data, sw)  # refused: selection unchanged
        self._selected = _Selected(plugin, app)
        reselected = current is not None and current.plugin is plugin and current.app.claim == claim
        if current is not None and not reselected:
            self._call_quietly(current.plugin.deselect, current.plugin, current.app)
        return self._deliver(command, data, sw)

    # -- processing -------------------------------------------------------------------------

    def _call_app(self, fn: HookFn | None, app: AppContext, command: CommandApdu,
                  plugin: _Plugin) -> tuple[bytes, int]:
        if fn is None:
            return b"", SW.NO_ERROR
        try:
            result = fn(app, command)
        except IsoError as exc:
            log.debug("plugin %s answered %04X: %s", plugin.name, exc.sw, exc.message)
            return b"", exc.sw
        except KeyboardInterrupt:
            raise  # in-process, the user's Ctrl-C; hosts serving from threads catch it
        except BaseException:  # SystemExit from a plugin must not end the card's process
            log.exception("plugin %r failed on %s; answering 6F00",
                          plugin.name, command.header.hex().upper())
            return b"", SW.UNKNOWN
        return _normalise(result, plugin.name)

    def _process(self, sel: _Selected, command: CommandApdu) -> bytes:
        app = sel.app
        channel = app.secure_channel
        if channel is None:
            if sel.process is None:
                raise IsoError(SW.INS_NOT_SUPPORTED, f"plugin {sel.plugin.name!r} has no process hook")
            data, sw = self._call_app(sel.process, app, command, sel.plugin)
            return self._deliver(command, data, sw)
        try:
            plain = channel.unwrap_command(command)
        except IsoError as exc:
            app.secure_channel = None
            log.info("secure messaging error %04X (%s); session dropped", exc.sw, exc.message)
            return sw_bytes(exc.sw)
        except Exception:
            app.secure_channel = None
            log.exception("secure channel failed to unwrap; session dropped")
            return _SW_UNKNOWN
        if sel.process is None:
            data, sw = b"", int(SW.INS_NOT_SUPPORTED)
        else:
            data, sw = self._call_app(sel.process, app, plain, sel.plugin)
        if app.secure_channel is not channel:
            return self._deliver(command, data, sw)  # the plugin ended the session itself
        try:
            wrapped = channel.wrap_response(plain, ResponseApdu(data, sw))
        except Exception:
            app.secure_channel = None
            log.exception("secure channel failed to wrap; session dropped")
            return _SW_UNKNOWN
        return self._deliver(command, wrapped.data, wrapped.sw)

    def _call_quietly(self, fn: HookFn | None, plugin: _Plugin, *args: Any) -> None:
        if fn is None:
            return
        try:
            fn(*args)
        except KeyboardInterrupt:
            raise
        except BaseException:
            log.exception("plugin %r failed in a lifecycle hook (ignored)", plugin.name)

    def __repr__(self) -> str:
        return f"Card(plugins={list(self._plugins)})"


_PPSE_NAME = "ppse"

#: AOSP ``HostEmulationManager``: a routing SELECT has CLA 00 (basic channel, no SM, no
#: chaining), a 5-byte header and an AID of at least 5 bytes.
_CLA_BASIC = 0x00
_SELECT_HEADER_LEN = 5
_MIN_ROUTING_AID_LEN = 5


def routing_select_aid(raw: bytes) -> bytes | None:
    """The AID Android's NFC stack routes *raw* by, or None (AOSP ``findSelectAid``).

    CLA 00, INS A4, P1 04 (any P2), at least 10 bytes, and Lc AID bytes present;
    trailing bytes (Le) are allowed. Anything else goes to the selected service.
    """
    if len(raw) < _SELECT_HEADER_LEN + _MIN_ROUTING_AID_LEN or raw[0] != _CLA_BASIC \
            or raw[1] != INS_SELECT or raw[2] != P1_SELECT_BY_DF_NAME:
        return None
    length = raw[4]
    if len(raw) < _SELECT_HEADER_LEN + length:
        return None
    return bytes(raw[_SELECT_HEADER_LEN:_SELECT_HEADER_LEN + length])


def _check_option_targets(options: Mapping[str, object], names: Sequence[str]) -> None:
    """Options for a plugin the card does not have are an error, before any plugin starts."""
    for target in options:
        if target not in names:
            known = ", ".join(n for n in names) or "none"
            raise OptionError(f"option for plugin {target!r}: no such plugin on this card"
                              f"{closest(target, names)} (plugins: {known})")


def _normalise(result: object, plugin: str) -> tuple[bytes, int]:
    if result is None:
        return b"", SW.NO_ERROR
    if type(result) is bytes:
        return result, SW.NO_ERROR
    if isinstance(result, ResponseApdu):
        return result.data, result.sw
    if isinstance(result, bytearray | memoryview):
        return bytes(result), SW.NO_ERROR
    log.error("plugin %r returned %s; hooks return bytes, ResponseApdu or None",
              plugin, type(result).__name__)
    return b"", SW.UNKNOWN

