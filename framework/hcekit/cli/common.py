"""Options and helpers shared by CLI commands: which plugins, which store, traces."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..card import Card
from ..errors import HcekitError
from ..plugins import declared_options, installed_plugin_manager
from ..store import Store, open_store
from ..trace import LoggingTracer
from .arguments import hexbytes

__all__ = ["add_card_options", "build_card", "cwd_importable", "default_store_path", "hexbytes",
           "installed_options_text", "parse_options"]

STORE_ENV = "HCEKIT_STORE"


def default_store_path() -> Path:
    """``$HCEKIT_STORE``, else ``$XDG_DATA_HOME/hcekit/store.sqlite``."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hcekit" / "store.sqlite"


def add_card_options(parser: argparse.ArgumentParser, *, default_store: str | None = None) -> None:
    """``--plugin``, ``--only``, ``--no-installed``, ``--store``, ``--option``, ``--trace``."""
    group = parser.add_argument_group("card")
    group.add_argument("--plugin", action="append", default=[], metavar="MODULE:ATTR",
                       help="load an extra plugin (repeatable)")
    group.add_argument("--only", action="append", default=None, metavar="NAME",
                       help="use only these installed plugins (repeatable; default: all)")
    group.add_argument("--no-installed", action="store_true",
                       help="do not load installed (entry-point) plugins")
    default_text = default_store or f"${STORE_ENV} or ~/.local/share/hcekit/store.sqlite"
    group.add_argument("--store", default=default_store, metavar="PATH",
                       help=f"persistent store (SQLite file; ':memory:' for none). Default: {default_text}")
    group.add_argument("--option", action="append", default=[], metavar="PLUGIN.KEY=VALUE",
                       help="plugin option (repeatable), e.g. ndef.url=https://example.com; "
                            "checked against what the plugins declare (listed below)")
    group.add_argument("--trace", action="store_true", help="log every APDU exchange (redacted)")
    group.add_argument("--reveal-secrets", action="store_true",
                       help="with --trace: do not redact sensitive exchanges (debugging only)")


    parser.epilog = "\n".join(filter(None, [parser.epilog, installed_options_text()]))
    parser.formatter_class = _EpilogAsWritten


_OPTIONS_HEADING = "plugin options (--option PLUGIN.KEY=VALUE):"


class _EpilogAsWritten(argparse.HelpFormatter):
    """Reflow descriptions as usual, but print the option listing line by line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if _OPTIONS_HEADING in text:
            return "".join(indent + line + "\n" for line in text.splitlines())
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
            raise SystemExit(f"hcekit: --option {pair!r}: expected PLUGIN.KEY=VALUE")
        options.setdefault(plugin, {})[name] = value
    return options


def cwd_importable(plugin_specs: Sequence[str]) -> None:
    """``--plugin mymodule:Card`` finds ``./mymodule.py``, as ``python -m`` would."""
    if plugin_specs and "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def build_card(args: argparse.Namespace, *, store: Store | None = None) -> Card:
    """The card the common options describe."""
    if store is None:
        path = args.store if args.store is not None else str(default_store_path())
        store = open_store(path)
        logging.getLogger("hcekit.cli").info("store: %s", path)
    cwd_importable(args.plugin)
    extra: list[object] = list(args.plugin)
    if args.trace:
        extra.append(("trace", LoggingTracer(reveal=args.reveal_secrets)))
    options = parse_options(args.option)
    if args.no_installed:
        return Card(extra, store=store, options=options)
    return Card.with_installed_plugins(extra, only=args.only, store=store, options=options)
