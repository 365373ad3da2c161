"""Trace files: record a session's APDUs to a readable file, replay them against a card.

A bug seen with a real reader becomes a test: run ``hcekit serve --record
bug.trace`` (or ``hcekit demo --record``), reproduce, then replay the file
against the fixed card with ``hcekit replay bug.trace`` or
:func:`replay_trace` in a test.

The format is line-oriented UTF-8 text, one event per line, each starting
with an ISO 8601 UTC timestamp::

    # hcekit trace 1
    # recorded by hcekit 0.1.0; sensitive payloads redacted
    2026-11-24T10:52:03.123456Z field on
    2026-11-24T10:52:03.123456Z >> 00 A4 04 00 07 D2 76 00 00 85 01 01 00
    2026-11-24T10:52:03.123490Z << 90 00  # NO_ERROR, 34 µs, ndef
    2026-11-24T10:52:03.130001Z >> 84 82 00 00 [16 bytes redacted]
    2026-11-24T10:52:03.130050Z << [8 bytes redacted] 90 00  # NO_ERROR, 49 µs, piv, sensitive
    2026-11-24T10:52:03.200000Z field off LINK_LOSS

A reader's polling loop before activation (Android 15 observe mode,
:mod:`hcekit.polling`) is one ``poll`` line per frame: the frame type (A, B,
F, ON, OFF, UNKNOWN), its data, ``gain=``/``timestamp=`` when known, then
what the card made of it — ``auto-transact`` (a filter with autoTransact
matched), ``plugin=`` (whose filter), ``decision=`` (the tap's decision)::

    2026-11-24T10:52:03.100000Z poll A 52
    2026-11-24T10:52:03.101000Z poll UNKNOWN 6A 02 C3 01 00 auto-transact plugin=transit decision=transact

Everything after ``#`` is a comment for people. Exchanges marked sensitive
(``app.mark_sensitive()``, or a secure channel active) keep only the command
header and the status word unless the recorder is built with ``reveal=True``;
a replay skips a redacted command and compares only the status word of a
redacted response.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from .errors import HcekitError
from .events import DeactivationReason
from .markers import hookimpl
from .polling import Decision, FrameType, PollingEvent, PollingFrame
from .sw import describe
from .trace import TraceRecord

if TYPE_CHECKING:
    from .card import Card
    from .context import PluginContext

__all__ = [
    "FORMAT_VERSION",
    "TraceRecorder",
    "TraceFormatError",
    "FieldEvent",
    "PollEvent",
    "Exchange",
    "Trace",
    "Difference",
    "ReplayReport",
    "parse_trace",
    "parse_poll",
    "poll_text",
    "read_trace",
    "replay_trace",
]

#: The trace file format's version (the ``# hcekit trace N`` header).
FORMAT_VERSION = 1
_HEADER = f"# hcekit trace {FORMAT_VERSION}"
_REDACTED = re.compile(r"^\[(\d+) bytes redacted\]$")
_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
_SENSITIVE = "sensitive"


class TraceFormatError(HcekitError, ValueError):
    """A trace file line that does not follow the format; the message names the line."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime(_TIMESTAMP)


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


# -- writing ----------------------------------------------------------------------------


def _command_text(command: bytes, length: int, hide: bool) -> str:
    """A command's hex, or its 4-byte header and the length of what is hidden."""
    if not hide:
        return _hex(command)
    text = _hex(command[:4])
    if length > 4:
        text += f" [{length - 4} bytes redacted]"
    return text


def _response_text(data: bytes, sw: int, length: int, hide: bool) -> str:
    """A response's hex, or the length of its hidden data and the status word."""
    status = _hex(sw.to_bytes(2, "big"))
    if not hide:
        return (_hex(data) + " " + status).lstrip()
    return f"[{length - 2} bytes redacted] {status}" if length > 2 else status


def _notes(sw: int, elapsed_us: float | None, plugin: str | None, sensitive: bool) -> str:
    notes = [describe(sw) if sw >= 0 else "malformed response"]
    if elapsed_us is not None:
        notes.append(f"{elapsed_us:.0f} µs")
    if plugin:
        notes.append(plugin)
    if sensitive:
        notes.append(_SENSITIVE)
    return ", ".join(notes)


