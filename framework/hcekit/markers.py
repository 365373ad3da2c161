"""The pluggy markers of the ``hcekit`` project, apart from the hooks they mark.

Kept in their own module (as pluggy keeps its markers apart from its manager)
so that a module providing a hook implementation — the trace logger, the
PPSE — needs nothing of the contract's types, and the contract can name
theirs without an import circle.
"""

from __future__ import annotations

import pluggy

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

#: pluggy's project name for hcekit's hooks.
PROJECT_NAME = "hcekit"
#: Marks a hook specification (the functions of :mod:`hcekit.hookspecs`).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a plugin's hook implementation: ``@hookimpl`` (options as pluggy's, see hookspecs).
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
