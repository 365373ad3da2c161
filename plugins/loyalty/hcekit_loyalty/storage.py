"""Where the programs live in the plugin store, readable without the program code.

The plugin checks at start whether its store already holds programs with
this module alone (the cold-start rule in ``docs/plugin-authoring.md``);
:mod:`.programs` reads and writes them.
"""

from __future__ import annotations

from hcekit.store import PluginStore

__all__ = ["KEY_PROGRAMS", "holds_programs"]

#: JSON list of the collector IDs the store holds a program for.
KEY_PROGRAMS = "programs"


def holds_programs(store: PluginStore) -> bool:
    return bool(store.get_json(KEY_PROGRAMS, []))