def poll_text(frame: PollingFrame, plugin: str | None, decision: Decision | None) -> str:
    """A ``poll`` line's body (also the pcapng packet comment of a polling frame)."""
    parts = ["poll", frame.type.name]
    if frame.data:
        parts.append(_hex(frame.data))
    if frame.gain != -1:
        parts.append(f"gain={frame.gain}")
    if frame.timestamp:
        parts.append(f"timestamp={frame.timestamp}")
    if frame.triggered_auto_transact:
        parts.append(_AUTO_TRANSACT)
    if plugin:
        parts.append(f"plugin={plugin}")
    if decision is not None:
        parts.append(f"decision={decision.value}")
    return " ".join(parts)


_AUTO_TRANSACT = "auto-transact"


def format_trace(trace: Trace, *, note: str = "written by hcekit") -> str:
    """*trace* as trace-file text (what :func:`parse_trace` reads back)."""
    lines = [_HEADER, f"# {note}"]
    for event in trace.events:
        if isinstance(event, PollEvent):
            lines.append(f"{_stamp(event.time)} {poll_text(event.frame, event.plugin, event.decision)}")
            continue
        if isinstance(event, FieldEvent):
            state = "on" if event.active else f"off {(event.reason or DeactivationReason.LINK_LOSS).name}"
            lines.append(f"{_stamp(event.time)} field {state}")
            continue
        end = event.response_time or event.time
        elapsed = (end - event.time) / timedelta(microseconds=1) if event.response_time else None
        cmd = _command_text(event.command or event.header, event.command_length,
                            event.command is None)
        rsp = _response_text(event.response_data or b"", event.sw, event.response_length,
                             event.response_data is None)
        lines.append(f"{_stamp(event.time)} >> {cmd}")
        lines.append(f"{_stamp(end)} << {rsp}  # "
                     f"{_notes(event.sw, elapsed, event.plugin, event.redacted)}")
    return "\n".join(lines) + "\n"


# -- recording ------------------------------------------------------------------------


