"""``hcekit plugins``, ``demo``, ``send``, ``tap``: the commands that need only the core."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, Any, TypeAlias, cast

import pluggy

from ..aid import find_conflicts
from ..apdu import CommandApdu
from ..card import Card
from ..errors import ApduFormatError, ClaimConflictError, HcekitError
from ..hosts.loopback import LoopbackHost
from ..listing import list_plugin
from ..markers import hookimpl
from ..metrics import MetricsCollector
from ..plugins import call_own, resolve_plugins
from ..polling import FrameType, PollingFilter, PollingFrame, check_filter_conflicts
from ..ppse import core_claims
from ..sw import describe
from ..terminal import (
    LoopbackTransport,
    ScriptContext,
    ScriptOptionError,
    Terminal,
    TerminalScript,
    rehearse,
)
from ..terminal.transport import Transport
from ..trace import TraceRecord, format_record, is_sensitive, redacted_hex
from .arguments import add_force_option, open_binary_output, open_output
from .common import (
    StoreOwningCard,
    UsageError,
    add_card_options,
    build_card,
    hexbytes,
    open_cli_store,
    plugin_specs,
    unstarted_plugins,
)

__all__ = ["add_commands"]

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_commands(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "plugins", help="list plugins, their AID claims, terminal scripts and conflicts",
        description="Load the installed plugins (and any --plugin) and show what each claims, "
                    "with the core's own claim (the PPSE, on every card holding a payment "
                    "AID). Exit status 1 when two claims overlap.")
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE:ATTR",
                   help="also load this plugin (repeatable)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="list only these installed plugins (repeatable; default: all)")
    p.add_argument("--no-installed", action="store_true",
                   help="list no installed (entry-point) plugin, only --plugin ones")
    p.set_defaults(handler=cmd_plugins)

    p = subparsers.add_parser(
        "demo", help="run the built-in card in-process and every plugin's demo terminal script",
        description="Builds a loopback card with every installed plugin and runs each "
                    "plugin's demo terminal script in its own tap, printing the APDU trace. "
                    "By default the demo never touches your cards: it uses a fresh in-memory "
                    "store, so each plugin personalises itself with TEST keys. --store PATH "
                    "runs the scripts against the card in that store instead (a personalised "
                    "card), changing it as a tap would.")
    p.add_argument("--quiet", action="store_true", help="do not print the APDU trace")
    p.add_argument("--reveal-secrets", action="store_true",
                   help="show sensitive exchanges unredacted (debugging only)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="only these plugins (repeatable)")
    p.add_argument("--store", default=None, metavar="PATH",
                   help="run against the card in this store (a SQLite file, as 'hcekit "
                        "serve --store' takes) instead of a fresh in-memory one")
    p.add_argument("--record", metavar="FILE",
                   help="also record the trace to FILE (hcekit replay); an existing file is "
                        "kept unless --force")
    p.add_argument("--pcap", metavar="FILE",
                   help="also write the exchanges to FILE as pcapng for Wireshark (ISO 14443 "
                        "frames, flushed per exchange; see 'hcekit trace export --help'); an "
                        "existing file is kept unless --force")
    add_force_option(p, "the --record and --pcap files")
    p.add_argument("--metrics", action="store_true",
                   help="print exchange counts, status words and card-side latency at the end")
    p.set_defaults(handler=cmd_demo)

    p = subparsers.add_parser(
        "send", help="send APDUs (hex) to a card in one tap and print the responses",
        description="Send command APDUs to the in-process card (default: the card in the "
                    "--store store, the one 'hcekit serve' and the personalize commands use) "
                    "or to a card in a PC/SC reader (--reader), in one tap. GET RESPONSE and "
                    "6Cxx re-sends are automatic unless --raw.")
    p.add_argument("apdus", nargs="+", type=hexbytes, metavar="HEX",
                   help="command APDU in hex, e.g. 00A4040007D276000085010100")
    _add_reader_options(p)
    p.set_defaults(handler=cmd_send)

    p = subparsers.add_parser(
        "tap", help="run a terminal script (gate, door reader, till, POS …) against a card",
        description="Run a plugin's terminal script in one tap, against the in-process card "
                    "(default: the card in the --store store, the one 'hcekit serve' and the "
                    "personalize commands use) or a card in a PC/SC reader (--reader): a "
                    "virtual hcekit card behind vpcd or a real phone on a USB reader. Without "
                    "SCRIPT, list the scripts (no card is built, no store touched).")
    p.add_argument("script", nargs="?", help="script name (omit to list them)")
    p.add_argument("-s", "--script-option", action="append", default=[], metavar="KEY=VALUE",
                   help="option for the script (repeatable; see the script's docs)")
    p.add_argument("--record", metavar="FILE",
                   help="record the tap to a trace file (hcekit replay), as 'hcekit serve "
                        "--record' does; in-process only (with --reader, record on the serve "
                        "behind it). An existing file is kept unless --force")
    add_force_option(p, "the --record file")
    _add_reader_options(p)
    p.set_defaults(handler=cmd_tap)


def _add_reader_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reader", metavar="NAME|INDEX",
                   help="PC/SC reader (name substring or index from 'hcekit readers'); "
                        "default: the in-process card")
    p.add_argument("--raw", action="store_true",
                   help="send the bytes exactly as given (no parsing, no automatic GET RESPONSE "
                        "or 6Cxx re-send)")
    p.add_argument("--poll", action="append", type=hexbytes, default=[], metavar="HEX",
                   help="a custom frame the reader sends in its polling loop before the tap, "
                        "after field on and an NFC-A poll (Android 15 observe mode; e.g. an "
                        "ECP transit gate 6A02C00100FFFFFF); repeatable; in-process card only")
    add_card_options(p)


# -- helpers ----------------------------------------------------------------------


class _Printer:
    """Prints from inside the card (a trace observer), where a closed pipe cannot end the command.

    The card logs and swallows an observer's exception, so a ``BrokenPipeError``
    (``hcekit demo | head``) is kept here and raised by :meth:`check` once the
    card call is over; the command then ends quietly (``hcekit.cli.main``).
    """

    def __init__(self, reveal: bool) -> None:
        self.reveal = reveal
        self.broken_pipe: BrokenPipeError | None = None

    def check(self) -> None:
        """Raise the closed pipe met while printing, if any."""
        if self.broken_pipe is not None:
            raise self.broken_pipe

    def _emit(self, lines: list[str]) -> None:
        if self.broken_pipe is not None:
            return
        try:
            for line in lines:
                print(line)
        except BrokenPipeError as exc:
            self.broken_pipe = exc


class _ExchangePrinter(_Printer):
    """Prints each exchange of a tap (``send``, ``tap --trace``), redacted as every printout is.

    In-process it is a trace observer on the card, so the card's own marks
    decide what is hidden (``hcekit.trace``: the application's mark, a secure
    channel, values plugins marked secret, reference data). Over ``--reader``
    the terminal script's marks decide (``Terminal.mark_secret`` & co.: the
    PAN, keys, authentications it reads), plus reference data; ``send`` has
    no script, so only reference data is hidden there.
    """

    @hookimpl
    def hcekit_trace(self, record: TraceRecord) -> None:
        self._print(record.command, record.response, record.sensitive)

    def on_exchange(self, command: bytes, response: bytes) -> None:
        """A raw exchange (``send --raw``): only reference data is known to be secret."""
        self._print(command, response, is_sensitive(command, response))

    def on_trace(self, command: bytes, response: bytes, sensitive: bool) -> None:
        """An exchange as the terminal script marked it (``tap --reader``)."""
        self._print(command, response, sensitive)

    def _print(self, command: bytes, response: bytes, sensitive: bool) -> None:
        sw = int.from_bytes(response[-2:], "big") if len(response) >= 2 else -1
        cmd, rsp = redacted_hex(command, response, hide=sensitive and not self.reveal)
        self._emit([f"  >> {cmd}", f"  << {rsp}  ({describe(sw) if sw >= 0 else '?'})"])


def _send_polling_loop(terminal: Terminal, frames: Sequence[bytes]) -> None:
    """``--poll``: field on, an NFC-A poll (WUPA), then the custom frames, before the tap."""
    if frames:
        terminal.poll(PollingFrame(FrameType.ON), PollingFrame(FrameType.A, b"\x52"), *frames)


def _card_only_options(args: argparse.Namespace) -> None:
    """Refuse options that shape the in-process card when the card is in a reader."""
    if args.reader is None:
        return
    if args.poll:
        raise UsageError("--poll: a PC/SC reader gives its clients no access to its polling "
                         "loop; polling frames reach only the in-process card")
    given = [name for name, value in (("--store", args.store), ("--option", args.option),
                                      ("--record", getattr(args, "record", None))) if value]
    if given:
        raise UsageError(f"{' and '.join(given)} shape the in-process card; with --reader the "
                         "card is the one in the reader (give them to the 'hcekit serve' "
                         "behind it)")


def _transport(args: argparse.Namespace,
               printer: _ExchangePrinter | None = None) -> tuple[Transport, Card | None]:
    """The reader's transport, or an in-process card (which then prints through *printer*)."""
    if args.reader is not None:
        try:
            from ..terminal.pcsc import PcscTransport
        except ImportError as exc:
            raise HcekitError(f"PC/SC support is not installed ({exc}); "
                              "pip install -e '.[pcsc]' in the hcekit checkout") from exc
        reader: str | int = int(args.reader) if args.reader.isdigit() else args.reader
        return PcscTransport(reader), None
    card = build_card(args)
    if printer is not None:
        try:
            card.register(printer, name="print")
        except BaseException:
            card.close()
            raise
    return LoopbackTransport(LoopbackHost(card)), card


