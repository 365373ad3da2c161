"""Argument types and output rules every ``hcekit`` command shares.

argparse turns a type's :class:`argparse.ArgumentTypeError` into the usual
one-line usage error (exit status 2), so a bad value never reaches a command:
``--deadline nan`` would otherwise switch the hung-plugin watchdog off, and
``--port 0`` would make ``serve`` retry for ever. Commands (core, plugins,
Android) import these instead of writing their own checks.

Output files follow one rule: an existing file is never overwritten unless
the user asked with ``--force`` (:func:`open_output`).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, cast

from ..errors import HcekitError

__all__ = [
    "STDOUT",
    "CommandLineParser",
    "OutputExistsError",
    "add_force_option",
    "calendar_date",
    "hexbytes",
    "int_range",
    "non_empty",
    "open_output",
    "positive_int",
    "positive_seconds",
    "tcp_port",
]

#: The conventional "write to standard output" file name.
STDOUT = "-"
MAX_TCP_PORT = 65535


def hexbytes(text: str) -> bytes:
    """Hex with optional spaces/colons (``00A4 04 00``, ``3B:80``) → bytes."""
    try:
        return bytes.fromhex(text.replace(":", "").replace(" ", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not hex: {text!r}") from None


def positive_seconds(text: str) -> float:
    """A duration in seconds: a finite number above zero (``nan``/``inf``/``0`` refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a finite number of seconds above 0, e.g. 2 or 0.5")
    return value


def positive_int(text: str) -> int:
    """A whole number above zero."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number above 0")
    return value


def int_range(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type for a whole number from *minimum* to *maximum* (both included)."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text!r}: give a whole number from {minimum} "
                                             f"to {maximum}")
        return value

    parse.__name__ = "whole number"
    return parse


_EMPTY_VALUE = "the value is empty; leave the option out for the default"


class CommandLineParser(argparse.ArgumentParser):
    """``hcekit``'s parser: no option or argument takes an empty value.

    ``--record ''`` would otherwise record nowhere without a word, ``--reader ''``
    match every reader and ``--address ''`` dial nothing; an empty value is a
    mistake (an unset shell variable, usually), never a choice. Sub-parsers
    inherit the class, plugins' commands included.
    """

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # argparse's one seam between the command line and each action's type
        if action.nargs not in (argparse.PARSER, argparse.REMAINDER) and any(
                not text.strip() for text in arg_strings):
            raise argparse.ArgumentError(
                action, _EMPTY_VALUE if action.option_strings else "the value is empty")
        return super()._get_values(action, arg_strings)


def non_empty(text: str) -> str:
    """Any text but the empty one (an empty value is a mistake, never a choice)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(_EMPTY_VALUE)
    return text


def tcp_port(text: str) -> int:
    """A TCP port number, 1–65535 (port 0 means "any port" to the OS: never what a user means)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= MAX_TCP_PORT:
        raise argparse.ArgumentTypeError(f"{text!r}: a TCP port is 1 to {MAX_TCP_PORT}")
    return value


def calendar_date(fmt: str = "%Y-%m-%d", example: str = "2029-12-31") -> Callable[[str], date]:
    """An argparse type for a real calendar date written as *fmt* (strptime codes).

    ``calendar_date("%Y%m%d", "20291231")`` refuses ``2099`` (too short) and
    ``20290230`` (no such day) with a message showing the expected form.
    """

    def parse(text: str) -> date:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a calendar date written like {example}") from None
        # strptime accepts "%Y%m%d" values with unpadded fields ("202912 1"); insist on the form
        if parsed.strftime(fmt) != text:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a calendar date written like {example}")
        return parsed.date()

    parse.__name__ = "calendar date"  # argparse names the type in its messages
    return parse


def add_force_option(parser: argparse.ArgumentParser, what: str = "existing output files") -> None:
    """``--force``: the one switch that lets a command overwrite *what*."""
    parser.add_argument("--force", action="store_true", help=f"overwrite {what}")


class OutputExistsError(HcekitError):
    """An output file exists and ``--force`` was not given."""


def open_output(path: str | Path, *, force: bool, option: str = "-o") -> IO[str]:
    """Open *path* for writing text; ``-`` is standard output.

    Without *force* the file is created exclusively (no race between a check
    and the write) and an existing file raises :class:`OutputExistsError`
    naming *option* and ``--force``. The caller closes the result (closing
    standard output is a no-op here: a wrapper is returned for it).
    """
    return cast(IO[str], _open_output(path, force, option, binary=False))


def open_binary_output(path: str | Path, *, force: bool, option: str = "-o") -> IO[bytes]:
    """:func:`open_output` for bytes (pcapng): ``-`` is standard output's buffer."""
    return cast(IO[bytes], _open_output(path, force, option, binary=True))


def _open_output(path: str | Path, force: bool, option: str, *, binary: bool) -> IO[Any]:
    if str(path) == STDOUT:
        return cast(IO[Any], _Unclosed(sys.stdout.buffer if binary else sys.stdout))
    target = Path(path)
    mode = ("w" if force else "x") + ("b" if binary else "")
    try:
        if binary:
            return open(target, mode)
        return open(target, mode, encoding="utf-8")
    except FileExistsError:
        raise OutputExistsError(f"{option} {target}: the file exists; add --force to overwrite it"
                                ) from None
    except OSError as exc:
        raise HcekitError(f"{option} {target}: cannot write: {exc.strerror or exc}") from None


class _Unclosed:
    """Standard output handed out as a file that a ``with`` block must not close."""

    def __init__(self, stream: IO[Any]) -> None:
        self._stream = stream

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)

    def write(self, data: Any) -> int:
        return int(self._stream.write(data))

    def close(self) -> None:
        self._stream.flush()

    def __enter__(self) -> _Unclosed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
