"""hcekit traces as ISO 14443-4 packet captures, and captures as hcekit traces.

Each exchange becomes the blocks a reader and a card send for it: the
command in an I-block from the reader, the response in an I-block from the
card with the same block number, which then toggles (ISO/IEC 14443-4 §7.5.4).
An APDU longer than one frame (:data:`~hcekit.capture.iso14443.FRAME_SIZE`,
256 bytes with PCB and CRC_A, the largest FSC/FSD of ISO/IEC 14443-4:2008)
travels in chained I-blocks acknowledged by R(ACK) blocks, which Wireshark
reassembles. Command chaining and GET RESPONSE at the APDU level stay separate
exchanges, exactly as the card saw them. Field on and field
off are the pseudo-header's events ``FC``/``FD``, the deactivation reason in
the packet comment.

A polling-loop frame before activation (:mod:`hcekit.polling`) is an
ISO 14443-3 frame from the reader (``FE``) carrying the frame's data as hcekit
holds it (no CRC added), with the packet comment ``polling: TYPE …`` (the
trace's ``poll`` line: gain, timestamp, auto-transact, plugin, decision); the
field ON/OFF frames of a polling loop are ``FC``/``FD`` with that comment.
Importing reads the comment back; in a foreign capture, reader frames that
are polls — REQA/WUPA, REQB/WUPB, SENSF_REQ, ECP annotations
(:func:`~hcekit.capture.iso14443.polling_frame_type`) — become ``poll`` lines.

A redacted payload stays redacted: its bytes are replaced by
:data:`REDACTED_FILLER` of the same length (the command header and the status
word stay, as in the trace file) and the packet carries the comment
``redacted: N bytes``. Importing reads that comment back, so trace → pcapng
→ trace gives the same exchanges.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..events import DeactivationReason
from ..markers import hookimpl
from ..polling import Decision, FrameType, PollingEvent, PollingFrame
from ..trace import TraceRecord
from ..tracefile import Exchange, FieldEvent, PollEvent, Trace, TraceFormatError, parse_poll, poll_text
from .iso14443 import (
    FRAME_SIZE,
    R_ACK,
    BlockError,
    BlockKind,
    crc_a,
    i_block,
    parse_block,
    polling_frame_type,
)
from .pcapng import Capture, Event, Packet, PcapngWriter

if TYPE_CHECKING:
    from ..context import PluginContext

__all__ = [
    "REDACTED_FILLER",
    "ImportReport",
    "PcapRecorder",
    "capture_to_trace",
    "exchange_packets",
    "trace_to_packets",
    "write_pcapng",
]

#: The byte that stands in for each redacted byte.
REDACTED_FILLER = 0x00
_REDACTED = re.compile(r"^redacted: (\d+) bytes$")
_PLUGIN = re.compile(r"^plugin: (\S+)$")
_FIELD_OFF = re.compile(r"^field off: ([A-Z_]+)")
_POLLING = re.compile(r"^polling: (.+)$")
_HEADER_LENGTH = 4


def _application() -> str:
    from .. import __version__

    return f"hcekit {__version__}"


def _hide(data: bytes, keep_head: int, keep_tail: int) -> tuple[bytes, int]:
    """*data* with everything but its head and tail replaced by filler; the hidden length."""
    hidden = max(0, len(data) - keep_head - keep_tail)
    if not hidden:
        return data, 0
    return data[:keep_head] + bytes([REDACTED_FILLER]) * hidden + data[len(data) - keep_tail:], hidden


def _r_ack(block_number: int) -> bytes:
    frame = bytes([R_ACK | (block_number & 1)])
    return frame + crc_a(frame)


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


def exchange_packets(
    command: bytes,
    response: bytes,
    *,
    block_number: int,
    sent: datetime,
    answered: datetime,
    hide_command: bool = False,
    hide_response: bool = False,
    plugin: str | None = None,
    frame_size: int = FRAME_SIZE,
) -> tuple[list[Packet], int]:
    """The packets of one exchange and the block number that follows it.

    An APDU longer than a frame's INF goes in chained I-blocks, each
    acknowledged by an R(ACK) (ISO/IEC 14443-4 §7.5.2). Every reader block
    and the card's reply carry the same block number, which then toggles
    (rules A–E of §7.5.4 reduce to that for a link without errors).
    """
    command_comments: list[str] = []
    response_comments: list[str] = []
    if hide_command:
        command, hidden = _hide(command, _HEADER_LENGTH, 0)
        if hidden:
            command_comments.append(f"redacted: {hidden} bytes")
    if hide_response:
        response, hidden = _hide(response, 0, 2)
        if hidden:
            response_comments.append(f"redacted: {hidden} bytes")
    if plugin:
        response_comments.append(f"plugin: {plugin}")
    room = frame_size - 3  # PCB and CRC_A
    packets: list[Packet] = []
    parts = _chunks(command, room)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        comments = tuple(command_comments) if i == 0 else ()
        packets.append(Packet(sent, Event.PCD_TO_PICC,
                              i_block(block_number, part, chaining=not last), comments))
        if not last:
            packets.append(Packet(sent, Event.PICC_TO_PCD, _r_ack(block_number)))
            block_number ^= 1
    parts = _chunks(response, room)
    for i, part in enumerate(parts):
        if i:
            packets.append(Packet(answered, Event.PCD_TO_PICC, _r_ack(block_number)))
        comments = tuple(response_comments) if i == 0 else ()
        packets.append(Packet(answered, Event.PICC_TO_PCD,
                              i_block(block_number, part, chaining=i < len(parts) - 1), comments))
        block_number ^= 1
    return packets, block_number


def _field_packet(when: datetime, active: bool, reason: DeactivationReason | None) -> Packet:
    if active:
        return Packet(when, Event.FIELD_ON, b"", ("field on",))
    why = DeactivationReason(reason if reason is not None else DeactivationReason.LINK_LOSS)
    return Packet(when, Event.FIELD_OFF, b"", (f"field off: {why.name} (Android reason {int(why)})",))


def poll_packet(when: datetime, frame: PollingFrame, plugin: str | None,
                decision: Decision | None) -> Packet:
    """A polling-loop frame as a packet: FE with its data, or FC/FD for ON/OFF."""
    # the data travels as the packet's frame; the comment keeps the rest of the poll line
    text = poll_text(replace(frame, data=b""), plugin, decision)
    comment = "polling: " + text.removeprefix("poll ")
    event = {FrameType.ON: Event.FIELD_ON, FrameType.OFF: Event.FIELD_OFF}.get(
        frame.type, Event.PCD_TO_PICC)
    return Packet(when, event, frame.data, (comment,))


def trace_to_packets(trace: Trace) -> Iterator[Packet]:
    """The packets of *trace*, in order (see the module docstring for the mapping)."""
    block_number = 0
    for event in trace.events:
        if isinstance(event, PollEvent):
            yield poll_packet(event.time, event.frame, event.plugin, event.decision)
            continue
        if isinstance(event, FieldEvent):
            block_number = 0  # a new activation starts with block number 0
            yield _field_packet(event.time, event.active, event.reason)
            continue
        command = event.command if event.command is not None else (
            event.header + bytes(event.command_length - len(event.header)))
        sw = event.sw.to_bytes(2, "big")
        response = event.response if event.response is not None else (
            bytes(event.response_length - 2) + sw)
        packets, block_number = exchange_packets(
            command, response, block_number=block_number, sent=event.time,
            answered=event.response_time or event.time, hide_command=event.command is None,
            hide_response=event.response_data is None, plugin=event.plugin)
        yield from packets


def _plugins(trace: Trace) -> list[str]:
    return sorted({e.plugin for e in trace.exchanges if e.plugin})


def write_pcapng(trace: Trace, out: str | Path | IO[bytes]) -> int:
    """Write *trace* as pcapng to *out*; return the number of packets."""
    plugins = ", ".join(_plugins(trace)) or "none"
    comments = [f"written by {_application()} from an hcekit trace; plugins that answered: "
                f"{plugins}; sensitive payloads redacted where the trace redacted them"]
    if isinstance(out, str | Path):
        with open(out, "wb") as fh:
            return write_pcapng(trace, fh)
    writer = PcapngWriter(out, application=_application(), comments=comments)
    count = 0
    for packet in trace_to_packets(trace):
        writer.write(packet)
        count += 1
    return count


# -- importing -----------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import kept and what it left out, and why (one line per kind of frame)."""

    exchanges: int = 0
    polls: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def format(self) -> str:
        lines = [f"{self.exchanges} exchange(s) imported"]
        if self.polls:
            lines.append(f"{self.polls} polling frame(s) imported")
        lines += [f"skipped {n} {why}" for why, n in sorted(self.skipped.items())]
        lines += self.problems
        return "\n".join(lines)


