"""One entry-point group, read without importing ``importlib.metadata`` when the layout allows.

Importing ``importlib.metadata`` costs more than half of a cold tap's budget
(it pulls in ``email``, ``zipfile``, ``csv``…), although finding a group
needs none of that. Where every distribution is a ``*.dist-info`` or
``*.egg-info`` directory in a ``sys.path`` directory — what pip, editable
installs and python-for-android produce — this module reads their
``entry_points.txt`` itself, with ``importlib.metadata``'s rules: ``sys.path``
order, the first distribution of a (normalised) name wins, ``[group]``
sections of ``name = value`` lines. Anything else (a zip or an egg on
``sys.path``, a meta-path finder that supplies distributions of its own) is
left to ``importlib.metadata``. ``tests/core/test_entrypoints.py`` holds the
two to the same answers.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.machinery import PathFinder
from typing import NamedTuple

__all__ = ["EntryPoint", "entry_points"]

_INFO_SUFFIXES = (".dist-info", ".egg-info")


class EntryPoint(NamedTuple):
    """``name = module:attr`` of one group (the fields ``importlib.metadata`` has)."""

    name: str
    value: str
    group: str

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()

    @property
    def attr(self) -> str:
        return self.value.partition(":")[2].partition("[")[0].strip()

    def load(self) -> object:
        """Import the module and return the attribute it names (the module without one)."""
        obj: object = importlib.import_module(self.module)
        for part in filter(None, self.attr.split(".")):
            obj = getattr(obj, part)
        return obj


def entry_points(group: str) -> list[EntryPoint]:
    """The entry points of *group* of every installed distribution, in discovery order."""
    directories = _plain_directories()
    if directories is None:
        from importlib.metadata import entry_points as from_metadata

        return [EntryPoint(ep.name, ep.value, group) for ep in from_metadata(group=group)]
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for directory in directories:
        try:
            children = os.listdir(directory or ".")
        except OSError:
            continue  # missing or unreadable: importlib.metadata finds nothing there either
        for child in children:
            if not child.lower().endswith(_INFO_SUFFIXES):
                continue
            name = _normalise(child.rpartition(".")[0].partition("-")[0])
            if name in seen:
                continue
            seen.add(name)
            found.extend(_group(os.path.join(directory, child), group))
    return found


def _plain_directories() -> list[str] | None:
    """``sys.path`` when every distribution on it is a directory we can read, else None."""
    for finder in sys.meta_path:
        if finder is not PathFinder and hasattr(finder, "find_distributions"):
            return None
    for entry in sys.path:
        if entry.lower().endswith(".egg") or os.path.isfile(entry):
            return None
    return list(sys.path)


def _normalise(name: str) -> str:
    """PEP 503 normalisation with ``_`` for the separator, as ``importlib.metadata`` keys names."""
    out: list[str] = []
    for char in name.lower():
        if char in "-_.":
            if not out or out[-1] != "_":
                out.append("_")
        else:
            out.append(char)
    return "".join(out)


def _group(info: str, group: str) -> list[EntryPoint]:
    """The ``[group]`` lines of *info*'s ``entry_points.txt`` (none when it has no such file)."""
    try:
        with open(os.path.join(info, "entry_points.txt"), encoding="utf-8") as file:
            text = file.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return []
    found = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
        elif section == group:
            name, _, value = line.partition("=")
            found.append(EntryPoint(name.strip(), value.strip(), group))
    return found
