"""The plugin author's commands: ``hcekit new``, ``check``, ``replay``, ``fuzz``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TypeAlias

from ..errors import ClaimError, PluginLoadError
from ..plugins import ENTRY_POINT_GROUP
from .arguments import CommandLineParser, positive_int, positive_seconds
from .common import UsageError, add_card_options, build_card, hexbytes

__all__ = ["add_commands", "main"]

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_commands(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "new", help="create a ready-to-publish plugin project",
        description="Write a plugin project (pyproject with the hcekit entry point, a card "
                    "with one command, tests using hcekit's pytest fixtures and the conformance "
                    "suite, README) into DIR/hcekit-NAME. It passes its own tests and "
                    "'hcekit check NAME' as generated.")
    p.add_argument("kind", choices=["plugin"], help="what to create")
    p.add_argument("name", help="plugin name: lower-case letters, digits, '_' (e.g. my_badge)")
    p.add_argument("--dir", default=".", metavar="DIR", help="parent directory (default: .)")
    p.add_argument("--aid", type=hexbytes, metavar="HEX",
                   help="the card's AID (default: a proprietary F0… AID derived from the name)")
    p.add_argument("--force", action="store_true", help="write into an existing directory")
    p.set_defaults(handler=cmd_new)

    p = subparsers.add_parser(
        "check", help="run the conformance suite against a plugin",
        description="Check a plugin against the rules every hcekit card follows: valid, "
                    "conflict-free claims; SELECT; standard status words for unknown INS/CLA; "
                    "no crash on malformed APDUs; deselect/deactivation; state across a "
                    "restart (SQLite); no key material in traces or logs. Each check builds "
                    "its own throwaway cards and stores: your cards are never touched. Exit "
                    "status 1 when a check fails.")
    p.add_argument("plugins", nargs="*", metavar="PLUGIN",
                   help="installed plugin name or module:attr, MODULE looked up in the current "
                        "directory first (default: every installed plugin)")
    p.add_argument("--check", action="append", default=None, metavar="NAME",
                   help="run only this check (repeatable); see --list")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.set_defaults(handler=cmd_check)

    p = subparsers.add_parser(
        "replay", help="re-send a recorded trace to a card and report differing responses",
        description="Replay a trace file (recorded with 'hcekit serve --record' or 'hcekit "
                    "demo --record') against a card built from the installed plugins on the "
                    "--store store (the card serve, tap and send use; the replay changes it as "
                    "the recorded session did; --store :memory: for a fresh TEST card), with "
                    "the recorded field events. Exit status 1 when a response differs.")
    p.add_argument("trace", type=Path, metavar="FILE", help="trace file")
    p.add_argument("--sw-only", action="store_true",
                   help="compare status words only (cards with random challenges/cryptograms)")
    add_card_options(p)
    p.set_defaults(handler=cmd_replay)

    p = subparsers.add_parser(
        "fuzz", help="coverage-guided fuzzing of the card core and installed plugins",
        description="Feed generated APDU sequences to the card core and to each plugin (atheris "
                    "when installed, else a seeded random engine) and report the number of "
                    "inputs run and any crash: transceive raising, a malformed response, or a "
                    "plugin exception answered as 6F00. Targets run on throwaway in-memory "
                    "stores: your cards are never touched.")
    p.add_argument("targets", nargs="*", metavar="TARGET",
                   help="'core', an installed plugin name or module:attr, MODULE looked up in "
                        "the current directory first (default: core and every installed plugin)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=positive_seconds, default=None,
                        help="time budget per target (default: 10)")
    budget.add_argument("--runs", type=positive_int, default=None,
                        help="number of inputs per target")
    p.add_argument("--engine", choices=["auto", "atheris", "random"], default="auto",
                   help="fuzzing engine (default: atheris when installed)")
    p.add_argument("--seed", type=int, default=0, help="random seed (reproducible runs)")
    p.add_argument("--artifacts", type=Path, default=None, metavar="DIR",
                   help="where to write crashing inputs (default: a temporary directory)")
    p.add_argument("--max-len", type=positive_int, default=256, metavar="BYTES",
                   help="longest fuzz input (default 256: about 30 operations per tap)")
    p.add_argument("--reproduce", type=Path, default=None, metavar="FILE",
                   help="run one saved input (a crash file) against the one TARGET, in-process")
    p.add_argument("--allow-plugin-exceptions", action="store_true",
                   help="report plugin exceptions (answered 6F00) without failing")
    p.set_defaults(handler=cmd_fuzz)


# -- handlers ---------------------------------------------------------------------------------


def cmd_new(args: argparse.Namespace) -> int:
    from ..scaffold import ScaffoldError, new_plugin, plugin_placeholders

    try:  # a name, AID or directory that cannot be used: a usage error, nothing written
        values = plugin_placeholders(args.name, args.aid)
        path = new_plugin(args.name, args.dir, aid=args.aid, force=args.force)
    except (ScaffoldError, ClaimError) as exc:
        raise UsageError(str(exc)) from None
    print(f"created {path} (plugin {args.name!r}, AID {values['aid']})")
    print("next:")
    print(f"  cd {path}")
    print("  pip install -e '.[test]'")
    print("  pytest")
    print(f"  hcekit check {args.name}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ..conformance import CHECKS, run_conformance

    if args.list:
        for name, fn in CHECKS.items():
            print(f"{name:<12} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0
    if args.check:
        unknown = [c for c in args.check if c not in CHECKS]
        if unknown:
            raise UsageError(f"no check named {', '.join(unknown)}; checks: "
                             f"{', '.join(CHECKS)}")
    plugins = args.plugins or sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    if not plugins:
        raise UsageError("check: no plugin given and none installed")
    failed = 0
    for plugin in plugins:
        report = run_conformance(plugin, args.check)
        print(report.format())
        failed += not report.ok
    if len(plugins) > 1:
        print(f"\n{len(plugins) - failed} of {len(plugins)} plugin(s) conform")
    return 1 if failed else 0


def cmd_replay(args: argparse.Namespace) -> int:
    from ..errors import HcekitError
    from ..tracefile import TraceFormatError, read_trace, replay_trace

    try:
        trace = read_trace(args.trace)
    except TraceFormatError as exc:
        raise HcekitError(f"{args.trace}: not an hcekit trace: {exc}") from None
    except OSError as exc:
        raise HcekitError(f"{args.trace}: cannot read: {exc.strerror or exc}") from None
    card = build_card(args)
    try:
        report = replay_trace(trace, card, compare="sw" if args.sw_only else "full")
    finally:
        card.close()
    print(f"{args.trace}: {report.format()}")
    return 0 if report.ok else 1


def cmd_fuzz(args: argparse.Namespace) -> int:
    from ..fuzzing.runner import reproduce, run_targets

    for target in args.targets:
        _check_fuzz_target(target)
    if args.reproduce is not None:
        if len(args.targets) != 1:
            raise UsageError("fuzz --reproduce: name exactly one TARGET")
        return reproduce(args.targets[0], args.reproduce.read_bytes())

    return run_targets(
        args.targets or None,
        seconds=args.seconds,
        runs=args.runs,
        engine=args.engine,
        seed=args.seed,
        artifacts=args.artifacts,
        allow_plugin_exceptions=args.allow_plugin_exceptions,
        max_len=args.max_len,
    )


def _check_fuzz_target(target: str) -> None:
    """A target that names nothing is a usage error, not a crash of that target."""
    from ..conformance.harness import resolve_plugin_under_test

    if target == "core":
        return
    try:
        resolve_plugin_under_test(target)
    except PluginLoadError as exc:
        raise UsageError(f"fuzz target {target!r}: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run only the kit commands (``python -m hcekit.cli.kit_commands``)."""
    import logging

    from ..errors import HcekitError

    parser: argparse.ArgumentParser = CommandLineParser(prog="hcekit")
    add_commands(parser.add_subparsers(title="commands", metavar="COMMAND"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except HcekitError as exc:
        print(f"hcekit: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1


if __name__ == "__main__":
    raise SystemExit(main())
