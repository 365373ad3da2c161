"""The plugins of one card: registration, options, claims and routes, polling filters, the ATR.

:class:`PluginRegistry` registers each plugin with pluggy (the contract is
checked there), resolves its declared options, starts it, binds its owner-only
hook functions once (:class:`Registered`) and keeps the card's routes: every
claim in routing order, the core's own PPSE added while a payment claim
exists, conflicts refused. The router reads the routes; it never registers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .aid import Category, Claim, check_conflicts
from .atr import plugin_atr
from .calls import HookFn, call_quietly
from .context import CardView, PluginContext
from .errors import ClaimError, HcekitError, PluginLoadError
from .options import OptionError, OptionGroup, closest
from .plugins import HcekitPluginManager, PluginSpec, declared_options, own_hook, resolve_plugins
from .ppse import CORE_OWNER, PpsePlugin
from .store import Store

if TYPE_CHECKING:
    from .polling import PollingLoop, PollingRouter

__all__ = ["ask_polling_loop", "PluginRegistry", "RawExchange", "Registered"]

#: A raw application's APDU handler: the command as the reader sent it → the response.
RawExchange = Callable[[bytes], bytes]


class Registered:
    """A registered plugin with its context, declared options and owner-only hooks."""

    __slots__ = ("claims", "ctx", "deactivated", "deselect", "name", "obj", "option_group",
                 "process", "raw", "select", "shutdown", "startup")

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


class PluginRegistry:
    """Plugins, their claims and options, and the routes built from them."""

    def __init__(self, card: CardView, store: Store, options: Mapping[str, Mapping[str, Any]],
                 *, ppse: bool) -> None:
        self._card = card
        #: The card's polling router, built once a plugin declares a polling loop or a frame
        #: hook, or a host asks for it (:meth:`polling_router`): until then hcekit.polling
        #: is not imported.
        self.polling: PollingRouter | None = None
        #: Each plugin's answer to ``hcekit_polling_loop`` (asked once per registration).
        self._loops: dict[str, PollingLoop | None] = {}
        self._store = store
        self._options = dict(options)
        #: Answer SELECT 2PAY.SYS.DDF01 from the payment claims (CardConfig.ppse).
        self.ppse = ppse
        self.pm = HcekitPluginManager()
        self.entries: dict[str, Registered] = {}
        #: ``(plugin, claim)`` in routing order.
        self.routes: list[tuple[Registered, Claim]] = []
        self.has_raw = False
        self.tracing = False

    def load(self, plugins: Iterable[PluginSpec]) -> None:
        """The card's first plugins: every one registered and its options checked before any
        starts, so a typo in one plugin's options stops the card before another personalised
        itself."""
        resolved = resolve_plugins(plugins)
        check_option_targets(self._options, [name for name, _ in resolved])
        pending: list[Registered] = []
        try:
            for name, obj in resolved:  # names are unique (resolve_plugins checks)
                pending.append(self._register(name, obj))
        except HcekitError:
            for entry in pending:
                self.pm.unregister(entry.obj)
            raise
        for index, entry in enumerate(pending):
            try:
                self._start(entry)
            except HcekitError:
                for later in pending[index + 1:]:
                    self.pm.unregister(later.obj)
                raise
        self.rebuild()

    def add(self, plugin: PluginSpec, *, name: str | None = None,
            options: Mapping[str, Any] | None = None, raw: RawExchange | None = None) -> Registered:
        """One more plugin on a running card. Conflicts raise; nothing changes."""
        ((default_name, obj),) = resolve_plugins([plugin])
        name = name or default_name
        if options is not None:
            self._options[name] = dict(options)
        entry = self._register(name, obj)
        self._start(entry)
        entry.raw = raw
        try:
            self.rebuild()
        except HcekitError:
            self.remove(name)
            self.rebuild()
            raise
        return entry

    def _register(self, name: str, obj: object) -> Registered:
        """Register with pluggy (the contract is checked) and check the given options."""
        if name in self.entries:
            raise PluginLoadError(f"a plugin named {name!r} is already registered on this card")
        pm = self.pm
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
        ctx = PluginContext(self._card, name, obj, self._store.namespace(name), values)
        entry = Registered(name, obj, ctx, group)
        entry.startup = own_hook(pm, obj, "hcekit_startup")
        entry.select = own_hook(pm, obj, "hcekit_select")
        entry.process = own_hook(pm, obj, "hcekit_process")
        entry.deselect = own_hook(pm, obj, "hcekit_deselect")
        entry.deactivated = own_hook(pm, obj, "hcekit_deactivated")
        entry.shutdown = own_hook(pm, obj, "hcekit_shutdown")
        return entry

    def _start(self, entry: Registered) -> None:
        """``hcekit_startup`` then ``hcekit_claims``; the plugin is unregistered on failure."""
        name, obj, ctx = entry.name, entry.obj, entry.ctx
        claims_fn = own_hook(self.pm, obj, "hcekit_claims")
        try:
            if entry.startup is not None:
                entry.startup(ctx)
            entry.claims = tuple(claims_fn(ctx) or ()) if claims_fn is not None else ()
        except OptionError as exc:  # a value the plugin refuses: the caller's input, not a bug
            self.pm.unregister(obj)
            raise OptionError(f"plugin {name!r} refused its options: {exc}") from exc
        except Exception as exc:
            self.pm.unregister(obj)
            raise PluginLoadError(f"plugin {name!r} failed to start: {exc}") from exc
        for claim in entry.claims:
            if not isinstance(claim, Claim):
                self.pm.unregister(obj)
                raise ClaimError(
                    f"plugin {name!r} returned {claim!r} from hcekit_claims; expected hcekit.Claim"
                )
        self.entries[name] = entry

    def remove(self, name: str) -> Registered:
        """Forget *name* (routes are rebuilt by :meth:`rebuild`)."""
        entry = self.entries.pop(name)
        self.pm.unregister(entry.obj)
        return entry

    def shutdown(self, entry: Registered) -> None:
        call_quietly(entry.shutdown, entry.name, entry.ctx)

    def rebuild(self) -> None:
        """Routes from the claims: the core's PPSE while any payment claim exists; conflicts raise."""
        entries = self.entries
        wants_ppse = self.ppse and any(
            c.category is Category.PAYMENT for e in entries.values()
            if e.name != CORE_OWNER and e.raw is None for c in e.claims)
        if wants_ppse and CORE_OWNER not in entries:
            entry = self._register(CORE_OWNER, PpsePlugin())
            self._start(entry)
        elif not wants_ppse and CORE_OWNER in entries:
            self.remove(CORE_OWNER)
        check_conflicts((e.name, c) for e in entries.values() for c in e.claims)
        self._sync_polling()
        self.routes = [(e, c) for e in entries.values() for c in e.claims]
        self.has_raw = any(e.raw is not None for e in entries.values())
        self.tracing = bool(self.pm.hook.hcekit_trace.get_hookimpls())

    def polling_router(self) -> PollingRouter:
        """The card's polling router, built (with every plugin's declaration) on first use."""
        router = self.polling or self._sync_polling(build=True)
        assert router is not None
        return router

    def _sync_polling(self, *, build: bool = False) -> PollingRouter | None:
        """Each plugin's polling-loop filters and frame hook, to the card's polling router
        (built here when some plugin declares either, or *build*)."""
        entries = self.entries.values()
        loops = {e.name: self._loops[e.name] if e.name in self._loops else
                 ask_polling_loop(e.name, e.ctx, own_hook(self.pm, e.obj, "hcekit_polling_loop"))
                 for e in entries}
        self._loops = loops
        hooks = {e.name: own_hook(self.pm, e.obj, "hcekit_polling_frame") for e in entries}
        router = self.polling
        if router is None:
            if not build and all(v is None for v in (*loops.values(), *hooks.values())):
                return None  # nothing declared: hcekit.polling stays unimported
            from .polling import PollingRouter

            router = self.polling = PollingRouter()
        for e in entries:
            router.declare(e.name, e.ctx, loops[e.name], hooks[e.name])
        router.rebuild(list(self.entries))
        return router

    # -- what the card shows ---------------------------------------------------------------

    def declared_options(self) -> dict[str, OptionGroup]:
        return {name: e.option_group for name, e in self.entries.items()}

    def claims(self) -> list[tuple[str, Claim]]:
        return [(e.name, c) for e, c in self.routes]

    def payment_claims(self) -> list[tuple[str, Claim]]:
        return [(e.name, c) for e, c in self.routes
                if c.category is Category.PAYMENT and e.name != CORE_OWNER and e.raw is None]

    def atr(self) -> bytes | None:
        """The ATR the plugins ask for (:func:`hcekit.atr.plugin_atr` says which wins), or None."""
        return plugin_atr(self.pm, card=self._card)


def check_option_targets(options: Mapping[str, object], names: Sequence[str]) -> None:
    """Options for a plugin the card does not have are an error, before any plugin starts."""
    for target in options:
        if target not in names:
            known = ", ".join(n for n in names) or "none"
            raise OptionError(f"option for plugin {target!r}: no such plugin on this card"
                              f"{closest(target, names)} (plugins: {known})")


def ask_polling_loop(name: str, ctx: PluginContext,
                     declare: Callable[..., Any] | None) -> PollingLoop | None:
    """A plugin's answer to ``hcekit_polling_loop`` (None: it declares nothing), checked."""
    if declare is None:
        return None
    try:
        answer = declare(ctx)
    except HcekitError:
        raise
    except Exception as exc:
        raise PluginLoadError(f"plugin {name!r} failed in hcekit_polling_loop: {exc}") from exc
    if answer is None:
        return None
    from .polling import PollingLoop

    if not isinstance(answer, PollingLoop):
        raise PluginLoadError(f"plugin {name!r} returned {answer!r} from "
                              "hcekit_polling_loop; expected hcekit.polling.PollingLoop")
    return answer
