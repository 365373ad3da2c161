"""``hcekit serve`` (the card behind pcscd via vpcd) and ``hcekit readers`` (list PC/SC readers)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import IO, Any, TypeAlias

from ..atr import AtrError, check_atr
from ..errors import HcekitError
from ..hosts.reader_commands import check_uid
from ..hosts.vpcd import DEFAULT_DEADLINE, DEFAULT_PORT, VpcdHost
from ..hosts.vpcd_connection import HELP_NOT_LISTENING
from ..store import MEMORY
from .arguments import (
    add_force_option,
    open_binary_output,
    open_output,
    positive_seconds,
    tcp_port,
)
from .common import (
    UsageError,
    add_card_options,
    build_card,
    hexbytes,
    store_location,
    unstarted_plugins,
)

__all__ = ["PORT_ENV", "add_commands", "cmd_serve", "cmd_readers", "default_port"]

#: Environment variable naming the default vpcd port of ``hcekit serve``.
PORT_ENV = "HCEKIT_VPCD_PORT"

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_commands(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "serve", help="run the card behind pcscd (vsmartcard vpcd) until Ctrl-C",
        description="Serve the plugins as a virtual contactless card in a vpcd reader slot, "
                    "so any PC/SC application (pcsc_scan, opensc-tool, pyscard, your "
                    "terminal software) can talk to it. Needs pcscd with vsmartcard-vpcd; "
                    "see docs/pcsc.md.")
    p.add_argument("--port", type=tcp_port, action="append", default=None, metavar="N",
                   help=f"vpcd slot port (repeatable: one card per port, each on its own "
                        f"--store; default ${PORT_ENV} if set, else {DEFAULT_PORT}, the first "
                        f"slot of Debian's vpcd; {DEFAULT_PORT + 1} is the second)")
    p.add_argument("--address", default="127.0.0.1", help="where vpcd listens (default: %(default)s)")
    p.add_argument("--atr", type=hexbytes, default=None, metavar="HEX",
                   help="ATR to present; wins over the ATR a plugin asks for (hcekit_atr, "
                        "e.g. the access badge's PIV ATR), which wins over hcekit's default "
                        "PC/SC contactless ATR naming hcekit. 3B80800101 = no historical "
                        "bytes, as many phones show")
    p.add_argument("--uid", type=_uid, default=None, metavar="HEX",
                   help="UID the virtual reader reports for GET DATA (FF CA 00 00 00): 4, 7 or "
                        "10 bytes, fixed. Default: a random 4-byte UID 08xxxxxx at every field "
                        "activation, as phones present")
    p.add_argument("--deadline", type=positive_seconds, default=DEFAULT_DEADLINE,
                   metavar="SECONDS",
                   help="answer 6F00 when a plugin takes longer than this; a finite number "
                        "above 0 (default %(default)s)")
    p.add_argument("--record", metavar="FILE",
                   help="record every exchange to a trace file (hcekit.tracefile format); "
                        "with several ports, FILE gets a .PORT suffix per card. An existing "
                        "file is kept unless --force")
    p.add_argument("--pcap", metavar="FILE",
                   help="write every exchange to FILE as pcapng for Wireshark, flushed per "
                        "exchange, so 'tail -c +1 -f FILE | wireshark -k -i -' follows the card; "
                        "with several ports, FILE gets a .PORT suffix per card. An existing "
                        "file is kept unless --force")
    add_force_option(p, "the --record and --pcap files")
    add_card_options(p, per_port_store=True)
    p.set_defaults(handler=cmd_serve)

    p = subparsers.add_parser(
        "readers", help="list PC/SC readers, card presence and ATR",
        description="List the readers pcscd sees (index, name, card present, ATR). The index "
                    "or a name substring goes to 'hcekit send/tap --reader'.")
    p.set_defaults(handler=cmd_readers)


def _uid(text: str) -> bytes:
    """``--uid``: hex, 4, 7 or 10 bytes, not starting with the cascade tag 88."""
    try:
        return check_uid(hexbytes(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _recorder(path: str, force: bool, outputs: list[IO[Any]]) -> Any:
    from ..tracefile import TraceRecorder

    stream = open_output(Path(path), force=force, option="--record")
    outputs.append(stream)
    return TraceRecorder(stream)


def _stores_per_port(ports: list[int], stores: list[str] | None) -> list[str | None]:
    """One store per card: a store holds one card's state, so two cards never share one."""
    if stores is None or stores == [MEMORY]:
        if len(ports) == 1 or stores == [MEMORY]:
            return [stores[0] if stores else None] * len(ports)
    elif len(stores) == len(ports):
        paths = [store_location(s) for s in stores if s != MEMORY]
        if len(set(paths)) != len(paths):
            raise UsageError("--store: each card needs its own store; a store was given twice")
        return list(stores)
    given = ", ".join(stores) if stores else f"only the default {store_location(None)}"
    raise UsageError(
        f"{len(ports)} ports need {len(ports)} stores, one card each (given: {given}); "
        f"repeat --store once per --port in the same order, e.g. "
        + " ".join(f"--port {p} --store card-{p}.sqlite" for p in ports)
        + f", or --store {MEMORY} for throwaway cards")


