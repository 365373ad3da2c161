"""``hcekit trace export`` and ``hcekit trace import``: traces to and from Wireshark captures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TypeAlias

from ..errors import HcekitError
from .arguments import STDOUT, add_force_option, open_binary_output, open_output

__all__ = ["add_commands"]

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

_DECODE_AS = 'tshark -r FILE -d "iso14443.subdissector,iso7816"'


def add_commands(subparsers: SubParsers) -> None:
    trace = subparsers.add_parser(
        "trace", help="convert traces to Wireshark captures (pcapng) and back",
        description="hcekit traces (from --record) as ISO 14443-4 packet captures: open the "
                    "exported file in Wireshark (Decode As… → ISO 14443 payload → ISO/IEC 7816) "
                    f"or read it with {_DECODE_AS}.")
    trace.set_defaults(handler=lambda args: _usage(trace))
    commands = trace.add_subparsers(title="trace commands", metavar="COMMAND")

    p = commands.add_parser(
        "export", help="write a trace as pcapng (link type 264, ISO 14443)",
        description="One packet per command and per response (ISO 14443-4 I-blocks with CRC_A), "
                    "field on/off as the FC/FD events, polling-loop frames as frames from the "
                    "reader with a 'polling:' comment, the recorded timestamps. Redacted "
                    "payloads stay redacted: same-length filler and a 'redacted: N bytes' "
                    f"packet comment. Read it with {_DECODE_AS}.")
    p.add_argument("trace", type=Path, metavar="FILE.trace", help="hcekit trace file")
    p.add_argument("-o", "--output", metavar="FILE.pcapng",
                   help="where to write ('-' for standard output, e.g. piped into "
                        "'wireshark -k -i -'; default: FILE with the suffix .pcapng)")
    add_force_option(p, "an existing output file")
    p.set_defaults(handler=cmd_export)

    p = commands.add_parser(
        "import", help="turn a pcap/pcapng capture of ISO 14443 frames into an hcekit trace",
        description="Read a capture of link type 264 (LINKTYPE_ISO_14443), e.g. from an "
                    "ISO 14443 sniffer between a real phone and reader, and write the APDU "
                    "exchanges as an hcekit trace that 'hcekit replay' re-sends against a "
                    "plugin. Chained I-blocks are reassembled; the reader's polling loop "
                    "(REQA/WUPA, REQB/WUPB, SENSF_REQ, ECP frames, and hcekit's own "
                    "'polling:' packets) becomes poll lines; other ISO 14443-3 frames, "
                    "R-blocks and waiting-time extensions are skipped and counted.")
    p.add_argument("capture", type=Path, metavar="FILE.pcapng", help="pcap or pcapng file")
    p.add_argument("-o", "--output", metavar="FILE.trace",
                   help="where to write ('-' for standard output; default: FILE with the "
                        "suffix .trace)")
    p.add_argument("--no-crc", dest="with_crc", action="store_false",
                   help="the frames carry no CRC_A (sniffers that strip it)")
    add_force_option(p, "an existing output file")
    p.set_defaults(handler=cmd_import)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _target(given: str | None, source: Path, suffix: str) -> str:
    """The output path: *given*, or *source* with *suffix*; never the input itself."""
    target = given or str(source.with_suffix(suffix))
    if target != STDOUT and Path(target).resolve() == source.resolve():
        raise HcekitError(f"-o {target}: the output would overwrite the input; give another -o")
    return target


def cmd_export(args: argparse.Namespace) -> int:
    from ..capture import write_pcapng
    from ..tracefile import read_trace

    trace = read_trace(args.trace)
    target = _target(args.output, args.trace, ".pcapng")
    with open_binary_output(target, force=args.force) as out:
        count = write_pcapng(trace, out)
    print(f"{target}: {count} packet(s) from {len(trace.exchanges)} exchange(s); "
          f"read it with: {_DECODE_AS.replace('FILE', target)}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..capture import capture_to_trace, read_capture
    from ..tracefile import format_trace

    capture = read_capture(args.capture)
    trace, report = capture_to_trace(capture, with_crc=args.with_crc)
    target = _target(args.output, args.capture, ".trace")
    with open_output(target, force=args.force) as out:
        out.write(format_trace(trace, note=f"imported by hcekit from {args.capture.name}"))
    print(f"{target}: {report.format()}", file=sys.stderr)
    return 0 if report.exchanges or report.polls else 1
