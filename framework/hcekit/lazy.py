"""Lazy re-exports: a package names its public objects without importing their modules.

A cold tap pays for every module imported before the first answer, so a
package's ``__init__`` must not import its heavy parts only to re-export
them. :func:`lazy_exports` returns a module ``__getattr__`` (PEP 562) that
imports the submodule holding a name the first time the name is asked for;
type checkers still see the names through an ``if TYPE_CHECKING:`` import
block in the package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """``__getattr__`` for *package*: *exports* maps a public name to ``.submodule``
    (or ``.submodule:original_name`` when the package renames it)."""

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, original = target.partition(":")
        value = getattr(importlib.import_module(module, package), original or name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    return __getattr__
