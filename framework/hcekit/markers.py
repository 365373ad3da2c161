"""The pluggy markers of the ``hcekit`` project, apart from the hooks they mark.

Kept in their own module (as pluggy keeps its markers apart from its manager)
so that a module providing a hook implementation — the trace logger, the
PPSE — needs nothing of the contract's types, and the contract can name
theirs without an import circle.
"""

from __future__ import annotations

import pluggy

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "hcekit"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