class TraceRecorder:
    """Observer plugin writing every exchange and field event to a trace file.

    Register it on a card like any plugin (``Card([..., TraceRecorder(path)])``
    or ``card.register(TraceRecorder(path))``). The file is written line by
    line and flushed, so a crash loses nothing already seen; it is closed on
    ``hcekit_shutdown`` (card close) or :meth:`close`.
    """

    name = "trace-recorder"

    def __init__(
        self,
        path: str | Path | IO[str],
        *,
        reveal: bool = False,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.reveal = reveal
        self._clock = clock
        if isinstance(path, str | Path):
            self.path: Path | None = Path(path)
            self._out: IO[str] = open(self.path, "w", encoding="utf-8")
            self._owns = True
        else:
            self.path = None
            self._out = path
            self._owns = False
        self.exchanges = 0
        from . import __version__

        note = "payloads revealed (debugging only)" if reveal else "sensitive payloads redacted"
        self._write(_HEADER)
        self._write(f"# recorded by hcekit {__version__}; {note}")

    def _write(self, line: str) -> None:
        if self._out.closed:
            return
        self._out.write(line + "\n")
        self._out.flush()

    # hooks ------------------------------------------------------------------------

    @hookimpl
    def hcekit_trace(self, record: TraceRecord) -> None:
        end = self._clock()
        start = end - timedelta(microseconds=record.elapsed_ns / 1000)
        hide = record.sensitive and not self.reveal
        command, response = record.command, record.response
        cmd = _command_text(command, len(command), hide)
        if record.sw >= 0:
            rsp = _response_text(response[:-2], record.sw, len(response), hide)
        else:  # a malformed (short) response is shown as it is
            rsp = _hex(response)
        notes = _notes(record.sw, record.elapsed_ns / 1000, record.plugin, record.sensitive)
        self._write(f"{_stamp(start)} >> {cmd}")
        self._write(f"{_stamp(end)} << {rsp}  # {notes}")
        self.exchanges += 1

    @hookimpl
    def hcekit_polling(self, card: object, event: PollingEvent) -> None:
        self._write(f"{_stamp(self._clock())} "
                    f"{poll_text(event.frame, event.plugin, event.decision)}")

    @hookimpl
    def hcekit_field(self, card: object, active: bool, reason: DeactivationReason | None) -> None:
        if active:
            self._write(f"{_stamp(self._clock())} field on")
        else:
            why = DeactivationReason(reason).name if reason is not None else "LINK_LOSS"
            self._write(f"{_stamp(self._clock())} field off {why}")

    @hookimpl
    def hcekit_shutdown(self, plugin: PluginContext) -> None:
        self.close()

    # lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        """Flush and close the file (a stream passed in is flushed, not closed)."""
        if self._out.closed:
            return
        self._out.flush()
        if self._owns:
            self._out.close()

    def __enter__(self) -> TraceRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldEvent:
    """The reader powered the field (``active``) or dropped it with ``reason``."""

    line: int
    time: datetime
    active: bool
    reason: DeactivationReason | None = None


@dataclass(frozen=True)
class PollEvent:
    """One polling-loop frame before activation, and what the card made of it (if recorded)."""

    line: int
    time: datetime
    frame: PollingFrame
    plugin: str | None = None
    decision: Decision | None = None


@dataclass(frozen=True)
class Exchange:
    """One recorded command and response. ``None`` payloads were redacted."""

    line: int
    time: datetime
    header: bytes
    command: bytes | None
    response_data: bytes | None
    sw: int
    #: Lengths as recorded (known even when redacted).
    command_length: int
    response_length: int
    #: When the response was sent (None: not recorded).
    response_time: datetime | None = None
    #: The plugin that answered, as the recorder noted it (None: the card core or unknown).
    plugin: str | None = None

    @property
    def redacted(self) -> bool:
        return self.command is None or self.response_data is None

    @property
    def response(self) -> bytes | None:
        if self.response_data is None:
            return None
        return self.response_data + self.sw.to_bytes(2, "big")


@dataclass
class Trace:
    """A parsed trace file: field events and exchanges in order."""

    events: list[FieldEvent | PollEvent | Exchange] = field(default_factory=list)

    @property
    def exchanges(self) -> list[Exchange]:
        return [e for e in self.events if isinstance(e, Exchange)]

    @property
    def polls(self) -> list[PollEvent]:
        return [e for e in self.events if isinstance(e, PollEvent)]


def _parse_time(text: str, lineno: int) -> datetime:
    try:
        return datetime.strptime(text, _TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise TraceFormatError(
            f"line {lineno}: {text!r} is not a timestamp like 2026-01-31T12:00:00.000000Z"
        ) from None


def _parse_bytes(tokens: Sequence[str], lineno: int) -> tuple[bytes, int | None, bytes]:
    """Hex tokens with at most one ``[N bytes redacted]`` → (before, redacted length, after)."""
    text = " ".join(tokens)
    before, redacted, after = text, None, ""
    match = re.search(r"\[(\d+) bytes redacted\]", text)
    if match:
        before, after = text[: match.start()], text[match.end():]
        redacted = int(match.group(1))
    try:
        return bytes.fromhex(before), redacted, bytes.fromhex(after)
    except ValueError:
        raise TraceFormatError(f"line {lineno}: not hex bytes: {text!r}") from None


def _plugin_note(comment: str) -> str | None:
    """The plugin named in a response line's comment (``STATUS, N µs, PLUGIN[, sensitive]``)."""
    notes = [n.strip() for n in comment.split(",")]
    for i, note in enumerate(notes):
        if note.endswith(" µs"):
            rest = [n for n in notes[i + 1:] if n and n != _SENSITIVE]
            return rest[0] if rest else None
    return None


def parse_poll(tokens: Sequence[str], lineno: int, when: datetime) -> PollEvent:
    """``TYPE [HEX…] [gain=N] [timestamp=N] [auto-transact] [plugin=P] [decision=D]``."""
    if not tokens:
        raise TraceFormatError(f"line {lineno}: 'poll' needs a frame type "
                               f"({', '.join(t.name for t in FrameType)})")
    try:
        kind = FrameType[tokens[0]]
    except KeyError:
        raise TraceFormatError(f"line {lineno}: unknown polling frame type {tokens[0]!r}; "
                               f"expected one of {', '.join(t.name for t in FrameType)}") from None
    data = bytearray()
    values: dict[str, str] = {}
    auto = False
    for token in tokens[1:]:
        key, eq, value = token.partition("=")
        if eq:
            if key not in ("gain", "timestamp", "plugin", "decision") or key in values:
                raise TraceFormatError(f"line {lineno}: unexpected {token!r} in a poll line")
            values[key] = value
        elif token == _AUTO_TRANSACT:
            auto = True
        elif values or auto or not re.fullmatch(r"[0-9A-Fa-f]{2}", token):
            raise TraceFormatError(f"line {lineno}: {token!r}: a poll line has the frame's hex "
                                   "bytes, then gain=, timestamp=, auto-transact, plugin=, decision=")
        else:
            data.append(int(token, 16))
    try:
        frame = PollingFrame(kind, bytes(data), int(values.get("gain", -1)),
                             int(values.get("timestamp", 0)), auto)
        decision = Decision(values["decision"]) if "decision" in values else None
    except ValueError as exc:
        raise TraceFormatError(f"line {lineno}: {exc}") from None
    return PollEvent(lineno, when, frame, values.get("plugin"), decision)


def parse_trace(lines: Iterable[str]) -> Trace:
    """Parse trace text (an iterable of lines); raise :class:`TraceFormatError` on a bad line."""
    trace = Trace()
    pending: tuple[int, datetime, bytes, bytes | None, int] | None = None
    seen_header = False
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if not seen_header and line.strip():
            if line.strip() != _HEADER:
                raise TraceFormatError(
                    f"line {lineno}: expected {_HEADER!r} (is this an hcekit trace file?)"
                )
            seen_header = True
            continue
        body, _, comment = line.partition("#")
        body = body.strip()
        if not body:
            continue
        parts = body.split()
        if len(parts) < 2:
            raise TraceFormatError(f"line {lineno}: expected a timestamp and an event: {line!r}")
        when = _parse_time(parts[0], lineno)
        kind, rest = parts[1], parts[2:]
        if kind == ">>":
            if pending is not None:
                raise TraceFormatError(f"line {lineno}: command without the response of line "
                                       f"{pending[0]}")
            before, redacted, _after = _parse_bytes(rest, lineno)
            command = None if redacted is not None else before
            length = len(before) + (redacted or 0)
            pending = (lineno, when, before[:4], command, length)
        elif kind == "<<":
            if pending is None:
                raise TraceFormatError(f"line {lineno}: response without a command")
            before, redacted, after = _parse_bytes(rest, lineno)
            status = after if redacted is not None else before[-2:]
            if len(status) != 2:
                raise TraceFormatError(f"line {lineno}: a response ends with two status bytes")
            data = None if redacted is not None else before[:-2]
            rlen = (redacted or 0) + len(before) + len(after)
            trace.events.append(Exchange(
                pending[0], pending[1], pending[2], pending[3], data,
                int.from_bytes(status, "big"), pending[4], rlen,
                response_time=when, plugin=_plugin_note(comment),
            ))
            pending = None
        elif kind == "poll":
            if pending is not None:
                raise TraceFormatError(f"line {lineno}: a polling frame inside the exchange of "
                                       f"line {pending[0]}")
            trace.events.append(parse_poll(rest, lineno, when))
        elif kind == "field" and rest[:1] == ["on"]:
            trace.events.append(FieldEvent(lineno, when, True))
        elif kind == "field" and rest[:1] == ["off"]:
            name = rest[1] if len(rest) > 1 else "LINK_LOSS"
            try:
                reason = DeactivationReason[name]
            except KeyError:
                raise TraceFormatError(f"line {lineno}: unknown deactivation reason {name!r}; "
                                       f"expected LINK_LOSS or DESELECTED") from None
            trace.events.append(FieldEvent(lineno, when, False, reason))
        else:
            raise TraceFormatError(f"line {lineno}: unknown event {kind!r} (expected >>, <<, "
                                   f"poll, field on, field off)")
    if not seen_header:
        raise TraceFormatError(f"empty trace: expected a first line {_HEADER!r}")
    if pending is not None:
        raise TraceFormatError(f"line {pending[0]}: the trace ends before this command's response")
    return trace


def read_trace(path: str | Path) -> Trace:
    """Parse a trace file."""
    with open(path, encoding="utf-8") as fh:
        try:
            return parse_trace(fh)
        except UnicodeDecodeError as exc:  # a binary file (or another encoding)
            raise TraceFormatError(
                f"not UTF-8 text ({exc.reason} at a byte "
                f"{exc.object[exc.start:exc.start + 1].hex().upper()}); trace files are the "
                "text that 'hcekit serve/demo --record' writes; for a pcap or pcapng capture "
                "use 'hcekit trace import'") from None


# -- replaying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A replayed command whose response differs from the recorded one."""

    exchange: Exchange
    actual: bytes

    def describe(self) -> str:
        ex = self.exchange
        expected = (_hex(ex.response) if ex.response is not None
                    else f"[{ex.response_length - 2} bytes redacted] {ex.sw:04X}")
        cmd = _hex(ex.command) if ex.command is not None else _hex(ex.header) + " …"
        got = (describe(int.from_bytes(self.actual[-2:], "big")) if len(self.actual) >= 2
               else "malformed")
        return (f"line {ex.line}: >> {cmd}\n"
                f"  recorded << {expected}  ({describe(ex.sw)})\n"
                f"  replayed << {_hex(self.actual)}  ({got})")


@dataclass
class ReplayReport:
    """What a replay found: how many exchanges matched, were skipped, or differ."""

    replayed: int = 0
    matched: int = 0
    skipped: list[Exchange] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    #: Polling frames fed back, and the ones the card routed or decided otherwise.
    polls: int = 0
    poll_differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.poll_differences

    def format(self) -> str:
        lines = [f"replayed {self.replayed} exchange(s): {self.matched} matched, "
                 f"{len(self.differences)} differ, {len(self.skipped)} skipped (redacted command)"]
        if self.polls:
            lines.append(f"replayed {self.polls} polling frame(s): "
                         f"{len(self.poll_differences)} differ")
        lines.extend(d.describe() for d in self.differences)
        lines.extend(self.poll_differences)
        return "\n".join(lines)


Compare = Literal["full", "sw"]


def replay_trace(
    trace: Trace | str | Path, card: Card, *, compare: Compare = "full"
) -> ReplayReport:
    """Re-send every recorded command to *card*, in order, with the recorded field events.

    ``compare="full"`` compares whole responses (data and status word);
    ``"sw"`` only status words, for cards whose answers carry fresh randomness
    (challenges, cryptograms). A redacted response is compared by status word
    only; a redacted command cannot be re-sent and is reported as skipped.
    """
    if not isinstance(trace, Trace):
        trace = read_trace(trace)
    report = ReplayReport()
    field_active = False
    for event in trace.events:
        if isinstance(event, PollEvent):
            report.polls += 1
            _replay_poll(event, card, report)
            continue
        if isinstance(event, FieldEvent):
            if event.active:
                card.field_on()
                field_active = True
            else:
                card.field_off(event.reason or DeactivationReason.LINK_LOSS)
                field_active = False
            continue
        if event.command is None:
            report.skipped.append(event)
            continue
        if not field_active:
            card.field_on()
            field_active = True
        actual = card.transceive(event.command)
        report.replayed += 1
        actual_sw = int.from_bytes(actual[-2:], "big") if len(actual) >= 2 else -1
        if event.response is None or compare == "sw":
            same = actual_sw == event.sw
        else:
            same = actual == event.response
        if same:
            report.matched += 1
        else:
            report.differences.append(Difference(event, actual))
    return report


def _replay_poll(event: PollEvent, card: Card, report: ReplayReport) -> None:
    """Feed one recorded frame back; compare what was recorded about it (plugin, decision)."""
    sent = PollingFrame(event.frame.type, event.frame.data, event.frame.gain, event.frame.timestamp)
    got = card.polling_frame(sent)
    if event.decision is None:  # a reader's frame with no outcome recorded: nothing to compare
        return
    wrong = []
    if got.decision is not event.decision:
        wrong.append(f"decision {event.decision.value}, replayed {got.decision.value}")
    if got.plugin != event.plugin:
        wrong.append(f"plugin {event.plugin or '(no filter)'}, replayed "
                     f"{got.plugin or '(no filter)'}")
    if event.frame.triggered_auto_transact != got.frame.triggered_auto_transact:
        wrong.append(f"auto-transact {event.frame.triggered_auto_transact}, replayed "
                     f"{got.frame.triggered_auto_transact}")
    if wrong:
        report.poll_differences.append(
            f"line {event.line}: poll {event.frame.type.name} {_hex(event.frame.data)}: recorded "
            + "; ".join(wrong))
