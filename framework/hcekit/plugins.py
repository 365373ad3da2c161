"""Finding and loading plugins: entry points, ``module:attr`` strings, objects.

A plugin is a module, a class (instantiated once per card, with no
arguments) or an object with ``hcekit_*`` hook functions. Installed
plugins — built-in ones included — are found through the entry-point group
``hcekit`` (like pytest's ``pytest11``); the entry-point name is the plugin's
name. As in pytest, a function named ``hcekit_<hook>`` is a hook
implementation even without the ``@hookimpl`` marker; a misspelt
``hcekit_`` name is an error, not silently ignored.

The manager also enforces the hook contract of :mod:`hcekit.hookspecs` at
registration: an owner-only hook carrying a hookimpl option the core would not
honour (``wrapper``, ``hookwrapper``, ``tryfirst``, ``trylast``), or an
application hook on a plugin that claims nothing, is refused with a
:class:`~hcekit.errors.PluginLoadError` naming the plugin and the hook.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import types
from collections.abc import Callable, Iterable
from typing import Any

import pluggy

from . import hookspecs
from .entrypoints import entry_points
from .errors import PluginLoadError
from .logs import get_logger
from .options import OptionGroup

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginSpec",
    "HcekitPluginManager",
    "call_own",
    "declared_options",
    "own_hook",
    "cwd_importable",
    "load_object",
    "installed_plugin_manager",
    "installed_plugins",
    "resolve_plugins",
    "plugin_name",
]

#: The entry-point group installed plugins register in (``[project.entry-points.hcekit]``).
ENTRY_POINT_GROUP = "hcekit"

log = get_logger("hcekit.plugins")

#: What callers may pass as a plugin: an object/module/class, a
#: ``"module:attr"`` (or ``"module"``) string, or a ``(name, plugin)`` pair.
PluginSpec = object | str | tuple[str, object]


class HcekitPluginManager(pluggy.PluginManager):
    """pluggy's manager with hcekit's hookspecs, pytest-style unmarked hooks and the contract."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        #: While :meth:`register` runs: each attribute's parse, shared by the contract check
        #: and pluggy (pluggy's static lookup is the dearest part of starting a card).
        self._parsed: dict[str, pluggy.HookimplOpts | None] | None = None

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        if name.startswith("__") and name.endswith("__"):
            return None  # object's and the class's dunders are never hook implementations
        parsed = self._parsed
        if parsed is not None and name in parsed:
            return parsed[name]
        opts = self._parse(plugin, name)
        if parsed is not None:
            parsed[name] = opts
        return opts

    def _parse(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is not None or not name.startswith("hcekit_"):
            return opts
        if not inspect.isroutine(getattr(plugin, name, None)):
            return None
        return pluggy.HookimplOpts(
            wrapper=False,
            hookwrapper=False,
            optionalhook=False,
            tryfirst=False,
            trylast=False,
            specname=None,
        )

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register *plugin* after checking it against the hook contract (see module doc)."""
        self._parsed = {}
        try:
            self._check_contract(plugin, name or self.get_canonical_name(plugin))
            return super().register(plugin, name)
        finally:
            self._parsed = None

    def _check_contract(self, plugin: object, label: str) -> None:
        implemented: set[str] = set()
        for attr in dir(plugin):
            opts = self.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            hook = opts.get("specname") or attr
            implemented.add(hook)
            refused: tuple[str, ...]
            if hook in hookspecs.OWNER_ONLY_HOOKS:
                refused, why = hookspecs.REFUSED_ON_OWNER_ONLY, (
                    "an owner-only hook the card calls on its own plugin directly, "
                    "never through a pluggy hook call")
            elif hook == "hcekit_atr":
                refused, why = hookspecs.REFUSED_ON_ATR, (
                    "asked of each plugin in turn so that the winner does not depend on "
                    "load order (tryfirst/trylast rank the answers)")
            else:
                continue
            given = ", ".join(f"{key}=True" for key in refused if opts.get(key))
            if given:
                raise PluginLoadError(
                    f"plugin {label!r}: @hookimpl({given}) on {hook} is not honoured: "
                    f"{hook} is {why} (see hcekit.hookspecs); remove the option")
        orphans = sorted(implemented & hookspecs.APPLICATION_HOOKS)
        if orphans and "hcekit_claims" not in implemented:
            raise PluginLoadError(
                f"plugin {label!r} implements {', '.join(orphans)} but not hcekit_claims: "
                "application hooks are only called on the plugin owning the selected AID, "
                "so they would never run; claim an AID or use a broadcast hook "
                "(hcekit_trace, hcekit_field) to observe")


def own_hook(pm: pluggy.PluginManager, plugin: object, hook: str) -> Callable[..., Any] | None:
    """*plugin*'s own implementation of owner-only *hook*, taking the spec's arguments
    positionally (trailing ones the implementation leaves out are dropped), or None."""
    caller = getattr(pm.hook, hook)
    spec_args = tuple(caller.spec.argnames) if caller.spec is not None else ()
    for impl in caller.get_hookimpls():
        if impl.plugin is plugin:
            fn: Callable[..., Any] = impl.function
            argnames = tuple(impl.argnames)
            if argnames == spec_args:
                return fn
            index = [spec_args.index(a) for a in argnames]
            return lambda *args: fn(*[args[i] for i in index])
    return None


def call_own(pm: pluggy.PluginManager, plugin: object, hook: str, *args: Any) -> Any:
    """Call *plugin*'s own implementation of owner-only *hook* (None when it has none)."""
    fn = own_hook(pm, plugin, hook)
    return None if fn is None else fn(*args)


def declared_options(pm: pluggy.PluginManager, plugin: object, name: str) -> OptionGroup:
    """What *plugin* (registered on *pm* as *name*) declares in ``hcekit_addoption``."""
    group = OptionGroup(name)
    try:
        call_own(pm, plugin, "hcekit_addoption", group)
    except PluginLoadError:
        raise
    except Exception as exc:
        raise PluginLoadError(f"plugin {name!r} failed to declare its options: {exc}") from exc
    return group


def cwd_importable() -> None:
    """Look modules up in the current directory first, as ``python -m`` does.

    Every place that imports a plugin by name (the CLI's ``--plugin``,
    ``hcekit check``, ``hcekit fuzz``, pytest's ``--hce-check``) goes through
    :func:`load_object`, so ``./mycard.py`` is found the same way by all.
    """
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def load_object(spec: str) -> object:
    """Import ``"package.module:attr"`` (or a whole ``"package.module"``), cwd first."""
    cwd_importable()
    module_name, _, attr = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise PluginLoadError(f"cannot import plugin module {module_name!r}: {exc}") from exc
    for part in filter(None, attr.split(".")):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginLoadError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def plugin_name(obj: object) -> str:
    """A plugin's default name: its ``name`` attribute, else module or class name."""
    explicit = getattr(obj, "name", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    if isinstance(obj, types.ModuleType):
        return obj.__name__.rsplit(".", 1)[-1].removeprefix("hcekit_")
    cls = obj if isinstance(obj, type) else type(obj)
    return cls.__name__


def _instantiate(obj: object) -> object:
    if isinstance(obj, type):
        try:
            return obj()
        except Exception as exc:
            raise PluginLoadError(f"cannot instantiate plugin class {obj.__name__}: {exc}") from exc
    return obj


def installed_plugins(only: Iterable[str] | None = None) -> list[tuple[str, object]]:
    """The plugins of the ``hcekit`` entry-point group, loaded (classes not yet instantiated).

    With *only*, entry points are chosen by name before any is loaded: the
    other plugins' modules are never imported. A name no entry point has is a
    :class:`~hcekit.errors.PluginLoadError`.
    """
    wanted = None if only is None else set(only)
    chosen = sorted((ep for ep in entry_points(ENTRY_POINT_GROUP)
                     if wanted is None or ep.name in wanted), key=lambda e: e.name)
    if wanted is not None:
        missing = wanted - {ep.name for ep in chosen}
        if missing:
            raise PluginLoadError(f"no installed plugin named {', '.join(sorted(missing))}")
    found = []
    for ep in chosen:
        try:
            found.append((ep.name, ep.load()))
        except Exception as exc:
            raise PluginLoadError(
                f"entry point {ep.name!r} ({ep.value}) of group {ENTRY_POINT_GROUP!r} "
                f"failed to load: {exc}"
            ) from exc
    return found


def installed_plugin_manager(*, strict: bool = True) -> HcekitPluginManager:
    """The installed plugins, registered but not started, for their broadcast hooks.

    Used where no card is needed (CLI sub-commands, terminal scripts for a PC/SC
    tap). ``strict=False`` logs a plugin that fails to load or register and
    leaves it out, so one broken plugin cannot take the whole CLI down.
    """
    pm = HcekitPluginManager()
    try:
        plugins = resolve_plugins(installed_plugins())
    except PluginLoadError as exc:
        if strict:
            raise
        log.warning("installed plugins unavailable: %s", exc)
        return pm
    for name, obj in plugins:
        try:
            pm.register(obj, name=name)
        except Exception as exc:
            if strict:
                raise PluginLoadError(f"plugin {name!r} is invalid: {exc}") from exc
            log.warning("plugin %s left out: %s", name, exc)
    return pm


def _check_has_hooks(spec: str, obj: object) -> None:
    """A plugin named on a command line must implement at least one ``hcekit_`` hook.

    Anything importable would otherwise load as a plugin that does nothing
    (``--plugin json:dumps``): a typo that looks like success.
    """
    hooks = [n for n in dir(hookspecs) if n.startswith("hcekit_")]
    if not any(inspect.isroutine(getattr(obj, hook, None)) for hook in hooks):
        raise PluginLoadError(f"{spec!r} is not an hcekit plugin: it has no hcekit hook "
                              "(a function such as hcekit_claims or hcekit_trace)")


def resolve_plugins(specs: Iterable[PluginSpec]) -> list[tuple[str, object]]:
    """Turn specs into ``(name, plugin object)`` pairs; classes are instantiated."""
    resolved: list[tuple[str, object]] = []
    seen: set[str] = set()
    for spec in specs:
        if isinstance(spec, tuple):
            name, obj = spec
        elif isinstance(spec, str):
            obj = load_object(spec)
            name = plugin_name(obj)
            _check_has_hooks(spec, obj)
        else:
            obj = spec
            name = plugin_name(obj)
        if name in seen:
            raise PluginLoadError(
                f"two plugins are named {name!r}; pass (name, plugin) pairs to tell them apart"
            )
        seen.add(name)
        resolved.append((name, _instantiate(obj)))
    return resolved
