"""Options and helpers shared by CLI commands: which plugins, which store, traces."""

from __future__ import annotations

import argparse
import functools
import logging
import os
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ..card import Card
from ..errors import HcekitError, PluginLoadError
from ..plugins import (
    ENTRY_POINT_GROUP,
    HcekitPluginManager,
    PluginSpec,
    cwd_importable,
    declared_options,
    installed_plugin_manager,
    installed_plugins,
    resolve_plugins,
)
from ..registry import check_option_targets
from ..store import MEMORY, SqliteStore, Store, open_store
from ..trace import LoggingTracer
from .arguments import hexbytes, non_empty

__all__ = ["STORE_ENV", "StoreOwningCard", "UsageError", "add_card_options", "add_store_option",
           "build_card", "cwd_importable", "default_store_path", "hexbytes",
           "installed_options_text", "open_cli_store", "parse_options", "plugin_specs",
           "store_location", "unstarted_plugins"]


class UsageError(HcekitError):
    """A command line that cannot work as given: ``hcekit`` exits 2, as argparse does."""


STORE_ENV = "HCEKIT_STORE"
STORE_HELP = (f"the card's store: a SQLite file, or '{MEMORY}' for a throwaway card. "
              f"Default: ${STORE_ENV}, else ~/.local/share/hcekit/store.sqlite "
              "(the same for every command, so personalize, serve, tap, send and replay "
              "see one card)")


def default_store_path() -> Path:
    """``$HCEKIT_STORE``, else ``$XDG_DATA_HOME/hcekit/store.sqlite``."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hcekit" / "store.sqlite"


def add_store_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *,
                     per_port: bool = False) -> None:
    """The one ``--store`` option (``per_port``: repeatable, one per ``--port``)."""
    if per_port:
        parser.add_argument("--store", action="append", default=None, metavar="PATH",
                            type=non_empty,
                            help=STORE_HELP + ". With several --port: one --store per port, "
                                 "in the same order (a store holds one card), or "
                                 f"--store {MEMORY} once for throwaway cards")
    else:
        parser.add_argument("--store", default=None, metavar="PATH", type=non_empty,
                            help=STORE_HELP)


def store_location(value: str | None) -> str:
    """What ``--store`` *value* means: the path (or ``:memory:``) the command will use."""
    return value if value is not None else str(default_store_path())


def open_cli_store(value: str | None, *, read_only: bool = False) -> Store:
    """Open the store ``--store`` *value* names, by the one rule every command follows.

    An explicit path (``--store`` or ``$HCEKIT_STORE``) must be in an existing
    directory; only the default location's directory is created (0700).
    ``read_only`` (``show`` commands) never creates anything and takes no lock.
    """
    explicit = value is not None or bool(os.environ.get(STORE_ENV))
    location = store_location(value)
    store = open_store(location, read_only=read_only, create_parent=not explicit)
    logging.getLogger("hcekit.cli").info("store: %s", location)
    return store


class StoreOwningCard(Card):
    """A card the CLI built on a store it opened: closing the card closes (unlocks) the store."""

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.store.close()


def add_card_options(parser: argparse.ArgumentParser, *, per_port_store: bool = False) -> None:
    """``--plugin``, ``--only``, ``--no-installed``, ``--store``, ``--option``, ``--trace``."""
    group = parser.add_argument_group("card")
    group.add_argument("--plugin", action="append", default=[], metavar="MODULE:ATTR",
                       help="load an extra plugin (repeatable); MODULE is looked up in the "
                            "current directory first")
    group.add_argument("--only", action="append", default=None, metavar="NAME",
                       help="use only these installed plugins (repeatable; default: all)")
    group.add_argument("--no-installed", action="store_true",
                       help="do not load installed (entry-point) plugins")
    add_store_option(group, per_port=per_port_store)
    group.add_argument("--option", action="append", default=[], metavar="PLUGIN.KEY=VALUE",
                       help="plugin option (repeatable), e.g. ndef.url=https://example.com; "
                            "checked against what the plugins declare (listed below)")
    group.add_argument("--trace", action="store_true", help="log every APDU exchange (redacted)")
    group.add_argument("--reveal-secrets", action="store_true",
                       help="print, log and record sensitive exchanges (PINs, keys, values "
                            "plugins marked secret) in clear; debugging only")


    # A placeholder: the listing loads every plugin, so it is built only when help is shown.
    parser.epilog = "\n".join(filter(None, [parser.epilog, _OPTIONS_PLACEHOLDER]))
    parser.formatter_class = _EpilogWithOptions


_OPTIONS_HEADING = "plugin options (--option PLUGIN.KEY=VALUE):"
_OPTIONS_PLACEHOLDER = "\x00installed plugin options\x00"


class _EpilogWithOptions(argparse.HelpFormatter):
    """Reflow descriptions as usual; the option listing is built late and printed as is."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if _OPTIONS_PLACEHOLDER in text:
            head, _, tail = text.partition(_OPTIONS_PLACEHOLDER)
            filled = [super()._fill_text(part, width, indent) for part in (head, tail)
                      if part.strip()]
            listing = "".join(indent + line + "\n" for line in installed_options_text().splitlines())
            return "\n".join([*filled[:1], listing, *filled[1:]]).strip("\n")
        return super()._fill_text(text, width, indent)


