"""``hcekit NAME personalize`` and ``hcekit NAME show``: one framework for every plugin.

A plugin says *what* its card takes and writes — a
:class:`hcekit.personalization.Personalization`
returned from its ``hcekit_personalization`` hook — and the core builds the
commands around it, the same way for every plugin:

* **Store.** One ``--store`` with the rule every command follows
  (:func:`hcekit.cli.common.open_cli_store`); the plugin's namespace is its
  entry-point name, the namespace the card reads, so a personalised card is
  the card ``serve``, ``tap`` and ``send`` use.
* **--force** means one thing: replace the card the store already holds.
  Without it an existing card is never overwritten.
* **Order.** Arguments are checked (``prepare``) before the store is opened;
  the card is written in one store transaction; a store file this command
  created is removed again when it fails — a failed personalisation leaves
  nothing behind. The store lock makes a running ``hcekit serve`` refuse the
  write with its pid named.
* **Exit status.** Usage errors — a refused argument, a
  :class:`hcekit.errors.PersonalizationError` — exit 2; failures (a locked or
  missing store, an existing card without ``--force``, an unreadable key file)
  exit 1. Errors go to standard error as one line.
* **Secrets.** The command prints only the lines ``write``/``show`` return;
  they must never contain key material (print a key check value, a masked
  PAN, a certificate).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import HcekitError, PersonalizationError
from ..personalization import Personalization, SubParsers
from ..store import PluginStore, SqliteStore
from .common import UsageError, add_store_option, open_cli_store, store_location

__all__ = ["Personalization", "add_personalization_commands"]


def add_personalization_commands(subparsers: SubParsers, name: str,
                                 declared: Personalization[Any]) -> argparse.ArgumentParser:
    """``hcekit NAME personalize`` (and ``show``) for the plugin named *name*."""
    top = subparsers.add_parser(name, help=declared.summary, description=declared.summary)
    commands = top.add_subparsers(title=f"{name} commands", metavar="COMMAND")

    def usage(args: argparse.Namespace) -> int:
        top.print_help()
        return 2

    top.set_defaults(handler=usage)
    perso = commands.add_parser(
        "personalize", help=f"write a new {declared.noun} into the store",
        description=declared.description + f" Refuses to replace a {declared.noun} the store "
        "already holds unless --force; exit status 2 for a refused argument, 1 for a failure.")
    add_store_option(perso)
    perso.add_argument("--force", action="store_true",
                       help=f"replace the {declared.noun} the store already holds")
    declared.add_arguments(perso)
    perso.set_defaults(handler=lambda args: _personalize(name, declared, args))
    if declared.show is not None:
        show = commands.add_parser("show", help=f"print the stored {declared.noun} (never its keys)",
                                   description=declared.show_description + " Reads the store "
                                   "only: it works while the card is served, and never "
                                   "creates a store.")
        add_store_option(show)
        if declared.add_show_arguments is not None:
            declared.add_show_arguments(show)
        show.set_defaults(handler=lambda args: _show(name, declared, args))
    if declared.add_commands is not None:
        declared.add_commands(commands)
    return top


def _personalize(name: str, declared: Personalization[Any], args: argparse.Namespace) -> int:
    what = f"{name} personalize"
    try:
        request = declared.prepare(args)
    except PersonalizationError as exc:
        raise UsageError(f"{what}: {exc}") from None
    except OSError as exc:
        raise HcekitError(f"{what}: {_os_error(exc)}") from None
    store = open_cli_store(args.store)
    done = False
    try:
        namespace = store.namespace(name)
        if _exists(declared, namespace) and not args.force:
            raise HcekitError(f"{what}: {store_location(args.store)} already holds a "
                              f"{declared.noun}; --force replaces it")
        with namespace.transaction():
            lines = declared.write(namespace, request)
        done = True
    except PersonalizationError as exc:
        raise UsageError(f"{what}: {exc}") from None
    except OSError as exc:
        raise HcekitError(f"{what}: {_os_error(exc)}") from None
    finally:
        if not done and isinstance(store, SqliteStore):
            store.discard()  # deletes the file only if this command created it
        else:
            store.close()
    for line in lines:
        print(line)
    return 0


def _show(name: str, declared: Personalization[Any], args: argparse.Namespace) -> int:
    assert declared.show is not None
    store = open_cli_store(args.store, read_only=True)
    try:
        namespace = store.namespace(name)
        if not _exists(declared, namespace):
            raise HcekitError(f"{name} show: {store_location(args.store)} holds no "
                              f"{declared.noun} (the card personalises itself with TEST data "
                              f"on first use, or run 'hcekit {name} personalize')")
        try:
            lines = declared.show(namespace, args)
        except PersonalizationError as exc:
            raise HcekitError(f"{name} show: {exc}") from None
    finally:
        store.close()
    for line in lines:
        print(line)
    return 0


def _exists(declared: Personalization[Any], namespace: PluginStore) -> bool:
    return declared.exists(namespace) if declared.exists is not None else bool(namespace.keys())


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"