def _noted(comments: Iterable[str], pattern: re.Pattern[str]) -> str | None:
    for comment in comments:
        match = pattern.match(comment)
        if match:
            return match.group(1)
    return None


@dataclass
class _Pending:
    """An APDU being reassembled from chained I-blocks."""

    number: int
    time: datetime
    parts: list[bytes] = field(default_factory=list)
    redacted: bool = False
    plugin: str | None = None
    complete: bool = False

    def add(self, packet: Packet, inf: bytes, chaining: bool) -> None:
        self.parts.append(inf)
        self.redacted |= _noted(packet.comments, _REDACTED) is not None
        self.plugin = self.plugin or _noted(packet.comments, _PLUGIN)
        self.complete = not chaining

    @property
    def data(self) -> bytes:
        return b"".join(self.parts)


def capture_to_trace(capture: Capture, *, with_crc: bool = True) -> tuple[Trace, ImportReport]:
    """Rebuild APDU exchanges from a capture of ISO 14443 frames.

    I-blocks are reassembled across chaining (R-block acknowledgements and
    S-block waiting-time extensions in between are skipped); ISO 14443-3
    frames (REQA, anticollision, RATS, ATS …) and frames with a wrong CRC are
    skipped and counted in the report. A DESELECT from the reader ends the
    activation like a field off. *with_crc*: frames end with CRC_A (sniffers
    that strip it: ``False``).
    """
    trace = Trace()
    report = ImportReport()
    command: _Pending | None = None
    response: _Pending | None = None
    for number, packet in enumerate(capture.packets, 1):
        poll = _poll_event(number, packet, report, reader_idle=command is None)
        if poll is not None:
            trace.events.append(poll)
            report.polls += 1
            continue
        if packet.event in (Event.FIELD_ON, Event.FIELD_OFF):
            if command is not None:
                report.problems.append(f"packet {command.number}: command without a response "
                                       f"before the field changed; left out")
            command = response = None
            if packet.event is Event.FIELD_ON:
                trace.events.append(FieldEvent(number, packet.time, True))
            else:
                name = _noted(packet.comments, _FIELD_OFF) or DeactivationReason.LINK_LOSS.name
                reason = DeactivationReason.__members__.get(name, DeactivationReason.LINK_LOSS)
                trace.events.append(FieldEvent(number, packet.time, False, reason))
            continue
        try:
            block = parse_block(packet.frame, with_crc=with_crc)
        except BlockError:
            report.skip("ISO 14443-3 frame(s) or frame(s) with a bad CRC" if with_crc
                        else "frame(s) that are not ISO 14443-4 blocks")
            continue
        from_reader = packet.event is Event.PCD_TO_PICC
        if block.kind is BlockKind.R:
            report.skip("R-block(s) (chaining acknowledgements)")
            continue
        if block.kind is BlockKind.S:
            if block.is_deselect and from_reader:
                trace.events.append(FieldEvent(number, packet.time, False,
                                               DeactivationReason.LINK_LOSS))
                command = response = None
            else:
                report.skip("S-block(s) (waiting-time extensions and DESELECT answers)")
            continue
        if from_reader:
            if command is not None and command.complete:
                report.problems.append(f"packet {command.number}: command without a response; "
                                       f"left out")
                command = None
            if command is None:
                command = _Pending(number, packet.time)
            command.add(packet, block.inf, block.chaining)
            continue
        if command is None or not command.complete:
            report.problems.append(f"packet {number}: response without a command; left out")
            continue
        if response is None:
            response = _Pending(number, packet.time)
        response.add(packet, block.inf, block.chaining)
        if response.complete:
            trace.events.append(_exchange(command, response, packet.time))
            report.exchanges += 1
            command = response = None
    if command is not None:
        report.problems.append(f"packet {command.number}: the capture ends before this "
                               f"command's response")
    return trace, report