@functools.lru_cache(maxsize=1)
def installed_options_text() -> str:
    """The declared options of every installed plugin, one per line (for ``--help``)."""
    pm = installed_plugin_manager(strict=False)
    lines = []
    for plugin in sorted(pm.get_plugins(), key=lambda p: pm.get_name(p) or ""):
        name = pm.get_name(plugin) or "?"
        try:
            group = declared_options(pm, plugin, name)
        except HcekitError as exc:
            lines.append(f"  {name}: options unavailable: {exc}")
            continue
        lines.extend(option.describe() for option in group)
    return "\n".join([_OPTIONS_HEADING, *lines]) if lines else ""


def parse_options(pairs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["ndef.url=x", "transit.limit=5"]`` → ``{"ndef": {"url": "x"}, ...}``."""
    options: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        plugin, dot, name = key.partition(".")
        if not sep or not dot or not plugin or not name:
            raise UsageError(f"--option {pair!r}: expected PLUGIN.KEY=VALUE")
        if not value:
            raise UsageError(f"--option {pair!r}: the value is empty (leave the option out "
                             "for the plugin's default)")
        options.setdefault(plugin, {})[name] = value
    return options


def plugin_specs(args: argparse.Namespace) -> list[PluginSpec]:
    """The plugins the card options name (installed ones filtered by ``--only``), unstarted."""
    specs: list[PluginSpec] = []
    if not args.no_installed:
        if args.only is not None:  # a name no plugin has is a refused value
            known = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
            missing = set(args.only) - known
            if missing:
                raise UsageError(f"--only: no installed plugin named "
                                 f"{', '.join(sorted(missing))}")
        specs.extend(installed_plugins(args.only))
    specs.extend(args.plugin)
    return specs


def unstarted_plugins(args: argparse.Namespace) -> HcekitPluginManager:
    """Everything the card options can refuse, checked before any store or file is touched.

    The plugins are loaded and registered (the hook contract checked) and the
    ``--option`` values resolved against what they declare, but nothing is
    started. A refusal is a :class:`UsageError` (exit 2).
    """
    try:
        options = parse_options(args.option)
        pm = HcekitPluginManager()
        names = []
        for name, obj in resolve_plugins(plugin_specs(args)):
            try:
                pm.register(obj, name=name)
            except HcekitError:
                raise
            except Exception as exc:
                raise PluginLoadError(f"plugin {name!r} is invalid: {exc}") from exc
            declared_options(pm, obj, name).resolve(options.get(name, {}))
            names.append(name)
        check_option_targets(options, names)
    except UsageError:
        raise
    except HcekitError as exc:
        raise UsageError(str(exc)) from exc
    return pm


def build_card(args: argparse.Namespace, *, store: Store | None = None) -> Card:
    """The card the common options describe, on the ``--store`` store unless *store* is given.

    A store opened here belongs to the card: closing the card closes and
    unlocks it. Pass *store* to keep it (the caller closes it).
    """
    unstarted_plugins(args)
    specs = plugin_specs(args)
    if args.trace:
        specs.append(("trace", LoggingTracer(reveal=args.reveal_secrets)))
    options = parse_options(args.option)
    if store is not None:
        return Card(specs, store=store, options=options)
    store = open_cli_store(args.store)
    try:
        return StoreOwningCard(specs, store=store, options=options)
    except BaseException:
        # a card that never started (a typo'd option, a plugin that fails) leaves no new store
        if isinstance(store, SqliteStore):
            store.discard()
        else:
            store.close()
        raise