def _terminal_printer(card: Card | None, printer: _ExchangePrinter) -> Any:
    """The terminal's ``on_trace``: None when the in-process card prints itself."""
    return printer.on_trace if card is None else None


def _scripts_of(pm: pluggy.PluginManager) -> list[tuple[str, TerminalScript]]:
    found: list[tuple[str, TerminalScript]] = []
    for plugin in pm.get_plugins():
        scripts = cast("Sequence[TerminalScript]",
                       call_own(pm, plugin, "hcekit_terminal_scripts") or [])
        found.extend((pm.get_name(plugin) or "?", script) for script in scripts)
    return found


def _scripts(card: Card) -> list[tuple[str, TerminalScript]]:
    return _scripts_of(card.plugin_manager)


def _unstarted_scripts(args: argparse.Namespace) -> list[tuple[str, TerminalScript]]:
    """The scripts of the plugins the card options name, without starting a card or a store."""
    return _scripts_of(unstarted_plugins(args))


class _PrintTracer(_Printer):
    """Prints each exchange the card sees, redacted unless asked (the demo's trace)."""

    @hookimpl
    def hcekit_trace(self, record: TraceRecord) -> None:
        self._emit([f"   {line}" for line in
                    format_record(record, reveal=self.reveal).splitlines()])


# -- commands ------------------------------------------------------------------------