def _poll_event(number: int, packet: Packet, report: ImportReport,
                reader_idle: bool) -> PollEvent | None:
    """The polling frame a packet carries (hcekit's comment, or a foreign poll), or None."""
    noted = _noted(packet.comments, _POLLING)
    if noted is not None:
        tokens = noted.split()
        kind = tokens[:1]
        try:
            event = parse_poll(kind + [f"{b:02X}" for b in packet.frame] + tokens[1:],
                               number, packet.time)
        except TraceFormatError as exc:
            report.problems.append(f"packet {number}: polling comment not understood ({exc})")
            return None
        return event
    if packet.event is not Event.PCD_TO_PICC or not reader_idle:
        return None
    kind_found = polling_frame_type(packet.frame)
    if kind_found is None:
        return None
    return PollEvent(number, packet.time, PollingFrame(kind_found, packet.frame))


def _exchange(command: _Pending, response: _Pending, answered: datetime) -> Exchange:
    cmd, rsp = command.data, response.data
    if len(rsp) < 2:
        rsp = rsp + b"\x00" * (2 - len(rsp))  # a malformed answer: recorded as status 0000
    return Exchange(
        line=command.number,
        time=command.time,
        header=cmd[:_HEADER_LENGTH],
        command=None if command.redacted else cmd,
        response_data=None if response.redacted else rsp[:-2],
        sw=int.from_bytes(rsp[-2:], "big"),
        command_length=len(cmd),
        response_length=len(rsp),
        response_time=answered,
        plugin=response.plugin,
    )


