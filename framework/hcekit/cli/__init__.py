"""The ``hcekit`` command line.

Core commands live in :mod:`.core_commands`; the core's other command modules
(PC/SC, plugin kit) are listed in :data:`COMMAND_MODULES`. Hosts shipped as
their own packages (``hcekit_android``) add theirs through the entry-point
group :data:`COMMANDS_ENTRY_POINT_GROUP` (a module with ``add_commands``), so
the core names no host package; card plugins add theirs through the
``hcekit_add_commands`` hook. A module whose optional dependencies are
missing is skipped.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType

from .. import __version__
from ..entrypoints import entry_points
from ..errors import HcekitError
from ..options import OptionError
from ..plugins import call_own, installed_plugin_manager
from .arguments import CommandLineParser
from .common import UsageError
from .personalization import add_personalization_commands

__all__ = ["main", "build_parser", "COMMAND_MODULES", "COMMANDS_ENTRY_POINT_GROUP"]

COMMAND_MODULES = (
    "hcekit.cli.core_commands",
    "hcekit.cli.pcsc_commands",
    "hcekit.cli.kit_commands",
    "hcekit.cli.trace_commands",
)
#: Entry-point group of command modules from other packages (``android = "hcekit_android.cli"``).
COMMANDS_ENTRY_POINT_GROUP = "hcekit.commands"

log = logging.getLogger("hcekit.cli")


def _plugin_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Installed plugins' sub-commands: personalisation (``hcekit_personalization``), others
    (``hcekit_add_commands``)."""
    pm = installed_plugin_manager(strict=False)  # a broken plugin must not break the CLI
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or "?"
        try:
            declared = call_own(pm, plugin, "hcekit_personalization")
            if declared is not None:  # the namespace is the entry-point name, as on the card
                add_personalization_commands(subparsers, name, declared)
            call_own(pm, plugin, "hcekit_add_commands", subparsers)
        except Exception as exc:
            log.warning("plugin %s failed to add its commands: %s", name, exc)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI; for a core *command* (``serve``, ``tap``…) without the installed
    plugins' own sub-commands, so that ``--only`` imports only the plugins it names."""
    parser: argparse.ArgumentParser = CommandLineParser(
        prog="hcekit",
        description="NFC host card emulation: run card personalities in-process, behind "
                    "PC/SC (vpcd) or on Android, and drive them with terminal scripts.",
        epilog="Run 'hcekit COMMAND --help' for a command's options. "
               "Start with 'hcekit demo'.",
    )
    parser.add_argument("--version", action="version", version=f"hcekit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging (-v info, -vv debug)")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in _command_modules():
        module.add_commands(subparsers)
    if command is None or command not in subparsers.choices:
        _plugin_commands(subparsers)
    return parser


def _command_modules() -> Iterator[ModuleType]:
    """The core's command modules, then those of the ``hcekit.commands`` entry points."""
    for module_name in COMMAND_MODULES:
        try:
            yield importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            log.debug("command module %s skipped: %s", module_name, exc)
    for ep in sorted(entry_points(COMMANDS_ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            module = ep.load()
        except ModuleNotFoundError as exc:
            log.debug("command module %s (%s) skipped: %s", ep.name, ep.value, exc)
            continue
        except Exception as exc:  # a broken package must not take the whole CLI down
            log.warning("command module %s (%s) failed to load: %s", ep.name, ep.value, exc)
            continue
        if not isinstance(module, ModuleType) or not callable(getattr(module, "add_commands", None)):
            log.warning("command module %s (%s) is no module with add_commands(subparsers)",
                        ep.name, ep.value)
            continue
        yield module


_VERBOSE_FLAGS = ("-v", "-vv", "--verbose")
#: The shell's status for a process that SIGPIPE ended (128 + 13), as ``yes | head`` reports.
EXIT_BROKEN_PIPE = 128 + 13


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (``hcekit tap … | head -2``): stop without a word.

    Python ignores SIGPIPE, so the write raised instead of the process
    ending as a C tool's would. Point stdout at /dev/null so the interpreter's
    final flush cannot raise again, and exit with the status a shell gives a
    SIGPIPE'd process.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (tests' capture)
        pass
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(next((a for a in raw if not a.startswith("-")), None))
    # -v is a global option; accept it after the sub-command too (hcekit demo -v).
    flags = [a for a in raw if a in _VERBOSE_FLAGS]
    args = parser.parse_args(flags + [a for a in raw if a not in _VERBOSE_FLAGS])
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        code = int(handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except (UsageError, OptionError) as exc:  # the command line asked for what cannot be
        print(f"hcekit: error: {exc}", file=sys.stderr)
        return 2
    except HcekitError as exc:
        print(f"hcekit: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a file that is missing, unreadable, not a directory …
        log.debug("file error", exc_info=True)
        where = f"{exc.filename}: " if exc.filename is not None else ""
        print(f"hcekit: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # anything else: one clear line, the traceback with -vv
        log.debug("unexpected error", exc_info=True)
        hint = "" if args.verbose >= 2 else " (run with -vv for the traceback)"
        print(f"hcekit: error: {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
        return 1
