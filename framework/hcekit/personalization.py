"""What a plugin declares about personalising its card: part of the plugin contract.

``hcekit_personalization`` returns a :class:`Personalization`; the CLI
(:mod:`hcekit.cli.personalization`) turns it into ``hcekit NAME personalize``
and ``hcekit NAME show``. The type lives here, with the contract, so the
contract never imports the layer that uses it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeAlias, TypeVar

if TYPE_CHECKING:
    from .store import PluginStore

__all__ = ["Personalization", "SubParsers"]

#: What ``add_commands`` gets: the ``hcekit NAME`` sub-command parsers.
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Request = TypeVar("Request")


@dataclass(frozen=True)
class Personalization(Generic[Request]):
    """A plugin's personalisation, declared; the core turns it into ``hcekit NAME …`` commands.

    ``prepare`` turns the parsed arguments into a request, checking them
    without touching any store (raise :class:`PersonalizationError`). ``write``
    puts a new card built from the request into the plugin's store namespace
    (replacing an old one as a whole) and returns the lines to print. ``exists``
    says whether the namespace holds a card (default: it holds any key). ``show`` returns the lines
    describing the stored card; without it there is no ``show`` command.
    """

    #: One line for ``hcekit --help`` (e.g. "PIV access badge: personalize, show").
    summary: str
    #: ``hcekit NAME personalize --help``: what a new card gets, and where defaults come from.
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    prepare: Callable[[argparse.Namespace], Request]
    write: Callable[[PluginStore, Request], Sequence[str]]
    #: Default: the namespace holds any key.
    exists: Callable[[PluginStore], bool] | None = None
    show: Callable[[PluginStore, argparse.Namespace], Sequence[str]] | None = None
    show_description: str = "Print what the store's card holds (never its keys)."
    add_show_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    #: More commands under ``hcekit NAME`` (a key generator, a list of test ranges …).
    add_commands: Callable[[SubParsers], None] | None = None
    #: What the card is called in messages ("badge", "transit card").
    noun: str = "card"
