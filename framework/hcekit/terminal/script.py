"""Terminal scripts: named reader-side flows a plugin offers.

A script is a function taking a :class:`ScriptContext` and returning an exit
status (0 success). It talks to the card only through ``ctx.terminal`` and
prints through ``ctx.echo``, so the same script runs in ``hcekit demo``
(loopback), ``hcekit tap`` (PC/SC, a real phone) and tests.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from .terminal import Terminal

__all__ = ["ScriptContext", "TerminalScript"]


@dataclass
class ScriptContext:
    terminal: Terminal
    #: ``--option key=value`` pairs from the CLI (or a test); scripts document theirs.
    options: Mapping[str, str] = field(default_factory=dict)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    #: Objects a test or the demo hands over in-process (keys, trust anchors …).
    extras: dict[str, Any] = field(default_factory=dict)

    def echo(self, message: str = "") -> None:
        print(message, file=self.out)


@dataclass(frozen=True)
class TerminalScript:
    name: str
    description: str
    run: Callable[[ScriptContext], int]
    #: Run by ``hcekit demo`` against the built-in card.
    demo: bool = False
