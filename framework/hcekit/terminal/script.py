"""Terminal scripts: named reader-side flows a plugin offers.

A script is a function taking a :class:`ScriptContext` and returning an exit
status (0 success). It talks to the card only through ``ctx.terminal`` and
prints through ``ctx.echo``, so the same script runs in ``hcekit demo``
(loopback), ``hcekit tap`` (PC/SC, a real phone) and tests.

Options arrive as ``-s KEY=VALUE`` strings. A script declares the ones it
takes (``TerminalScript.options``: name → help) so a misspelt option is an
error rather than silently ignored, and reads them with the typed getters of
:class:`ScriptContext`, which raise :class:`ScriptOptionError` with a precise
message for a bad value.

:func:`rehearse` checks a script's options before any card, store or reader
exists: it runs the script against a terminal that stops it at its first
command, so every option a script reads before talking to the card is
refused with nothing touched. Scripts therefore read all their options first.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import HcekitError
from ..options import closest
from .terminal import Terminal

__all__ = ["ScriptContext", "ScriptOptionError", "TerminalScript", "check_options", "rehearse"]


class ScriptOptionError(HcekitError):
    """A terminal-script option is unknown or has a bad value."""


@dataclass
class ScriptContext:
    terminal: Terminal
    #: ``-s key=value`` pairs from the CLI (or a test); scripts document theirs.
    options: Mapping[str, str] = field(default_factory=dict)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    #: Objects a test or the demo hands over in-process (keys, trust anchors …).
    extras: dict[str, Any] = field(default_factory=dict)

    def echo(self, message: str = "") -> None:
        print(message, file=self.out)

    # -- typed option getters ---------------------------------------------------------

    def text(self, name: str, default: str | None = None) -> str | None:
        return self.options.get(name, default)

    def integer(self, name: str, default: int, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        raw = self.options.get(name)
        if raw is None:
            return default
        try:
            value = int(raw, 0)
        except ValueError:
            raise ScriptOptionError(f"option {name}={raw!r}: not an integer") from None
        if minimum is not None and value < minimum:
            raise ScriptOptionError(f"option {name}={value}: at least {minimum}")
        if maximum is not None and value > maximum:
            raise ScriptOptionError(f"option {name}={value}: at most {maximum}")
        return value

    def choice(self, name: str, choices: Sequence[str], default: str) -> str:
        value = self.options.get(name, default)
        if value not in choices:
            raise ScriptOptionError(f"option {name}={value!r}: one of {', '.join(choices)}")
        return value

    def path(self, name: str) -> Path | None:
        """An existing, readable file named by the option (None when not given)."""
        raw = self.options.get(name)
        return None if raw is None else existing_file(name, raw)

    def listing(self, name: str) -> list[str]:
        """A comma-separated option as a list (empty when not given)."""
        return [p.strip() for p in self.options.get(name, "").split(",") if p.strip()]


def existing_file(name: str, raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ScriptOptionError(f"option {name}={raw}: no such file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ScriptOptionError(f"option {name}={raw}: {exc.strerror}") from None
    return path


@dataclass(frozen=True)
class TerminalScript:
    name: str
    description: str
    run: Callable[[ScriptContext], int]
    #: Run by ``hcekit demo`` against the built-in card.
    demo: bool = False
    #: The options the script takes (name → one-line help); any other is refused
    #: (a script that declares none takes none: nothing given is silently ignored).
    options: Mapping[str, str] | None = None


def check_options(script: TerminalScript, given: Mapping[str, str]) -> None:
    """Refuse options the script does not declare, naming the closest and the ones it does."""
    declared = script.options or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ScriptOptionError(
            f"script {script.name} has no option {', '.join(unknown)}"
            f"{closest(unknown[0], declared)} (it takes: {known})")


class _FirstCommand(BaseException):
    """Ends a rehearsal at the script's first command (a BaseException: scripts catch Exception)."""


class _RehearsalTransport:
    """A reader with a card that ends the script at its first command."""

    name = "rehearsal"

    def connect(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def transmit(self, command: bytes) -> bytes:
        raise _FirstCommand

    def close(self) -> None:
        pass


def rehearse(script: TerminalScript, given: Mapping[str, str]) -> None:
    """Refuse *given* options before anything is touched: unknown names, then bad values.

    Runs the script up to its first command against no card. A script that
    raises :class:`ScriptOptionError`, or returns a non-zero status, before
    that command refused its options; the last line it printed says why.
    """
    check_options(script, given)
    out = io.StringIO()
    try:
        status = script.run(ScriptContext(Terminal(_RehearsalTransport()), given, out=out))
    except _FirstCommand:
        return
    if status:
        said = out.getvalue().strip().splitlines()
        raise ScriptOptionError(said[-1] if said else
                                f"script {script.name} refused its options (status {status})")