def cmd_plugins(args: argparse.Namespace) -> int:
    resolved = resolve_plugins(plugin_specs(args))
    owned = []
    polling: list[tuple[str, PollingFilter]] = []
    failed = 0
    for name, obj in resolved:
        try:  # claims and options without starting the plugin: no personalisation, no keys
            listing = list_plugin(name, obj)
        except HcekitError as exc:
            print(f"{name}: FAILED TO LOAD: {exc}")
            failed += 1
            continue
        print(f"{name}  ({type(obj).__module__})")
        if listing.started:
            print("  (claims read from a started throwaway card: hcekit_claims needed "
                  "hcekit_startup)")
        for claim in listing.claims:
            owned.append((name, claim))
            print(f"  {claim.filter:<34} {claim.category.value:<8} {claim.description}")
        for _, flt in listing.polling.filters():
            polling.append((name, flt))
            print(f"  polling-loop {flt.describe():<25} {flt.description}")
        if listing.polling.observe_by_default:
            print("  observe mode by default (Android 15: silent until a filter or the plugin "
                  "releases the card)")
        for _, script in _scripts_of(listing.plugin_manager):
            print(f"  script {script.name}: {script.description}{_option_list(script)}")
        for option in listing.options:
            print(option.describe("  option "))
    for owner, claim in core_claims():
        print(f"{owner}  (hcekit core, on every card holding a payment AID)")
        print(f"  {claim.filter:<34} {claim.category.value:<8} {claim.description}")
        owned.append((owner, claim))
    conflicts = find_conflicts(owned)
    for a, ca, b, cb in conflicts:
        print(f"CONFLICT: {a} claims {ca.filter}, {b} claims {cb.filter}")
    try:
        check_filter_conflicts(polling)
    except ClaimConflictError as exc:
        print(f"CONFLICT: {exc}")
        return 1
    if not conflicts:
        print(f"{len(resolved)} plugin(s), {len(owned)} claim(s) with the core's, no conflicts")
    return 1 if conflicts or failed else 0


def _option_list(script: TerminalScript) -> str:
    return f" [options: {', '.join(script.options)}]" if script.options else ""


def cmd_demo(args: argparse.Namespace) -> int:
    extra: list[Any] = []
    tracer = _PrintTracer(args.reveal_secrets)
    if not args.quiet:
        extra.append(("demo-trace", tracer))
    metrics = MetricsCollector()
    if args.metrics:
        extra.append(metrics)
    record: IO[str] | None = None
    pcap: IO[bytes] | None = None
    try:
        if args.record:
            from ..tracefile import TraceRecorder

            record = open_output(args.record, force=args.force, option="--record")
            extra.append(("record", TraceRecorder(record)))
        if args.pcap:
            pcap = open_binary_output(args.pcap, force=args.force, option="--pcap")
        return _run_demo(args, extra, metrics, pcap, tracer)
    finally:
        for stream in (record, pcap):
            if stream is not None:
                stream.close()


