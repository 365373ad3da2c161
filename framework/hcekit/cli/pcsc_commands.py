"""``hcekit serve`` (the card behind pcscd via vpcd) and ``hcekit readers`` (list PC/SC readers)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any, TypeAlias

from ..errors import HcekitError
from ..hosts.atr import AtrError, check_atr
from ..hosts.vpcd import DEFAULT_DEADLINE, DEFAULT_PORT, HELP_NOT_LISTENING, VpcdHost
from .common import add_card_options, build_card, hexbytes

__all__ = ["add_commands", "cmd_serve", "cmd_readers"]

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_commands(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "serve", help="run the card behind pcscd (vsmartcard vpcd) until Ctrl-C",
        description="Serve the plugins as a virtual contactless card in a vpcd reader slot, "
                    "so any PC/SC application (pcsc_scan, opensc-tool, pyscard, your "
                    "terminal software) can talk to it. Needs pcscd with vsmartcard-vpcd; "
                    "see docs/pcsc.md.")
    p.add_argument("--port", type=int, action="append", default=None, metavar="N",
                   help=f"vpcd slot port (repeatable: one card per port; default {DEFAULT_PORT}, "
                        f"the first slot; {DEFAULT_PORT + 1} is the second)")
    p.add_argument("--address", default="127.0.0.1", help="where vpcd listens (default: %(default)s)")
    p.add_argument("--atr", type=hexbytes, default=None, metavar="HEX",
                   help="ATR to present (default: a PC/SC contactless ATR naming hcekit; "
                        "3B80800101 = no historical bytes, as many phones show)")
    p.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE, metavar="SECONDS",
                   help="answer 6F00 when a plugin takes longer than this (default %(default)s)")
    p.add_argument("--record", metavar="FILE",
                   help="record every exchange to a trace file (hcekit.tracefile format); "
                        "with several ports, FILE gets a .PORT suffix per card")
    add_card_options(p)
    p.set_defaults(handler=cmd_serve)

    p = subparsers.add_parser(
        "readers", help="list PC/SC readers, card presence and ATR",
        description="List the readers pcscd sees (index, name, card present, ATR). The index "
                    "or a name substring goes to 'hcekit send/tap --reader'.")
    p.set_defaults(handler=cmd_readers)


def _recorder(path: str) -> Any:
    try:
        from ..tracefile import TraceRecorder
    except ImportError as exc:
        raise HcekitError(f"--record needs hcekit.tracefile (TraceRecorder): {exc}") from exc
    return TraceRecorder(Path(path))


def cmd_serve(args: argparse.Namespace) -> int:
    ports: list[int] = args.port or [DEFAULT_PORT]
    if len(set(ports)) != len(ports):
        raise HcekitError("--port: each port once")
    atr_kwargs: dict[str, Any] = {}
    if args.atr is not None:
        try:
            atr_kwargs["atr"] = check_atr(args.atr)
        except AtrError as exc:
            raise HcekitError(f"--atr {args.atr.hex().upper()}: {exc}") from exc
    if args.trace:
        logging.getLogger("hcekit.trace").setLevel(logging.INFO)
    logging.getLogger("hcekit.vpcd").setLevel(min(logging.INFO,
                                                  logging.getLogger().getEffectiveLevel()))
    hosts: list[VpcdHost] = []
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        for port in ports:
            card = build_card(args)
            names = ", ".join(n for n in card.plugins if n != "trace") or "(no plugins)"
            if args.record:
                path = args.record if len(ports) == 1 else f"{args.record}.{port}"
                card.register(_recorder(path))
            host = VpcdHost(card, port, address=args.address, deadline=args.deadline,
                            **atr_kwargs)
            hosts.append(host)
            print(f"hcekit: serving {names} on vpcd {host.endpoint} "
                  f"(ATR {host.atr.hex(' ').upper()})", flush=True)
        for host in hosts:
            host.start()
        for host in hosts:
            if not host.wait_connected(2.0):
                print(f"hcekit: waiting for vpcd on {host.endpoint} — {HELP_NOT_LISTENING}",
                      flush=True)
        print("hcekit: Ctrl-C to stop", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for host in hosts:
            host.stop()
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