# -- live capture ----------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PcapRecorder:
    """Observer plugin writing every exchange and field event to a pcapng file as it happens.

    The file starts with its section and interface headers and gets each
    packet flushed whole, so ``tail -c +1 -f FILE | wireshark -k -i -``
    follows a running card. Sensitive exchanges are redacted unless *reveal*.
    """

    name = "pcap-recorder"

    def __init__(
        self,
        out: str | Path | IO[bytes],
        *,
        plugins: Sequence[str] = (),
        reveal: bool = False,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.reveal = reveal
        self._clock = clock
        self._block_number = 0
        self.packets = 0
        if isinstance(out, str | Path):
            self._out: IO[bytes] = open(out, "wb")
            self._owns = True
        else:
            self._out, self._owns = out, False
        note = "payloads revealed (debugging only)" if reveal else "sensitive payloads redacted"
        loaded = ", ".join(plugins) or "none"
        self._writer = PcapngWriter(self._out, application=_application(), comments=[
            f"written by {_application()} (live capture); plugins loaded: {loaded}; {note}"])

    def _write(self, *packets: Packet) -> None:
        if self._out.closed:
            return
        for packet in packets:
            self._writer.write(packet)
            self.packets += 1

    @hookimpl
    def hcekit_trace(self, record: TraceRecord) -> None:
        answered = self._clock()
        hide = record.sensitive and not self.reveal
        packets, self._block_number = exchange_packets(
            record.command, record.response, block_number=self._block_number,
            sent=answered - timedelta(microseconds=record.elapsed_ns // 1000), answered=answered,
            hide_command=hide, hide_response=hide, plugin=record.plugin)
        self._write(*packets)

    @hookimpl
    def hcekit_polling(self, card: object, event: PollingEvent) -> None:
        self._write(poll_packet(self._clock(), event.frame, event.plugin, event.decision))

    @hookimpl
    def hcekit_field(self, card: object, active: bool, reason: DeactivationReason | None) -> None:
        self._block_number = 0
        self._write(_field_packet(self._clock(), active, reason))

    @hookimpl
    def hcekit_shutdown(self, plugin: PluginContext) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (a stream passed in is flushed, not closed)."""
        if self._out.closed:
            return
        self._out.flush()
        if self._owns:
            self._out.close()