def _run_demo(args: argparse.Namespace, extra: list[Any], metrics: MetricsCollector,
              pcap: IO[bytes] | None, tracer: _PrintTracer) -> int:
    from ..store import MemoryStore

    store = MemoryStore() if args.store is None else open_cli_store(args.store)
    try:
        card = StoreOwningCard.with_installed_plugins(extra, only=args.only, store=store)
    except ClaimConflictError as exc:
        store.close()
        print(f"hcekit demo: {exc}", file=sys.stderr)
        return 1
    except BaseException:
        store.close()
        raise
    host = LoopbackHost(card)
    failures = 0
    scripts = [(p, s) for p, s in _scripts(card) if s.demo]
    plugins = [n for n in card.plugins if n not in ("ppse", "demo-trace", "record", "metrics")]
    if args.pcap:
        from ..capture import PcapRecorder

        card.register(PcapRecorder(args.pcap, plugins=plugins, reveal=args.reveal_secrets))
    names = ", ".join(plugins)
    print(f"hcekit demo: loopback card with plugins {names}")
    for name, script in scripts:
        print(f"\n== {name}: {script.name} — {script.description}")
        terminal = Terminal(LoopbackTransport(host))
        try:
            with terminal.tap():
                status = script.run(ScriptContext(terminal))
            tracer.check()
        except BrokenPipeError:
            raise
        except Exception as exc:  # a failing script is reported, the demo goes on
            print(f"   FAILED: {type(exc).__name__}: {exc}")
            status = 1
        print(f"== {script.name}: {'ok' if status == 0 else f'FAILED (status {status})'}")
        failures += status != 0
    card.close()
    if args.metrics:
        print("\n" + metrics.snapshot().format())
    print(f"\n{len(scripts) - failures} of {len(scripts)} demo script(s) succeeded")
    return 1 if failures or not scripts else 0


def cmd_send(args: argparse.Namespace) -> int:
    _card_only_options(args)
    if not args.raw:  # refuse what cannot be sent before a card or a reader is touched
        for number, apdu in enumerate(args.apdus, 1):
            try:
                CommandApdu.parse(apdu)
            except ApduFormatError as exc:
                raise UsageError(f"APDU {number} ({apdu.hex().upper()}): {exc.message}; "
                                 "--raw sends it as it is") from None
    printer = _ExchangePrinter(args.reveal_secrets)
    transport, card = _transport(args, printer)
    on_trace = _terminal_printer(card, printer)
    try:
        terminal = Terminal(transport, auto_get_response=not args.raw,
                            auto_resend_6c=not args.raw, on_trace=on_trace)
        _send_polling_loop(terminal, args.poll)
        with terminal.tap():
            for apdu in args.apdus:
                if args.raw:  # exactly these bytes: the card's answer to malformed input shows
                    response = transport.transmit(apdu)
                    if on_trace is not None:
                        printer.on_exchange(apdu, response)
                else:
                    terminal.transmit(apdu)
                printer.check()
    finally:
        if card is not None:
            card.close()
    return 0


def cmd_tap(args: argparse.Namespace) -> int:
    # Everything that can be refused is checked before a card (and its store) exists.
    _card_only_options(args)
    scripts = _unstarted_scripts(args)
    if not args.script:
        for plugin, script in scripts:
            print(f"{script.name:<20} [{plugin}] {script.description}")
            for option, text in (script.options or {}).items():
                print(f"{'':<22}-s {option}=…  {text}")
        return 0
    matches = [s for _, s in scripts if s.name == args.script]
    if not matches:
        known = ", ".join(s.name for _, s in scripts) or "none"
        raise UsageError(f"no terminal script named {args.script!r} (known: {known})")
    options = dict(pair.partition("=")[::2] for pair in args.script_option)
    try:
        rehearse(matches[0], options)
    except ScriptOptionError as exc:
        raise UsageError(str(exc)) from None
    printer = _ExchangePrinter(args.reveal_secrets) if args.trace else None
    record = open_output(args.record, force=args.force, option="--record") if args.record else None
    try:
        transport, card = _transport(args, printer)
    except BaseException:
        if record is not None:
            record.close()
        raise
    try:
        if card is not None and record is not None:
            from ..tracefile import TraceRecorder

            card.register(TraceRecorder(record), name="record")
        terminal = Terminal(transport, auto_get_response=not args.raw,
                            auto_resend_6c=not args.raw,
                            on_trace=_terminal_printer(card, printer) if printer else None)
        _send_polling_loop(terminal, args.poll)
        with terminal.tap():
            status = matches[0].run(ScriptContext(terminal, options))
        if printer is not None:
            printer.check()
        return status
    finally:
        if card is not None:
            card.close()
        if record is not None:
            record.close()