def default_port() -> int:
    """``$HCEKIT_VPCD_PORT`` (a vpcd configured on another port), else vpcd's first slot."""
    value = os.environ.get(PORT_ENV)
    if not value:
        return DEFAULT_PORT
    try:
        return tcp_port(value)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"${PORT_ENV}: {exc}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    ports: list[int] = args.port or [default_port()]
    if len(set(ports)) != len(ports):
        raise UsageError("--port: each port once")
    stores = _stores_per_port(ports, args.store)
    atr_kwargs: dict[str, Any] = {}
    if args.atr is not None:
        try:
            atr_kwargs["atr"] = check_atr(args.atr)
        except AtrError as exc:
            raise UsageError(f"--atr {args.atr.hex().upper()}: {exc}") from exc
    unstarted_plugins(args)  # refused options touch no file and no store
    if args.trace:
        logging.getLogger("hcekit.trace").setLevel(logging.INFO)
    logging.getLogger("hcekit.vpcd").setLevel(min(logging.INFO,
                                                  logging.getLogger().getEffectiveLevel()))
    hosts: list[VpcdHost] = []
    outputs: list[IO[Any]] = []
    recorders: dict[int, Any] = {}
    pcaps: dict[int, IO[bytes]] = {}
    # before any card: an existing file stops serve before it starts
    try:
        for port in ports:
            if args.record:
                path = args.record if len(ports) == 1 else f"{args.record}.{port}"
                recorders[port] = _recorder(path, args.force, outputs)
            if args.pcap:
                path = args.pcap if len(ports) == 1 else f"{args.pcap}.{port}"
                pcaps[port] = open_binary_output(path, force=args.force, option="--pcap")
                outputs.append(pcaps[port])
    except HcekitError:
        for stream in outputs:  # the files this run created
            stream.close()
            Path(stream.name).unlink(missing_ok=True)
        raise
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Our own handlers, also for SIGINT: a shell starts 'hcekit serve &' with SIGINT ignored,
    # and Python then installs no KeyboardInterrupt handler of its own.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    started = False
    try:
        for port, store in zip(ports, stores, strict=True):
            card = build_card(argparse.Namespace(**{**vars(args), "store": store}))
            try:
                names = ", ".join(n for n in card.plugins if n != "trace") or "(no plugins)"
                if port in recorders:
                    card.register(recorders[port])
                if port in pcaps:
                    from ..capture import PcapRecorder

                    card.register(PcapRecorder(pcaps[port], reveal=args.reveal_secrets,
                                               plugins=[n for n in card.plugins
                                                        if n != "trace"]))
                host = VpcdHost(card, port, address=args.address, deadline=args.deadline,
                                uid=args.uid, **atr_kwargs)
            except BaseException:
                card.close()
                raise
            hosts.append(host)
            print(f"hcekit: serving {names} on vpcd {host.endpoint} "
                  f"(ATR {host.atr.hex(' ').upper()}; store {store_location(store)})",
                  flush=True)
        started = True
        for host in hosts:
            host.start()
        for host in hosts:
            if not host.wait_connected(2.0):
                print(f"hcekit: waiting for vpcd on {host.endpoint} — {HELP_NOT_LISTENING}",
                      flush=True)
        print("hcekit: Ctrl-C to stop", flush=True)
        try:
            while not stop.wait(0.5):
                failed = next((host.failure for host in hosts if host.failure), None)
                if failed is not None:  # a taken port: one clear line, exit status 1
                    raise HcekitError(failed)
        except KeyboardInterrupt:
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for host in hosts:
            host.stop()
        for stream in outputs:
            stream.close()
            if not started:  # serve never ran: leave no empty trace behind
                Path(stream.name).unlink(missing_ok=True)
    print("hcekit: stopped", flush=True)
    return 0


def cmd_readers(args: argparse.Namespace) -> int:
    from ..terminal.pcsc import list_readers

    readers = list_readers()
    if not readers:
        print("no PC/SC readers (is pcscd running? for a virtual card see docs/pcsc.md)")
        return 1
    for info in readers:
        card = f"card {info.atr.hex(' ').upper()}" if info.present else "no card"
        print(f"{info.index}: {info.name}  [{card}]")
    return 0
